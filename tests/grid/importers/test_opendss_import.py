"""OpenDSS scripts → asset model: the IEEE 13/34/123-node feeders, and one clear error per bad input."""

from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np
import pytest
from typer.testing import CliRunner

from fluxops.cli import app
from fluxops.core.errors import ImportDataError
from fluxops.grid.importers.opendss import import_opendss
from fluxops.grid.validation import validate_grid
from fluxops.network.compiled import as_imported_case, compile_grid
from fluxops.network.powerflow import run_powerflow

pytest.importorskip("pandapower")
FEEDERS = Path("/work/shared/data/ieee-test-feeders")
if not FEEDERS.is_dir():  # pragma: no cover - data of this workplace
    pytest.skip("IEEE test feeders not present", allow_module_level=True)


@pytest.mark.parametrize(
    ("script", "buses", "loads", "regulators"),
    [
        ("13Bus/IEEE13Nodeckt.dss", ["BUS-650", "BUS-RG60", "BUS-671", "BUS-692", "BUS-675"], 15, 3),
        ("34Bus/ieee34Mod1.dss", ["BUS-800", "BUS-814R", "BUS-852R", "BUS-848", "BUS-840"], 68, 6),
        ("123Bus/IEEE123Master.dss", ["BUS-150", "BUS-150R", "BUS-1", "BUS-300", "BUS-114"], 91, 7),
    ],
)
def test_ieee_feeders_import_validate_and_solve(
    script: str, buses: list[str], loads: int, regulators: int
) -> None:
    grid, report = import_opendss(FEEDERS / script)
    validate_grid(grid)
    assert grid.meta.source == "opendss" and grid.meta.params["layout"] == "schematic"
    assert set(buses) <= set(grid.buses["bus_id"])
    assert (grid.customers["customer_id"].str.startswith("CUST-")).sum() == loads
    assert report.carried["regcontrol (regulator at neutral tap: a closed switch)"] == regulators
    assert any("positive-sequence" in n for n in report.notes)  # the approximation is said
    # per-phase data for a future three-phase solver: phases per segment, linecode matrices
    lines = grid.meta.params["dss_lines"]
    assert set(lines) == set(grid.line_segments["segment_id"])
    assert {v["phases"] for v in lines.values()} >= {1, 3}
    code = next(iter(grid.meta.params["dss_linecodes"].values()))
    assert len(code["rmatrix_ohm_per_km"]) == code["nphases"]
    cg = compile_grid(grid)
    case = as_imported_case(cg)
    assert case is not None
    pf = run_powerflow(cg, p_kw=case[0], q_kvar=case[1], closed=case[2])
    assert pf.converged and pf.bus_energized.all() == (not grid.meta.params["deenergized_buses"])
    live = pf.vm_pu[np.isfinite(pf.vm_pu)]
    assert 0.85 < live.min() < live.max() <= 1.06


def test_ieee13_line_units_and_sequence_impedance() -> None:
    """Line 650632: 2000 ft of mtx601 (ohm/mi) → z1 = mean self − mean mutual, per km."""
    grid, _ = import_opendss(FEEDERS / "13Bus/IEEE13Nodeckt.dss")
    seg = grid.line_segments.set_index("segment_id").loc["SEG-650632"]
    assert seg["length_km"] == pytest.approx(2000 * 0.3048e-3)
    r_self = (0.3465 + 0.3375 + 0.3414) / 3
    r_mut = (0.1560 + 0.1580 + 0.1535) / 3
    assert seg["r_ohm_per_km"] == pytest.approx((r_self - r_mut) / 1.609344)
    # the in-line 4.16/0.48 kV transformer is collapsed: its loads sit on bus 633, named in the report
    xf = grid.transformers.set_index("transformer_id")
    assert xf.loc["XFMR-634A", "bus_id"] == "BUS-633"


def test_bus_coords_file() -> None:
    grid, report = import_opendss(
        FEEDERS / "123Bus/IEEE123Master.dss", coords=FEEDERS / "123Bus/BusCoords.dat"
    )
    b = grid.buses.set_index("bus_id")
    assert b.loc["BUS-1", "lon"] == pytest.approx(700 * 1e-5) and b.loc["BUS-1", "lat"] == pytest.approx(
        1500 * 1e-5
    )
    assert any("BusCoords" in n for n in report.notes)


