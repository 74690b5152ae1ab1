"""A hand-written parser for the subset of the OpenDSS script language distribution feeders use.

Why not OpenDSS itself: the engine is a native library outside our dependencies, and an importer only needs
the circuit's data, not a solution. The subset (the IEEE 13/34/123-node feeders and scripts like them):

* commands ``New``, ``Edit``, ``Redirect``, ``Compile``, ``Open``/``Close`` (a switch line's terminal),
  ``BusCoords``/``Buscoords`` (a ``name, x, y`` file), property edits ``Class.name.prop=value``;
  ``~``/``More`` continue the previous element; ``!`` and ``//`` start comments; case-insensitive;
* solution and report commands (``Set``, ``Solve``, ``Show``, ``Plot``, ``CalcVoltageBases`` …) are read
  over — they hold no network data;
* classes ``Circuit``, ``Linecode``, ``Line``, ``Transformer``, ``RegControl``, ``Capacitor``, ``Load``,
  ``Switch`` (a line with ``switch=yes``); ``EnergyMeter``/``Monitor`` are measurements and are counted,
  not modelled; anything else is an error;
* values: numbers, ``"…"``/``'…'``/``(…)``/``[…]`` groups, arrays (``[a b c]``, ``a, b``), lower-triangular
  matrices (``a | b c | d e f``), in-line RPN arithmetic (``(8 1000 /)``), ``like=`` copies.

Every error is an `ImportDataError` naming file, line, element and field; the parser builds plain data
(`DssCircuit`) and never half-fills anything the caller keeps.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fluxops.core.errors import ImportDataError

SUPPORTED = ("circuit", "linecode", "line", "transformer", "regcontrol", "capacitor", "load", "switch")
MEASUREMENTS = ("energymeter", "monitor")
# commands without network data (solution control, reports, plots)
_SKIPPED = {
    "set",
    "solve",
    "show",
    "plot",
    "calcv",
    "calcvoltagebases",
    "clear",
    "export",
    "interpolate",
    "visualize",
    "sample",
    "reset",
    "help",
    "dump",
    "makebuslist",
    "latlongcoords",
    "summary",
}
# length units → km (OpenDSS: none, mi, kft, km, m, ft, in, cm, mm)
UNITS_KM = {
    "mi": 1.609344,
    "kft": 0.3048,
    "km": 1.0,
    "m": 1e-3,
    "ft": 0.3048e-3,
    "in": 0.0254e-3,
    "cm": 1e-5,
    "mm": 1e-6,
}


@dataclass
class DssObject:
    """One element: class, name, properties in the order given (lower-case keys), where it was defined."""

    cls: str
    name: str
    props: dict[str, Any]
    file: str
    line: int
    windings: list[dict[str, Any]] = field(default_factory=list)  # transformers: per-winding properties


@dataclass
class DssCircuit:
    name: str
    objects: dict[tuple[str, str], DssObject]
    bus_xy: dict[str, tuple[float, float]]
    opened: set[str]  # line names opened by an Open command
    counted: dict[str, int]  # measurement elements read over, by class


def err(file: str, line: int, element: str, fld: str, why: str) -> ImportDataError:
    return ImportDataError(
        f"{file}:{line}: {element}: {fld} {why}",
        details={"file": file, "line": line, "element": element, "field": fld},
    )


def _strip_comment(s: str) -> str:
    out, quote = [], ""
    i = 0
    while i < len(s):
        c = s[i]
        if quote:
            if c == quote:
                quote = ""
        elif c in "\"'":
            quote = c
        elif c == "!" or s.startswith("//", i):
            break
        out.append(c)
        i += 1
    return "".join(out).strip()


_CLOSE = {"(": ")", "[": "]", "{": "}", '"': '"', "'": "'"}


def tokenize(s: str) -> list[tuple[str | None, str]]:
    """``key=value`` and positional tokens; groups in quotes or brackets keep their spaces."""
    out: list[tuple[str | None, str]] = []
    i, n = 0, len(s)
    while i < n:
        while i < n and s[i] in " \t,":
            i += 1
        if i >= n:
            break
        key: str | None = None
        m = re.match(r"([A-Za-z_%][\w%.\-]*)\s*=\s*", s[i:])
        if m:
            key = m.group(1).lower()
            i += m.end()
        if i < n and s[i] in _CLOSE:
            close = _CLOSE[s[i]]
            j = s.find(close, i + 1)
            if j < 0:
                raise ValueError(f"unclosed {s[i]!r}")
            out.append((key, s[i : j + 1]))
            i = j + 1
        else:
            j = i
            while j < n and s[j] not in " \t,":
                j += 1
            out.append((key, s[i:j]))
            i = j
    return out


def _rpn(expr: str) -> float:
    stack: list[float] = []
    ops = {
        "+": lambda a, b: a + b,
        "-": lambda a, b: a - b,
        "*": lambda a, b: a * b,
        "/": lambda a, b: a / b,
        "^": lambda a, b: a**b,
    }
    for t in expr.split():
        if t in ops:
            b, a = stack.pop(), stack.pop()
            stack.append(ops[t](a, b))
        elif t.lower() == "sqrt":
            stack.append(math.sqrt(stack.pop()))
        else:
            stack.append(float(t))
    if len(stack) != 1:
        raise ValueError(expr)
    return stack[0]


def unwrap(v: str) -> str:
    v = v.strip()
    if len(v) >= 2 and v[0] in _CLOSE and v[-1] == _CLOSE[v[0]]:
        return v[1:-1].strip()
    return v


def number(v: Any) -> float:
    """A number, or in-line RPN such as ``(8 1000 /)``; raises ValueError."""
    if isinstance(v, int | float):
        return float(v)
    s = unwrap(str(v))
    try:
        return float(s)
    except ValueError:
        return _rpn(s)


def array(v: Any) -> list[str]:
    s = unwrap(str(v))
    return [t for t in re.split(r"[\s,]+", s) if t]


def matrix(v: Any) -> list[list[float]]:
    """A lower-triangular (or full) matrix ``a | b c | d e f`` → full symmetric rows."""
    rows = [[number(x) for x in re.split(r"[\s,]+", r.strip()) if x] for r in unwrap(str(v)).split("|")]
    n = len(rows)
    full = [[0.0] * n for _ in range(n)]
    for i, r in enumerate(rows):
        if len(r) not in (i + 1, n):
            raise ValueError("matrix rows must be lower-triangular or full")
        for j in range(i + 1 if len(r) == i + 1 else n):
            full[i][j] = r[j]
            full[j][i] = r[j] if len(r) == i + 1 else full[j][i]
    return full


_POSITIONAL = {
    "line": ["bus1", "bus2", "linecode", "length"],
    "load": ["bus1", "phases", "kv", "kw", "pf"],
    "capacitor": ["bus1", "bus2", "phases", "kvar", "kv"],
    "circuit": ["bus1", "basekv", "pu", "angle"],
    "transformer": ["phases", "windings"],
    "energymeter": ["element", "terminal"],
    "monitor": ["element", "terminal"],
}
_WINDING_PROPS = {"bus", "conn", "kv", "kva", "%r", "tap", "rneut", "xneut"}


class _Reader:
    def __init__(self) -> None:
        self.objects: dict[tuple[str, str], DssObject] = {}
        self.circuit = ""
        self.bus_xy: dict[str, tuple[float, float]] = {}
        self.opened: set[str] = set()
        self.counted: dict[str, int] = {}
        self.active: DssObject | None = None
        self.depth = 0

    # --- files ----------------------------------------------------------------------------------
    def read(self, path: Path) -> None:
        if self.depth > 16:
            raise err(str(path), 0, "Redirect", "file", "nests deeper than 16 files")
        try:
            text = path.read_text(encoding="utf-8", errors="replace")
        except OSError as exc:
            raise err(str(path), 0, "Redirect", "file", f"cannot be read ({exc.strerror})") from exc
        self.depth += 1
        in_block = False
        for k, raw in enumerate(text.splitlines(), start=1):
            line = raw.strip()
            if in_block:  # /* … */ block comments
                if "*/" in line:
                    in_block = False
                continue
            if line.startswith("/*"):
                in_block = "*/" not in line
                continue
            line = _strip_comment(line)
            if line:
                self.command(line, path, k)
        self.depth -= 1

    def command(self, line: str, path: Path, k: int) -> None:
        f = str(path)
        if line.startswith("~") or line.lower().startswith("more "):
            if self.active is None:
                raise err(f, k, "~", "continuation", "has no element to continue")
            self.props(self.active, line[1:] if line.startswith("~") else line[5:], f, k)
            return
        head, _, rest = line.partition(" ")
        verb = head.lower()
        if verb in ("redirect", "compile"):
            target = unwrap(rest.strip())
            self.read((path.parent / target).resolve())
            return
        if verb in ("buscoords", "latlongcoords"):
            self.coords((path.parent / unwrap(rest.strip())).resolve(), f, k)
            return
        if verb in ("open", "close"):
            toks = tokenize(rest)
            ref = toks[0][1] if toks else ""
            cls, _, name = ref.partition(".")
            if cls.lower() != "line" or not name:
                raise err(f, k, ref or verb, "element", "can only be a Line (switch) in Open/Close")
            (self.opened.add if verb == "open" else self.opened.discard)(name.lower())
            return
        if verb in ("new", "edit"):
            self.new_or_edit(verb, rest, f, k)
            return
        if verb in _SKIPPED:
            return
        # property edit: Class.name.prop=value …
        m = re.match(r"([A-Za-z]+)\.([^.=\s]+)\.([\w%]+)\s*=", line)
        if m:
            obj = self.find(m.group(1).lower(), m.group(2).lower(), f, k)
            self.props(obj, line[len(m.group(1)) + len(m.group(2)) + 2 :], f, k)
            return
        raise err(f, k, head, "command", "is not supported (New/Edit/Redirect/Compile/BusCoords/Open/Close)")

    def coords(self, path: Path, f: str, k: int) -> None:
        try:
            text = path.read_text(encoding="utf-8", errors="replace")
        except OSError as exc:
            raise err(f, k, "BusCoords", "file", f"{path.name} cannot be read ({exc.strerror})") from exc
        for j, raw in enumerate(text.splitlines(), start=1):
            line = _strip_comment(raw)
            if not line:
                continue
            parts = [p for p in re.split(r"[\s,]+", line) if p]
            try:
                self.bus_xy[parts[0].lower()] = (float(parts[1]), float(parts[2]))
            except (IndexError, ValueError) as exc:
                raise err(str(path), j, parts[0] if parts else "?", "x, y", "is not 'bus, x, y'") from exc

    def find(self, cls: str, name: str, f: str, k: int) -> DssObject:
        key = ("line" if cls == "switch" else cls, name)
        if key not in self.objects:
            raise err(f, k, f"{cls}.{name}", "name", "is not defined")
        return self.objects[key]

    def new_or_edit(self, verb: str, rest: str, f: str, k: int) -> None:
        rest = rest.strip()
        m = re.match(r"(?:object\s*=\s*)?([A-Za-z]+)\.(\S+)", rest, re.IGNORECASE)
        if not m:
            raise err(f, k, rest[:40] or verb, "element", "must be written Class.name")
        cls, name = m.group(1).lower(), unwrap(m.group(2)).lower()
        body = rest[m.end() :]
        if cls in MEASUREMENTS:
            self.counted[cls] = self.counted.get(cls, 0) + (verb == "new")
            self.active = None
            return
        if cls not in SUPPORTED:
            raise err(f, k, f"{cls}.{name}", "class", f"is not supported (supported: {', '.join(SUPPORTED)})")
        if verb == "edit":
            obj = self.find(cls, name, f, k)
        else:
            if cls == "circuit":
                self.circuit = name
            key = ("line" if cls == "switch" else cls, name)
            obj = DssObject(cls="line" if cls == "switch" else cls, name=name, props={}, file=f, line=k)
            if cls == "switch":
                obj.props["switch"] = "yes"
            self.objects[key] = obj
        self.active = obj
        self.props(obj, body, f, k)

    def props(self, obj: DssObject, body: str, f: str, k: int) -> None:
        try:
            toks = tokenize(body)
        except ValueError as exc:
            raise err(f, k, f"{obj.cls}.{obj.name}", "value", str(exc)) from exc
        positional = list(_POSITIONAL.get(obj.cls, []))
        active_wdg = obj.props.get("_wdg", 1)
        for key, value in toks:
            if key is None:
                if not positional:
                    raise err(f, k, f"{obj.cls}.{obj.name}", value, "is a value without a property name")
                key = positional.pop(0)
            if key == "like":
                src = self.find(obj.cls, unwrap(value).lower(), f, k)
                obj.props = {**src.props, **obj.props}
                obj.windings = [dict(w) for w in src.windings] if not obj.windings else obj.windings
                continue
            if obj.cls == "transformer" and key in ("wdg", "winding"):
                active_wdg = int(number(value))
                obj.props["_wdg"] = active_wdg
                continue
            if obj.cls == "transformer" and key in _WINDING_PROPS:
                while len(obj.windings) < active_wdg:
                    obj.windings.append({})
                obj.windings[active_wdg - 1][key] = value
                continue
            obj.props[key] = value
        if obj.cls == "transformer":
            obj.props.setdefault("_file_line", (f, k))


def read_bus_coords(path: str | Path) -> dict[str, tuple[float, float]]:
    """A BusCoords file (``name, x, y`` per line) on its own, e.g. the one a ``Run_…`` script names."""
    r = _Reader()
    p = Path(path).resolve()
    r.coords(p, str(p), 0)
    return r.bus_xy


def parse_dss(path: str | Path) -> DssCircuit:
    """Read ``path`` (and every file it redirects to) into a `DssCircuit`."""
    p = Path(path).resolve()
    if not p.is_file():
        raise err(str(path), 0, "file", "path", "does not exist")
    r = _Reader()
    r.read(p)
    if not r.circuit:
        raise err(str(p), 0, "Circuit", "New Circuit", "is missing: no source is defined")
    return DssCircuit(name=r.circuit, objects=r.objects, bus_xy=r.bus_xy, opened=r.opened, counted=r.counted)
