"""``fluxops ami ...``: backfill history into the lake, run the live head-end simulator, subscribe to
MQTT, refresh analytics, compact the lake."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import typer
from rich.console import Console
from rich.progress import Progress

from fluxops.ami.weather import WeatherParams, WeatherScenario
from fluxops.cli.cmd_grid import DATA_DIR_OPTION, settings_for
from fluxops.core.config import Settings
from fluxops.core.errors import InvalidInputError, NotFoundError
from fluxops.grid.models import Grid

console = Console()
ami_app = typer.Typer(help="Smart-meter (AMI) data: backfill, live simulator, MQTT ingestion, analytics.")


def _grid_from_store(settings: Settings) -> Grid:
    from fluxops.storage import open_store

    store = open_store(settings)
    try:
        grid = store.read_grid()
    finally:
        store.close()
    if grid is None:
        raise NotFoundError("no grid is loaded: run `fluxops generate` first")
    return grid


def _lake_rows(readings: pa.Table) -> pa.Table:
    """Synthetic readings as the lake stores them: the simulated delivery time is the ingestion time."""
    return (
        readings.drop_columns(["delivered_utc"])
        .append_column("ingested_utc", readings["delivered_utc"])
        .append_column("is_correction", pa.array(np.zeros(readings.num_rows, dtype=bool)))
    )


def _until(table: pa.Table, column: str, until: datetime | None) -> pa.Table:
    """Rows with ``column <= until`` (all when ``until`` is None)."""
    if until is None or table.num_rows == 0:
        return table
    ts = pc.cast(table[column], pa.int64()).to_numpy(zero_copy_only=False)
    keep = np.flatnonzero(ts <= int(until.timestamp() * 1_000_000))
    return table if keep.size == table.num_rows else table.take(pa.array(keep))


def backfill(
    settings: Settings,
    grid: Grid,
    *,
    days: int,
    end: date,
    seed: int,
    refresh: bool,
    weather: WeatherParams | None = None,
    until: datetime | None = None,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Generate ``days`` UTC days ending with ``end`` straight into the lake (days already present are
    skipped, so re-running changes nothing). Returns counts and timings.

    ``until`` keeps only readings delivered and events raised by then: history that a live feed started
    at ``until`` with the same seed continues without a gap or an overlap (`LiveSimulator` sends what is
    delivered after its start). ``progress`` shows a bar (one step per day, one for the analytics)
    instead of a line per day."""
    from fluxops.ami.synth import AmiSynthesizer, SynthParams
    from fluxops.storage.ami_analytics import AmiAnalytics
    from fluxops.storage.lake import AmiLake

    if not 1 <= days <= 3660:
        raise InvalidInputError("days must be in 1..3660", field="days")
    if until is not None and until.tzinfo is None:
        raise InvalidInputError("until must be tz-aware UTC", field="until")
    task = None if progress is None else progress.add_task("AMI history", total=days + int(refresh))

    def step(description: str | None = None, *, advance: int = 0) -> None:
        if progress is not None and task is not None:
            progress.update(task, description=description, advance=advance)

    lake = AmiLake(settings.lake_dir)
    analytics = AmiAnalytics(lake)
    analytics.write_dims(grid)
    weather = weather or WeatherParams()
    analytics.write_weather(weather)
    synth = AmiSynthesizer(grid, SynthParams(seed=seed, weather=weather))
    out: dict[str, Any] = {"days_written": 0, "days_skipped": 0, "readings": 0, "events": 0}
    t_gen = t_write = 0.0
    for k in range(days):
        d = end - timedelta(days=days - 1 - k)
        if lake.readings.files(d, d):
            out["days_skipped"] += 1
            step(advance=1)
            continue
        step(f"AMI history {d}")
        t0 = time.perf_counter()
        gen = synth.day(d)
        readings = _until(gen.readings, "delivered_utc", until)
        events = _until(gen.events, "event_time_utc", until)
        t1 = time.perf_counter()
        if readings.num_rows:
            lake.readings.append(_lake_rows(readings), bulk=True)
        if events.num_rows:
            lake.events.append(events.append_column("ingested_utc", events["event_time_utc"]))
        t2 = time.perf_counter()
        t_gen, t_write = t_gen + t1 - t0, t_write + t2 - t1
        out["days_written"] += 1
        out["readings"] += readings.num_rows
        out["events"] += events.num_rows
        step(advance=1)
        if progress is None:
            console.print(
                f"  {d}: {readings.num_rows:,} readings, {events.num_rows:,} events, {t2 - t0:.1f} s"
            )
    out["generate_s"], out["write_s"] = t_gen, t_write
    if refresh:
        step("AMI analytics")
        t0 = time.perf_counter()
        rep = analytics.refresh()
        out["refresh_s"], out["refreshed_dates"] = time.perf_counter() - t0, len(rep.dates)
        step(advance=1)
    lake.close()
    return out


