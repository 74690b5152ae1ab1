"""The utility's asset model: columnar tables per element type, validation, generator, importers."""

from fluxops.grid.models import ASSET_TYPES, MAP_ASSET_TYPES, TABLES, Grid

__all__ = ["ASSET_TYPES", "MAP_ASSET_TYPES", "TABLES", "Grid"]
