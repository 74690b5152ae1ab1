"""One feeder's primary network, transformers and customers, as NumPy arrays in a local frame.

Layout (a street grid): from the substation a getaway cable runs along the boundary street to the
feeder's arterial; the trunk follows the arterial block by block (Manhattan); at every block a
lateral leaves on each side along the cross street, tapped through a fuse (every fifth, a larger
three-phase lateral, through a sectionalizer). Distribution transformers sit at lateral sites, one
per ~6 homes; commercial customers line the arterial (a commercial corridor); an industrial site may
sit at the trunk end. A recloser splits the trunk mid-way; sectionalizing switches at 1/4 and 3/4.

Coordinates are built in a local (u along the trunk, v across) metre frame and rotated into one of
four quadrants of a pinwheel around the substation, so feeders of one substation never overlap.
Sizing follows the loads: the feeder is trimmed to its kVA cap, the trunk conductor is the smallest
that carries the peak at the planning loading and keeps the voltage drop in bounds.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from fluxops.grid.generator import catalog as cat
from fluxops.grid.generator.geography import M_PER_DEG_LAT, m_per_deg_lon
from fluxops.grid.generator.loads import COM, IND, RES, CustomerLoads, draw_loads
from fluxops.grid.generator.params import GeneratorParams
from fluxops.grid.generator.phasing import PH_ABC, draw_lateral_phases

# Node edge kinds (the edge from a node's parent to the node).
SEG, BREAKER, RECLOSER, SECTIONALIZER, FUSE, SWITCH = 0, 1, 2, 3, 4, 5
_HEAD_OFFSET_M = 30.0  # feeder head just outside the substation fence
_VAULT_SPACING_M = 250.0  # getaway cable pulled between vaults
_DEVICE_OFFSET_M = 6.0  # a device sits a few metres from the bus it follows
_AGG_PF = 0.95  # aggregate feeder power factor for the drop estimate
_SINGLE_PHASE_DROP_FACTOR = 2.0  # single-phase lateral: phase + neutral return (conservative)
_FI = npt.NDArray[np.int64]
_FF = npt.NDArray[np.float64]


@dataclass(frozen=True)
class FeederSpec:
    sub_lon: float
    sub_lat: float
    direction: int  # 0 E, 1 N, 2 W, 3 S
    v_centre_m: float  # arterial offset from the substation (negative: the quadrant's side)
    site_spacing_m: float  # lateral site spacing (lot frontage x homes per transformer / 2)
    lateral_sites: int
    block_m: float
    target_customers: int
    era_year: int
    p_underground: float
    underground_trunk: bool


@dataclass(frozen=True)
class FeederArrays:
    # nodes (buses), local numbering; parent -1 = the substation bus section (via the breaker)
    lon: _FF
    lat: _FF
    parent: _FI
    kind: npt.NDArray[np.int8]
    conductor: npt.NDArray[np.int8]  # segments: catalog index; devices: -1
    device_rating_a: _FF  # devices: continuous rating; segments: nan
    install_year: _FI
    leaves: _FI  # tie candidates (lateral ends, trunk end)
    phases: npt.NDArray[np.int8]  # phase set of the edge into each node, index into models.PHASES
    # distribution transformers
    xf_node: _FI
    xf_lon: _FF
    xf_lat: _FF
    xf_kva: _FF
    xf_phase: npt.NDArray[np.int8]  # index into models.PHASES
    xf_pad: npt.NDArray[np.bool_]
    xf_z_pct: _FF
    xf_year: _FI
    # customers / meters
    cu_xf: _FI
    cu_lon: _FF
    cu_lat: _FF
    cu_class: npt.NDArray[np.int8]
    cu_critical: npt.NDArray[np.int8]  # index into models.CRITICAL_TYPES, -1 none
    cu_house_no: _FI
    cu_street: _FI  # lateral number (0 = the arterial)
    loads: CustomerLoads
    peak_kva: float
    max_drop_pct: float


def _pick(sizes: tuple[float, ...], need: _FF) -> _FF:
    """Smallest standard size >= need (the largest when none is)."""
    arr = np.asarray(sizes)
    return np.asarray(arr[np.minimum(np.searchsorted(arr, need), len(arr) - 1)], dtype=np.float64)


def _drop_per_a_km(code: int) -> float:
    c = cat.CONDUCTORS[code]
    sin = math.sqrt(1 - _AGG_PF**2)
    return c.r_ohm_per_km * _AGG_PF + c.x_ohm_per_km * sin


def build_feeder(
    rng: np.random.Generator,
    spec: FeederSpec,
    p: GeneratorParams,
    phase_rng: np.random.Generator,
) -> FeederArrays:
    """Arrays for one feeder (see module docstring); deterministic for the generator states.

    ``phase_rng`` draws the phase assignment (`phasing`), kept apart so it shifts no layout draw."""
    n_l = spec.lateral_sites
    h_lo, h_hi = p.homes_per_transformer
    c_lo, c_hi = p.commercial_per_transformer
    n_res_target = max(1, round(spec.target_customers * (1 - p.commercial_share)))
    n_t = max(1, round(n_res_target / ((h_lo + h_hi) / 2) / n_l / 2))
    homes = rng.integers(h_lo, h_hi + 1, size=(n_t, 2, n_l))
    n_ct = max(1, round(spec.target_customers * p.commercial_share / ((c_lo + c_hi) / 2)))
    ct_k = np.sort(rng.integers(0, n_t, n_ct))
    ct_n = rng.integers(c_lo, c_hi + 1, n_ct)
    industrial = bool(rng.random() < p.industrial_per_feeder)

    # Customers in site order: residential by (k, side, i), then commercial, then industrial.
    site_n = homes.reshape(-1)
    klass = np.concatenate(
        [np.full(site_n.sum(), RES), np.full(ct_n.sum(), COM), np.full(int(industrial), IND)]
    ).astype(np.int8)
    loads = draw_loads(rng, klass, p.pv_share)
    kva = loads.kva
    n_sites = len(site_n)
    xf_of_cu = np.repeat(
        np.arange(n_sites + n_ct + int(industrial)),
        np.concatenate([site_n, ct_n, np.ones(int(industrial), dtype=np.int64)]),
    )
    xf_need = np.bincount(xf_of_cu, weights=kva)
    site_kva = xf_need[:n_sites].reshape(n_t, 2, n_l)
    ct_kva = xf_need[n_sites : n_sites + n_ct]
    ind_kva = float(xf_need[-1]) if industrial else 0.0

    # Trim to the feeder cap: keep the first blocks whose cumulative kVA fits.
    node_kva = site_kva.sum(axis=(1, 2)) + np.bincount(ct_k, weights=ct_kva, minlength=n_t)
    cum = np.cumsum(node_kva)
    keep = max(1, int(np.searchsorted(cum, p.max_feeder_kva, side="right")))
    if industrial and cum[keep - 1] + ind_kva > p.max_feeder_kva:
        industrial, ind_kva = False, 0.0
    ct_mask = ct_k < keep
    cu_keep = np.concatenate(
        [
            np.repeat(np.arange(n_t) < keep, 2 * n_l)[np.repeat(np.arange(n_sites), site_n)],
            np.repeat(ct_mask, ct_n),
            np.full(int(xf_need.size > n_sites + n_ct), industrial),
        ]
    )
    n_t = keep
    site_kva, node_kva = site_kva[:n_t], node_kva[:n_t]
    site_n = homes[:n_t].reshape(-1)
    ct_k, ct_n, ct_kva = ct_k[ct_mask], ct_n[ct_mask], ct_kva[ct_mask]
    n_sites, n_ct = len(site_n), len(ct_k)
    klass = klass[cu_keep]
    loads = CustomerLoads(
        *(
            np.asarray(getattr(loads, f))[cu_keep]
            for f in ("peak_kw", "power_factor", "annual_kwh", "has_pv", "pv_kw")
        )
    )
    peak_kva = float(node_kva.sum() + ind_kva)

    # Conductors: trunk by current and drop; laterals OH/UG by neighbourhood.
    big_lat = (np.arange(2 * n_t) % 5 == 2).reshape(n_t, 2)
    ug_lat = rng.random((n_t, 2)) < spec.p_underground
    lat_cond = np.where(
        ug_lat,
        np.where(big_lat, cat.UG_BIG_LATERAL, cat.UG_LATERAL),
        np.where(big_lat, cat.OH_BIG_LATERAL, cat.OH_LATERAL),
    )
    i_feeder = peak_kva / (math.sqrt(3) * cat.V_PRIMARY_KV)
    choices = cat.UG_TRUNK if spec.underground_trunk else cat.OH_TRUNK
    v_c, sp, blk = spec.v_centre_m, spec.site_spacing_m, spec.block_m
    trunk_down = np.concatenate([np.cumsum(node_kva[::-1])[::-1], [0.0]])[:n_t] + ind_kva  # into T_k
    lat_down = np.cumsum(site_kva[:, :, ::-1], axis=2)[:, :, ::-1]  # into site i
    lat_i = np.where(
        big_lat[:, :, None], lat_down / (math.sqrt(3) * cat.V_PRIMARY_KV), lat_down / cat.V_PHASE_KV
    )
    lat_factor = np.where(big_lat, 1.0, _SINGLE_PHASE_DROP_FACTOR)[:, :, None]
    lat_zd = np.vectorize(_drop_per_a_km)(lat_cond)[:, :, None]
    lat_drop = np.cumsum(lat_i * lat_factor * lat_zd * sp / 1000.0, axis=2)  # volts, to each site
    express_v = i_feeder * _drop_per_a_km(cat.GETAWAY) * (abs(v_c) / 1000.0)
    trunk_code = choices[-1]
    max_drop = 0.0
    for code in choices:
        trunk_v = np.cumsum(
            trunk_down / (math.sqrt(3) * cat.V_PRIMARY_KV) * _drop_per_a_km(code) * blk / 1000.0
        )
        drop = express_v + trunk_v[:, None, None] + lat_drop
        max_drop = float(drop.max()) / (cat.V_PHASE_KV * 1000.0) * 100.0
        amp_ok = i_feeder <= p.trunk_planning_loading * cat.CONDUCTORS[code].ampacity_a
        if amp_ok and max_drop <= p.max_voltage_drop_pct:
            trunk_code = code
            break

    # --- nodes --------------------------------------------------------------------------------
    n_e = max(1, math.ceil(abs(v_c) / _VAULT_SPACING_M))
    rec_k = [max(1, n_t // 2)] if n_t >= 2 else []
    sw_k = sorted({round(n_t * f) for f in (0.25, 0.75)} - set(rec_k) - {0, n_t}) if n_t >= 3 else []
    dev_k = np.array(rec_k + sw_k, dtype=np.int64)  # device after trunk node T_k (1-based)
    dev_kind = np.array([RECLOSER] * len(rec_k) + [SWITCH] * len(sw_k), dtype=np.int8)
    order = np.argsort(dev_k)
    dev_k, dev_kind = dev_k[order], dev_kind[order]
    n_d = len(dev_k)
    b_t = 1 + n_e
    b_d = b_t + n_t
    b_f = b_d + n_d
    b_l = b_f + 2 * n_t
    n_nodes = b_l + 2 * n_t * n_l
    u = np.empty(n_nodes)
    v = np.empty(n_nodes)
    parent = np.empty(n_nodes, dtype=np.int64)
    kind = np.zeros(n_nodes, dtype=np.int8)
    cond = np.full(n_nodes, -1, dtype=np.int8)
    rating = np.full(n_nodes, np.nan)
    h0 = _HEAD_OFFSET_M
    # head + getaway
    u[0], v[0], parent[0], kind[0], rating[0] = h0, 0.0, -1, BREAKER, 1200.0
    e = np.arange(1, n_e + 1)
    u[e], v[e], parent[e], cond[e] = h0, v_c * e / n_e, e - 1, cat.GETAWAY
    # trunk
    k = np.arange(1, n_t + 1)
    t_idx = b_t + k - 1
    up = np.where(k == 1, n_e, t_idx - 1)
    after = np.full(n_t + 1, -1, dtype=np.int64)
    after[dev_k] = b_d + np.arange(n_d)
    up = np.where((k > 1) & (after[np.maximum(k - 1, 0)] >= 0), after[np.maximum(k - 1, 0)], up)
    u[t_idx], v[t_idx], parent[t_idx], cond[t_idx] = h0 + k * blk, v_c, up, trunk_code
    d_idx = b_d + np.arange(n_d)
    u[d_idx], v[d_idx], parent[d_idx], kind[d_idx] = (
        h0 + dev_k * blk + _DEVICE_OFFSET_M,
        v_c,
        b_t + dev_k - 1,
        dev_kind,
    )
    rating[d_idx] = np.where(dev_kind == RECLOSER, 560.0, 600.0)
    # lateral taps (fuse / sectionalizer) and sites
    f_idx = b_f + np.arange(2 * n_t)
    f_k = np.repeat(k, 2)
    side = np.tile(np.array([1.0, -1.0]), n_t)
    big = big_lat.reshape(-1)
    u[f_idx], v[f_idx], parent[f_idx] = h0 + f_k * blk, v_c + side * _DEVICE_OFFSET_M, b_t + f_k - 1
    kind[f_idx] = np.where(big, SECTIONALIZER, FUSE)
    lat_amp = lat_down[:, :, 0].reshape(-1) / np.where(big, math.sqrt(3) * cat.V_PRIMARY_KV, cat.V_PHASE_KV)
    fuse_sizes = (25.0, 40.0, 65.0, 100.0, 140.0, 200.0)  # EEI/NEMA T-link continuous ratings
    rating[f_idx] = np.where(big, 200.0, _pick(fuse_sizes, 1.5 * lat_amp))
    i_site = np.arange(1, n_l + 1)
    l_idx = (b_l + np.arange(2 * n_t * n_l)).reshape(2 * n_t, n_l)
    u[l_idx] = (h0 + f_k * blk)[:, None]
    v[l_idx] = v_c + side[:, None] * i_site[None, :] * sp
    parent[l_idx] = np.concatenate([f_idx[:, None], l_idx[:, :-1]], axis=1)
    cond[l_idx] = np.repeat(lat_cond.reshape(-1), n_l).reshape(2 * n_t, n_l)
    leaves = np.concatenate([l_idx[:, -1], [t_idx[-1]]])
    lat_ph = draw_lateral_phases(
        phase_rng,
        big,
        n_l,
        sigma=p.phase_unbalance_sigma,
        reassign_share=p.phase_reassign_share,
        two_phase_share=p.two_phase_lateral_share,
    )
    # a two-phase tap is fused per phase (cutouts, single-pole), not behind a gang-operated sectionalizer
    kind[f_idx] = np.where(big & (lat_ph.lateral != PH_ABC), FUSE, kind[f_idx])
    node_phase = np.full(n_nodes, PH_ABC, dtype=np.int8)  # getaway, trunk, trunk devices
    node_phase[f_idx] = lat_ph.lateral
    node_phase[l_idx] = lat_ph.lateral[:, None]

    # --- transformers -------------------------------------------------------------------------
    xf_node = np.concatenate(
        [l_idx.reshape(-1), t_idx[ct_k], t_idx[-1:] if industrial else np.zeros(0, dtype=np.int64)]
    )
    xf_kva_need = np.concatenate([site_kva.reshape(-1), ct_kva, [ind_kva] if industrial else []])
    n_xf = len(xf_node)
    is_site = np.arange(n_xf) < n_sites
    xf_u = u[xf_node] + np.where(is_site, 12.0, rng.uniform(-0.4, 0.4, n_xf) * blk)
    xf_v = v[xf_node] + np.where(is_site, 0.0, rng.choice([-1.0, 1.0], n_xf) * 25.0)
    if industrial:
        xf_u[-1], xf_v[-1] = u[t_idx[-1]] + 90.0, v_c
    # Size on the transformer's coincident peak: the customers' shares × u(N) (catalog, issue 9).
    xf_n = np.concatenate([site_n, ct_n, [1] if industrial else []]).astype(np.int64)
    xf_cls = np.concatenate([np.full(n_sites, RES), np.full(n_ct, COM), [IND] if industrial else []])
    xf_kva_need = xf_kva_need * cat.coincident_peak_factor(xf_n, xf_cls.astype(np.int8))
    xf_kva = np.where(
        is_site, _pick(cat.SINGLE_PHASE_KVA, xf_kva_need), _pick(cat.THREE_PHASE_KVA, xf_kva_need)
    )
    lat_no = np.repeat(np.arange(2 * n_t), n_l)
    # site transformers: single-phase on their lateral's phase; commercial/industrial: three-phase
    xf_phase = np.concatenate([lat_ph.site.reshape(-1), np.full(n_xf - n_sites, PH_ABC)]).astype(np.int8)
    xf_pad = np.concatenate([np.repeat(ug_lat.reshape(-1), n_l), np.ones(n_xf - n_sites, dtype=bool)])
    xf_z = np.asarray(
        np.round(
            np.where(
                is_site,
                rng.uniform(1.5, 2.5, n_xf),
                np.where(xf_kva > 500, 5.75, rng.uniform(2.0, 4.5, n_xf)),
            ),
            2,
        ),
        dtype=np.float64,
    )
    years = np.clip(spec.era_year + rng.integers(0, 25, n_nodes), 1950, 2025)
    xf_year = np.clip(spec.era_year + rng.integers(0, 30, n_xf), 1950, 2025)

    # --- customers ----------------------------------------------------------------------------
    cu_n = np.concatenate([site_n, ct_n, np.ones(int(industrial), dtype=np.int64)])
    cu_xf = np.repeat(np.arange(n_xf), cu_n)
    n_cu = len(cu_xf)
    res = klass == RES
    cu_u = xf_u[cu_xf] + np.where(
        res, rng.choice([-1.0, 1.0], n_cu) * rng.uniform(15.0, 35.0, n_cu), rng.uniform(-40.0, 40.0, n_cu)
    )
    cu_v = xf_v[cu_xf] + np.where(res, rng.uniform(-0.5, 0.5, n_cu) * sp, rng.uniform(-25.0, 25.0, n_cu))
    rank = np.arange(n_cu) - np.repeat(np.cumsum(cu_n) - cu_n, cu_n)
    hundreds = np.concatenate([np.tile(i_site, 2 * n_t), ct_k + 1, [n_t + 1] if industrial else []]).astype(
        np.int64
    )
    house_no = 100 * hundreds[cu_xf] + 2 * rank + 1
    street = np.concatenate([lat_no + 1, np.zeros(n_xf - n_sites, dtype=np.int64)])[cu_xf]
    critical = np.full(n_cu, -1, dtype=np.int8)
    com_idx = np.flatnonzero(klass == COM)
    n_crit = min(int(rng.poisson(p.critical_per_feeder)), len(com_idx))
    if n_crit:
        pick = rng.choice(com_idx, size=n_crit, replace=False)
        critical[pick] = rng.choice(
            4, size=n_crit, p=[0.1, 0.3, 0.35, 0.25]
        )  # hospital, water, emergency, telecom

    # --- rotate into the quadrant and convert to lon/lat ----------------------------------------
    def to_lonlat(uu: _FF, vv: _FF) -> tuple[_FF, _FF]:
        rot = ((uu, vv), (-vv, uu), (-uu, -vv), (vv, -uu))[spec.direction]
        return spec.sub_lon + rot[0] / m_per_deg_lon(spec.sub_lat), spec.sub_lat + rot[1] / M_PER_DEG_LAT

    lon, lat = to_lonlat(u, v)
    xf_lon, xf_lat = to_lonlat(xf_u, xf_v)
    cu_lon, cu_lat = to_lonlat(cu_u, cu_v)
    return FeederArrays(
        lon=lon,
        lat=lat,
        parent=parent,
        kind=kind,
        conductor=cond,
        device_rating_a=rating,
        install_year=years,
        leaves=leaves,
        phases=node_phase,
        xf_node=xf_node,
        xf_lon=xf_lon,
        xf_lat=xf_lat,
        xf_kva=xf_kva,
        xf_phase=xf_phase,
        xf_pad=xf_pad,
        xf_z_pct=xf_z,
        xf_year=xf_year,
        cu_xf=cu_xf,
        cu_lon=cu_lon,
        cu_lat=cu_lat,
        cu_class=klass,
        cu_critical=critical,
        cu_house_no=house_no,
        cu_street=street,
        loads=loads,
        peak_kva=peak_kva,
        max_drop_pct=max_drop,
    )
