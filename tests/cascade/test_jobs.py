"""Cancelling cascade jobs: a running job stops at its next progress report without a result, a queued
one never starts, and shutdown cancels everything and waits for the threads, naming the jobs in the log."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest

from fluxops.cascade.jobs import JobRunner, Progress


def _wait_state(jobs: JobRunner, job_id: str, state: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while jobs.get(job_id).state != state:
        assert time.monotonic() < deadline, f"job {job_id} is {jobs.get(job_id).state}, not {state}"
        time.sleep(0.01)


def _endless(started: threading.Event) -> Callable[[Progress], str]:
    def work(progress: Progress) -> str:
        started.set()
        i = 0
        while True:  # a sweep that reports progress, like screening / Monte Carlo; ends only if cancelled
            i += 1
            progress(min(i / 1000, 0.99), f"{i} runs")
            time.sleep(0.005)

    return work


def test_cancel_stops_a_running_job_and_a_queued_one_never_starts(caplog: pytest.LogCaptureFixture) -> None:
    jobs = JobRunner(max_workers=1)
    started = threading.Event()
    try:
        running = jobs.submit("screening", _endless(started))
        ran_queued = threading.Event()

        def quick(progress: Progress) -> str:
            ran_queued.set()
            return "r"

        queued = jobs.submit("montecarlo", quick)
        assert started.wait(10)
        with caplog.at_level("WARNING", logger="fluxops.cascade.jobs"):
            assert jobs.cancel(queued.job_id).state == "cancelled"
            jobs.cancel(running.job_id)
            _wait_state(jobs, running.job_id, "cancelled")
        job = jobs.get(running.job_id)
        assert job.result_id is None and job.finished_utc is not None and 0 < job.progress < 1
        assert f"cancelling job {running.job_id} (screening, running" in caplog.text
        assert f"job {running.job_id} (screening) stopped" in caplog.text
        time.sleep(0.1)
        assert not ran_queued.is_set() and jobs.get(queued.job_id).state == "cancelled"
        assert jobs.cancel(running.job_id).state == "cancelled"  # finished jobs are left as they are
    finally:
        jobs.shutdown()


def test_shutdown_cancels_every_active_job_and_waits_for_its_thread() -> None:
    jobs = JobRunner(max_workers=2)
    started = threading.Event()
    job = jobs.submit("montecarlo", _endless(started))
    done = jobs.submit("screening", lambda progress: "result-1")
    _wait_state(jobs, done.job_id, "done")
    assert started.wait(10)
    cancelled = jobs.shutdown(wait_s=5.0)
    assert [j.job_id for j in cancelled] == [job.job_id]
    assert jobs.get(job.job_id).state == "cancelled"  # the thread ended before shutdown returned
    assert jobs.get(done.job_id).state == "done"
