"""The offline engine's vocabulary: asset id prefixes and type words, scenario words, the questions
it declines outright and the list of what it can answer (said when it cannot)."""

from __future__ import annotations

import re

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
    "acknowledging an outage ('acknowledge outage OUT-...', operators, after confirming)",
    "reliability indices (SAIDI, SAIFI, CAIDI)",
    "work orders and crews",
    "'what if X fails' cascades with their economic impact",
    "procedures and standards from the documents",
    "read-only SQL ('sql: SELECT ...')",
)