@ami_app.command("backfill")
def backfill_cmd(
    days: int = typer.Option(7, "--days", help="Number of UTC days of history"),
    end: str = typer.Option(None, "--end", help="Last day (YYYY-MM-DD, default yesterday UTC)"),
    seed: int = typer.Option(0, "--seed", help="AMI generator seed"),
    no_refresh: bool = typer.Option(False, "--no-refresh", help="Skip the analytics refresh"),
    scenario: str = typer.Option(None, "--scenario", help="Weather overlay: heat_wave | winter_storm"),
    scenario_start: str = typer.Option(None, "--scenario-start", help="Overlay start (YYYY-MM-DD, UTC)"),
    scenario_days: float = typer.Option(4.0, "--scenario-days", help="Overlay length in days"),
    scenario_delta_c: float = typer.Option(
        None,
        "--scenario-delta-c",
        help="Heat wave: +°C at peak (default 6); winter storm: minimum °C (default -10)",
    ),
    data_dir: Path | None = DATA_DIR_OPTION,
) -> None:
    """Write history for every meter of the loaded grid straight into the Parquet lake."""
    settings = settings_for(data_dir)
    try:
        end_d = date.fromisoformat(end) if end else (datetime.now(UTC) - timedelta(days=1)).date()
    except ValueError:
        raise InvalidInputError("end must be YYYY-MM-DD", field="end") from None
    weather = WeatherParams()
    if scenario is not None:
        try:
            start = datetime.fromisoformat(scenario_start or end_d.isoformat()).replace(tzinfo=UTC)
        except ValueError:
            raise InvalidInputError("scenario start must be YYYY-MM-DD", field="scenario_start") from None
        delta = (
            scenario_delta_c if scenario_delta_c is not None else (6.0 if scenario == "heat_wave" else -10.0)
        )
        weather = WeatherParams(scenarios=(WeatherScenario(scenario, start, scenario_days, delta),))
    grid = _grid_from_store(settings)
    t0 = time.perf_counter()
    out = backfill(settings, grid, days=days, end=end_d, seed=seed, refresh=not no_refresh, weather=weather)
    wall = time.perf_counter() - t0
    rate = out["readings"] / max(out["generate_s"] + out["write_s"], 1e-9)
    console.print(
        f"backfill: {out['days_written']} days written, {out['days_skipped']} skipped, "
        f"{out['readings']:,} readings ({rate:,.0f}/s generate+write), {out['events']:,} events, {wall:.1f} s"
    )


@ami_app.command("simulate")
def simulate_cmd(
    url: str = typer.Option("http://127.0.0.1:8000", "--url", help="Server base URL"),
    token: str = typer.Option(None, "--token", envvar="FLUXOPS_TOKEN", help="API key or bootstrap token"),
    speed: float = typer.Option(60.0, "--speed", help="Simulated seconds per wall second"),
    lookback_hours: float = typer.Option(2.0, "--lookback-hours", help="Start this far in the past"),
    fmt: str = typer.Option("arrow", "--format", help="arrow | ndjson"),
    preset: str = typer.Option(None, "--preset", help="Grid preset (default: the demo preset)"),
    grid_seed: int = typer.Option(None, "--grid-seed", help="Grid seed (default: the demo seed)"),
    seed: int = typer.Option(0, "--seed", help="AMI generator seed"),
    duration_s: float = typer.Option(0.0, "--duration-s", help="Stop after this many seconds (0: run)"),
    data_dir: Path | None = DATA_DIR_OPTION,
) -> None:
    """Post live readings and events to a running server like a head-end (Ctrl-C to stop).

    The grid is regenerated from the preset and seed the server was started with (``fluxops demo``
    defaults), since the server holds its store open."""
    from fluxops.ami.simulator import HttpSink, LiveSimulator, SimulatorParams, default_start
    from fluxops.ami.synth import AmiSynthesizer, SynthParams
    from fluxops.grid.generator import generate_grid

    settings = settings_for(data_dir)
    grid = generate_grid(
        preset or settings.demo_preset, seed=settings.demo_seed if grid_seed is None else grid_seed
    )
    sim = LiveSimulator(
        AmiSynthesizer(grid, SynthParams(seed=seed)),
        HttpSink(url, token, fmt=fmt),
        SimulatorParams(speed=speed, start_utc=default_start(lookback_hours)),
    )
    t0 = time.monotonic()
    try:
        while duration_s <= 0 or time.monotonic() - t0 < duration_s:
            n_r, n_e = sim.tick()
            if n_r or n_e:
                console.print(f"{sim.sim_now():%Y-%m-%d %H:%M:%S}Z  +{n_r:,} readings  +{n_e:,} events")
            time.sleep(sim.params.tick_s)
    except KeyboardInterrupt:
        pass
    console.print(f"sent {sim.readings_sent:,} readings, {sim.events_sent:,} events")


