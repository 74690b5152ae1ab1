"""The offline brain: used when no model is configured. It parses the documented question types with
regular expressions into the same tool calls a model would make, and writes the answer from the tool
results only (numbers with units). A question it does not recognise gets a plain "I can't answer that
offline" with the list of what it can answer.

Question types (docs/assistant.md lists examples of each):
counts ("how many transformers on feeder X"), lists ("list the fuses on feeder X"), entity lookups
("tell me about X", "path from X to the substation"), meters on a transformer, meter history with a
time window ("usage of meter M yesterday", "... last 3 days", "... on 2026-12-06"), feeder/substation
peak load and top-k ("top 5 feeders by peak load"), comparisons ("compare feeder A and feeder B"),
transformer loading, voltage compliance, outages (active / last N days / by feeder), reliability
indices (SAIDI/SAIFI/CAIDI, by level, period, excluding major events), work orders, crews, "what if X
fails [in a hurricane]", document questions ("how do I ...", "what does IEEE 1366 say about ..."),
read-only SQL ("sql: SELECT ..."), the SQL views, and a grid summary.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from fluxops.assistant.engine import BrainReply, ToolCallRequest
from fluxops.grid.models import ASSET_TYPES

ID = r"[A-Z]{2,5}(?:-[A-Z0-9]+)+"
_ID = re.compile(rf"\b{ID}\b")
_PREFIX_TYPE = {
    "SUB": "substation",
    "STX": "substation_transformer",
    "FDR": "feeder",
    "SEG": "line_segment",
    "BRK": "breaker",
    "SW": "switch",
    "RCL": "recloser",
    "FUS": "fuse",
    "SEC": "sectionalizer",
    "TIE": "tie_switch",
    "BT": "bus_tie",
    "POLE": "pole",
    "XFMR": "transformer",
    "MTR": "meter",
}
# words -> asset type (plural and everyday names)
_TYPE_WORDS: dict[str, str] = {
    "substations": "substation",
    "substation": "substation",
    "power transformers": "substation_transformer",
    "substation transformers": "substation_transformer",
    "feeders": "feeder",
    "feeder": "feeder",
    "circuits": "feeder",
    "line segments": "line_segment",
    "segments": "line_segment",
    "spans": "line_segment",
    "breakers": "breaker",
    "reclosers": "recloser",
    "fuses": "fuse",
    "sectionalizers": "sectionalizer",
    "switches": "switch",
    "tie switches": "tie_switch",
    "ties": "tie_switch",
    "bus ties": "bus_tie",
    "poles": "pole",
    "transformers": "transformer",
    "distribution transformers": "transformer",
    "meters": "meter",
    "customers": "meter",
    "premises": "meter",
}
_SCENARIO_WORDS = {
    "summer peak": "summer_peak",
    "summer": "summer_peak",
    "heat": "summer_peak",
    "winter storm": "winter_storm",
    "winter": "winter_storm",
    "ice": "winter_storm",
    "hurricane": "hurricane",
    "normal": "normal",
}
# What the product holds no data on (the seed agent's scope rule: no billing, HR, finance, markets).
OUT_OF_SCOPE = re.compile(
    r"\b(bills?|billing|pay|paid|payments?|invoices?|salar(?:y|ies)|wages?|stock|shares?|poems?|translate|"
    r"football|sports?|recipes?|jokes?)\b"
)
CAPABILITIES = (
    "counts and lists of assets (by type, feeder, substation)",
    "an asset's details and its path to the substation",
    "the meters on a transformer",
    "a meter's usage, peak demand and voltage for a day or a few days",
    "feeder or substation peak load, top-k and comparisons",
    "transformer loading",
    "voltage compliance (ANSI C84.1)",
    "outages (active, by feeder, in a period)",
    "reliability indices (SAIDI, SAIFI, CAIDI)",
    "work orders and crews",
    "'what if X fails' cascades with their economic impact",
    "procedures and standards from the documents",
    "read-only SQL ('sql: SELECT ...')",
)


@dataclass(frozen=True)
class Plan:
    kind: str
    calls: tuple[tuple[str, dict[str, Any]], ...]
    detail: dict[str, Any]


def _now() -> datetime:
    return datetime.now(UTC)


def _ids(q: str) -> list[str]:
    return _ID.findall(q)


def _typed(ids: list[str], *types: str) -> list[str]:
    return [i for i in ids if _PREFIX_TYPE.get(i.split("-")[0]) in types]


def _asset_type(q: str) -> str | None:
    """The asset type a question counts or lists; a type word naming an id ("feeder FDR-1") is not it."""
    ql = re.sub(rf"\b(?:feeder|substation|circuit|transformer|meter)\s+{ID}", " ", q, flags=re.IGNORECASE)
    ql = _ID.sub(" ", ql).lower()
    ql = re.sub(
        r"\b(on|at|in|of|for|under|from|by|behind)\s+(the\s+)?(feeder|substation|circuit|transformer)s?\b",
        " ",
        ql,
    )
    for words in sorted(_TYPE_WORDS, key=len, reverse=True):
        if re.search(rf"\b{words}\b", ql):
            return _TYPE_WORDS[words]
    for t in ASSET_TYPES:
        if re.search(rf"\b{t.replace('_', ' ')}s?\b", ql):
            return t
    return None


def _days(ql: str) -> tuple[str | None, str | None]:
    """(start_date, end_date) for AMI questions; (None, None): the latest day in the lake."""
    today = _now().date()
    if m := re.search(r"\b(\d{4}-\d{2}-\d{2})\b(?:\s*(?:to|and|through|-)\s*(\d{4}-\d{2}-\d{2}))?", ql):
        return m.group(1), m.group(2) or m.group(1)
    if "yesterday" in ql:
        d = (today - timedelta(days=1)).isoformat()
        return d, d
    if "today" in ql:
        return today.isoformat(), today.isoformat()
    if m := re.search(r"\b(?:last|past)\s+(\d{1,2})\s+days?\b", ql):
        n = int(m.group(1))
        return (today - timedelta(days=n - 1)).isoformat(), today.isoformat()
    return None, None


def _since(ql: str) -> tuple[str | None, str | None]:
    """(since, until) for outage and reliability questions."""
    now = _now()
    if m := re.search(r"\b(?:last|past)\s+(\d{1,4})\s+(hour|day|week|month)s?\b", ql):
        n, unit = int(m.group(1)), m.group(2)
        delta = {
            "hour": timedelta(hours=n),
            "day": timedelta(days=n),
            "week": timedelta(weeks=n),
            "month": timedelta(days=30 * n),
        }[unit]
        return (now - delta).isoformat(timespec="seconds"), None
    if m := re.search(r"\b(?:last|past)\s+(hour|day|week|month|year)\b", ql):
        unit = m.group(1)
        delta = {
            "hour": timedelta(hours=1),
            "day": timedelta(days=1),
            "week": timedelta(weeks=1),
            "month": timedelta(days=30),
            "year": timedelta(days=365),
        }[unit]
        return (now - delta).isoformat(timespec="seconds"), None
    if m := re.search(r"\bsince\s+(\d{4}-\d{2}-\d{2})", ql):
        return m.group(1), None
    if "today" in ql:
        return now.replace(hour=0, minute=0, second=0, microsecond=0).isoformat(timespec="seconds"), None
    return None, None


def _top(ql: str, default: int) -> int:
    m = re.search(r"\b(?:top|first|worst|highest|largest|biggest)\s+(\d{1,3})\b", ql)
    return max(1, min(int(m.group(1)), 100)) if m else default


def _scenario(ql: str) -> str:
    for words in sorted(_SCENARIO_WORDS, key=len, reverse=True):
        if words in ql:
            return _SCENARIO_WORDS[words]
    return "normal"


def plan(question: str) -> Plan | None:
    """The tool calls for a documented question type, or None."""
    q = question.strip()
    ql = q.lower()
    ids = _ids(q)
    if OUT_OF_SCOPE.search(ql):
        return None
    if m := re.match(r"^\s*sql\s*:\s*(.+)$", q, re.IGNORECASE | re.DOTALL) or re.match(
        r"^\s*((?:select|with)\b.*)$", q, re.IGNORECASE | re.DOTALL
    ):
        return Plan("sql", (("run_sql", {"sql": m.group(1).strip(), "limit": None}),), {})
    if re.search(r"\b(which|what)\s+(tables|views|columns)\b|\bschema\b", ql):
        return Plan("views", (("describe_views", {}),), {})
    # what if X fails
    if (
        re.search(
            r"\bwhat\s+(?:if|happens\s+if|would happen if)\b|\bcascade\b|\bfails?\b|\bgoes down\b|\btrips?\b",
            ql,
        )
        and ids
    ):
        return Plan("cascade", (("run_cascade", {"patient_zero": ids[:20], "scenario": _scenario(ql)}),), {})
    # reliability
    idx = [w for w in ("saidi", "saifi", "caidi", "asai", "maifi") if w in ql]
    if idx or "reliability" in ql:
        defn = re.search(
            r"\b(what (?:is|are|does)|define|definition|explain|how (?:is|are|do)|meaning)\b", ql
        )
        scoped = ids or re.search(
            r"\b(system|our|current|last|past|since|each|every|by|per|worst|best|feeder|substation)\b", ql
        )
        if defn and not scoped:
            return Plan("docs", (("search_documents", {"query": q, "limit": 3}),), {})
        feeders, subs = _typed(ids, "feeder"), _typed(ids, "substation")
        level = (
            "feeder"
            if (feeders or re.search(r"\bfeeders?\b", ql))
            else ("substation" if (subs or re.search(r"\bsubstations?\b", ql)) else "system")
        )
        key = (feeders or subs or [None])[0]  # type: ignore[list-item]
        since, until = _since(ql)
        excl = bool(re.search(r"\b(exclud\w*|without|normalized)\b.*\bmajor\b|\bmed\b", ql))
        args: dict[str, Any] = {
            "level": level,
            "key": key,
            "start": since,
            "end": until,
            "exclude_major_events": excl,
        }
        return Plan(
            "reliability",
            (("reliability_indices", args),),
            {
                "indices": idx or ["saidi", "saifi", "caidi"],
                "rank": bool(re.search(r"\b(worst|best|highest|lowest|top)\b", ql)),
                "top": _top(ql, 5),
            },
        )
    # documents
    data_q = re.search(r"\bhow many\b|\bnumber of\b|\bcount\b|\breport\b|\bcompliance\b|\bwhich meters\b", ql)
    if (
        not data_q
        and re.search(
            r"\b(how (?:do|should|to) (?:i|we)|procedure|steps? (?:for|to|of)|checklist|what does .* say|"
            r"according to|ieee|ansi|c57|c84|ice method|manual|standard|guideline|policy|"
            r"what is (?:a |an |the )?(?:cold.load|storm mode|range a|range b|major event|hot.spot))",
            ql,
        )
        and not ids
    ):
        return Plan("docs", (("search_documents", {"query": q, "limit": 3}),), {})
    # meter history
    meters = _typed(ids, "meter")
    if meters and re.search(
        r"\b(usage|consum\w*|kwh|energy|history|demand|peak|voltage|reading\w*|load|use[ds]?)\b", ql
    ):
        s, e = _days(ql)
        return Plan(
            "meter_history", (("meter_history", {"meter_id": meters[0], "start_date": s, "end_date": e}),), {}
        )
    # meters on a transformer
    xfmrs = _typed(ids, "transformer")
    if xfmrs and re.search(r"\b(meters?|customers?|premises|serve[ds]?|served|fed|connected)\b", ql):
        return Plan("transformer_meters", (("transformer_meters", {"transformer_id": xfmrs[0]}),), {})
    # feeder / substation load
    if (
        re.search(r"\b(peak|load|demand|kw|mw|energy|load factor)\b", ql)
        and not re.search(r"\btransformers?\b", ql)
        and not meters
    ):
        feeders, subs = _typed(ids, "feeder"), _typed(ids, "substation")
        level = (
            "substation"
            if (subs and not feeders) or (not ids and re.search(r"\bsubstations?\b", ql))
            else "feeder"
        )
        s, e = _days(ql)
        targets = feeders if level == "feeder" else subs
        if ("compare" in ql or " vs" in ql or "versus" in ql) and len(targets) >= 2:
            calls = tuple(
                ("feeder_load", {"level": level, "id": t, "start_date": s, "end_date": e, "limit": None})
                for t in targets[:4]
            )
            return Plan("compare_load", calls, {"level": level})
        if targets:
            return Plan(
                "load",
                (
                    (
                        "feeder_load",
                        {"level": level, "id": targets[0], "start_date": s, "end_date": e, "limit": None},
                    ),
                ),
                {"level": level},
            )
        if re.search(r"\b(feeders?|substations?|circuits?)\b", ql):
            k = _top(ql, 5)
            return Plan(
                "top_load",
                (("feeder_load", {"level": level, "id": None, "start_date": s, "end_date": e, "limit": k}),),
                {"level": level, "top": k},
            )
    # transformer loading
    if re.search(r"\btransformers?\b", ql) and re.search(
        r"\b(load\w*|overload\w*|loaded|hot|hot.spot)\b", ql
    ):
        feeders = _typed(ids, "feeder")
        m = re.search(r"\b(?:above|over|more than|>)\s*(\d+(?:\.\d+)?)\s*%", ql)
        if "overload" in ql and not m:
            thr: float | None = 100.0
        else:
            thr = float(m.group(1)) if m else None
        k = _top(ql, 10)
        return Plan(
            "xfmr_loading",
            (
                (
                    "transformer_loading",
                    {"feeder_id": feeders[0] if feeders else None, "min_loading_pct": thr, "limit": k},
                ),
            ),
            {"threshold": thr, "top": k},
        )
    # voltage
    if re.search(r"\bvoltage|\brange a\b|\brange b\b|\bc84\b|\bundervoltage|\bovervoltage", ql):
        s, _e = _days(ql)
        return Plan("voltage", (("voltage_compliance", {"date": s, "limit": _top(ql, 5)}),), {})
    # outages
    if re.search(
        r"\boutages?\b|\bcustomers? (?:out|without power)\b|\bout of power\b|\binterruptions?\b", ql
    ):
        feeders, subs = _typed(ids, "feeder"), _typed(ids, "substation")
        since, until = _since(ql)
        if re.search(r"\b(active|current|ongoing|now|open|right now)\b|\bcustomers? (?:out|without)", ql):
            status = "active"
        elif re.search(r"\b(restored|history|past|closed)\b", ql):
            status = "history"
        else:
            status = "all"
        args = {
            "status": status,
            "feeder_id": feeders[0] if feeders else None,
            "substation_id": subs[0] if subs else None,
            "since": since,
            "until": until,
            "limit": _top(ql, 10),
        }
        return Plan("outages", (("list_outages", args),), {"status": status})
    # work orders, crews
    if re.search(r"\bwork.?orders?\b|\bjobs?\b|\btickets?\b", ql):
        pr = next((p for p in ("critical", "high", "medium", "low") if re.search(rf"\b{p}\b", ql)), None)
        st = (
            "open"
            if re.search(r"\b(open|pending|outstanding|active)\b", ql)
            else ("completed" if "completed" in ql else None)
        )
        return Plan(
            "work_orders",
            (
                (
                    "list_work_orders",
                    {
                        "status": st,
                        "priority": pr,
                        "asset_id": ids[0] if ids else None,
                        "limit": _top(ql, 10),
                    },
                ),
            ),
            {},
        )
    if re.search(r"\bcrews?\b", ql):
        avail = bool(re.search(r"\b(available|free|idle)\b", ql))
        return Plan("crews", (("list_crews", {"available_only": avail}),), {"available_only": avail})
    # counts and lists of assets
    atype = _asset_type(q)
    feeders, subs = _typed(ids, "feeder"), _typed(ids, "substation")
    if atype and (re.search(r"\bhow many\b|\bnumber of\b|\bcount\b", ql)):
        if atype == "meter" and xfmrs:
            return Plan("transformer_meters", (("transformer_meters", {"transformer_id": xfmrs[0]}),), {})
        args = {
            "query": None,
            "asset_type": atype,
            "feeder_id": feeders[0] if feeders else None,
            "substation_id": subs[0] if subs and not feeders else None,
            "bbox": None,
            "limit": 1,
        }
        return Plan(
            "count",
            (("find_assets", args),),
            {"asset_type": atype, "word": "customers" if "customer" in ql else None},
        )
    if atype and re.search(r"\b(list|show|find|which|what are)\b", ql) and (feeders or subs):
        args = {
            "query": None,
            "asset_type": atype,
            "feeder_id": feeders[0] if feeders else None,
            "substation_id": subs[0] if subs and not feeders else None,
            "bbox": None,
            "limit": _top(ql, 10),
        }
        return Plan("list", (("find_assets", args),), {"asset_type": atype})
    if ids:
        return Plan(
            "detail",
            (("asset_detail", {"asset_id": ids[0]}),),
            {"path": bool(re.search(r"\b(path|upstream|fed|feeds|source)\b", ql))},
        )
    if re.search(r"\b(summary|overview|how big|size of)\b.*\bgrid\b|\bgrid\b.*\b(summary|overview)\b", ql):
        return Plan("summary", (("grid_summary", {}),), {})
    if m := re.search(r"\b(?:find|search for|look up|where is)\s+(.+?)\??$", ql):
        return Plan(
            "find",
            (
                (
                    "find_assets",
                    {
                        "query": m.group(1),
                        "asset_type": None,
                        "feeder_id": None,
                        "substation_id": None,
                        "bbox": None,
                        "limit": 10,
                    },
                ),
            ),
            {},
        )
    if (
        re.search(r"\b(how|what|why|when)\b", ql)
        and len(ql.split()) >= 4
        and not re.search(r"\b(bill|pay|price|weather|stock|salary)\w*", ql)
    ):
        return Plan("docs", (("search_documents", {"query": q, "limit": 3}),), {})
    return None


# --- answers ---------------------------------------------------------------------------------------


def _n(x: Any, unit: str = "", digits: int = 1) -> str:
    if x is None:
        return "n/a"
    if isinstance(x, int) or (isinstance(x, float) and x.is_integer() and digits == 0):
        s = f"{int(x):,}"
    else:
        s = f"{float(x):,.{digits}f}"
    return f"{s} {unit}".rstrip() if unit and unit != "%" else f"{s}{unit}"


def _label(t: str, n: int) -> str:
    word = t.replace("_", " ")
    if n == 1:
        return word
    return word + ("es" if word.endswith(("switch", "tie")) and not word.endswith("tie") else "s")


def _compose(p: Plan, results: list[dict[str, Any]]) -> str:
    errors = [r for r in results if r.get("status") != "ok"]
    if errors:
        e = errors[0]
        if e.get("status") == "confirmation_required":
            return f"This changes data: {e.get('error')}. Confirm the call to run it."
        return f"I could not answer that: {e.get('error')}"
    d = [r["data"] for r in results]
    x = d[0]
    if p.kind == "count":
        t = p.detail["asset_type"]
        where = next((f" on {k}" for k in (results[0].get("args", {}).get("feeder_id"),) if k), "")
        where = where or next(
            (f" at {k}" for k in (results[0].get("args", {}).get("substation_id"),) if k), ""
        )
        word = p.detail.get("word") or _label(t, x["total"])
        return f"There are {_n(x['total'], digits=0)} {word}{where}."
    if p.kind == "list":
        lines = [f"- {i['asset_id']} ({i['name']})" for i in x["items"]]
        return (
            f"{_n(x['total'], digits=0)} {_label(p.detail['asset_type'], x['total'])} match; "
            f"the first {len(x['items'])}:\n" + "\n".join(lines)
        )
    if p.kind == "find":
        if not x["total"]:
            return "No asset matches that."
        lines = [f"- {i['asset_id']} ({i['asset_type']}, {i['name']})" for i in x["items"]]
        return f"{_n(x['total'], digits=0)} assets match; the first {len(x['items'])}:\n" + "\n".join(lines)
    if p.kind == "detail":
        s = f"{x['asset_id']} is a {x['asset_type'].replace('_', ' ')} ({x['name']})"
        if x.get("feeder_id"):
            s += f" on feeder {x['feeder_id']}"
        if x.get("substation_id"):
            s += f", substation {x['substation_id']}"
        s += "."
        ds = x.get("downstream") or {}
        if ds.get("customers") is not None:
            s += f" Downstream: {_n(ds.get('customers'), digits=0)} customers"
            if ds.get("peak_kw") is not None:
                s += f", {_n(ds['peak_kw'], 'kW')} peak"
            s += "."
        if x["path_to_substation"]:
            path = " → ".join(x["path_to_substation"])
            s += f" Path to the substation ({x['path_length']} elements): {path}."
        return s
    if p.kind == "transformer_meters":
        cls = ", ".join(f"{v} {k}" for k, v in x["by_class"].items())
        return (
            f"Transformer {x['transformer_id']} ({_n(x['rating_kva'], 'kVA')}) serves {x['meters']} meters"
            f"{': ' + cls if cls else ''}; {x['critical_customers']} critical customers."
        )
    if p.kind == "meter_history":
        if not x["intervals"]:
            return f"No interval readings for {x['meter_id']} in that period."
        return (
            f"Meter {x['meter_id']}, {x['first_interval_utc'][:16]}Z to {x['last_interval_utc'][:16]}Z "
            f"({x['intervals']} intervals): {_n(x['kwh_delivered'], 'kWh', 2)} delivered, "
            f"{_n(x['kwh_received'], 'kWh', 2)} received; peak {_n(x['peak_kw'], 'kW', 2)} at "
            f"{x['peak_interval_utc'][:16]}Z; voltage {_n(x['voltage_min_v'], 'V')} to "
            f"{_n(x['voltage_max_v'], 'V')} (average {_n(x['voltage_avg_v'], 'V')}); "
            f"{x['outage_intervals']} outage intervals."
        )
    if p.kind in ("load", "compare_load"):
        parts = []
        for r in d:
            if not r["items"]:
                parts.append("no AMI load for that period")
                continue
            i = r["items"][0]
            key = i.get(f"{r['level']}_id")
            parts.append(
                f"{key}: peak {_n(i['peak_kw'], 'kW')} at {str(i['peak_hour_utc'])[:16]}Z, average "
                f"{_n(i['avg_kw'], 'kW')}, load factor {_n(i['load_factor'], digits=3)}, "
                f"{_n(i['energy_kwh'], 'kWh')} over {i['hours']} hours"
            )
        s = "; ".join(parts) + "."
        if p.kind == "compare_load" and all(r["items"] for r in d):
            best = max(d, key=lambda r: r["items"][0]["peak_kw"])["items"][0]
            s += f" Highest peak: {best.get(p.detail['level'] + '_id')}."
        return s
    if p.kind == "top_load":
        if not x["items"]:
            return "No AMI load for that period."
        key = f"{p.detail['level']}_id"
        lines = [
            f"- {i[key]}: {_n(i['peak_kw'], 'kW')} at {str(i['peak_hour_utc'])[:16]}Z" for i in x["items"]
        ]
        return f"{p.detail['level'].capitalize()}s by peak load ({x['groups']} with data):\n" + "\n".join(
            lines
        )
    if p.kind == "xfmr_loading":
        if not x["items"]:
            return (
                "No transformer meets that (latest complete hour)."
                if x.get("transformers") == 0
                else "No loading data."
            )
        lines = [
            f"- {i['transformer_id']}: {_n(i['loading_pct'], '%')} of {_n(i['rating_kva'], 'kVA')}"
            for i in x["items"]
        ]
        thr = p.detail.get("threshold")
        head = f"{x['transformers']} transformers" + (
            f" at or above {_n(thr, '%', 0)}" if thr is not None else ""
        )
        return f"{head} at {str(x['hour_utc'])[:16]}Z; highest:\n" + "\n".join(lines)
    if p.kind == "voltage":
        if not x["meters"]:
            return "No voltage data for that day."
        b = x["by_status"]
        return (
            f"On {x['date']}, {x['meters_outside_range_a']} of {x['meters']} meters "
            f"({_n(x['pct_outside_range_a'], '%', 2)}) left ANSI C84.1 range A (114–126 V) at least once; "
            f"{b['critical']} left range B (110–127 V). Normal: {b['normal']}."
        )
    if p.kind == "outages":
        st = {"active": "active ", "history": "restored ", "all": ""}.get(p.detail["status"], "")
        s = f"{x['total']} {st}outages"
        if x["total"]:
            s += (
                f"; {x['customers_out']} customers out now, {x['customers_affected']} affected, "
                f"{_n(x['customer_minutes'], 'customer-minutes')}"
            )
            if x.get("summed_over", x["total"]) < x["total"]:
                s += f" (sums over the newest {x['summed_over']})"
            lines = [
                f"- {o['outage_id']} on {o['feeder_id']} ({o['status']}, "
                f"{o['customers_affected']} customers, "
                f"since {str(o['start_utc'])[:16]}Z)"
                for o in x["items"]
            ]
            s += ":\n" + "\n".join(lines)
        else:
            s += "."
        return s
    if p.kind == "reliability":
        rows = x["rows"]
        if not rows:
            return "No reliability figures for that scope."
        period = (
            f"{x['period_start_utc'][:10]} to {x['period_end_utc'][:10]} ({_n(x['days_covered'], 'days', 2)})"
        )
        excl = ", Major Event Days excluded" if x["major_event_days_excluded"] else ""
        if p.detail.get("rank") and len(rows) > 1:
            rows = sorted(rows, key=lambda r: -(r.get("saidi_min") or 0))[: p.detail.get("top", 5)]
        lines = [
            f"- {r['key']}: SAIFI {_n(r['saifi'], digits=4)}, SAIDI {_n(r['saidi_min'], 'min', 2)}, "
            f"CAIDI {_n(r['caidi_min'], 'min', 2)} ({r['customers_interrupted']} customers interrupted of "
            f"{r['customers_served']})"
            for r in rows[:10]
        ]
        return f"IEEE 1366 indices, {x['level']} level, {period}{excl}:\n" + "\n".join(lines)
    if p.kind == "work_orders":
        bp = ", ".join(f"{v} {k}" for k, v in x["by_priority"].items() if v)
        lines = [
            f"- {w['work_order_id']} ({w['priority']}, {w['status']}): {w['description']}" for w in x["items"]
        ]
        return f"{x['total']} work orders{' (' + bp + ')' if bp else ''}" + (
            ":\n" + "\n".join(lines) if lines else "."
        )
    if p.kind == "crews":
        bs = ", ".join(f"{v} {k}" for k, v in x["by_status"].items())
        word = "available crews" if p.detail["available_only"] else "crews"
        return f"{x['total']} {word}{' (' + bs + ')' if bs else ''}."
    if p.kind == "cascade":
        c, i = x["cascade"], x["impact"]
        return (
            f"If {', '.join(c.get('patient_zero', []))} fails under {c.get('scenario')}: the cascade runs "
            f"{c.get('waves')} waves; {c.get('customers_out')} customers out at the end "
            f"(peak {c.get('peak_customers_out')}), {c.get('critical_out')} critical customers, "
            f"{_n(c.get('mwh_unserved'), 'MWh', 3)} unserved, "
            f"{_n(c.get('customer_minutes'), 'customer-minutes')}. "
            f"Economic impact (ICE): {_n(i.get('total_cost_usd'), 'USD', 2)} in total, of which "
            f"{_n(i.get('interruption_cost_usd'), 'USD', 2)} customer interruption cost and "
            f"{_n(i.get('restoration_cost_usd'), 'USD', 2)} restoration "
            f"({_n(i.get('crew_hours'), 'crew-hours')})."
        )
    if p.kind == "docs":
        hits = x["hits"]
        if not hits:
            return "The documents say nothing I can find about that."
        parts = [f"[{_where(h)}]: {_excerpt(h['text'])}" for h in hits]
        return "From the documents:\n" + "\n".join(f"- {s}" for s in parts)
    if p.kind == "sql":
        cols = x["columns"]
        rows = x["rows"][:20]
        lines = [" | ".join(cols)] + [" | ".join(str(r.get(c)) for c in cols) for r in rows]
        more = " (more rows exist: raise the limit)" if x["truncated"] else ""
        return f"{results[0]['row_count']} rows{more}:\n" + "\n".join(lines)
    if p.kind == "views":
        return "Views you can query: " + "; ".join(f"{k} ({', '.join(v)})" for k, v in x["views"].items())
    if p.kind == "summary":
        c = x["counts"]
        return (
            f"Grid {x['name']}: {c['substations']} substations, {c['feeders']} feeders, {c['transformers']} "
            f"distribution transformers, {c['meters']} meters, {c['devices']} devices, {c['poles']} poles, "
            f"{_n(x['line_km'], 'km', 3)} of line; {x['critical_customers']} critical customers."
        )
    return json.dumps(x)[:2000]


def _where(hit: dict[str, Any]) -> str:
    """Document § heading, then the page (an uploaded PDF) and the line."""
    page = f"page {hit['page']}, " if hit.get("page") is not None else ""
    return f"{hit['title']} § {hit['heading']}, {page}line {hit['line']}"


def _excerpt(text: str, words: int = 60) -> str:
    w = " ".join(text.split()).split(" ")
    return " ".join(w[:words]) + (" …" if len(w) > words else "")


def cannot_answer() -> str:
    return (
        "I can't answer that offline (no language model is configured). I can answer: "
        + "; ".join(CAPABILITIES)
        + "."
    )


class OfflineBrain:
    """`fluxops.assistant.engine.Brain` without a model (see the module docstring)."""

    name = "offline"

    def __init__(self, planner: Callable[[str], Plan | None] = plan) -> None:
        self.planner = planner

    def reply(
        self,
        messages: list[dict[str, Any]],
        tools: list[dict[str, Any]],
        on_delta: Callable[[str], None] | None = None,
    ) -> BrainReply:
        last_user = max(i for i, m in enumerate(messages) if m["role"] == "user")
        question = str(messages[last_user]["content"])
        after = messages[last_user + 1 :]
        p = self.planner(question)
        results = _results(after)
        if p is None and not results:
            return BrainReply(text=cannot_answer(), answerable=False)
        if not results:
            allowed = {t["function"]["name"] for t in tools}
            for name, _args in p.calls if p else ():
                if name not in allowed:
                    return BrainReply(
                        text=f"Answering that needs the {name} tool, which your role may not call.",
                        answerable=False,
                    )
            assert p is not None
            return BrainReply(
                tool_calls=[
                    ToolCallRequest(f"call_{i}", n, json.dumps(a)) for i, (n, a) in enumerate(p.calls)
                ]
            )
        if p is None:  # a confirmed call with a question we do not parse: report the call
            r = results[-1]
            text = f"{r['name']}: {r.get('status')}" + (f" — {r.get('error')}" if r.get("error") else "")
            return BrainReply(text=text)
        text = _compose(p, results)
        if on_delta is not None:
            on_delta(text)
        return BrainReply(text=text)


def _results(after: list[dict[str, Any]]) -> list[dict[str, Any]]:
    names: dict[str, tuple[str, dict[str, Any]]] = {}
    out: list[dict[str, Any]] = []
    for m in after:
        if m["role"] == "assistant":
            for c in m.get("tool_calls") or []:
                try:
                    args = json.loads(c["function"]["arguments"])
                except (ValueError, TypeError):
                    args = {}
                names[c["id"]] = (c["function"]["name"], args)
        elif m["role"] == "tool":
            body = (
                json.loads(m["content"])
                if m["content"].startswith("{")
                else {"status": "error", "error": m["content"]}
            )
            name, args = names.get(m["tool_call_id"], ("?", {}))
            out.append({**body, "name": name, "args": args})
    return out
