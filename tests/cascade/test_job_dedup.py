"""One background job per key: later submissions join the queued or running job; a finished or
cancelled job frees its key. The N-1 screening key is (grid configuration, scenario, config)."""

from __future__ import annotations

import threading

from fluxops.cascade.jobs import JobRunner, Progress
from fluxops.cascade.scenarios import resolve_scenario
from fluxops.cascade.service import screening_key


def test_same_key_joins_the_running_job_until_it_ends() -> None:
    runner = JobRunner(max_workers=1)
    release = threading.Event()
    started = threading.Event()
    calls: list[str] = []

    def work(progress: Progress) -> str:
        calls.append("run")
        started.set()
        release.wait(10)
        progress(1.0, "done")
        return "result-1"

    try:
        first = runner.submit("screening", work, key="k")
        assert started.wait(10)
        again = runner.submit("screening", work, key="k")
        other = runner.submit("screening", lambda p: "other", key="k2")  # queued behind: its own job
        assert again.job_id == first.job_id
        assert other.job_id != first.job_id
        assert runner.submit("screening", work, key="k2").job_id == other.job_id  # queued jobs join too
        release.set()
        for job_id in (first.job_id, other.job_id):
            for _ in range(200):
                if runner.get(job_id).state == "done":
                    break
                threading.Event().wait(0.05)
        assert runner.get(first.job_id).state == "done"
        assert calls == ["run"]
        after = runner.submit("screening", lambda p: "result-2", key="k")  # finished: a new job
        assert after.job_id != first.job_id
    finally:
        release.set()
        runner.shutdown(wait_s=10)


def test_cancelled_job_frees_its_key_and_no_key_never_joins() -> None:
    runner = JobRunner(max_workers=1)
    gate = threading.Event()
    try:
        blocker = runner.submit("x", lambda p: (gate.wait(10), "b")[1])
        queued = runner.submit("screening", lambda p: "q", key="k")
        runner.cancel(queued.job_id)
        assert runner.submit("screening", lambda p: "q", key="k").job_id != queued.job_id
        assert runner.submit("x", lambda p: "n").job_id != blocker.job_id
    finally:
        gate.set()
        runner.shutdown(wait_s=10)


def test_screening_key_depends_on_configuration_scenario_and_config() -> None:
    summer, winter = resolve_scenario("summer_peak"), resolve_scenario("winter_storm")
    k = screening_key("grid-a", summer, None)
    assert k == screening_key("grid-a", resolve_scenario("summer_peak"), None)
    assert len({k, screening_key("grid-b", summer, None), screening_key("grid-a", winter, None)}) == 3
