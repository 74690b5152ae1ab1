"""Read the network's GIS files (one per grid table) through DuckDB spatial and build the grid:
`fluxops.storage.geo_import.read_features` does the reading and the projection check (the same as the
geo layers' imports), `fluxops.grid.importers.gis.build_network` the mapping, units and topology."""

from __future__ import annotations

from pathlib import Path

from fluxops.core.errors import InvalidInputError
from fluxops.grid.importers.gis import build_network, files_by_table, parse_network_mapping
from fluxops.grid.models import Grid
from fluxops.storage.geo_import import read_features


def read_network(paths: list[Path], mapping_text: str, mapping_name: str = "mapping") -> Grid:
    """The grid the files hold (not validated, not stored: the caller validates and loads it)."""
    mapping = parse_network_mapping(mapping_text, mapping_name)
    by_name = {p.name: p for p in paths}
    if len(by_name) != len(paths):
        raise InvalidInputError("two files share a name", field="files")
    files = files_by_table(mapping, list(by_name))
    unused = sorted(set(by_name) - set(files.values()))
    if unused:
        raise InvalidInputError(
            f"{unused[0]}: matches no grid table (name it <table>.<ext> or map it)", field="files"
        )
    frames = {table: read_features(by_name[name]) for table, name in files.items()}
    return build_network(frames, files, mapping)
