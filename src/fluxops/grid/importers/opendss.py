"""Import an OpenDSS feeder (``fluxops import opendss FILE.dss``): the IEEE 13/34/123-node class.

The script is read by our own parser (`fluxops.grid.importers.opendss_parser`), turned into an equivalent
pandapower net and then mapped by the pandapower importer, so substations, feeders, devices, loads and the
"as imported" operating point follow exactly the same rules as every other import. The mapping:

* ``Circuit`` → ext_grid at its ``bus1`` (``basekv``, ``pu``); its short-circuit impedance is not modelled
  (the IEEE cases make it stiff on purpose) and is named in the report;
* the ``Transformer`` at the circuit bus → the substation transformer (``%r`` of both windings or
  ``%loadloss`` → vkr, ``XHL`` → vk, ``%noloadloss``/``%imag`` → iron losses); a circuit straight at
  distribution voltage (IEEE 123) → an ideal source;
* transformers a ``RegControl`` drives, or with equal winding voltages → a closed switch between their
  buses (regulator at neutral tap: the balanced model does not run tap controls; settings kept in
  ``grid.meta.params['dss_regulators']``);
* other transformers inside the feeder (e.g. 4.16/0.48 kV ``XFM1``) → collapsed: the loads behind them
  become aggregate load points at the transformer's primary bus, the lines behind them are dropped (named,
  with counts, in the report) — the asset model has one transformation level per substation;
* ``Line`` → a line segment with the **balanced positive-sequence equivalent** of its phase impedance
  matrix (z1 = mean self − mean mutual; a one-phase line keeps its self impedance) and of ``Cmatrix``;
  lengths and linecode units converted (ft, mi, kft, m, km…); ``switch=yes`` lines → switches;
  ``normamps`` → ampacity (OpenDSS's own 400 A default where the file gives none, flagged);
* ``Load`` → aggregate load point (kW, kvar or pf; constant-Z/I models are reported as constant power);
  ``Capacitor`` → shunt (carried in the as-imported operating point);
* ``BusCoords`` → the diagram's x/y as small offsets around (0°, 0°) (layout ``schematic``), buses without
  coordinates take a neighbour's.

The file's own three-phase model (`opendss_model.feeder_model`: line-code matrices, regulators, windings,
loads by phase and connection) is kept as ``grid.meta.params['dss_threephase']`` with its sha256 in
``['dss_threephase_sha256']``; ``model=three_phase`` solves it. Also kept: ``grid.meta.params['dss_lines']``
(phases and linecode per segment) and ``['dss_linecodes']`` (R, X, C matrices per km).
"""

from __future__ import annotations

import math
import re
from collections import deque
from pathlib import Path
from typing import Any

import numpy as np

from fluxops.core.errors import CapabilityError, ImportDataError
from fluxops.grid.importers.opendss_model import feeder_model
from fluxops.grid.importers.opendss_parser import (
    UNITS_KM,
    DssCircuit,
    DssObject,
    array,
    err,
    matrix,
    number,
    parse_dss,
    read_bus_coords,
    unwrap,
)
from fluxops.grid.importers.pandapower_mapping import ImportReport
from fluxops.grid.models import Grid, GridMeta, grid_from_tables
from fluxops.network.threephase.serialize import model_hash, model_to_dict

# OpenDSS defaults where a file leaves a value out (OpenDSS documentation, Line/Transformer/Load)
_DSS_NORMAMPS = 400.0
_DSS_XHL_PCT = 7.0
_DSS_R_PCT = 0.2
_DSS_LOAD_PF = 0.88
_DSS_LINE_R1, _DSS_LINE_X1 = 0.058, 0.1206  # ohm per kft
# BusCoords are diagram units (feet in the IEEE files): one unit → 1e-5° (≈ 1.1 m) around (0°, 0°)
_XY_DEG = 1e-5


def _bus(ref: Any) -> tuple[str, list[int]]:
    parts = unwrap(str(ref)).lower().split(".")
    return parts[0], [int(p) for p in parts[1:] if p.isdigit() and p != "0"]


def _phase_set(nodes: list[int]) -> str:
    """``bus.1.3`` → "AC": the phases among the nodes (none named: all three, OpenDSS's default)."""
    got = "".join(ph for k, ph in ((1, "A"), (2, "B"), (3, "C")) if k in nodes)
    return got or "ABC"


