"""Background jobs for long cascade work (N-1 sweeps, Monte Carlo): id, progress, result id.

Why in-process threads: the embedded default has no queue server; NumPy and SciPy release the GIL in
their kernels, and a job only needs to report progress and where its result was stored. Jobs live in
memory (a restart forgets running jobs; their stored results survive in the run store).
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import datetime

from fluxops.core.clock import utc_now
from fluxops.core.errors import FluxOpsError, NotFoundError

JOB_STATES: tuple[str, ...] = ("queued", "running", "done", "failed")
Progress = Callable[[float, str], None]


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
        self._lock = threading.Lock()

    def submit(self, kind: str, work: Callable[[Progress], str]) -> Job:
        """Run ``work(progress)`` in the background; it returns the stored result's id."""
        job = Job(uuid.uuid4().hex[:16], kind, "queued", 0.0, "queued", utc_now())
        with self._lock:
            self._jobs[job.job_id] = job
        self._pool.submit(self._run, job.job_id, work)
        return job

    def _update(self, job_id: str, **changes: object) -> None:
        with self._lock:
            self._jobs[job_id] = replace(self._jobs[job_id], **changes)  # type: ignore[arg-type]

    def _run(self, job_id: str, work: Callable[[Progress], str]) -> None:
        self._update(job_id, state="running", message="running")

        def progress(fraction: float, message: str) -> None:
            self._update(job_id, progress=max(0.0, min(1.0, float(fraction))), message=message)

        try:
            result_id = work(progress)
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

    def shutdown(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
