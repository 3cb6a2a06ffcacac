"""Train a tiny yes/no VQA model on CPU, streaming a SARLANG-1M release, on one or several processes.

    torchrun --standalone --nproc_per_node 2 examples/train_streaming.py --release sarlang-1m \
        --checkpoint-dir checkpoints --epochs 2

What it shows, end to end: streaming the Parquet shards (`sarlang1m.load(..., streaming=True)`), one
example per question (`sarlang1m.pairs`), a shuffle buffer reshuffled every epoch
(`shuffle(seed, buffer_size)` + `set_epoch`), `split_dataset_by_node` under `torch.distributed` (gloo),
a plain `torch.utils.data.DataLoader` with worker processes, DDP, checkpoints every N steps and an
exact resume (``--resume``): see `resumable_stream.py` for why `IterableDataset.state_dict()` alone does
not give one with a shuffle buffer and DataLoader workers.

The model is deliberately small: a few convolutions on the 8-bit image, a hashed bag of the question's
words, and a linear head answering yes or no. ``--log-ids DIR`` writes, per rank, the question ids of
every batch trained on (JSON lines), which is how the test checks that ranks see disjoint examples that
cover the split exactly once per epoch, and that a resumed run continues where the first one stopped.
"""

from __future__ import annotations

import argparse
import inspect
import io
import json
import os
import re
import sys
import zlib
from pathlib import Path
from typing import Any

import datasets
import numpy as np
import torch
import torch.distributed as dist
import torch.nn.functional as F
from datasets.distributed import split_dataset_by_node
from PIL import Image
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parent))
from resumable_stream import POSITION_FIELD, WORKER_FIELD, ResumableStream, StreamProgress

import sarlang1m

IMAGE_SIDE = 32
BAG_SIZE = 256
CHECKPOINT_FILE = "checkpoint.pt"
#: Columns the loop needs: Parquet reads only these (the original GeoTIFFs are never fetched).
COLUMNS = ["image_id", "image", "subset", "qa"]
_WORD = re.compile(r"[a-z]+")


# --------------------------------------------------------------------------------------------- data


def yes_no_stream(
    release: str, config: str, split: str, *, seed: int, buffer_size: int, buffer_input_shards: int
) -> datasets.IterableDataset:
    """The yes/no questions of a split: streamed, one per example, shuffled through a buffer.

    The shuffle also permutes the shard order every epoch (`set_epoch`) and fills the buffer from
    `buffer_input_shards` shards at a time (datasets >= 5.0; before it, from one shard at a time).
    """
    images = sarlang1m.load(config, split=split, streaming=True, decode=None, source=release, columns=COLUMNS)
    questions = sarlang1m.pairs(images, config=config).filter(is_yes_no)
    if "max_buffer_input_shards" not in inspect.signature(questions.shuffle).parameters:
        return questions.shuffle(seed=seed, buffer_size=buffer_size)
    return questions.shuffle(seed=seed, buffer_size=buffer_size, max_buffer_input_shards=buffer_input_shards)


def is_yes_no(example: dict[str, Any]) -> bool:
    return example["answer_type"] == "yes_no"


class ToTensors:
    """An example -> image tensor, bag of question words, yes/no label (runs in the DataLoader workers)."""

    def __call__(self, example: dict[str, Any]) -> dict[str, Any]:
        image = Image.open(io.BytesIO(example["image"]["bytes"])).convert("L").resize((IMAGE_SIDE, IMAGE_SIDE))
        pixels = torch.from_numpy(np.asarray(image, dtype=np.float32) / 255.0)[None]
        answer = example["answer"].strip().lower().rstrip(".")
        if answer not in ("yes", "no"):
            raise ValueError(f"question {example['id']}: answer {example['answer']!r} is not yes or no")
        return {
            "id": example["id"],
            "pixels": pixels,
            "bag": bag_of_words(example["question"]),
            "label": answer == "yes",
        }


def bag_of_words(text: str) -> torch.Tensor:
    """Word counts hashed into BAG_SIZE buckets (crc32: the same in every process, unlike hash())."""
    bag = torch.zeros(BAG_SIZE)
    for word in _WORD.findall(text.lower()):
        bag[zlib.crc32(word.encode()) % BAG_SIZE] += 1.0
    return bag


def empty_batch() -> dict[str, Any]:
    """What a rank whose stream has ended feeds the model while the other ranks finish the epoch."""
    return {
        "id": [],
        "pixels": torch.zeros(0, 1, IMAGE_SIDE, IMAGE_SIDE),
        "bag": torch.zeros(0, BAG_SIZE),
        "label": torch.zeros(0, dtype=torch.bool),
        WORKER_FIELD: [],
        POSITION_FIELD: [],
    }


