"""examples/train_streaming.py for real: 2 ranks (torchrun, gloo) x 2 DataLoader workers, exact resume.

The release is built from a small synthetic raw release, with a shard count that divides among
2 ranks x 2 workers so that `split_dataset_by_node` hands out whole shards. The ids every rank trains on
are compared with the yes/no questions read straight from the Parquet files.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter, defaultdict
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import torch

from sarlang1m import schema
from sarlang1m.raw.classify import answer_type

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
sys.path.insert(0, str(EXAMPLES))

from resumable_stream import POSITION_FIELD, WORKER_FIELD, ResumableStream, StreamProgress  # noqa: E402
from train_streaming import ToTensors, yes_no_stream  # noqa: E402

WORLD_SIZE, WORKERS = 2, 2
#: Shard sizes tried until the train split of `vqa` has a multiple of WORLD_SIZE x WORKERS files.
SHARD_SIZES = ("28KB", "32KB", "24KB", "20KB", "36KB", "40KB", "16KB", "48KB", "12KB", "64KB")


@pytest.fixture(scope="module")
def train_release(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from sarlang1m.build.release import build_release
    from sarlang1m.synth import write_synthetic_release

    root = tmp_path_factory.mktemp("train")
    write_synthetic_release(root / "raw", images=120, seed=0, image_size=32, progress=False)
    for size in SHARD_SIZES:
        result = build_release(root / "raw", root / "release", max_shard_size=size, overwrite=True, progress=False)
        if result.configs["vqa"].splits["train"].files % (WORLD_SIZE * WORKERS) == 0:
            return root / "release"
    pytest.fail(f"no shard size in {SHARD_SIZES} gives a shard count divisible by {WORLD_SIZE * WORKERS}")


def yes_no_ids(release: Path) -> Counter:
    """The global ids (<image_id>-<id>) of the yes/no questions of vqa/train, from the Parquet files."""
    ids: Counter = Counter()
    for path in release.glob(schema.config_spec("vqa").split_glob("train")):
        for row in pq.read_table(path, columns=["image_id", "qa"]).to_pylist():
            texts = row["qa"]
            kinds = map(answer_type, texts["answer"], texts["application"], texts["subtype"])
            ids.update(f"{row['image_id']}-{i}" for i, kind in zip(texts["id"], kinds, strict=True) if kind == "yes_no")
    return ids


def stream(release: Path) -> ResumableStream:
    questions = yes_no_stream(str(release), "vqa", "train", seed=7, buffer_size=32, buffer_input_shards=1)
    return ResumableStream(questions, transform=ToTensors())


def loader(source: ResumableStream) -> torch.utils.data.DataLoader:
    return torch.utils.data.DataLoader(source, batch_size=4, num_workers=WORKERS)


def per_worker(batches) -> dict[int, list[str]]:
    sequences = defaultdict(list)
    for batch in batches:
        sequences[int(batch[WORKER_FIELD][0])] += list(batch["id"])
    return dict(sequences)


# ------------------------------------------------------------------------------- in one process


def test_resume_inside_an_epoch_continues_every_worker_exactly(train_release):
    reference = list(loader(stream(train_release)))
    assert Counter(i for b in reference for i in b["id"]) == yes_no_ids(train_release)

    progress = StreamProgress({"test": 1})
    first = reference[:5]  # the first 5 batches trained on, then the run is interrupted
    for batch in first:
        progress.update(batch)
    state = progress.state_dict()

    resumed_progress = StreamProgress({"test": 1})
    resumed_progress.load_state_dict(state)
    source = stream(train_release)
    source.resume_from(resumed_progress)
    rest = list(loader(source))
    assert per_worker(first + rest) == per_worker(reference)
    for batch in rest:  # every worker resumed right after the last position it had delivered
        positions = [int(p) for p in batch[POSITION_FIELD]]
        assert positions == list(range(positions[0], positions[0] + len(positions)))
    assert min(int(b[POSITION_FIELD][0]) for b in rest if int(b[WORKER_FIELD][0]) == 0) == state["consumed"][0]


def test_a_changed_layout_is_refused_by_name():
    progress = StreamProgress({"world_size": 2, "seed": 0, "num_workers": 2})
    state = progress.state_dict()
    other = StreamProgress({"world_size": 4, "seed": 0, "num_workers": 2})
    with pytest.raises(ValueError, match=r"layout changed \(world_size\)"):
        other.load_state_dict(state)


# --------------------------------------------------------------------------------- 2 ranks, torchrun


def torchrun(release: Path, log_dir: Path, *extra: str, script: Path = EXAMPLES / "train_streaming.py") -> str:
    command = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        f"--nproc_per_node={WORLD_SIZE}",
        str(script),
        "--release",
        str(release),
        "--epochs=2",
        "--batch-size=8",
        "--buffer-size=64",
        "--buffer-input-shards=1",
        f"--num-workers={WORKERS}",
        f"--log-ids={log_dir}",
        *extra,
    ]
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1"}
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=240)
    assert done.returncode == 0, f"torchrun failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def read_log(log_dir: Path) -> list[dict]:
    records = []
    for path in sorted(log_dir.glob("rank*.jsonl")):
        records += [json.loads(line) for line in path.read_text().splitlines()]
    return records


def sequences(records: list[dict]) -> dict[tuple[int, int, int], list[str]]:
    """(epoch, rank, worker) -> the ids it trained on, in order."""
    out = defaultdict(list)
    for record in sorted(records, key=lambda r: r["step"]):
        out[(record["epoch"], record["rank"], record["worker"])] += record["ids"]
    return dict(out)


def test_two_ranks_cover_the_split_once_per_epoch_and_resume_exactly(train_release, tmp_path):
    expected = yes_no_ids(train_release)
    assert sum(expected.values()) > 100 and max(expected.values()) == 1

    torchrun(train_release, tmp_path / "full")
    full = read_log(tmp_path / "full")
    for epoch in (0, 1):
        by_rank = [
            [i for r in full if r["epoch"] == epoch and r["rank"] == rank for i in r["ids"]] for rank in range(2)
        ]
        assert by_rank[0] and by_rank[1]
        assert not set(by_rank[0]) & set(by_rank[1]), "ranks overlap"
        assert Counter(by_rank[0] + by_rank[1]) == expected, "the ranks do not cover the split exactly once"
    epoch_orders = [[i for r in full if r["epoch"] == e and r["rank"] == 0 for i in r["ids"]] for e in (0, 1)]
    assert epoch_orders[0] != epoch_orders[1], "set_epoch did not reshuffle"

    checkpoints = tmp_path / "checkpoints"
    stopped = torchrun(train_release, tmp_path / "first", f"--checkpoint-dir={checkpoints}", "--max-steps=10")
    assert "stopped at step 10" in stopped and (checkpoints / "checkpoint.pt").is_file()
    first = read_log(tmp_path / "first")
    assert {r["step"] for r in first} == set(range(1, 11))

    torchrun(train_release, tmp_path / "resumed", f"--checkpoint-dir={checkpoints}", "--resume")
    resumed = read_log(tmp_path / "resumed")
    assert min(r["step"] for r in resumed) == 11
    head = {i for r in first for i in r["ids"]}
    tail_epoch0 = [i for r in resumed if r["epoch"] == 0 for i in r["ids"]]
    assert not head & set(tail_epoch0), "the resumed run repeated examples"
    assert Counter(list(head) + tail_epoch0) == expected, "the resumed run skipped examples"
    assert sequences(first + resumed) == sequences(full), "the resumed run is not the uninterrupted one"


THREAD_PROBE = """
import json, os, sys
from pathlib import Path
sys.path.insert(0, {examples!r})
import train_streaming