def _write(tmp_path: Path, body: str) -> Path:
    f = tmp_path / "bad.dss"
    f.write_text(body)
    return f


_HEAD = (
    "New Circuit.c basekv=12.47 bus1=src\nNew Linecode.lc nphases=1 rmatrix=(0.3) xmatrix=(0.6) units=km\n"
)


@pytest.mark.parametrize(
    ("body", "line", "element", "fld"),
    [
        (_HEAD + "New Line.a bus1=src bus2=b linecode=lc length=(1 2\n", 3, "line.a", "value"),
        (_HEAD + "New PVSystem.pv bus1=b kva=10\n", 3, "pvsystem.pv", "class"),
        (
            "New Circuit.c basekv=12.47 bus1=src\nNew Linecode.lc nphases=1 rmatrix=(0.3) xmatrix=(0.6)\n"
            "New Line.a bus1=src bus2=b linecode=lc length=1 units=ft\n",
            3,
            "line.a",
            "units",
        ),
        (_HEAD + "New Line.a bus1=src bus2=b linecode=lc length=1 units=furlong\n", 3, "line.a", "units"),
        (_HEAD + "New Line.a bus1=src bus2=b linecode=nope length=1\n", 3, "line.a", "linecode"),
        (
            _HEAD + "New Line.a bus1=src bus2=b linecode=lc length=1\nNew Load.l bus1=b kw=abc\n",
            4,
            "load.l",
            "kw",
        ),
        ("New Linecode.lc nphases=1 rmatrix=(0.3) xmatrix=(0.6) units=km\n", 0, "Circuit", "New Circuit"),
        (_HEAD + "Frobnicate all\n", 3, "Frobnicate", "command"),
    ],
)
def test_bad_input_is_one_error_naming_file_line_element_field(
    tmp_path: Path, body: str, line: int, element: str, fld: str
) -> None:
    f = _write(tmp_path, body)
    with pytest.raises(ImportDataError) as exc:
        import_opendss(f)
    d = exc.value.details
    assert (
        d["file"].endswith("bad.dss") and d["line"] == line and d["element"] == element and d["field"] == fld
    )
    assert "bad.dss" in str(exc.value)


def test_cli_imports_ieee13_and_refuses_a_bad_file_without_loading_anything(tmp_path: Path) -> None:
    bad = _write(tmp_path, _HEAD + "New PVSystem.pv bus1=b kva=10\n")
    result = CliRunner().invoke(app, ["import", "opendss", str(bad), "--data-dir", str(tmp_path / "a")])
    assert result.exit_code != 0
    assert not (tmp_path / "a" / "fluxops.duckdb").exists()  # nothing half-loaded
    script = FEEDERS / "13Bus/IEEE13Nodeckt.dss"
    result = CliRunner().invoke(app, ["import", "opendss", str(script), "--data-dir", str(tmp_path / "b")])
    assert result.exit_code == 0, result.output
    assert "imported IEEE13Nodeckt (opendss)" in result.output and "collapsed" in result.output
    con = duckdb.connect(str(tmp_path / "b" / "fluxops.duckdb"), read_only=True)
    try:
        tables = {r[0] for r in con.execute("select table_name from information_schema.tables").fetchall()}
        seg_table = next(t for t in tables if t.endswith("line_segments"))
        assert con.execute(f"select count(*) from {seg_table}").fetchone() == (11,)
    finally:
        con.close()


def test_open_command_opens_a_switch() -> None:
    """IEEE123Switches.dss defines Sw7/Sw8 as switches and opens them (``open Line.Sw7 terminal=2``); the
    master file instead ends them on dangling ``…_OPEN`` buses (closed), as written."""
    grid, _ = import_opendss(FEEDERS / "123Bus/IEEE123Switches.dss")
    validate_grid(grid)
    dev = grid.devices.set_index("device_id")
    assert (dev.loc[["SW-SW7", "SW-SW8"], "normal_state"] == "open").all()
    assert dev.loc["SW-SW7", "to_bus_id"] == "BUS-300"
    master, _ = import_opendss(FEEDERS / "123Bus/IEEE123Master.dss")
    assert master.devices.set_index("device_id").loc["SW-SW7", "to_bus_id"] == "BUS-300_OPEN"
