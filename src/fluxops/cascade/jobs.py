"""Background jobs for long cascade work (N-1 sweeps, Monte Carlo): id, progress, result id.

Why in-process threads: the embedded default has no queue server; NumPy and SciPy release the GIL in
their kernels, and a job only needs to report progress and where its result was stored. Jobs live in
memory (a restart forgets running jobs; their stored results survive in the run store).

Why cancellation is cooperative: a Python thread cannot be killed, and the interpreter waits for pool
threads at exit, so a server asked to stop would wait for an N-1 sweep to finish. Instead each job has a
flag; the progress callback the job loops already call (screening every 20 cascades, Monte Carlo every
≤20 runs) raises `JobCancelled` once it is set, and the job ends as ``cancelled`` without storing a result.

Why jobs have keys: the UI polls patient-zero candidates every 5 s and each operator GET used to start
its own 7-minute N-1 screening. A job submitted with a ``key`` (e.g. grid configuration hash, scenario
and config) joins the queued or running job of the same key instead of starting another; a finished
job's key is free again.
"""

from __future__ import annotations

import builtins
import logging
import threading
import uuid
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import wait as wait_futures
from dataclasses import dataclass, replace
from datetime import datetime

from fluxops.core.clock import utc_now
from fluxops.core.errors import FluxOpsError, NotFoundError

log = logging.getLogger(__name__)
JOB_STATES: tuple[str, ...] = ("queued", "running", "done", "failed", "cancelled")
ACTIVE_STATES: frozenset[str] = frozenset({"queued", "running"})
Progress = Callable[[float, str], None]


class JobCancelled(Exception):
    """Raised inside a job by its progress callback once the job was cancelled; ends the job."""


@dataclass(frozen=True)
class Job:
    job_id: str
    kind: str
    state: str
    progress: float  # 0..1
    message: str
    created_utc: datetime
    finished_utc: datetime | None = None
    result_id: str | None = None
    error: str | None = None


class JobRunner:
    """A small thread pool plus a registry of job states (thread-safe)."""

    def __init__(self, max_workers: int = 2) -> None:
        self._pool = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="fluxops-job")
        self._jobs: dict[str, Job] = {}
        self._cancel: dict[str, threading.Event] = {}
        self._futures: dict[str, Future[None]] = {}
        self._keys: dict[str, str] = {}  # key -> job id of the last job submitted with it
        self._lock = threading.Lock()

    def submit(self, kind: str, work: Callable[[Progress], str], *, key: str | None = None) -> Job:
        """Run ``work(progress)`` in the background; it returns the stored result's id. With ``key``, a
        queued or running job submitted with the same key (and not asked to stop) is returned instead
        of starting a new one."""
        with self._lock:
            if key is not None:
                same = self._jobs.get(self._keys.get(key, ""))
                if (
                    same is not None
                    and same.state in ACTIVE_STATES
                    and not self._cancel[same.job_id].is_set()
                ):
                    return same
            job = Job(uuid.uuid4().hex[:16], kind, "queued", 0.0, "queued", utc_now())
            if key is not None:
                self._keys[key] = job.job_id
            self._jobs[job.job_id] = job
            self._cancel[job.job_id] = threading.Event()
            self._futures[job.job_id] = self._pool.submit(self._run, job.job_id, work)
        return job

    def _update(self, job_id: str, **changes: object) -> None:
        with self._lock:
            self._jobs[job_id] = replace(self._jobs[job_id], **changes)  # type: ignore[arg-type]

    def _run(self, job_id: str, work: Callable[[Progress], str]) -> None:
        flag = self._cancel[job_id]
        if flag.is_set():  # cancelled while queued: already marked
            return
        self._update(job_id, state="running", message="running")

        def progress(fraction: float, message: str) -> None:
            if flag.is_set():
                raise JobCancelled(job_id)
            self._update(job_id, progress=max(0.0, min(1.0, float(fraction))), message=message)

        try:
            result_id = work(progress)
        except JobCancelled:
            self._update(job_id, state="cancelled", finished_utc=utc_now(), message="cancelled")
            job = self.get(job_id)
            log.warning("job %s (%s) stopped at %.0f%%", job_id, job.kind, 100 * job.progress)
        except FluxOpsError as exc:
            self._update(job_id, state="failed", error=exc.message, finished_utc=utc_now(), message="failed")
        except Exception as exc:  # a job must never die silently; its state says why
            self._update(
                job_id,
                state="failed",
                error=f"{type(exc).__name__}: {exc}",
                finished_utc=utc_now(),
                message="failed",
            )
        else:
            self._update(
                job_id,
                state="done",
                progress=1.0,
                result_id=result_id,
                finished_utc=utc_now(),
                message="done",
            )

    def get(self, job_id: str) -> Job:
        with self._lock:
            job = self._jobs.get(job_id)
        if job is None:
            raise NotFoundError(f"no job {job_id!r}", details={"job_id": job_id})
        return job

    def list(self) -> list[Job]:
        with self._lock:
            return sorted(self._jobs.values(), key=lambda j: j.created_utc, reverse=True)

    def cancel(self, job_id: str, *, reason: str = "cancelled") -> Job:
        """Ask a queued or running job to stop (a finished job is returned unchanged)."""
        with self._lock:
            job = self._jobs.get(job_id)
            if job is None:
                raise NotFoundError(f"no job {job_id!r}", details={"job_id": job_id})
            if job.state not in ACTIVE_STATES or self._cancel[job_id].is_set():
                return job  # finished, or already asked to stop
            self._cancel[job_id].set()
            was = job.state
            if was == "queued":  # never started: nothing will report it, so mark it now
                job = replace(job, state="cancelled", finished_utc=utc_now(), message="cancelled")
                self._jobs[job_id] = job
        log.warning(
            "cancelling job %s (%s, %s at %.0f%%): %s", job_id, job.kind, was, 100 * job.progress, reason
        )
        return job

    def cancel_all(self, *, reason: str) -> builtins.list[Job]:
        """Cancel every queued or running job not yet asked to stop; returns them as they were then."""
        with self._lock:
            active = [
                j.job_id
                for j in self._jobs.values()
                if j.state in ACTIVE_STATES and not self._cancel[j.job_id].is_set()
            ]
        return [self.cancel(job_id, reason=reason) for job_id in active]

    def shutdown(self, *, wait_s: float = 5.0) -> builtins.list[Job]:
        """Cancel all jobs and wait up to ``wait_s`` for running ones to stop (their threads would
        otherwise hold the interpreter's exit). Returns the jobs this call cancelled."""
        cancelled = self.cancel_all(reason="server shutting down")
        self._pool.shutdown(wait=False, cancel_futures=True)
        with self._lock:
            pending = [f for f in self._futures.values() if not f.done()]
        if pending:
            _, still = wait_futures(pending, timeout=wait_s)
            if still:
                log.warning("%d cancelled job(s) still running after %.0f s", len(still), wait_s)
        return cancelled