def threads():
    return [(task / "comm").read_text().strip() for task in Path("/proc/self/task").iterdir()]

running = []
init_distributed = train_streaming.init_distributed
def init_and_look():
    joined = init_distributed()
    running.extend(threads())
    return joined

train_streaming.init_distributed = init_and_look
train_streaming.main(sys.argv[1:])
report = {{"running": running, "finished": threads()}}
Path({out!r}, "threads-rank" + os.environ["RANK"] + ".json").write_text(json.dumps(report))
"""


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="reads the process's threads from /proc")
def test_a_finished_rank_has_joined_gloos_threads_before_the_interpreter_shuts_down(train_release, tmp_path):
    """A gloo thread alive at interpreter shutdown can abort a run that went well (SIGABRT).

    It stays alive when anything still holds the process group after `destroy_process_group`: DDP
    importing torch.distributed.nn after `init_process_group` is such a holder.
    """
    probe = tmp_path / "probe.py"
    probe.write_text(THREAD_PROBE.format(examples=str(EXAMPLES), out=str(tmp_path)), encoding="utf-8")
    torchrun(train_release, tmp_path / "log", "--max-steps=3", script=probe)
    for rank in range(WORLD_SIZE):
        threads = json.loads((tmp_path / f"threads-rank{rank}.json").read_text())
        assert any("gloo" in name for name in threads["running"]), threads  # the names this test looks for
        assert not [name for name in threads["finished"] if "gloo" in name], f"rank {rank} still runs {threads}"
