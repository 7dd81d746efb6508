"""Ray backend: a pool of actors, each holding one ``AvatarForge``, one Ray task per item.

Actors generate into a temporary folder on their own node and return the files' bytes, so
the driver (which alone writes the output folder and the manifest) may run on another
machine than the workers. ``--ray-address auto`` or ``HOST:PORT`` joins an existing cluster;
without it a local Ray is started with ``num_cpus=workers``. Ray is optional:
``pip install 'avatarforge[ray]'``.
"""
from __future__ import annotations

import os
import shutil
import socket
import tempfile
from collections import deque
from pathlib import Path
from typing import Callable, Iterable

from pipeline.batch.items import BatchItem
from pipeline.batch.worker import ForgeCache, Outcome, produce, setup_worker, threads_for
from pipeline.inputs import InputError

INSTALL_HINT = "pip install 'avatarforge[ray]'"
RAY_SLOW_START = {"RAY_raylet_start_wait_time_s": "120", "RAY_agent_register_timeout_ms": "120000"}
"""Ray's start-up timeouts, raised (unless already set) so a loaded machine can start a local Ray."""


def import_ray():
    try:
        import ray
    except ImportError:
        raise InputError(f"--backend ray needs Ray, which is not installed: {INSTALL_HINT}") from None
    return ray


class ForgeActor:
    """A Ray actor: loads the models on first use and keeps them for every item it is given."""

    def __init__(self, threads: int):
        setup_worker(threads, die_with_parent=False)
        self.cache = ForgeCache()
        self.where = f"ray:{socket.gethostname()}:{os.getpid()}"

    def run(self, item: BatchItem) -> Outcome:
        stage = Path(tempfile.mkdtemp(prefix="avatarforge-batch-"))
        try:
            return produce(self.cache, item, stage, self.where, with_bytes=True)
        finally:
            shutil.rmtree(stage, ignore_errors=True)


def actor_resources(ray, device: str, workers: int) -> dict:
    """``num_cpus``/``num_gpus`` per actor: a GPU each for cuda presets, the cluster's CPUs shared out."""
    res = ray.cluster_resources()
    node_cpus = [n.get("Resources", {}).get("CPU", 0) for n in ray.nodes() if n.get("Alive")]
    cpus = max(1, min(int(res.get("CPU", 1) // max(1, workers)), int(max(node_cpus, default=1))))
    gpus = 1 if (device or "").lower().startswith("cuda") else 0
    if gpus and res.get("GPU", 0) < 1:
        raise InputError(f"model.device={device} asks for a GPU per worker but the Ray cluster has none; "
                         "use a cpu preset or --set model.device=cpu")
    return {"num_cpus": cpus, "num_gpus": gpus}


def run_ray(items: Iterable[BatchItem], workers: int, address: str | None, device: str,
            on_outcome: Callable[[BatchItem, Outcome], None]) -> None:
    """Produce ``items`` on ``workers`` Ray actors, calling ``on_outcome`` (in the driver) for each."""
    queue = deque(items)
    if not queue:
        return
    ray = import_ray()
    started = False
    if not ray.is_initialized():
        for var, value in RAY_SLOW_START.items():  # a busy machine starts the raylet and its agents slowly
            os.environ.setdefault(var, value)
        if address:
            ray.init(address=address, log_to_driver=False)
        else:
            ray.init(num_cpus=workers, include_dashboard=False, log_to_driver=False)
            started = True
    opts = actor_resources(ray, device, workers)
    threads = max(1, opts["num_cpus"]) if address else threads_for(workers)
    Actor = ray.remote(max_restarts=0)(ForgeActor).options(**opts)
    actors: set = set()
    pending: dict = {}

    def submit(actor) -> None:
        item = queue.popleft()
        pending[actor.run.remote(item)] = (actor, item)

    try:
        for _ in range(min(workers, len(queue))):
            a = Actor.remote(threads)
            actors.add(a)
            submit(a)
        while pending:
            done, _ = ray.wait(list(pending), num_returns=1)
            actor, item = pending.pop(done[0])
            try:
                out = ray.get(done[0])
            except ray.exceptions.RayActorError as e:
                out = Outcome(item.name, False, f"WorkerDied: the Ray actor died while generating this item "
                                                f"({str(e).splitlines()[0] if str(e) else 'no detail'})")
                actors.discard(actor)
                ray.kill(actor)
                actor = Actor.remote(threads)
                actors.add(actor)
            except Exception as e:  # noqa: BLE001 - a task-level Ray error fails this item only
                out = Outcome(item.name, False, f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}")
            on_outcome(item, out)
            if queue:
                submit(actor)
    finally:
        for a in actors:
            try:
                ray.kill(a)
            except Exception:  # noqa: BLE001 - already gone
                pass
        if started:
            ray.shutdown()