def _f(obj: DssObject, key: str, default: float | None = None) -> float:
    v = obj.props.get(key)
    if v is None:
        if default is None:
            raise err(obj.file, obj.line, f"{obj.cls}.{obj.name}", key, "is missing")
        return default
    try:
        return number(v)
    except (ValueError, ZeroDivisionError, IndexError) as exc:
        raise err(obj.file, obj.line, f"{obj.cls}.{obj.name}", key, f"is not a number: {v!r}") from exc


def _units(obj: DssObject) -> str | None:
    u = obj.props.get("units")
    if u is None:
        return None
    u = unwrap(str(u)).lower()
    if u == "none":
        return None
    if u not in UNITS_KM:
        raise err(obj.file, obj.line, f"{obj.cls}.{obj.name}", "units", f"{u!r} is not a length unit")
    return u


def _windings(t: DssObject) -> list[dict[str, Any]]:
    n = int(_f(t, "windings", 2))
    w = [dict(x) for x in t.windings] + [{} for _ in range(max(0, n - len(t.windings)))]
    for key, col in (("buses", "bus"), ("kvs", "kv"), ("kvas", "kva"), ("conns", "conn")):
        if key in t.props:
            for i, v in enumerate(array(t.props[key])[:n]):
                w[i].setdefault(col, v)
    for i, wd in enumerate(w[:2]):
        for col in ("bus", "kv"):
            if col not in wd:
                raise err(t.file, t.line, f"transformer.{t.name}", f"wdg {i + 1} {col}", "is missing")
    return w[:2]


def _sequence(m: list[list[float]]) -> float:
    n = len(m)
    if n == 1:
        return m[0][0]
    self_ = sum(m[i][i] for i in range(n)) / n
    mutual = sum(m[i][j] for i in range(n) for j in range(n) if i != j) / (n * n - n)
    return self_ - mutual


