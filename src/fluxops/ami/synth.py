"""Synthetic AMI for a whole grid: 15-minute readings and events, one UTC day at a time, vectorized.

Pipeline for one day (all meters × 96 intervals as NumPy arrays):
1. Load per meter (`fluxops.ami.loadshapes`) from class, local time, day type and lagged temperature
   (`fluxops.ami.weather`), times deterministic noise; PV output subtracted → net kW.
2. Transformer loads = sparse (transformers × meters) @ net kW; bus loads likewise.
3. Primary voltages per interval from the network's power flow (`fluxops.network.powerflow`, one
   sweep plan reused for the 96 load cases), with the substation bus regulated at ``v_source_pu``;
   then each transformer's own phase (`fluxops.ami.phase_voltage`: the three-phase solution's deviation
   from the balanced one, scaled by the feeder's load), so meters on a heavily loaded phase read lower.
4. Service voltage per meter = primary v_pu − transformer drop (∝ loading × z_pct) − secondary drop
   (∝ loading × the meter's position on the secondary) − service drop (∝ own load): it droops with distance
   and load, mostly inside ANSI C84.1 Range A, leaving it only when loads are high (or PV exports).
5. Outages (`fluxops.ami.outages`) zero the energy, null the voltage, mark ``quality='outage'`` and
   produce last-gasp / power-restore events (30-45 s declaration delay, some never sent); voltage
   sag/swell events where an interval leaves Range A; reverse-flow events when a PV meter starts
   exporting; rare tamper events.

Everything is a pure function of (grid, params, day): the same day regenerates bit-identically, which
the live simulator relies on to post the same readings a backfill would have written.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
from scipy import sparse

from fluxops.ami.loadshapes import (
    MeterShapeParams,
    ShapeParams,
    build_normalizer,
    draw_meter_params,
    load_kw,
    pv_kw_output,
    time_features,
)
from fluxops.ami.models import EVENT_TYPES, INTERVAL_S, INTERVALS_PER_DAY, TS
from fluxops.ami.outages import Outage, OutageParams, draw_outages, outage_fraction
from fluxops.ami.phase_voltage import PhaseDeviation, apply_deviation, phase_deviation
from fluxops.ami.weather import WeatherParams, cloud_fraction, temperature_c
from fluxops.grid.models import Grid
from fluxops.network.compiled import CompiledGrid, compile_grid
from fluxops.network.energization import energize
from fluxops.network.powerflow import SweepPlan, prepare_sweep, run_powerflow
from fluxops.network.regulation import SubstationRegulation, ldc_boost_pu

F64 = npt.NDArray[np.float64]
RANGE_A_V = (114.0, 126.0)  # ANSI C84.1 Range A, 120 V base (domain facts §6.3)


@dataclass(frozen=True)
class SynthParams:
    """Everything that shapes the synthetic AMI; stored with what it generates."""

    seed: int = 0
    weather: WeatherParams = field(default_factory=WeatherParams)
    shape: ShapeParams = field(default_factory=ShapeParams)
    outages: OutageParams = field(default_factory=OutageParams)
    v_source_pu: float = 1.025  # substation LTC set point at light load (~123 V on a 120 V base)
    v_source_max_pu: float = 1.05  # LTC upper limit (ANSI Range A top at the first customer)
    ldc_target_min_pu: float = 1.0  # line-drop compensation aims the far end of the primary here
    xfmr_drop_factor: float = 0.6  # drop ≈ (R% cosφ + X% sinφ) ≈ 0.7·Z% at pf 0.95, X/R ≈ 2
    secondary_drop_pu_at_rated: float = 0.015  # farthest service at rated transformer load
    service_drop_pu_at_peak: float = 0.008  # own service cable at the customer's peak kW
    meter_noise_v: float = 0.15  # metrology noise (0.1 % class meter), not a power-quality effect
    missing_share: float = 0.004  # readings never delivered (CenterPoint: 99.5 % read rate, §8)
    tamper_per_meter_day: float = 2e-5
    use_powerflow: bool = True
    per_phase_voltage: bool = True  # a meter reads its own phase (`fluxops.ami.phase_voltage`)


@dataclass(frozen=True)
class DayAmi:
    """One day of synthetic AMI: readings (`READING_INPUT_SCHEMA` + ``delivered_utc``) and events."""

    day: date
    readings: pa.Table
    events: pa.Table
    outages: list[Outage]
    transformer_kw: F64  # (n_transformers, 96), for checks


class AmiSynthesizer:
    """Precomputes per-grid state once (meter parameters, topology, sweep plan); then `day(d)`."""

    def __init__(self, grid: Grid, params: SynthParams | None = None) -> None:
        self.params = p = params or SynthParams()
        self.grid = grid
        me = grid.meters.reset_index(drop=True)
        cu = grid.customers.set_index("meter_id").reindex(me["meter_id"].to_numpy())
        self.meter_ids = me["meter_id"].astype(str).to_numpy(dtype=object)
        self.n = n = len(me)
        norm = build_normalizer(p.weather, p.shape)
        self.shape: MeterShapeParams = draw_meter_params(
            cu["customer_class"].fillna("residential").to_numpy(),
            cu["annual_kwh"].fillna(0.0).to_numpy(np.float64),
            cu["pv_kw"].fillna(0.0).to_numpy(np.float64),
            seed=p.seed,
            shape=p.shape,
            norm=norm,
        )
        self.peak_kw = np.maximum(cu["peak_kw"].fillna(1.0).to_numpy(np.float64), 0.5)
        pf = cu["power_factor"].fillna(0.95).clip(0.5, 1.0).to_numpy(np.float64)
        self.tan_phi = np.tan(np.arccos(pf))
        self.lat = float(me["lat"].mean()) if n else 29.76
        self.lon = float(me["lon"].mean()) if n else -95.37
        self.cg: CompiledGrid = compile_grid(grid)
        cg_pos = pd.Index(self.cg.meter_ids.astype(object)).get_indexer(self.meter_ids)
        self.meter_xfmr = np.asarray(self.cg.meter_xfmr)[cg_pos].astype(np.int64)
        self.meter_pos_of_cg = np.empty(n, dtype=np.int64)
        self.meter_pos_of_cg[cg_pos] = np.arange(n)
        n_x = self.cg.xfmr_ids.size
        self.m2x = sparse.csr_matrix((np.ones(n), (self.meter_xfmr, np.arange(n))), shape=(n_x, n))
        xf = grid.transformers.set_index("transformer_id").reindex(self.cg.xfmr_ids.astype(object))
        self.xfmr_rating_kva = np.maximum(xf["rating_kva"].to_numpy(np.float64), 1.0)
        self.xfmr_z_pct = xf["z_pct"].fillna(2.0).to_numpy(np.float64)
        rng = np.random.default_rng([p.seed, 0x5EC])
        self.secondary_pos = rng.uniform(0.1, 1.0, n)  # position along the transformer's secondary
        self.plan: SweepPlan | None = (
            prepare_sweep(self.cg, energize(self.cg)) if p.use_powerflow and n else None
        )
        self.phase_dev: PhaseDeviation | None = (
            phase_deviation(grid, self.cg, self.plan.energization, p.v_source_pu)
            if self.plan is not None and p.per_phase_voltage
            else None
        )

    # --- one day --------------------------------------------------------------------------------

    def _loads(self, day_start_s: int) -> tuple[F64, npt.NDArray[np.int64]]:
        p = self.params
        t = day_start_s + INTERVAL_S * np.arange(INTERVALS_PER_DAY, dtype=np.int64)
        mid = t + INTERVAL_S // 2
        tf = time_features(mid)
        temp_lag = temperature_c(mid - int(p.shape.building_lag_h * 3600), p.weather)
        rng = np.random.default_rng([p.seed, 0x10AD, day_start_s // 86_400])
        cls = self.shape.cls
        sig_i = np.asarray(p.shape.interval_noise_sigma)[cls][:, None]
        sig_d = np.asarray(p.shape.daily_noise_sigma)[cls][:, None]
        z = rng.standard_normal((self.n, INTERVALS_PER_DAY))
        zd = rng.standard_normal((self.n, 1))
        noise = np.exp(sig_i * z - 0.5 * sig_i**2 + sig_d * zd - 0.5 * sig_d**2)
        load = load_kw(self.shape, tf, temp_lag, noise)
        pv = pv_kw_output(self.shape.pv_kw, mid, cloud_fraction(mid, p.weather), self.lat, self.lon)
        return load - pv, t

    def _primary_vpu(self, xfmr_kw: F64) -> F64:
        """Primary bus voltage (pu) per transformer × interval from 96 power flows.

        Substation regulation: the LTC with line-drop compensation raises each source's voltage so the
        lowest primary voltage it feeds stays near ``ldc_target_min_pu``, capped at ``v_source_max_pu``.
        Emulated by shifting the source's buses by the same Δ after the flow (a uniform source shift moves
        every downstream voltage by ~Δ; the error is second order in the drop)."""
        p = self.params
        n_x = xfmr_kw.shape[0]
        if self.plan is None:
            return np.full((n_x, INTERVALS_PER_DAY), p.v_source_pu)
        cg = self.cg
        xbus = np.asarray(cg.xfmr_bus)
        bus_src = np.asarray(self.plan.energization.bus_source)
        live = bus_src >= 0
        n_src = cg.n_source
        tan = 0.33  # aggregate pf 0.95 for reactive load on the primary
        reg = SubstationRegulation(p.v_source_pu, p.v_source_max_pu, p.ldc_target_min_pu)
        out = np.empty((n_x, INTERVALS_PER_DAY))
        for k in range(INTERVALS_PER_DAY):
            bus_p = np.bincount(xbus, weights=xfmr_kw[:, k], minlength=cg.n_bus)
            res = run_powerflow(cg, p_kw=bus_p, q_kvar=bus_p * tan, v_source_pu=p.v_source_pu, plan=self.plan)
            vm = np.nan_to_num(res.vm_pu, nan=p.v_source_pu)
            boost = ldc_boost_pu(vm, bus_src, n_src, reg)
            vm = vm + np.where(live, boost[np.maximum(bus_src, 0)], 0.0)
            out[:, k] = vm[xbus]
        return out if self.phase_dev is None else apply_deviation(self.phase_dev, out, xfmr_kw)

    def day(self, d: date) -> DayAmi:
        p = self.params
        day_start_s = int(pd.Timestamp(d, tz="UTC").timestamp())
        net_kw, t = self._loads(day_start_s)
        xfmr_kw = np.asarray(self.m2x @ net_kw)
        vprim = self._primary_vpu(xfmr_kw)
        xfmr_kva = xfmr_kw * np.sqrt(1.0 + 0.33**2)
        loading = np.sign(xfmr_kw) * xfmr_kva / self.xfmr_rating_kva[:, None]  # signed: PV export < 0
        x = self.meter_xfmr
        v_pu = (
            vprim[x]
            - p.xfmr_drop_factor * self.xfmr_z_pct[x, None] / 100.0 * loading[x]
            - p.secondary_drop_pu_at_rated * self.secondary_pos[:, None] * loading[x]
            - p.service_drop_pu_at_peak * net_kw / self.peak_kw[:, None]
        )
        rng = np.random.default_rng([p.seed, 0xD47, day_start_s // 86_400])
        volt = 120.0 * v_pu + p.meter_noise_v * rng.standard_normal(v_pu.shape)
        outages = [
            o
            for o in draw_outages(self.cg, self.meter_pos_of_cg, day_start_s - 86_400, p.outages, p.seed)
            if o.end_s > day_start_s
        ] + draw_outages(self.cg, self.meter_pos_of_cg, day_start_s, p.outages, p.seed)
        frac_out = outage_fraction(outages, self.n, day_start_s, INTERVALS_PER_DAY, INTERVAL_S)
        served = 1.0 - frac_out
        kwh_del = np.maximum(net_kw, 0.0) * 0.25 * served
        kwh_rec = np.maximum(-net_kw, 0.0) * 0.25 * served
        quality_out = frac_out > 0
        volt_null = frac_out >= 1.0
        delivered = ~(rng.random(v_pu.shape) < p.missing_share)
        readings = self._readings_table(t, kwh_del, kwh_rec, volt, quality_out, volt_null, delivered, rng)
        events = self._events(day_start_s, t, volt, volt_null, kwh_rec, outages, rng)
        return DayAmi(d, readings, events, outages, xfmr_kw)

    def _readings_table(
        self,
        t: npt.NDArray[np.int64],
        kwh_del: F64,
        kwh_rec: F64,
        volt: F64,
        quality_out: npt.NDArray[np.bool_],
        volt_null: npt.NDArray[np.bool_],
        delivered: npt.NDArray[np.bool_],
        rng: np.random.Generator,
    ) -> pa.Table:
        k = kwh_del.shape[1]
        flat = np.flatnonzero(delivered.ravel())
        m_idx = (flat // k).astype(np.int32)
        t_us = (t * 1_000_000)[flat % k]
        # Simulated head-end delivery: interval end + log-normal delay (median ~4 min).
        delay_us = (np.exp(np.log(240.0) + 0.7 * rng.standard_normal(flat.size)) * 1e6).astype(np.int64)
        meter = pa.DictionaryArray.from_arrays(pa.array(m_idx), pa.array(self.meter_ids, type=pa.string()))
        return pa.table(
            {
                "meter_id": meter,
                "interval_start_utc": pa.array(t_us).cast(TS),
                "kwh_delivered": pa.array(kwh_del.ravel()[flat]),
                "kwh_received": pa.array(kwh_rec.ravel()[flat]),
                "voltage_v": pa.array(volt.ravel()[flat], mask=volt_null.ravel()[flat]),
                "quality": pa.DictionaryArray.from_arrays(
                    pa.array(quality_out.ravel()[flat].astype(np.int8)), pa.array(["valid", "outage"])
                ),
                "delivered_utc": pa.array(t_us + INTERVAL_S * 1_000_000 + delay_us).cast(TS),
            }
        )

    def _events(
        self,
        day_start_s: int,
        t: npt.NDArray[np.int64],
        volt: F64,
        volt_null: npt.NDArray[np.bool_],
        kwh_rec: F64,
        outages: list[Outage],
        rng: np.random.Generator,
    ) -> pa.Table:
        p = self.params
        op = p.outages
        day_end_s = day_start_s + 86_400
        parts: list[tuple[npt.NDArray[np.int64], str, npt.NDArray[np.int64], F64]] = []
        for o in outages:
            orng = np.random.default_rng([p.seed, 0x6A5, o.start_s, o.meter_pos.size])
            if day_start_s <= o.start_s < day_end_s:
                keep = orng.random(o.meter_pos.size) >= op.last_gasp_lost_share
                delay = orng.uniform(*op.last_gasp_delay_s, o.meter_pos.size)
                parts.append(
                    (
                        o.meter_pos[keep],
                        "last_gasp",
                        o.start_s + delay[keep].astype(np.int64),
                        np.zeros(int(keep.sum())),
                    )
                )
            if day_start_s <= o.end_s < day_end_s:
                keep = orng.random(o.meter_pos.size) >= op.restore_lost_share
                delay = orng.uniform(*op.restore_delay_s, o.meter_pos.size)
                parts.append(
                    (
                        o.meter_pos[keep],
                        "power_restore",
                        o.end_s + delay[keep].astype(np.int64),
                        np.zeros(int(keep.sum())),
                    )
                )
        # Power quality: interval averages outside Range A (only while supplied).
        for kind, mask in (
            ("voltage_sag", (volt < RANGE_A_V[0]) & ~volt_null),
            ("voltage_swell", (volt > RANGE_A_V[1]) & ~volt_null),
        ):
            # One event per excursion: the first interval of each run outside Range A.
            starts = mask & ~np.concatenate([np.zeros((mask.shape[0], 1), bool), mask[:, :-1]], axis=1)
            m, k = np.nonzero(starts)
            offs = rng.integers(0, INTERVAL_S, m.size)
            parts.append((m.astype(np.int64), kind, t[k] + offs, volt[m, k]))
        # Reverse flow: first exporting interval of the day per PV meter.
        exporting = kwh_rec > 0
        m_exp = np.flatnonzero(exporting.any(axis=1))
        if m_exp.size:
            first = exporting[m_exp].argmax(axis=1)
            parts.append((m_exp, "reverse_flow", t[first] + 60, kwh_rec[m_exp, first]))
        n_tamper = int(rng.poisson(p.tamper_per_meter_day * self.n))
        if n_tamper:
            parts.append(
                (
                    rng.integers(0, self.n, n_tamper),
                    "tamper",
                    day_start_s + rng.integers(0, 86_400, n_tamper),
                    np.zeros(n_tamper),
                )
            )
        codes = {name: i for i, name in enumerate(EVENT_TYPES)}
        m_all = np.concatenate([np.zeros(0, np.int64), *[x[0] for x in parts]])
        ty = np.concatenate(
            [np.zeros(0, np.int8), *[np.full(x[0].size, codes[x[1]], np.int8) for x in parts]]
        )
        ts = np.concatenate([np.zeros(0, np.int64), *[x[2] for x in parts]])
        vals = np.concatenate([np.zeros(0), *[x[3] for x in parts]])
        # One event per (meter, type, second): the idempotency key.
        key = (m_all << 20 | (ts - day_start_s + 86_400) << 3 | ty) if ts.size else ts
        _, first = np.unique(key, return_index=True)
        first = first[np.argsort(ts[first], kind="stable")]
        return pa.table(
            {
                "meter_id": pa.array(self.meter_ids[m_all[first]], type=pa.string()),
                "event_type": pa.array(np.asarray(EVENT_TYPES, dtype=object)[ty[first]], type=pa.string()),
                "event_time_utc": pa.array(ts[first] * 1_000_000).cast(TS),
                "value": pa.array(np.round(vals[first], 3)),
            }
        )
