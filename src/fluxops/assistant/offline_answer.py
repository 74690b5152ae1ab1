"""Answer writing of the offline engine: the text of an answer composed from the tool results only
(numbers with their units, documents cited by document, heading, page and line)."""

from __future__ import annotations

import json
from typing import Any

from fluxops.assistant.offline_parse import (
    Plan,
)
from fluxops.assistant.offline_vocabulary import (
    CAPABILITIES,
)


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
    if p.kind == "acknowledge":
        o = x["outage"]
        return f"Outage {o['outage_id']} is acknowledged (by {o.get('acknowledged_by')})."
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