class _Builder:
    def __init__(self, c: DssCircuit) -> None:
        self.c = c
        self.report = ImportReport(source_v_pu={}, synthesized_breakers=0)
        self.phases: dict[str, str] = {}  # "SW-NAME" / "XFMR-NAME" (ids after renaming) → phase set
        self.objs = {
            cls: [o for (k, _), o in c.objects.items() if k == cls]
            for cls in ("circuit", "linecode", "line", "transformer", "regcontrol", "capacitor", "load")
        }

    def build(self) -> tuple[Any, dict[str, Any]]:
        try:
            import pandapower as pp
        except ImportError as exc:  # pragma: no cover - depends on the extra
            raise CapabilityError("pandapower is not installed (pip install 'fluxops[import]')") from exc
        circuit = self.objs["circuit"][0]
        src_bus, _ = _bus(circuit.props.get("bus1", "sourcebus"))
        base_kv = _f(circuit, "basekv", 115.0)
        regulated = {unwrap(str(r.props.get("transformer", ""))).lower() for r in self.objs["regcontrol"]}
        # classify transformers
        edges: list[tuple[str, str, float, str, DssObject]] = []  # (a, b, kv ratio b/a, kind, obj)
        for t in self.objs["transformer"]:
            w = _windings(t)
            (a, _), (b, _) = _bus(w[0]["bus"]), _bus(w[1]["bus"])
            kv_a, kv_b = number(w[0]["kv"]), number(w[1]["kv"])
            if t.name in regulated or math.isclose(kv_a, kv_b, rel_tol=1e-6):
                kind = "regulator"
            elif src_bus in (a, b):
                kind = "source"
            else:
                kind = "inline"
            edges.append((a, b, kv_b / kv_a, kind, t))
        lines = self.objs["line"]
        line_ends = [
            (_bus(ln.props.get("bus1", ""))[0], _bus(ln.props.get("bus2", ""))[0], ln) for ln in lines
        ]
        for a, b, ln in line_ends:
            if not a or not b:
                raise err(ln.file, ln.line, f"line.{ln.name}", "bus1/bus2", "is missing")
        # nominal voltages: BFS from the source over every connection (any switch state)
        adj: dict[str, list[tuple[str, float]]] = {}
        for a, b, _ in line_ends:
            adj.setdefault(a, []).append((b, 1.0))
            adj.setdefault(b, []).append((a, 1.0))
        for a, b, ratio, kind, _ in edges:
            r = 1.0 if kind == "regulator" else ratio
            adj.setdefault(a, []).append((b, r))
            adj.setdefault(b, []).append((a, 1.0 / r))
        vn = {src_bus: base_kv}
        q = deque([src_bus])
        while q:
            u = q.popleft()
            for v, r in adj.get(u, []):
                if v not in vn:
                    vn[v] = vn[u] * r
                    q.append(v)
        # buses behind in-line transformers collapse onto the transformer's primary bus
        inline = [(a, b, t) for a, b, _, kind, t in edges if kind == "inline"]
        merged: dict[str, str] = {}
        for a, b, t in inline:
            hv, lv = (a, b) if vn.get(a, 0) >= vn.get(b, 0) else (b, a)
            seen = {lv}
            q = deque([lv])
            while q:
                u = q.popleft()
                for v, _r in adj.get(u, []):
                    if v not in seen and v != hv and vn.get(v, 0) <= vn[lv] * 1.0001:
                        seen.add(v)
                        q.append(v)
            for x in seen:
                merged[x] = hv
            self.report.dropped[f"transformer.{t.name} (in-line {vn[hv]:g}/{vn[lv]:g} kV, collapsed)"] = 1
        unknown = [(ln, x) for a, b, ln in line_ends for x in (a, b) if x not in vn]
        if unknown:
            ln, x = unknown[0]
            raise err(
                ln.file, ln.line, f"line.{ln.name}", "bus", f"{x!r} is not connected to the circuit source"
            )

        net = pp.create_empty_network(
            f_hz=_f(circuit, "basefreq", 60.0) if "basefreq" in circuit.props else 60.0
        )
        names = sorted(x for x in vn if x not in merged)
        names.remove(src_bus)
        names.insert(0, src_bus)
        bidx = {x: pp.create_bus(net, vn_kv=vn[x], name=x) for x in names}
        for x, hv in merged.items():
            bidx[x] = bidx[hv]
        pp.create_ext_grid(net, bidx[src_bus], vm_pu=_f(circuit, "pu", 1.0), va_degree=0.0)
        self.report.dropped["circuit source impedance (MVAsc/R1/X1: a stiff source)"] = 1
        meta = self._transformers(pp, net, edges, bidx, vn)
        meta.update(self._lines(pp, net, line_ends, bidx, merged))
        self._loads(pp, net, bidx, vn)
        self._xy(net, names, adj)
        return net, meta

    def _transformers(
        self,
        pp: Any,
        net: Any,
        edges: list[tuple[str, str, float, str, DssObject]],
        bidx: dict[str, int],
        vn: dict[str, float],
    ) -> dict[str, Any]:
        regs: dict[str, Any] = {}
        seen_pairs: set[tuple[int, int]] = set()
        for a, b, _ratio, kind, t in edges:
            ia, ib = bidx[a], bidx[b]
            if kind == "regulator":
                if (ia, ib) not in seen_pairs and ia != ib:
                    seen_pairs.add((ia, ib))
                    pp.create_switch(net, ia, ib, et="b", closed=True, type="LBS", name=f"REG-{t.name}")
                regs[t.name] = {
                    "buses": [a, b],
                    "controls": {
                        r.name: {k: str(v) for k, v in r.props.items() if not k.startswith("_")}
                        for r in self.objs["regcontrol"]
                        if unwrap(str(r.props.get("transformer", ""))).lower() == t.name
                    },
                }
                continue
            if kind != "source":
                continue
            w = _windings(t)
            if int(_f(t, "phases", 3)) != 3:
                raise err(t.file, t.line, f"transformer.{t.name}", "phases", "must be 3 at the source")
            hv, lv = (ia, ib) if vn[a] >= vn[b] else (ib, ia)
            kva = number(w[0].get("kva", t.props.get("kva", 1000.0)))
            r_pct = (
                _f(t, "%loadloss")
                if "%loadloss" in t.props
                else sum(number(x.get("%r", _DSS_R_PCT)) for x in w)
            )
            x_pct = _f(t, "xhl", _DSS_XHL_PCT)
            pp.create_transformer_from_parameters(
                net,
                hv,
                lv,
                sn_mva=kva / 1000.0,
                vn_hv_kv=max(vn[a], vn[b]),
                vn_lv_kv=min(vn[a], vn[b]),
                vkr_percent=r_pct,
                vk_percent=math.hypot(r_pct, x_pct),
                pfe_kw=_f(t, "%noloadloss", 0.0) / 100.0 * kva,
                i0_percent=_f(t, "%imag", 0.0),
                name=t.name,
            )
        if regs:
            self.report.carried["regcontrol (regulator at neutral tap: a closed switch)"] = len(
                self.objs["regcontrol"]
            )
        return {"dss_regulators": regs}

    def _linecode(self, name: str, ln: DssObject) -> DssObject:
        for code in self.objs["linecode"]:
            if code.name == name:
                return code
        raise err(ln.file, ln.line, f"line.{ln.name}", "linecode", f"{name!r} is not defined")

    def _lines(
        self,
        pp: Any,
        net: Any,
        line_ends: list[tuple[str, str, DssObject]],
        bidx: dict[str, int],
        merged: dict[str, str],
    ) -> dict[str, Any]:
        dss_lines: dict[str, Any] = {}
        codes: dict[str, Any] = {}
        default_amps = dropped = 0
        for a, b, ln in line_ends:
            el = f"line.{ln.name}"
            if a in merged and b in merged:
                dropped += 1
                continue
            is_switch = unwrap(str(ln.props.get("switch", "no"))).lower() in ("y", "yes", "true", "t")
            if is_switch or bidx[a] == bidx[b]:
                self.phases[f"SW-{_upper(ln.name)}"] = _phase_set(_bus(ln.props.get("bus1", ""))[1])
                if bidx[a] != bidx[b]:
                    pp.create_switch(
                        net,
                        bidx[a],
                        bidx[b],
                        et="b",
                        closed=ln.name not in self.c.opened,
                        type="LBS",
                        name=ln.name,
                    )
                continue
            code = (
                self._linecode(unwrap(str(ln.props["linecode"])).lower(), ln)
                if "linecode" in ln.props
                else None
            )
            u_line, u_code = _units(ln), _units(code) if code is not None else None
            if (
                code is not None
                and u_line is not None
                and u_code is None
                and ("rmatrix" in code.props or "r1" in code.props)
            ):
                raise err(
                    ln.file, ln.line, el, "units", f"{u_line} given but linecode {code.name} has no units"
                )
            length_unit = u_line or u_code
            length = _f(ln, "length", 1.0)
            if length_unit is None:
                raise err(ln.file, ln.line, el, "units", "are missing on the line and its linecode")
            src = code if code is not None and ("rmatrix" in code.props or "r1" in code.props) else ln
            z_unit = (u_code if src is code else u_line) or length_unit
            try:
                if "rmatrix" in src.props:
                    r1 = _sequence(matrix(src.props["rmatrix"]))
                    x1 = _sequence(matrix(src.props["xmatrix"]))
                    c1 = _sequence(matrix(src.props["cmatrix"])) if "cmatrix" in src.props else 0.0
                elif "r1" in src.props:
                    r1, x1, c1 = _f(src, "r1"), _f(src, "x1", 0.0), _f(src, "c1", 0.0)
                else:  # OpenDSS's default line (ohm per kft)
                    r1, x1, c1, z_unit = _DSS_LINE_R1, _DSS_LINE_X1, 0.0, "kft"
            except (ValueError, IndexError, KeyError) as exc:
                raise err(src.file, src.line, f"{src.cls}.{src.name}", "rmatrix/xmatrix", str(exc)) from exc
            per_km = 1.0 / UNITS_KM[z_unit]
            phases = int(_f(ln, "phases", _f(code, "nphases", 3.0) if code is not None else 3.0))
            amps_src = ln if "normamps" in ln.props else code
            if amps_src is not None and "normamps" in amps_src.props:
                amps = _f(amps_src, "normamps")
            else:
                amps, default_amps = _DSS_NORMAMPS, default_amps + 1
            idx = pp.create_line_from_parameters(
                net,
                bidx[a],
                bidx[b],
                length_km=length * UNITS_KM[length_unit],
                r_ohm_per_km=r1 * per_km,
                x_ohm_per_km=x1 * per_km,
                c_nf_per_km=c1 * per_km,
                max_i_ka=amps / 1000.0,
                name=ln.name,
                type="ol",
                std_type=code.name if code is not None else None,
            )
            dss_lines[str(idx)] = {
                "name": ln.name,
                "phases": phases,
                "nodes": _bus(ln.props.get("bus1", ""))[1] or [1, 2, 3][:phases],
                "linecode": code.name if code is not None else None,
            }
            if code is not None and code.name not in codes and "rmatrix" in code.props:
                k = 1.0 / UNITS_KM[u_code or length_unit]
                codes[code.name] = {
                    "nphases": int(_f(code, "nphases", 3.0)),
                    "rmatrix_ohm_per_km": [[v * k for v in r] for r in matrix(code.props["rmatrix"])],
                    "xmatrix_ohm_per_km": [[v * k for v in r] for r in matrix(code.props["xmatrix"])],
                    "cmatrix_nf_per_km": [[v * k for v in r] for r in matrix(code.props["cmatrix"])]
                    if "cmatrix" in code.props
                    else None,
                }
        if dropped:
            self.report.dropped["line behind an in-line transformer"] = dropped
        if default_amps:
            self.report.notes.append(
                f"{default_amps} line(s) have no normamps in the file: "
                f"OpenDSS's default {_DSS_NORMAMPS:g} A used"
            )
        self.report.notes.append(
            "balanced model: each line is its positive-sequence equivalent (z1 = mean self − mean mutual "
            "impedance; a one-phase line keeps its self impedance); per-phase data kept in "
            "grid.meta.params['dss_lines'] / ['dss_linecodes'] for a three-phase solver"
        )
        return {"dss_lines": dss_lines, "dss_linecodes": codes}

    def _loads(self, pp: Any, net: Any, bidx: dict[str, int], vn: dict[str, float]) -> None:
        for ld in self.objs["load"]:
            b, nodes = _bus(ld.props.get("bus1", ""))
            if b not in bidx:
                raise err(
                    ld.file, ld.line, f"load.{ld.name}", "bus1", f"{b!r} is not connected to the circuit"
                )
            self.phases[f"XFMR-{_upper(ld.name)}"] = _phase_set(nodes)
            kw = _f(ld, "kw", 0.0) if "kva" not in ld.props else _f(ld, "kva") * _f(ld, "pf", _DSS_LOAD_PF)
            if "kvar" in ld.props:
                kvar = _f(ld, "kvar")
            else:
                pf = _f(ld, "pf", _DSS_LOAD_PF)
                kvar = math.copysign(kw * math.tan(math.acos(min(abs(pf), 1.0))), pf)
            model = int(_f(ld, "model", 1.0))
            pp.create_load(
                net,
                bidx[b],
                p_mw=kw / 1000.0,
                q_mvar=kvar / 1000.0,
                name=ld.name,
                const_z_p_percent=100.0 if model == 2 else 0.0,
                const_z_q_percent=100.0 if model == 2 else 0.0,
                const_i_p_percent=100.0 if model == 5 else 0.0,
                const_i_q_percent=100.0 if model == 5 else 0.0,
            )
        for cap in self.objs["capacitor"]:
            b, _ = _bus(cap.props.get("bus1", ""))
            if "bus2" in cap.props and _bus(cap.props["bus2"])[0] not in ("", b):
                raise err(
                    cap.file, cap.line, f"capacitor.{cap.name}", "bus2", "series capacitors are not supported"
                )
            if b not in bidx:
                raise err(cap.file, cap.line, f"capacitor.{cap.name}", "bus1", f"{b!r} is not connected")
            kvar = sum(number(x) for x in array(cap.props.get("kvar", "600")))
            pp.create_shunt(net, bidx[b], q_mvar=-kvar / 1000.0, p_mw=0.0, vn_kv=vn[b], name=cap.name)
        for cls, n in self.c.counted.items():
            self.report.dropped[f"{cls} (measurement, not modelled)"] = n

    def _xy(self, net: Any, names: list[str], adj: dict[str, list[tuple[str, float]]]) -> None:
        xy = {k: v for k, v in self.c.bus_xy.items() if k in set(names)}
        if not xy:
            return
        q = deque(xy)
        while q:  # buses without coordinates take a neighbour's
            u = q.popleft()
            for v, _ in adj.get(u, []):
                if v not in xy:
                    xy[v] = xy[u]
                    q.append(v)
        pts = np.array([xy.get(x, (0.0, 0.0)) for x in names], dtype=float) * _XY_DEG
        net.bus["geo"] = [f'{{"type": "Point", "coordinates": [{lon:.9f}, {lat:.9f}]}}' for lon, lat in pts]


