"""The cascade workspace keeps what the operator did: a tab shows only its own answer, inputs and the
chosen analysis tab survive leaving the Cascade tab, a result keeps its patient zero while the field is
edited, the ROI lists named investments, and identical restoration milestones are explained."""

from __future__ import annotations

from typing import Any

import pytest

from conftest import PageWatch

pytestmark = pytest.mark.browser


def test_cascade_workspace_keeps_state_and_explains(ui: tuple[Any, PageWatch], tiny_grid: Any) -> None:
    page, watch = ui
    substation = str(tiny_grid.substations.substation_id.iloc[0])
    page.click("[data-testid=tab-cascade]")
    page.fill("[data-testid=patient-zero]", substation)
    page.fill("textarea", '{"load_multiplier": 1.0}')
    page.click("[data-testid=run-cascade]")
    page.wait_for_selector("[data-testid=wave-row]", timeout=60_000)
    assert substation in page.locator("[data-testid=result-patient-zero]").inner_text()

    page.click("[data-testid=cascade-tab-restoration-sequence]")
    note = page.locator("[data-testid=restoration-note]")
    note.wait_for(timeout=60_000)
    assert "One repair brings every customer back" in note.inner_text()
    # never another tab's answer in this one
    assert page.locator("[data-testid=roi-table]").count() == 0

    page.click("[data-testid=cascade-tab-compare-mitigations]")
    page.wait_for_selector("[data-testid=roi-table], [data-testid=cascade-tabs] .notice", timeout=90_000)
    assert page.locator("[data-testid=restoration-view]").count() == 0
    for text in page.locator("[data-testid=roi-row] td:first-child").all_inner_texts():
        assert " for " in text and not text.strip().isdigit(), text

    # leave the Cascade tab and come back: the analysis tab and the inputs are still there
    page.click("[data-testid=tab-outages]")
    page.click("[data-testid=tab-cascade]")
    assert "active" in (page.get_attribute("[data-testid=cascade-tab-compare-mitigations]", "class") or "")
    assert page.input_value("textarea") == '{"load_multiplier": 1.0}'
    # editing patient zero does not relabel the result shown
    page.fill("[data-testid=patient-zero]", "SOMETHING-ELSE")
    assert substation in page.locator("[data-testid=result-patient-zero]").inner_text()
    assert watch.errors == [], watch.failed
