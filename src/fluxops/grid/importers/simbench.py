"""Import a SimBench grid by its code (e.g. ``1-MV-rural--0-sw``) through the pandapower importer.

SimBench (Meinecke et al., Energies 13(12) 3290, 2020; data ODbL) ships its grids inside the wheel, so this
works offline. Single-level grids (MV with HV/MV substation, LV with MV/LV station) import; combined
multi-level codes (``…MVLV…``, ``…HVMV…``) are refused by the importer with an `ImportDataError`
because our model has one transformation level per substation. ``annual_kwh`` comes from the grid's
own year profiles (clipped at 0 for net producers).
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from fluxops.core.errors import CapabilityError, ImportDataError
from fluxops.grid.importers.pandapower import ImportReport, import_pandapower_net
from fluxops.grid.models import Grid, grid_from_tables


def load_simbench_network(code: str) -> tuple[Grid, ImportReport]:
    """Load ``code`` with ``simbench.get_simbench_net`` (≈4 s: it parses the bundled CSVs) and import it."""
    try:
        import simbench
    except ImportError as exc:  # pragma: no cover - depends on the extra
        raise CapabilityError("simbench is not installed (pip install 'fluxops[import]')") from exc
    codes = set(simbench.collect_all_simbench_codes())
    if code not in codes:
        raise ImportDataError(
            f"simbench code {code!r} is unknown (e.g. 1-MV-rural--0-sw, 1-MV-urban--0-sw, 1-LV-rural1--0-sw)",
            details={"element": "simbench", "index": code, "field": "code"},
        )
    net = simbench.get_simbench_net(code)
    grid, report = import_pandapower_net(net, name=code, source="simbench", params={"code": code})
    return _with_annual_energy(grid, net, simbench), report


# SimBench profiles are 15-minute means over the leap year 2016 (35,136 steps): energy = Σ p · 0.25 h.
_STEP_H = 0.25


def _with_annual_energy(grid: Grid, net: Any, simbench: Any) -> Grid:
    """Fill ``customers.annual_kwh`` from SimBench's own year profiles (absolute ``p_mw`` per load)."""
    profiles = simbench.get_absolute_values(net, profiles_instead_of_study_cases=True)
    p_mw = profiles.get(("load", "p_mw"))
    if p_mw is None or p_mw.empty:
        return grid
    kwh = pd.Series(
        p_mw.sum(axis=0).to_numpy(float) * 1000.0 * _STEP_H, index=[f"CUST-L{i}" for i in p_mw.columns]
    )
    customers = grid.customers.copy()
    known = customers["customer_id"].map(kwh)
    customers["annual_kwh"] = known.fillna(customers["annual_kwh"]).clip(lower=0.0)
    tables = grid.tables()
    tables["customers"] = customers
    return grid_from_tables(grid.meta, tables)
