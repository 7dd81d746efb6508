"""The web app's queue: requests wait in FIFO order and one worker thread runs them one at a time (on a CPU
two generations side by side would each take twice as long). Every change bumps a version number, so a
progress stream wakes only when there is something new to send."""
from __future__ import annotations

import itertools
import logging
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Callable

log = logging.getLogger("avatarforge.serve")


class Cancelled(Exception):
    """Raised inside a running job (from its progress callbacks) when the user cancels it."""


class QueueFull(Exception):
    """More requests are waiting than ``ServeConfig.max_queue`` allows."""


@dataclass
class Job:
    """One request: a generation or a batch, its live progress and its outcome."""

    id: str
    kind: str
    """``generate`` or ``batch``."""
    params: dict
    """What the request asked for (prompt, seed, preset, steps, ...), as shown back to the page."""
    state: str = "queued"
    """queued, running, done, failed or cancelled."""
    position: int = 0
    """1 for the next to run, 2 after it, ...; 0 once it runs."""
    stage: str = ""
    """The stage running now (encode, prior, optimize, ...; ``item 3/10`` in a batch)."""
    step: int = 0
    steps: int = 0
    clip_score: float | None = None
    loss: float | None = None
    log: list = field(default_factory=list)
    """(seconds since start, message) per stage and state change."""
    result: dict | None = None
    error: str | None = None
    created: float = field(default_factory=time.time)
    started: float | None = None
    finished: float | None = None
    version: int = 0
    cancel: threading.Event = field(default_factory=threading.Event, repr=False)

    @property
    def over(self) -> bool:
        return self.state in ("done", "failed", "cancelled")

    def public(self) -> dict:
        """What the page sees: everything but the cancel flag (strings are the page's to escape)."""
        return {"id": self.id, "kind": self.kind, "params": self.params, "state": self.state,
                "position": self.position, "stage": self.stage, "step": self.step, "steps": self.steps,
                "clip_score": self.clip_score, "loss": self.loss, "log": list(self.log), "result": self.result,
                "error": self.error, "created": self.created, "started": self.started, "finished": self.finished,
                "elapsed_s": round((self.finished or time.time()) - self.started, 2) if self.started else None}


class JobQueue:
    """FIFO of jobs run by one daemon thread with ``run(job, update)``; ``update(**fields)`` publishes progress
    and raises :class:`Cancelled` once the job is cancelled."""

    def __init__(self, run: Callable[[Job, Callable], dict], max_queue: int = 32, keep: int = 500):
        self._run = run
        self.max_queue = max_queue
        self.keep = keep
        self.cond = threading.Condition()
        self.jobs: dict[str, Job] = {}
        self.pending: deque[Job] = deque()
        self.current: Job | None = None
        self._ids = itertools.count(1)
        self._closed = False
        self.thread = threading.Thread(target=self._loop, name="avatarforge-serve-worker", daemon=True)
        self.thread.start()

    # ---------------------------------------------------------------- requests
    def submit(self, kind: str, params: dict) -> Job:
        with self.cond:
            if len(self.pending) >= self.max_queue:
                raise QueueFull(f"{len(self.pending)} requests are waiting already; try again later")
            job = Job(f"{next(self._ids):05d}", kind, params)
            self.jobs[job.id] = job
            self.pending.append(job)
            self._note(job, "queued")
            self._renumber()
            self._forget_old()
            return job

    def cancel(self, job_id: str) -> Job | None:
        with self.cond:
            job = self.jobs.get(job_id)
            if job is None or job.over:
                return job
            job.cancel.set()
            if job.state == "queued":
                self.pending.remove(job)
                self._finish(job, "cancelled", None, None)
                self._renumber()
            else:
                self._note(job, "cancelling")
                self.cond.notify_all()
            return job

    def get(self, job_id: str) -> Job | None:
        return self.jobs.get(job_id)

    def wait_change(self, job: Job, seen: int, timeout: float) -> bool:
        """Block until ``job.version`` differs from ``seen`` (True) or ``timeout`` passes (False)."""
        with self.cond:
            return self.cond.wait_for(lambda: job.version != seen or self._closed, timeout)

    @property
    def closed(self) -> bool:
        return self._closed

    def close(self) -> None:
        with self.cond:
            self._closed = True
            for job in list(self.pending):
                job.cancel.set()
            if self.current is not None:
                self.current.cancel.set()
            self.cond.notify_all()

    # ---------------------------------------------------------------- internals
    def _note(self, job: Job, message: str) -> None:
        t = time.time() - (job.started or job.created)
        job.log.append((round(t, 2), message))
        job.version += 1

    def _renumber(self) -> None:
        for i, j in enumerate(self.pending, 1):
            if j.position != i:
                j.position = i
                j.version += 1
        self.cond.notify_all()

    def _forget_old(self) -> None:
        over = [j for j in self.jobs.values() if j.over]
        for j in over[:max(0, len(self.jobs) - self.keep)]:
            del self.jobs[j.id]

    def _finish(self, job: Job, state: str, result: dict | None, error: str | None) -> None:
        job.state, job.result, job.error, job.finished = state, result, error, time.time()
        job.position = 0
        self._note(job, state if error is None else f"{state}: {error}")
        self.cond.notify_all()

    def _update(self, job: Job, **fields) -> None:
        with self.cond:
            for k, v in fields.items():
                setattr(job, k, v)
            if "stage" in fields:
                self._note(job, str(fields["stage"]))
            else:
                job.version += 1
            self.cond.notify_all()
        if job.cancel.is_set():
            raise Cancelled()

    def _loop(self) -> None:
        while True:
            with self.cond:
                self.cond.wait_for(lambda: self.pending or self._closed)
                if self._closed:
                    return
                job = self.pending.popleft()
                self.current = job
                job.state, job.position, job.started = "running", 0, time.time()
                self._note(job, "running")
                self._renumber()
            try:
                result = self._run(job, lambda **f: self._update(job, **f))
                state, error = "done", None
            except Cancelled:
                result, state, error = None, "cancelled", None
            except Exception as e:  # noqa: BLE001 - a failed request must not stop the server
                log.warning("job %s failed: %s: %s", job.id, type(e).__name__, e, exc_info=log.isEnabledFor(10))
                msg = (str(e).strip().splitlines() or [""])[0]
                told = type(e).__name__ in ("InputError", "ConfigError", "WeightsError")  # already says what to do
                result, state = None, "failed"
                error = msg if told and msg else f"{type(e).__name__}: {msg}".rstrip(": ")
                if job.cancel.is_set():
                    state, error = "cancelled", None
            with self.cond:
                self.current = None
                self._finish(job, state, result, error)