_ID = re.compile(r"^(BUS-|SEG-|SW-|BRK-L|XFMR-L|MTR-L|CUST-L)(\d+)")
_HEAD = re.compile(r"-H(\d+)")


def _rename(value: Any, maps: dict[str, dict[int, str]]) -> Any:
    if isinstance(value, str):
        m = _ID.match(value)
        if m and int(m.group(2)) in maps[m.group(1)]:
            prefix = {"BRK-L": "BRK-", "XFMR-L": "XFMR-", "MTR-L": "MTR-", "CUST-L": "CUST-"}.get(
                m.group(1), m.group(1)
            )
            rest = value[m.end() :]
            h = _HEAD.fullmatch(rest)  # a synthesized feeder-head bus, named after its line
            if h and int(h.group(1)) in maps["SEG-"]:
                rest = f"-H-{maps['SEG-'][int(h.group(1))]}"
            return prefix + maps[m.group(1)][int(m.group(2))] + rest
        return value
    if isinstance(value, dict):
        return {_rename(k, maps): _rename(v, maps) for k, v in value.items()}
    if isinstance(value, list):
        return [_rename(v, maps) for v in value]
    return value


def _upper(s: Any) -> str:
    return str(s).upper()  # ids read like the file's names


def _carry_phases(tables: dict[str, Any], dss_lines: dict[str, Any], phases: dict[str, str]) -> None:
    """Phases from the buses' node lists: lines ``bus.1.2.3``, switches, loads (→ their transformers);
    anything the file does not name (synthesized breakers, regulators as switches) is three-phase."""
    seg = tables["line_segments"]
    seg["phases"] = [_phase_set(dss_lines.get(i, {}).get("nodes", [])) for i in seg["segment_id"]]
    dev = tables["devices"]
    dev["phases"] = [phases.get(i, "ABC") for i in dev["device_id"]]
    xf = tables["transformers"]
    xf["phase"] = [phases.get(i, "ABC") for i in xf["transformer_id"]]
    tables["meters"] = tables["meters"].assign(phases=None)  # refilled from the transformers


