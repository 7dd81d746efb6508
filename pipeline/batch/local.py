"""Local backend: N spawned worker processes, each holding one ``AvatarForge``, fed one item at a time.

The driver sends an item over a pipe to an idle worker and waits on all pipes and process
sentinels at once, so a worker that dies (killed, out of memory, a crash in native code)
fails only the item it held; a fresh worker takes its place. Workers stage their files in
``<out>/.batch-work/w<i>/`` and the driver moves them into place and writes the manifest.
"""
from __future__ import annotations

import multiprocessing as mp
import os
from collections import deque
from multiprocessing.connection import wait
from pathlib import Path
from typing import Callable, Iterable

from pipeline.batch.items import BatchItem
from pipeline.batch.worker import ForgeCache, Outcome, produce, setup_worker, threads_for


def worker_main(conn, index: int, stage: str, threads: int) -> None:
    """Entry point of a worker process: load models lazily, then serve items until told to stop."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the driver's to handle; it stops us
    setup_worker(threads)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)  # library chatter must not break the driver's progress bar
    cache = ForgeCache()
    while True:
        try:
            item = conn.recv()
        except (EOFError, OSError):
            return
        if item is None:
            return
        out = produce(cache, item, Path(stage), f"local:{index}")
        try:
            conn.send(out)
        except (BrokenPipeError, OSError):
            return


class _Slot:
    def __init__(self, ctx, index: int, stage_root: Path, threads: int):
        self.index = index
        parent, child = ctx.Pipe()
        self.conn = parent
        self.proc = ctx.Process(target=worker_main, args=(child, index, str(stage_root / f"w{index}"), threads),
                                name=f"avatarforge-batch-{index}", daemon=True)
        self.proc.start()
        child.close()
        self.item: BatchItem | None = None

    def stop(self, timeout: float = 5.0) -> None:
        try:
            self.conn.send(None)
        except (BrokenPipeError, OSError):
            pass
        self.proc.join(timeout if self.item is None else 0.1)
        if self.proc.is_alive():
            self.proc.kill()
            self.proc.join(5)
        self.conn.close()


def run_local(items: Iterable[BatchItem], workers: int, stage_root: Path,
              on_outcome: Callable[[BatchItem, Outcome], None], start_method: str | None = None) -> None:
    """Produce ``items`` on ``workers`` processes, calling ``on_outcome`` (in this process) for each."""
    queue = deque(items)
    if not queue:
        return
    ctx = mp.get_context(start_method or "spawn")  # spawn: workers are our children (they die with us)
    n = max(1, min(workers, len(queue)))
    threads = threads_for(workers)
    slots: list[_Slot] = []
    next_index = 0
    try:
        for _ in range(n):
            slots.append(_Slot(ctx, next_index, stage_root, threads))
            next_index += 1
        for s in slots:
            _feed(s, queue)
        while any(s.item is not None for s in slots):
            busy = [s for s in slots if s.item is not None]
            ready = wait([s.conn for s in busy] + [s.proc.sentinel for s in busy])
            for s in busy:
                if s.conn not in ready and s.proc.sentinel not in ready:
                    continue
                item, out = s.item, None
                try:
                    if s.conn.poll():
                        out = s.conn.recv()
                except (EOFError, OSError):
                    out = None
                if out is None:
                    if s.proc.is_alive() and s.proc.sentinel not in ready:
                        continue
                    s.proc.join(1)
                    code = s.proc.exitcode
                    s.item = None
                    s.stop()
                    slots.remove(s)
                    on_outcome(item, Outcome(item.name, False, f"WorkerDied: the worker process exited with code "
                                                               f"{code} while generating this item (out of memory?)",
                                             worker=f"local:{s.index}"))
                    if queue:
                        fresh = _Slot(ctx, next_index, stage_root, threads)
                        next_index += 1
                        slots.append(fresh)
                        _feed(fresh, queue)
                    continue
                s.item = None
                on_outcome(item, out)
                _feed(s, queue)
    finally:
        for s in slots:
            s.stop()


def _feed(slot: _Slot, queue: deque) -> None:
    if queue and slot.item is None:
        slot.item = queue.popleft()
        try:
            slot.conn.send(slot.item)
        except (BrokenPipeError, OSError):
            pass  # the worker is gone; its sentinel fires and the item is reported failed
