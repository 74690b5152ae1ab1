"""Import a SimBench grid by its code (e.g. ``1-MV-rural--0-sw``) through the pandapower importer.

SimBench (Meinecke et al., Energies 13(12) 3290, 2020; data ODbL) ships its grids inside the wheel, so this
works offline. Single-level grids (MV with HV/MV substation, LV with MV/LV station) import; combined
multi-level codes (``…MVLV…``, ``…HVMV…``) are refused by the importer with an `ImportDataError`
because our model has one transformation level per substation.
"""

from __future__ import annotations

from fluxops.core.errors import CapabilityError, ImportDataError
from fluxops.grid.importers.pandapower import ImportReport, import_pandapower_net
from fluxops.grid.models import Grid


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
    return import_pandapower_net(net, name=code, source="simbench", params={"code": code})