# -------------------------------------------------------------------------------------------- model


class TinyVQA(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.image = nn.Sequential(
            nn.Conv2d(1, 8, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(8, 16, 3, padding=1),
            nn.ReLU(),
            nn.AdaptiveAvgPool2d(1),
            nn.Flatten(),
        )
        self.question = nn.Linear(BAG_SIZE, 16)
        self.head = nn.Linear(32, 2)

    def forward(self, pixels: torch.Tensor, bag: torch.Tensor) -> torch.Tensor:
        return self.head(torch.cat([self.image(pixels), torch.relu(self.question(bag))], dim=1))


# ------------------------------------------------------------------------------------ distribution


def init_distributed() -> tuple[int, int]:
    """(rank, world size) from torchrun's environment; a plain `python` run is rank 0 of 1."""
    if "WORLD_SIZE" not in os.environ:
        return 0, 1
    # Imported before the process group exists, on purpose. torch.distributed.nn binds `group.WORLD` into
    # default arguments when first imported, and DDP imports it (through torch._dynamo): imported after
    # init_process_group, it would hold the group for good, so destroy_process_group could not join gloo's
    # threads, and one of them freeing a tensor during interpreter shutdown can abort the process
    # ("terminate called without an active exception", SIGABRT) after a run that went well.
    import torch.distributed.nn  # noqa: F401

    dist.init_process_group("gloo")
    return dist.get_rank(), dist.get_world_size()


def close_distributed(world_size: int) -> None:
    """Join gloo's threads while the interpreter is alive: call once nothing holds the group (model, work)."""
    if world_size == 1:
        return
    dist.barrier()  # no rank tears down its connections while another still uses them
    dist.destroy_process_group()


def global_sum(value: int, world_size: int) -> int:
    if world_size == 1:
        return value
    total = torch.tensor([value], dtype=torch.long)
    dist.all_reduce(total)
    return int(total.item())


def gather(obj: Any, world_size: int) -> list[Any]:
    if world_size == 1:
        return [obj]
    objects: list[Any] = [None] * world_size
    dist.all_gather_object(objects, obj)
    return objects


# --------------------------------------------------------------------------------------- checkpoint


def save_checkpoint(path: Path, *, model: nn.Module, optimizer, step: int, data_states: list[dict]) -> None:
    """Model, optimizer, global step and every rank's data progress, written atomically (rank 0)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    torch.save(
        {"model": model.state_dict(), "optimizer": optimizer.state_dict(), "step": step, "data": data_states}, partial
    )
    os.replace(partial, path)


def load_checkpoint(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise FileNotFoundError(f"--resume: no checkpoint at {path}")
    return torch.load(path, map_location="cpu", weights_only=False)


# --------------------------------------------------------------------------------------------- loop


def train_step(model: nn.Module, optimizer, batch: dict[str, Any], *, total: int, world_size: int) -> int:
    """One optimiser step on this rank's batch (possibly empty); returns its correct answers.

    DDP averages gradients over ranks; the loss is scaled so that the result is the mean over the
    `total` examples of all ranks, whatever each rank contributed.
    """
    logits = model(batch["pixels"], batch["bag"])
    labels = batch["label"].long()
    loss = F.cross_entropy(logits, labels, reduction="sum") * world_size / total
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    return int((logits.argmax(1) == labels).sum())


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--release", required=True, help="release folder (or ORG/NAME Hub repo)")
    parser.add_argument("--config", default="vqa")
    parser.add_argument("--split", default="train")
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--buffer-size", type=int, default=256, help="shuffle buffer, in examples")
    parser.add_argument(
        "--buffer-input-shards",
        type=int,
        default=10,
        help="shards feeding the shuffle buffer at once (datasets >= 5.0, whose default is 10; see docs/multi-node.md)",
    )
    parser.add_argument("--num-workers", type=int, default=2, help="DataLoader worker processes per rank")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--checkpoint-dir", type=Path, help="where checkpoint.pt is written")
    parser.add_argument("--checkpoint-every", type=int, default=50, help="steps between checkpoints")
    parser.add_argument("--resume", action="store_true", help="continue from --checkpoint-dir")
    parser.add_argument("--max-steps", type=int, help="stop (after a checkpoint) at this global step")
    parser.add_argument("--log-ids", type=Path, help="folder for rank<N>.jsonl: the ids of every batch trained on")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if args.resume and args.checkpoint_dir is None:
        raise SystemExit("--resume needs --checkpoint-dir")
    rank, world_size = init_distributed()
    train(args, rank, world_size)  # its model, optimizer and loaders are released when it returns
    close_distributed(world_size)


def train(args: argparse.Namespace, rank: int, world_size: int) -> None:
    """The loop: epochs of streamed batches, checkpoints, and the exact resume."""
    torch.manual_seed(args.seed)  # the same initial weights on every rank

    stream = yes_no_stream(
        args.release,
        args.config,
        args.split,
        seed=args.seed,
        buffer_size=args.buffer_size,
        buffer_input_shards=args.buffer_input_shards,
    )
    if rank == 0 and stream.num_shards % world_size:
        print(
            f"note: {stream.num_shards} shards do not divide among {world_size} ranks: every rank reads "
            "every shard and keeps 1 example in world_size (correct, but slower)",
            file=sys.stderr,
        )
    stream = split_dataset_by_node(stream, rank=rank, world_size=world_size)
    source = ResumableStream(stream, transform=ToTensors())
    loader = torch.utils.data.DataLoader(source, batch_size=args.batch_size, num_workers=args.num_workers)
    layout = {
        "config": args.config,
        "split": args.split,
        "seed": args.seed,
        "buffer_size": args.buffer_size,
        "buffer_input_shards": args.buffer_input_shards,
        "batch_size": args.batch_size,
        "num_workers": args.num_workers,
        "world_size": world_size,
        "rank": rank,
        "num_shards": stream.num_shards,
    }
    progress = StreamProgress(layout)

    model = TinyVQA()
    if world_size > 1:
        model = nn.parallel.DistributedDataParallel(model)
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
    step = 0
    checkpoint_path = args.checkpoint_dir / CHECKPOINT_FILE if args.checkpoint_dir else None
    if args.resume:
        checkpoint = load_checkpoint(checkpoint_path)
        if len(checkpoint["data"]) != world_size:
            raise SystemExit(f"checkpoint of {len(checkpoint['data'])} ranks; this run has {world_size}")
        model.load_state_dict(checkpoint["model"])
        optimizer.load_state_dict(checkpoint["optimizer"])
        step = checkpoint["step"]
        progress.load_state_dict(checkpoint["data"][rank])
        source.resume_from(progress)

    log = None
    if args.log_ids:
        args.log_ids.mkdir(parents=True, exist_ok=True)
        log = (args.log_ids / f"rank{rank}.jsonl").open("a", encoding="utf-8")

    def checkpoint_now() -> None:
        if checkpoint_path is None:
            return
        states = gather(progress.state_dict(), world_size)  # every rank's progress, into one file
        if rank == 0:
            save_checkpoint(checkpoint_path, model=model, optimizer=optimizer, step=step, data_states=states)

    if progress.epoch >= args.epochs:
        print(f"rank {rank}: nothing to do, the checkpoint is at epoch {progress.epoch} of --epochs {args.epochs}")
    stopped = False
    while progress.epoch < args.epochs and not stopped:
        source.set_epoch(progress.epoch)  # idempotent: a resumed run has set it already
        batches = iter(loader)
        seen = correct = 0
        while True:
            batch = next(batches, None)
            local = 0 if batch is None else len(batch["id"])
            total = global_sum(local, world_size)
            if total == 0:  # every rank has finished the epoch
                break
            batch = batch if batch is not None else empty_batch()
            correct += train_step(model, optimizer, batch, total=total, world_size=world_size)
            step += 1
            seen += local
            progress.update(batch)
            if log is not None and local:
                record = {
                    "step": step,
                    "epoch": progress.epoch,
                    "rank": rank,
                    "worker": int(batch[WORKER_FIELD][0]),
                    "positions": [int(p) for p in batch[POSITION_FIELD]],
                    "ids": list(batch["id"]),
                }
                log.write(json.dumps(record) + "\n")
                log.flush()
            if args.checkpoint_every and step % args.checkpoint_every == 0:
                checkpoint_now()
            if args.max_steps is not None and step >= args.max_steps:
                stopped = True
                break
        if not stopped:
            print(f"rank {rank} epoch {progress.epoch}: {seen} questions, train accuracy {correct / max(seen, 1):.3f}")
            progress.end_epoch()
            checkpoint_now()
    if stopped:
        checkpoint_now()
        print(f"rank {rank}: stopped at step {step} (epoch {progress.epoch}), checkpoint written")
    if log is not None:
        log.close()


if __name__ == "__main__":
    main()
