"""Exact checkpoint and resume of a shuffled `datasets` stream read by a plain torch DataLoader.

Why not `IterableDataset.state_dict()` alone? Two facts of datasets 5.x and torch:

1. With ``num_workers > 0`` each DataLoader worker iterates its own copy of the dataset; the copy in
   the training process never moves, so its ``state_dict()`` says nothing about what was consumed.
   (torchdata's ``StatefulDataLoader`` collects the workers' states; it is not a dependency here.)
2. The state of a stream with a shuffle buffer records how far the *source* was read, not the buffer's
   content: on resume the buffer is refilled and the examples it held are lost (the `datasets`
   documentation says so).

What does give exact resume: every worker's stream is deterministic, a function of (seed, epoch, node
rank, world size, worker id, number of workers). So the training process counts, per worker, how many
examples it has consumed (each example carries its worker id and position), and on resume each worker
replays its stream up to that count before it decodes anything. Nothing is repeated, nothing is lost,
and every worker's sequence is the one an uninterrupted run sees. The cost is re-reading (not decoding)
the part of the epoch a worker had consumed.

`ResumableStream` wraps the stream for the DataLoader; `StreamProgress` follows the batches in the
training process and is what a checkpoint stores.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import datasets
import torch
import torch.utils.data

#: Fields added to every example: which DataLoader worker produced it, and its position in that
#: worker's stream for the epoch.
WORKER_FIELD = "_worker"
POSITION_FIELD = "_position"


class ResumableStream(torch.utils.data.IterableDataset):
    """A `datasets.IterableDataset` for a DataLoader, resumable at any example.

    `transform` (example -> example) runs in the workers after the replay, so that skipped examples are
    read but never decoded. `datasets` itself hands each worker its share of the shards.
    """

    def __init__(
        self, dataset: datasets.IterableDataset, transform: Callable[[dict[str, Any]], dict[str, Any]] | None = None
    ) -> None:
        super().__init__()
        self.dataset = dataset
        self.transform = transform
        self.epoch = 0
        #: worker id -> examples of its stream to replay without yielding, for `skip_epoch` only.
        self.skip: dict[int, int] = {}
        self.skip_epoch: int | None = None

    def set_epoch(self, epoch: int) -> None:
        """Reshuffle for `epoch` (shard order and buffer); call it before creating the loader's iterator."""
        self.epoch = epoch
        self.dataset.set_epoch(epoch)

    def resume_from(self, progress: StreamProgress) -> None:
        """Start the epoch of `progress` where its consumed examples end."""
        self.set_epoch(progress.epoch)
        self.skip = dict(progress.consumed)
        self.skip_epoch = progress.epoch

    def __iter__(self) -> Iterator[dict[str, Any]]:
        info = torch.utils.data.get_worker_info()
        worker = info.id if info is not None else 0
        skip = self.skip.get(worker, 0) if self.skip_epoch == self.epoch else 0
        stream = itertools.islice(iter(self.dataset), skip, None)
        for position, example in enumerate(stream, start=skip):
            example = self.transform(example) if self.transform is not None else example
            example[WORKER_FIELD] = worker
            example[POSITION_FIELD] = position
            yield example


class StreamProgress:
    """What the training process has consumed of the current epoch, per DataLoader worker.

    ``update(batch)`` after each batch is trained on; ``state_dict()`` goes into the checkpoint.
    `layout` (seed, world size, workers, ...) is stored with it: the replay is exact only for the
    same layout, so `load_state_dict` refuses another one.
    """

    def __init__(self, layout: Mapping[str, Any], epoch: int = 0) -> None:
        self.layout = dict(layout)
        self.epoch = epoch
        self.consumed: dict[int, int] = {}

    def update(self, batch: Mapping[str, Any]) -> None:
        for worker, position in zip(batch[WORKER_FIELD], batch[POSITION_FIELD], strict=True):
            worker, position = int(worker), int(position)
            self.consumed[worker] = max(self.consumed.get(worker, 0), position + 1)

    def end_epoch(self) -> None:
        self.epoch += 1
        self.consumed = {}

    def state_dict(self) -> dict[str, Any]:
        return {"epoch": self.epoch, "consumed": dict(self.consumed), "layout": dict(self.layout)}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        if dict(state["layout"]) != self.layout:
            changed = sorted(
                k for k in {*state["layout"], *self.layout} if state["layout"].get(k) != self.layout.get(k)
            )
            raise ValueError(
                f"cannot resume exactly: the data layout changed ({', '.join(changed)}): "
                f"checkpoint {dict(state['layout'])}, now {self.layout}"
            )
        self.epoch = int(state["epoch"])
        self.consumed = {int(worker): int(count) for worker, count in state["consumed"].items()}
