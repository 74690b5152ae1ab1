"""Fixtures: the tiny grid as a tool context (no services), and fakes of the ops port where a test
needs outage records without running the outage engine."""

from __future__ import annotations

import pytest

from fluxops.assistant.retrieval import DocumentIndex
from fluxops.assistant.tools import ToolContext
from fluxops.grid.models import Grid
from fluxops.storage.assistant_sql import SqlSandbox


@pytest.fixture(scope="session")
def docs() -> DocumentIndex:
    return DocumentIndex()


@pytest.fixture
def ctx(tiny_grid: Grid, docs: DocumentIndex) -> ToolContext:
    return ToolContext(grid=tiny_grid, docs=docs, sql=SqlSandbox(tiny_grid, timeout_s=2.0), actor="tester")