def _ingest_service(settings: Settings) -> tuple[Any, Any]:
    """The ingestion service over this data directory's lake (for processes that write the lake
    themselves: not beside a server writing the same directory)."""
    from fluxops.ami.ingest import IngestService
    from fluxops.ami.validation import MeterRegistry, TimeWindow
    from fluxops.storage.ami_analytics import AmiAnalytics
    from fluxops.storage.lake import AmiLake

    grid = _grid_from_store(settings)
    lake = AmiLake(settings.lake_dir)
    AmiAnalytics(lake).write_dims(grid)
    me = grid.meters
    svc = IngestService(
        MeterRegistry(me["meter_id"], me["transformer_id"], me["feeder_id"], me["substation_id"]),
        lake,
        lake,
        window=TimeWindow.from_settings(settings.ingest),
    )
    return svc, lake


@ami_app.command("mqtt")
def mqtt_cmd(
    broker: str = typer.Option("127.0.0.1:1883", "--broker", help="host:port"),
    topic: str = typer.Option("fluxops/ami/#", "--topic", help="Subscription (…/readings, …/events)"),
    client_id: str = typer.Option(
        None, "--client-id", help="Persistent session id (default: FLUXOPS_INGEST__MQTT_CLIENT_ID)"
    ),
    data_dir: Path | None = DATA_DIR_OPTION,
) -> None:
    """Ingest readings/events from MQTT (QoS 1, acknowledged after the durable write) into the lake.

    A message that cannot be stored is acknowledged into the dead-letter store (`fluxops ami
    rejections`). Writes the lake itself, so it cannot run against a data directory a server is writing."""
    from fluxops.ami.formats import ParseLimits
    from fluxops.ami.mqtt import MqttIngest, RetryPolicy
    from fluxops.storage.deadletter import DeadLetterDir, dead_letter_dir

    settings = settings_for(data_dir)
    svc, lake = _ingest_service(settings)
    sub = MqttIngest(
        svc,
        broker=broker,
        topic=topic,
        dead_letters=DeadLetterDir(dead_letter_dir(settings)),
        client_id=client_id or settings.ingest.mqtt_client_id,
        retry=RetryPolicy.from_settings(settings.ingest),
        limits=ParseLimits.from_settings(settings.ingest),
    )
    console.print(f"subscribed to {topic} on {broker}; lake {settings.lake_dir} (Ctrl-C to stop)")
    try:
        sub.run_forever()
    except KeyboardInterrupt:
        pass
    finally:
        lake.close()
    s = sub.stats
    console.print(
        f"{s.messages} messages: {s.readings_accepted:,} readings, {s.events_accepted:,} events accepted, "
        f"{s.dead_lettered} dead-lettered"
    )


rejections_app = typer.Typer(
    help="Messages ingestion could not store (dead letters): list them, print one's payload, replay them."
)
ami_app.add_typer(rejections_app, name="rejections")


