"""One model of a transformer's coincident peak: the cascade judges a distribution transformer's
loading on the same kW the generator sized it for — its customers' ``peak_kw`` × u(N), Rusck's small-group
factor (`fluxops.grid.generator.catalog.coincident_peak_factor`) — not on the plain sum of shares."""

from __future__ import annotations

import numpy as np
import pandas as pd

from fluxops.cascade.context import EngineContext, scenario_loads
from fluxops.cascade.state import CascadeState
from fluxops.grid.generator.catalog import coincident_peak_factor
from fluxops.grid.models import CUSTOMER_CLASSES


def _generator_kw(ctx: EngineContext) -> pd.Series:
    """The generator's sizing kW per transformer, from the grid's tables: Σ peak_kw × u(N, class)."""
    g = ctx.grid
    cu = g.customers.merge(g.meters[["meter_id", "transformer_id"]], on="meter_id")
    per = cu.groupby("transformer_id").agg(
        kw=("peak_kw", "sum"), n=("peak_kw", "size"), cls=("customer_class", "first")
    )
    assert (cu.groupby("transformer_id")["customer_class"].nunique() == 1).all()  # generated: one class
    klass = pd.Index(CUSTOMER_CLASSES).get_indexer(per["cls"]).astype(np.int8)
    return per["kw"] * coincident_peak_factor(per["n"].to_numpy(np.int64), klass)


def test_cascade_and_generator_give_the_same_transformer_kw(tiny_ctx: EngineContext) -> None:
    p, q = scenario_loads(tiny_ctx, 1.0, 1.0)
    st = CascadeState.start(tiny_ctx, p, q)
    cascade_kw = pd.Series(st.xfmr_peak_kw(), index=tiny_ctx.cg.xfmr_ids.astype(str))
    gen = _generator_kw(tiny_ctx)
    np.testing.assert_allclose(cascade_kw.loc[gen.index].to_numpy(), gen.to_numpy(), rtol=1e-9)
    # small groups peak above the sum of shares; a single home at 1.5x
    share_kw = pd.Series(st.xfmr_p_kw(), index=cascade_kw.index).loc[gen.index]
    ratio = cascade_kw.loc[gen.index] / share_kw
    n = tiny_ctx.grid.meters.groupby("transformer_id").size().loc[gen.index]
    assert (ratio >= 1.0 - 1e-12).all() and ratio[n == 1].between(1.0, 1.5 + 1e-9).all()
    assert ratio.max() > 1.15
