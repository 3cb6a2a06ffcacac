"""Staging text groups and writing their shards at the same time, in one process or a pool.

Reading the texts is serial (one SQLite writer); writing shards is not. Each text group is committed
to the store before the next is read, and its shards are handed to the pool at once, so with several
processes the shards of the small groups are written while the largest is still being read. Progress
of the workers comes back to the main process through a queue, to one progress bar.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import queue
import sys
from multiprocessing.managers import SyncManager
from multiprocessing.pool import AsyncResult, Pool
from pathlib import Path

from tqdm.auto import tqdm

from ..raw.layout import RawLayout
from .shards import ShardResult, write_shard
from .staging import Stager


def stage_and_write(
    layout: RawLayout, staging_path: Path, release: Path, options: dict, *, num_proc: int, progress: bool
) -> list[ShardResult]:
    """Stage the text groups one by one and write each group's shards as soon as it is staged.

    With several processes, the shards of the small groups are written while the largest is still
    being read, so that reading 1M texts (one process) and writing shards (all of them) overlap.
    """
    bar = tqdm(total=0, desc="writing shards", unit=" rows", disable=not progress, dynamic_ncols=True)
    texts_done = 0

    def advance(images: int, texts: int) -> None:
        nonlocal texts_done
        texts_done += texts
        bar.update(images)
        bar.set_postfix_str(f"{texts_done} texts, {texts_done / max(bar.format_dict['elapsed'], 1e-9):.0f} texts/s")

    with _ShardWriters(num_proc, advance) as writers:  # worker processes start before the store is opened
        stager = Stager(layout, staging_path, **options)
        try:
            for group in stager.groups:
                for partition, shards in stager.stage(group):
                    bar.total += stager.db.execute(
                        "SELECT count(*) FROM rows WHERE task = ? AND subset IS ? AND tier = ? AND split = ?",
                        (partition.task, partition.subset, partition.tier, partition.split),
                    ).fetchone()[0]
                    bar.refresh()
                    for shard in range(shards):
                        writers.submit((staging_path, release, partition, shard, shards))
            stager.finish()
        except BaseException:
            stager.abort()
            raise
        results = writers.results()
    bar.close()
    return sorted(results, key=lambda r: r.path)


class _ShardWriters:
    """Runs shard jobs in this process (one process) or in a pool, relaying progress to `advance`."""

    def __init__(self, num_proc: int, advance):
        self.advance = advance
        self.pending: list[AsyncResult[ShardResult]] = []
        self.done: list[ShardResult] = []
        self.pool: Pool | None = None
        self.manager: SyncManager | None = None
        if num_proc > 1:
            # fork where it is safe (Linux): workers need no `if __name__ == "__main__"` guard in user scripts.
            context = multiprocessing.get_context("fork" if sys.platform.startswith("linux") else "spawn")
            self.manager = context.Manager()
            self.updates = self.manager.Queue()
            self.pool = context.Pool(num_proc, initializer=_init_worker, initargs=(self.updates,))

    def __enter__(self) -> _ShardWriters:
        return self

    def submit(self, job: tuple) -> None:
        if self.pool is None:
            self.done.append(write_shard(job, self.advance))
        else:
            self.pending.append(self.pool.apply_async(_write_shard_in_worker, (job,)))
            _drain(self.updates, self.advance, timeout=0)

    def results(self) -> list[ShardResult]:
        while self.pending and not all(p.ready() for p in self.pending):
            _drain(self.updates, self.advance, timeout=0.2)
        if self.pool is not None:
            _drain(self.updates, self.advance, timeout=0)
        return self.done + [p.get() for p in self.pending]

    def __exit__(self, *exc) -> None:
        if self.pool is not None:
            if exc[0] is None:
                self.pool.close()
            else:
                self.pool.terminate()
            self.pool.join()
        if self.manager is not None:
            self.manager.shutdown()


def _drain(updates, advance, timeout: float) -> None:
    try:
        while True:
            advance(*updates.get(timeout=timeout))
            timeout = 0
    except queue.Empty:
        return


#: A pool worker's queue of (images, texts) progress updates to the main process, set by `_init_worker`.
_worker_updates: queue.Queue[tuple[int, int]] | None = None


def _init_worker(updates: queue.Queue[tuple[int, int]]) -> None:
    global _worker_updates
    _worker_updates = updates
    # The main process reads texts while workers write shards; it is the critical path, so it goes first.
    with contextlib.suppress(OSError, AttributeError):
        os.nice(5)


def _write_shard_in_worker(job: tuple) -> ShardResult:
    updates = _worker_updates
    if updates is None:
        raise RuntimeError("a shard worker runs without the progress queue `_init_worker` gives it")
    return write_shard(job, lambda images, texts: updates.put((images, texts)))
