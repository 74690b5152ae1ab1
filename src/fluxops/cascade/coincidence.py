"""A distribution transformer's coincident peak: its customers' ``peak_kw`` shares × u(N).

Why: a customer's ``peak_kw`` is its share of a large group's diversified peak; a transformer serving a
few customers peaks higher than the sum of their shares, because their peaks need not coincide (a single
home: 1.5×, six homes: 1.2×). The generator sizes every transformer on that coincident peak
(`fluxops.grid.generator.catalog.coincident_peak_factor`, Rusck's form); the cascade's thermal trips of
distribution transformers judge their loading with the very same function, so a transformer the
generator sized for its customers is loaded against its rating as it was sized (one model per concept).
Feeders and substations carry large groups: their loads stay the sum of shares.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from fluxops.grid.generator.catalog import coincident_peak_factor
from fluxops.grid.models import CUSTOMER_CLASSES

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


def xfmr_coincidence(
    xf_pos: IntArray, customer_class: npt.ArrayLike, peak_kw: FloatArray, n_xfmr: int
) -> FloatArray:
    """(transformers,): coincident peak / sum of the customers' ``peak_kw``, per transformer.

    ``xf_pos``: each customer's transformer position. N is the transformer's customer count; a mixed
    transformer weighs each class's factor by the class's share of the kW (a generated transformer
    serves one class, where this is exactly the generator's factor). 1 for a transformer without load."""
    cls_name = np.asarray(customer_class, dtype=object).astype(str)
    cls = np.select([cls_name == CUSTOMER_CLASSES[1], cls_name == CUSTOMER_CLASSES[2]], [1, 2], 0).astype(
        np.int8
    )  # unknown classes count as residential, as the AMI load model does
    n_cls = len(CUSTOMER_CLASSES)
    n = np.bincount(xf_pos, minlength=n_xfmr)
    p = np.bincount(xf_pos * n_cls + cls, weights=peak_kw, minlength=n_xfmr * n_cls).reshape(n_xfmr, n_cls)
    u = np.stack([coincident_peak_factor(n, np.full(n_xfmr, c, dtype=np.int8)) for c in range(n_cls)], axis=1)
    total = p.sum(axis=1)
    out: FloatArray = np.where(total > 0, (p * u).sum(axis=1) / np.where(total > 0, total, 1.0), 1.0)
    return out
