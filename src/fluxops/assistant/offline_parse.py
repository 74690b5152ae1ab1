"""Question parsing of the offline engine: a question of a documented type (see `fluxops.assistant.offline`)
becomes a `Plan`, the tool calls a model would make, with what the answer needs to say."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from fluxops.assistant.offline_vocabulary import (
    _ID,
    _PREFIX_TYPE,
    _SCENARIO_WORDS,
    _TYPE_WORDS,
    ID,
    OUT_OF_SCOPE,
)
from fluxops.grid.models import ASSET_TYPES


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
    # acknowledge an outage: a change, so the engine has the operator confirm the call before it runs
    if re.search(r"\backnowledge\b", ql) and (outs := [i for i in ids if i.startswith("OUT-")]):
        return Plan("acknowledge", (("acknowledge_outage", {"outage_id": outs[0]}),), {})
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