@rejections_app.callback(invoke_without_command=True)
def rejections_cmd(
    ctx: typer.Context,
    limit: int = typer.Option(50, "--limit", min=1, max=10_000, help="Newest this many"),
    payload: str = typer.Option(None, "--payload", help="Write this letter's payload bytes to stdout"),
    data_dir: Path | None = DATA_DIR_OPTION,
) -> None:
    """Dead letters, newest first: when, topic, reason, attempts, payload size, replay status."""
    import sys

    if ctx.invoked_subcommand is not None:
        return

    from fluxops.storage.deadletter import DeadLetterDir, dead_letter_dir

    store = DeadLetterDir(dead_letter_dir(settings_for(data_dir)))
    if payload is not None:
        data = store.get_payload(payload)
        if data is None:
            raise NotFoundError(f"no dead letter {payload!r}")
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
        return
    letters = store.recent(limit=limit)
    for d in letters:
        replayed = f", replayed {d.replays}x" if d.replays else ""
        console.print(
            f"{d.id}  {d.status}{replayed}  {d.source}:{d.topic}  {d.error} after {d.attempts} attempt(s), "
            f"{d.payload_bytes:,} bytes: {d.reason}",
            markup=False,
            highlight=False,
        )
    console.print(f"{len(letters)} of {store.count()} dead letters shown")


@rejections_app.command("replay")
def rejections_replay_cmd(
    ids: list[str] = typer.Option(None, "--id", help="A letter to replay (repeat for several)"),
    replay_all: bool = typer.Option(False, "--all", help="Every letter not stored yet, oldest first"),
    data_dir: Path | None = DATA_DIR_OPTION,
) -> None:
    """Re-validate and ingest dead letters into the lake: stored, or rejected again with the reason.

    Writes the lake itself, so not beside a server writing this data directory (the lake's writer lock
    refuses it): there, use ``POST /api/ami/rejections/{id}/replay``. Replaying a stored letter again
    stores nothing twice (ingestion is idempotent)."""
    from fluxops.ami.formats import ParseLimits
    from fluxops.ami.replay import replay_letter
    from fluxops.storage.deadletter import DeadLetterDir, dead_letter_dir

    if bool(ids) == replay_all:
        raise InvalidInputError("give --id (one or more) or --all", field="id")
    settings = settings_for(data_dir)
    store = DeadLetterDir(dead_letter_dir(settings))
    todo = store.pending_ids() if replay_all else list(ids)
    for lid in todo:  # unknown ids fail before anything is written
        if store.get(lid) is None:
            raise NotFoundError(f"no dead letter {lid!r}", details={"field": "id"})
    svc, lake = _ingest_service(settings)
    limits = ParseLimits.from_settings(settings.ingest)
    stored = 0
    try:
        for lid in todo:
            out = replay_letter(store, svc, lid, limits)
            stored += out.outcome == "stored"
            rep = out.report
            detail = (
                f"{rep.accepted:,} accepted, {rep.duplicates:,} duplicates, {rep.rejected:,} rejected rows"
                if rep is not None
                else out.reason
            )
            console.print(f"{lid}  {out.outcome}: {detail}", markup=False, highlight=False)
    finally:
        lake.close()
    console.print(f"{stored} of {len(todo)} replayed letters stored")


@ami_app.command("refresh")
def refresh_cmd(data_dir: Path | None = DATA_DIR_OPTION) -> None:
    """Bring the derived analytics up to date (only dates with new readings are recomputed)."""
    from fluxops.storage.ami_analytics import AmiAnalytics
    from fluxops.storage.lake import AmiLake

    rep = AmiAnalytics(AmiLake(settings_for(data_dir).lake_dir)).refresh()
    console.print(f"refreshed {len(rep.dates)} dates in {rep.seconds:.1f} s; watermark {rep.watermark}")


@ami_app.command("compact")
def compact_cmd(data_dir: Path | None = DATA_DIR_OPTION) -> None:
    """Merge small lake files and delete replaced ones (safe beside a server: one compaction at a time)."""
    from fluxops.storage.lake import AmiLake

    lake = AmiLake(settings_for(data_dir).lake_dir)
    reps = lake.compact(min_files=2)
    lake.readings.purge_retired()
    lake.events.purge_retired()
    for name, r in reps.items():
        console.print(f"{name}: {r.files_merged} files merged into {r.partitions} ({r.rows:,} rows)")


def register(app: typer.Typer) -> None:
    app.add_typer(ami_app, name="ami")
