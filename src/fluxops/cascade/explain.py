"""Plain-language explanation of a cascade result, generated from its data with templates.

Why templates: every sentence must be traceable to a number in the result (an LLM can rephrase later,
behind the assistant's provider interface). Four views, as the seed's ``explanation_type``: summary,
patient_zero, wave_analysis, recommendations.
"""

from __future__ import annotations

from typing import Any

from fluxops.core.errors import InvalidInputError

EXPLANATION_TYPES: tuple[str, ...] = ("summary", "patient_zero", "wave_analysis", "recommendations")


def _n(x: float) -> str:
    return f"{x:,.0f}"


def explain(result: dict[str, Any], explanation_type: str = "summary") -> str:
    """Text for ``result`` (a `CascadeResult.to_dict()`); raises `InvalidInputError` for bad input."""
    if explanation_type not in EXPLANATION_TYPES:
        raise InvalidInputError(
            f"explanation_type must be one of {list(EXPLANATION_TYPES)}", field="explanation_type"
        )
    try:
        totals = result["totals"]
        waves = result["waves"]
        scenario = result["scenario"]
        pz = result["patient_zero"]
    except (KeyError, TypeError) as exc:
        raise InvalidInputError(f"not a cascade result: missing {exc}", field="result") from None
    start = ", ".join(pz) if pz else "wind damage"
    if explanation_type == "summary":
        beyond = [w for w in waves[1:] if w.get("customers_out_new", 0) > 0]
        text = (
            f"Under the {scenario['name']} scenario ({scenario['ambient_temp_c']:.0f} °C, load ×"
            f"{scenario['load_multiplier']:.2f}), a failure of {start} interrupted up to "
            f"{_n(totals['peak_customers_out'])} of {_n(totals['customers_total'])} customers. "
            f"After {totals['waves']} wave(s), {_n(totals['customers_out'])} customers remain out "
            f"({totals['critical_out']} critical facilities), {totals['p_mw_out']:.2f} MW unserved; "
            f"energy not served until repairs is {totals['mwh_unserved']:.1f} MWh and interruption totals "
            f"{_n(totals['customer_minutes'])} customer-minutes."
        )
        if beyond:
            text += (
                f" The outage spread beyond the first protective operation in {len(beyond)} later wave(s)."
            )
        elif len(waves) > 1:
            text += " Switching limited the outage; nothing tripped after the initial fault."
        return text
    if explanation_type == "patient_zero":
        w0 = waves[0]
        ops = [e for e in w0["events"] if e["cause"] == "protection"]
        op_text = "; ".join(f"{e['element_id']} ({e['detail']})" for e in ops) or "its own protection"
        mom = result.get("momentary", [])
        text = (
            f"{start} failed at t = 0. The nearest upstream protection operated: {op_text}. "
            f"{_n(w0['customers_out'])} customers lost supply at once, {w0['p_kw_out'] / 1000:.2f} MW."
        )
        if mom:
            text += " " + " ".join(
                f"{m['device_id']} reclosed {m['shots']} time(s), a momentary interruption for "
                f"{_n(m['customers'])} customers."
                for m in mom
            )
        return text
    if explanation_type == "wave_analysis":
        lines = []
        for w in waves:
            causes: dict[str, int] = {}
            for e in w["events"]:
                causes[e["cause"]] = causes.get(e["cause"], 0) + 1
            what = ", ".join(f"{v} {k}" for k, v in sorted(causes.items())) or "switching only"
            sw = len(w["switching"])
            lines.append(
                f"Wave {w['wave']} ({w['label']}, t = {w['time_min']:.0f} min): {what}; "
                f"{sw} switching action(s); {_n(w['customers_out'])} customers out "
                f"(+{_n(w['customers_out_new'])}, restored {_n(w['customers_restored'])}); "
                f"max loading {w['max_loading_pct']:.0f} %."
            )
            lines += [f"  - {n}" for n in w.get("notes", [])]
        return "\n".join(lines)
    groups = sorted(result.get("outage_groups", []), key=lambda g: (-g["critical"], -g["customers"]))
    rest = result.get("extras", {}).get("restoration", {})
    lines = []
    for g in groups[:5]:
        lines.append(
            f"{g['repair_kind'].capitalize()} {g['repair_element_type']} {g['repair_element_id']}: restores "
            f"{_n(g['customers'])} customers"
            + (f" incl. {g['critical']} critical facilities" if g["critical"] else "")
            + "."
        )
    if rest:
        ms = {m["pct"]: m["time_min"] for m in rest.get("milestones", [])}
        if ms:
            lines.append(
                f"With {result.get('restoration_crews', 0)} crews, 50 % of customers are back after "
                f"{ms.get(50.0, 0) / 60:.1f} h and all after {ms.get(100.0, 0) / 60:.1f} h."
            )
    thermal = [e for w in waves for e in w["events"] if e["cause"] in ("thermal", "overload")]
    if thermal:
        lines.append(
            f"{len(thermal)} element(s) tripped on overload or hot spot; shedding load before the trip "
            "(see the mitigation playbook) would contain the cascade."
        )
    return " ".join(lines) if lines else "No customers remain out; no action is needed."
