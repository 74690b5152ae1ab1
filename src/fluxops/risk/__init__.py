"""Asset risk (issue 12): a documented failure-hazard process that generates years of failure history,
and likelihood models scored against that history on held-out substations and a held-out year.

Pure NumPy/pandas (LightGBM behind the ``risk`` extra, imported where used); no storage, no web framework.
See docs/risk.md.
"""