def import_opendss(path: str | Path, *, coords: str | Path | None = None) -> tuple[Grid, ImportReport]:
    """Parse ``path`` (and what it redirects to) and import it; see the module docstring. ``coords``: a
    BusCoords file to use when the script itself loads none (the IEEE files load theirs from ``Run_…``)."""
    from fluxops.grid.importers.pandapower import import_pandapower_net

    circuit = parse_dss(path)
    if coords is not None:
        circuit.bus_xy.update(read_bus_coords(coords))
    b = _Builder(circuit)
    net, dss_meta = b.build()
    name = Path(path).stem
    try:
        grid, report = import_pandapower_net(net, name=name, source="opendss", params={"file": str(path)})
    except ImportDataError as exc:
        raise ImportDataError(f"{path}: {exc}", details={"file": str(path), **exc.details}) from exc
    maps = {
        "BUS-": {int(i): _upper(n) for i, n in net.bus["name"].items()},
        "SEG-": {int(i): _upper(n) for i, n in net.line["name"].items()},
        "SW-": {int(i): _upper(n) for i, n in net.switch["name"].items()},
        "BRK-L": {int(i): _upper(n) for i, n in net.line["name"].items()},
        "XFMR-L": {int(i): _upper(n) for i, n in net.load["name"].items()},
        "MTR-L": {int(i): _upper(n) for i, n in net.load["name"].items()},
        "CUST-L": {int(i): _upper(n) for i, n in net.load["name"].items()},
    }
    tables = {}
    for tname, df in grid.tables().items():
        out = df.copy()
        for col in out.columns:
            if out[col].dtype == object:
                out[col] = [_rename(v, maps) for v in out[col]]
        tables[tname] = out
    dss_meta["dss_lines"] = {_rename(f"SEG-{k}", maps): v for k, v in dss_meta["dss_lines"].items()}
    _carry_phases(tables, dss_meta["dss_lines"], b.phases)
    params = _rename(dict(grid.meta.params), maps)
    params.update(dss_meta)
    params["layout"] = "schematic"  # BusCoords are diagram x/y, not geographic; else a drawn tree
    if circuit.bus_xy:
        report.notes.append("bus positions from the file's BusCoords (diagram x/y, not geographic)")
    for k, v in b.report.dropped.items():
        report.dropped[k] = v
    for k, v in b.report.carried.items():
        report.carried[k] = v
    report.notes.extend(b.report.notes)
    report.source_v_pu.clear()
    report.source_v_pu.update(params["source_v_pu"])
    params["dropped"] = dict(report.dropped)
    three = model_to_dict(feeder_model(circuit))  # the file's own circuit, for model=three_phase
    params["dss_threephase"] = three
    params["dss_threephase_sha256"] = model_hash(three)
    return grid_from_tables(GridMeta(name=name, source="opendss", params=params), tables), report
