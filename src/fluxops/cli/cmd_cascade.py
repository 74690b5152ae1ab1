"""``fluxops cascade run|scenarios|montecarlo|screen|restore|economics``: the cascade model from the
command line, on the grid in the store (or a freshly generated preset with ``--preset``), through the
same service the API uses. Runs can be saved to the store (``--save``) and then appear under
``GET /api/cascade/precomputed``."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from fluxops.cli.cmd_grid import DATA_DIR_OPTION, console, settings_for
from fluxops.core.errors import NotFoundError

PZ_OPTION = typer.Option(..., "--patient-zero", "-p", help="Element id that fails first (repeatable).")
SCENARIO_OPTION = typer.Option(
    "normal", "--scenario", "-s", help="normal | summer_peak | winter_storm | hurricane | custom"
)
PRESET_OPTION = typer.Option(
    None, "--preset", help="Generate this preset instead of reading the store (tiny/demo/houston)."
)
SEED_OPTION = typer.Option(0, "--seed", help="Random seed (hurricane damage, Monte Carlo, generator).")
JSON_OPTION = typer.Option(False, "--json", help="Print the full result as JSON.")


@contextmanager
def _session(data_dir: Path | None, preset: str | None, seed: int) -> Iterator[tuple[Any, Any, str, Any]]:
    """(service, context, grid hash, store or None)."""
    from fluxops.cascade.context import build_context
    from fluxops.cascade.jobs import JobRunner
    from fluxops.cascade.service import CascadeService
    from fluxops.storage import open_store
    from fluxops.storage.cascade_runs import CascadeRunTableStore

    store = open_store(settings_for(data_dir))
    jobs = JobRunner(max_workers=1)
    try:
        runs = CascadeRunTableStore(store)
        runs.ensure_tables()
        if preset is not None:
            from fluxops.grid.generator import generate_grid

            grid, grid_hash = generate_grid(preset, seed=seed), f"preset:{preset}:{seed}"
        else:
            from fluxops.storage.switching_store import read_live_grid

            live = read_live_grid(store)  # the grid as switched now (`fluxops switch`)
            if live is None:
                raise NotFoundError("no grid is loaded: run `fluxops generate` first, or pass --preset")
            grid, grid_hash = live[0], live[1].content_hash
        yield CascadeService(runs, jobs), build_context(grid), grid_hash, store
    finally:
        jobs.shutdown()
        store.close()


def _inputs(patient_zero: list[str], scenario: str, seed: int, overrides: list[str], crews: int) -> Any:
    from fluxops.cascade.service import parse_inputs
    from fluxops.core.errors import InvalidInputError

    ov: dict[str, Any] = {}
    for item in overrides:
        key, sep, value = item.partition("=")
        if not sep:
            raise InvalidInputError(f"--set expects key=value, got {item!r}", field="set")
        try:
            ov[key] = json.loads(value)
        except json.JSONDecodeError:
            ov[key] = value
    return parse_inputs(
        {"patient_zero": patient_zero, "scenario": scenario, "seed": seed, "overrides": ov, "crews": crews}
    )


def register(app: typer.Typer) -> None:
    cascade = typer.Typer(
        help="Cascade analysis: wave-by-wave failures, restoration, risk.", no_args_is_help=True
    )
    app.add_typer(cascade, name="cascade")

    @cascade.command("scenarios")
    def scenarios() -> None:
        """List the scenario presets and their physical parameters."""
        from fluxops.cascade.scenarios import list_scenarios

        t = Table()
        t.add_column("name", no_wrap=True, min_width=12)
        for col in ("ambient °C", "load ×", "heating ×", "cold-load ×", "wind m/s", "description"):
            t.add_column(col)
        for s in list_scenarios():
            t.add_row(
                s.name,
                f"{s.ambient_temp_c:g}",
                f"{s.load_multiplier:g}",
                f"{s.residential_heating_factor:g}",
                f"{s.cold_load_pickup_factor:g}",
                f"{s.wind_speed_mps:g}",
                s.description,
            )
        console.print(t)

    @cascade.command("run")
    def run(
        patient_zero: list[str] = PZ_OPTION,
        scenario: str = SCENARIO_OPTION,
        seed: int = SEED_OPTION,
        overrides: list[str] = typer.Option([], "--set", help="Scenario override key=value (repeatable)."),
        crews: int = typer.Option(4, "--crews", help="Restoration crews."),
        save: bool = typer.Option(False, "--save", help="Store the run (listed as precomputed)."),
        preset: str | None = PRESET_OPTION,
        as_json: bool = JSON_OPTION,
        data_dir: Path | None = DATA_DIR_OPTION,
    ) -> None:
        """Run one cascade and print it wave by wave."""
        with _session(data_dir, preset, seed) as (svc, ctx, grid_hash, _):
            inp = _inputs(patient_zero, scenario, seed, overrides, crews)
            res = svc.simulate(ctx, grid_hash, inp, save=save)
        if as_json:
            typer.echo(json.dumps(res, indent=2))
            return
        t = Table("wave", "t (min)", "label", "events", "switching", "customers out", "restored", "MWh")
        for w in res["waves"]:
            ev = "; ".join(f"{e['element_id']} {e['cause']}" for e in w["events"][:4]) + (
                " …" if len(w["events"]) > 4 else ""
            )
            sw = "; ".join(f"{s['action']} {s['device_id']}" for s in w["switching"][:4])
            t.add_row(
                str(w["wave"]),
                f"{w['time_min']:.1f}",
                w["label"],
                ev,
                sw,
                str(w["customers_out"]),
                str(w["customers_restored"]),
                f"{w['mwh_unserved']:.2f}",
            )
        console.print(t)
        tot = res["totals"]
        console.print(
            f"customers out {tot['customers_out']} (peak {tot['peak_customers_out']} "
            f"of {tot['customers_total']}), "
            f"critical {tot['critical_out']}, {tot['mwh_unserved']:.2f} MWh, {tot['customer_minutes']:.0f} "
            f"customer-minutes, {res['compute_ms']:.0f} ms"
            + (f", saved as {res['run_id']}" if "run_id" in res else "")
        )

    @cascade.command("restore")
    def restore(
        patient_zero: list[str] = PZ_OPTION,
        scenario: str = SCENARIO_OPTION,
        crews: int = typer.Option(4, "--crews"),
        seed: int = SEED_OPTION,
        preset: str | None = PRESET_OPTION,
        data_dir: Path | None = DATA_DIR_OPTION,
    ) -> None:
        """Restoration sequence with K crews, milestones, and the naive order for comparison."""
        with _session(data_dir, preset, seed) as (svc, ctx, _, _s):
            out = svc.restoration_sequence(ctx, _inputs(patient_zero, scenario, seed, [], crews))
        plan = out["plan"]
        t = Table("crew", "element", "kind", "travel", "start", "done", "restored", "customers", "critical")
        for s in plan["steps"]:
            t.add_row(
                str(s["crew"]),
                s["element_id"],
                s["repair_kind"],
                f"{s['travel_min']:.0f}",
                f"{s['start_min']:.0f}",
                f"{s['finish_min']:.0f}",
                f"{s['restored_min']:.0f}",
                str(s["customers"]),
                str(s["critical"]),
            )
        console.print(t)
        ms = ", ".join(f"{m['pct']:.0f} % at {m['time_min']:.0f} min" for m in plan["milestones"])
        console.print(f"milestones: {ms}")
        console.print(
            f"customer-minutes {plan['customer_minutes']:.0f} vs naive {plan['naive_customer_minutes']:.0f} "
            f"({plan['improvement_pct']:.1f} % better)"
        )

    @cascade.command("economics")
    def economics(
        patient_zero: list[str] = PZ_OPTION,
        scenario: str = SCENARIO_OPTION,
        crews: int = typer.Option(4, "--crews"),
        seed: int = SEED_OPTION,
        preset: str | None = PRESET_OPTION,
        data_dir: Path | None = DATA_DIR_OPTION,
    ) -> None:
        """Economic impact (DOE/LBNL ICE, 2024 $) plus restoration cost."""
        with _session(data_dir, preset, seed) as (svc, ctx, _, _s):
            out = svc.economic_impact(ctx, _inputs(patient_zero, scenario, seed, [], crews))
        typer.echo(json.dumps(out["impact"], indent=2))

    @cascade.command("montecarlo")
    def montecarlo(
        patient_zero: list[str] = PZ_OPTION,
        scenario: str = SCENARIO_OPTION,
        runs: int = typer.Option(200, "--runs"),
        seed: int = SEED_OPTION,
        preset: str | None = PRESET_OPTION,
        data_dir: Path | None = DATA_DIR_OPTION,
    ) -> None:
        """Monte Carlo distributions (P10/P50/P90) over load, temperature and storm damage."""
        from fluxops.cascade.models import jsonable
        from fluxops.cascade.montecarlo import MonteCarloConfig, run_monte_carlo

        with _session(data_dir, preset, seed) as (_svc, ctx, _, _s):
            inp = _inputs(patient_zero, scenario, seed, [], 4)
            res = run_monte_carlo(
                ctx,
                patient_zero=inp.patient_zero,
                scenario=inp.scenario,
                mc=MonteCarloConfig(runs=runs, seed=seed),
            )
        t = Table("metric", "mean", "P10", "P50", "P90", "max")
        for name, d in jsonable(res.distributions).items():
            t.add_row(
                name,
                f"{d['mean']:.2f}",
                f"{d['p10']:.2f}",
                f"{d['p50']:.2f}",
                f"{d['p90']:.2f}",
                f"{d['max']:.2f}",
            )
        console.print(t)
        console.print(
            f"{runs} runs in {res.compute_s:.1f} s; "
            f"P(cascade beyond wave 0) = {res.p_cascade_beyond_first_wave:.2f}"
        )

    @cascade.command("screen")
    def screen(
        scenario: str = SCENARIO_OPTION,
        top: int = typer.Option(20, "--top"),
        preset: str | None = PRESET_OPTION,
        seed: int = SEED_OPTION,
        data_dir: Path | None = DATA_DIR_OPTION,
    ) -> None:
        """N-1 screening: elements ranked by expected customer-minutes per year."""
        from fluxops.cascade.scenarios import resolve_scenario
        from fluxops.cascade.screening import run_screening

        with _session(data_dir, preset, seed) as (_svc, ctx, _, _s):
            res = run_screening(ctx, scenario=resolve_scenario(scenario))
        t = Table("element", "type", "feeder", "rate", "customers", "cust-min", "risk cust-min", "propagated")
        for c in res.candidates[:top]:
            t.add_row(
                c.element_id,
                c.element_type,
                c.feeder_id or "",
                f"{c.likelihood:.4f}",
                str(c.customers_out),
                f"{c.customer_minutes:.0f}",
                f"{c.risk_customer_minutes:.1f}",
                "yes" if c.propagated else "",
            )
        console.print(t)
        console.print(f"{res.elements_screened} elements, {res.cascades_run} cascades, {res.compute_s:.1f} s")

    @cascade.command("n1")
    def n_minus_1(
        scenario: str = SCENARIO_OPTION,
        top: int = typer.Option(20, "--top"),
        radial: bool = typer.Option(False, "--radial", help="Outage only, no FLISR restoration (old mode)."),
        preset: str | None = PRESET_OPTION,
        seed: int = SEED_OPTION,
        data_dir: Path | None = DATA_DIR_OPTION,
        as_json: bool = JSON_OPTION,
    ) -> None:
        """Batched N-1 over every line segment; by default with FLISR restoration checked by power flow."""
        from fluxops.cascade.whatif import n_minus_1_summary

        with _session(data_dir, preset, seed) as (_svc, ctx, _, _s):
            res = n_minus_1_summary(ctx, scenario, top, mode="radial" if radial else "restoration")
        if as_json:
            console.print_json(json.dumps(res))
            return
        t = Table("element", "customers out", "restored", "moved", "max loading %", "min V pu", "isolated by")
        for r in res["worst"]:
            t.add_row(
                r["element_id"],
                str(r["customers_out"]),
                str(r.get("customers_restored", "")),
                str(r.get("customers_transferred", "")),
                "unknown" if r["max_loading_pct"] is None else f"{r['max_loading_pct']:.1f}",
                "" if r["min_v_pu"] is None else f"{r['min_v_pu']:.4f}",
                r.get("isolated_by") or "",
            )
        console.print(t)
        console.print(f"{res['contingencies']} contingencies, {res['mode']} ({res['method']})")
