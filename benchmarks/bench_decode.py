"""Decode + normalise cost against a bare tifffile decode, and streaming throughput with DataLoader workers.

Part 1, on one core, the same in-memory synthetic 1024^2 GeoTIFFs for every method, timed in blocks
that cycle through the methods (see `cycled_medians`), medians reported as ratios to the bare decode:

- ``bare``: ``tifffile.imread``, single-threaded as in decode_sar (what any reader must pay);
- ``decode_sar``: `sarlang1m.decode_sar` with its default percentile normalisation;
- ``usual``: ``tifffile.imread``, then per band ``log10`` of every pixel, ``np.percentile``, clip, scale.

Part 2: examples/s of a streaming dataset (synthetic Parquet shards of GeoTIFF rows) through
`SARDecode` and a torch DataLoader with 0 and 2 workers, same files, one run.

    python benchmarks/bench_decode.py [--repeats 40] [--stream-rows 1024] [--json results.json]

Absolute times depend on the machine; quote the ratios, measured in one run.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import tifffile

from sarlang1m.decode import SARDecode, decode_sar

SIDE = 1024


def synthetic_pixels(dtype: str, rng: np.random.Generator, side: int = SIDE) -> np.ndarray:
    """Synthetic speckled SAR pixels of a type: gamma intensity over a smooth texture."""
    texture = np.exp(rng.normal(0, 1, (side // 32, side // 32))).repeat(32, 0).repeat(32, 1)
    intensity = texture * rng.gamma(1.0, 1.0, (side, side))
    if dtype == "complex64":
        phase = rng.uniform(0, 2 * np.pi, (side, side))
        return (np.sqrt(intensity) * np.exp(1j * phase)).astype(np.complex64)
    if dtype == "uint16":
        return np.clip(np.sqrt(intensity) * 800, 0, 65535).astype(np.uint16)
    if dtype == "uint8":
        decibels = 10 * np.log10(intensity)
        low, high = np.percentile(decibels, [2, 98])
        return np.clip((decibels - low) / (high - low) * 255, 0, 255).astype(np.uint8)
    return np.sqrt(intensity).astype(np.float32)


#: (label, pixel type, tifffile compression): the cases of the issue, plus complex64 zstd.
CASES = [
    ("float32 zstd", "float32", "zstd"),
    ("uint16 zstd", "uint16", "zstd"),
    ("complex64 uncompressed", "complex64", None),
    ("complex64 zstd", "complex64", "zstd"),
    ("uint8 deflate (display)", "uint8", "zlib"),
]


def tiff_bytes(pixels: np.ndarray, compression: str | None) -> bytes:
    buffer = io.BytesIO()
    tifffile.imwrite(buffer, pixels, compression=compression, tile=(256, 256))
    return buffer.getvalue()


def bare_decode(data: bytes) -> np.ndarray:
    """tifffile alone, single-threaded like decode_sar (parallelism belongs to the DataLoader)."""
    return tifffile.imread(io.BytesIO(data), maxworkers=1)


def usual_way(data: bytes) -> np.ndarray:
    """The common recipe: dB of every pixel, np.percentile, clip and scale (display: / 255)."""
    pixels = bare_decode(data)
    if pixels.dtype == np.uint8:
        return pixels.astype(np.float32) / 255
    with np.errstate(divide="ignore"):
        decibels = 10 * np.log10(np.abs(pixels) ** 2) if pixels.dtype.kind == "c" else 20 * np.log10(pixels)
    finite = np.isfinite(decibels)
    low, high = np.percentile(decibels[finite], [2, 98])
    return np.where(finite, np.clip((decibels - low) / (high - low), 0, 1), 0).astype(np.float32)


def cycled_medians(methods: dict[str, Callable[[], object]], repeats: int, cycles: int = 5) -> dict[str, float]:
    """Median seconds of each method: ``cycles`` rounds, each running every method ``repeats // cycles``
    times in a row (after one untimed call), so that each method runs in its own steady state (one
    method's allocations do not tax the next one's) while slow drift of the machine hits all alike."""
    times: dict[str, list[float]] = {name: [] for name in methods}
    per_block = max(1, repeats // cycles)
    for _ in range(cycles):
        for name, method in methods.items():
            method()
            for _ in range(per_block):
                start = time.perf_counter()
                method()
                times[name].append(time.perf_counter() - start)
    return {name: statistics.median(values) for name, values in times.items()}


def bench_decode(repeats: int) -> list[dict]:
    rng = np.random.default_rng(0)
    rows = []
    for label, dtype, compression in CASES:
        data = tiff_bytes(synthetic_pixels(dtype, rng), compression)
        medians = cycled_medians(
            {
                "bare": lambda data=data: bare_decode(data),
                "decode_sar": lambda data=data: decode_sar(data),
                "usual": lambda data=data: usual_way(data),
            },
            repeats,
        )
        rows.append(
            {
                "case": label,
                "file_mb": len(data) / 1e6,
                "bare_ms": medians["bare"] * 1e3,
                "decode_sar_over_bare": medians["decode_sar"] / medians["bare"],
                "usual_over_bare": medians["usual"] / medians["bare"],
            }
        )
    return rows


def write_stream_shards(folder: Path, rows: int, shards: int, side: int) -> None:
    """Synthetic Parquet shards of release-like rows holding uint16 zstd GeoTIFF bytes."""
    import datasets

    datasets.disable_progress_bars()
    rng = np.random.default_rng(1)
    per_shard = rows // shards
    for shard in range(shards):
        records = [
            {
                "image_id": f"synthetic-{shard}-{i}",
                "sar": tiff_bytes(synthetic_pixels("uint16", rng, side), "zstd"),
                "sar_radiometry": "amplitude",
                "polarizations": [],
                "source": "dfc2023",
            }
            for i in range(per_shard)
        ]
        datasets.Dataset.from_list(records).to_parquet(folder / f"train-{shard:05d}-of-{shards:05d}.parquet")


def ids_only(examples: list[dict]) -> dict[str, list]:
    """Collate of the no-decode baseline: the ids only (the raw GeoTIFF bytes are not batched)."""
    return {"image_id": [example["image_id"] for example in examples]}


def bench_streaming(rows: int, side: int, workers: tuple[int, ...] = (0, 2)) -> list[dict]:
    """examples/s through a DataLoader, with and without SARDecode, per worker count (same shards)."""
    import datasets
    import torch

    from sarlang1m.collate import SARCollate

    results = []
    with tempfile.TemporaryDirectory() as folder:
        write_stream_shards(Path(folder), rows, shards=4, side=side)
        for decoded in (False, True):
            for count in workers:
                stream = datasets.load_dataset("parquet", data_dir=folder, split="train", streaming=True)
                source = SARDecode().apply(stream, batch_size=4) if decoded else stream
                collate = SARCollate() if decoded else ids_only
                loader = torch.utils.data.DataLoader(source, batch_size=8, num_workers=count, collate_fn=collate)
                start = time.perf_counter()
                first_batch_at, seen = None, 0
                for batch in loader:
                    seen += len(batch["image_id"])
                    if first_batch_at is None:
                        first_batch_at, after_first = time.perf_counter(), seen
                end = time.perf_counter()
                results.append(
                    {
                        "decode": decoded,
                        "workers": count,
                        "examples": seen,
                        "examples_per_s": seen / (end - start),
                        "examples_per_s_after_first_batch": (seen - after_first) / (end - first_batch_at),
                        "first_batch_s": first_batch_at - start,
                    }
                )
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=40)
    parser.add_argument("--stream-rows", type=int, default=1024)
    parser.add_argument("--stream-side", type=int, default=512)
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args()

    all_cpus = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {min(all_cpus)})  # part 1 on one core
    decode_rows = bench_decode(args.repeats)
    os.sched_setaffinity(0, all_cpus)
    print(f"Decode + normalise, {SIDE}x{SIDE}, one core, median of {args.repeats} (ratios to the bare decode)\n")
    print("| file | MB | bare decode | decode_sar | usual (log10 + np.percentile) |")
    print("|---|---|---|---|---|")
    for row in decode_rows:
        print(
            f"| {row['case']} | {row['file_mb']:.1f} | 1.00 ({row['bare_ms']:.1f} ms) "
            f"| {row['decode_sar_over_bare']:.2f} | {row['usual_over_bare']:.2f} |"
        )
    stream_rows = bench_streaming(args.stream_rows, args.stream_side)
    print(f"\nStreaming {args.stream_rows} rows of {args.stream_side}^2 uint16 zstd GeoTIFFs from 4 Parquet shards")
    print(f"({len(all_cpus)} CPUs available; 'no decode' reads the rows only, for reference)\n")
    print("| pipeline | DataLoader workers | examples/s, whole run | after the first batch | ratio to 0 workers |")
    print("|---|---|---|---|---|")
    for decoded in (False, True):
        rows = [row for row in stream_rows if row["decode"] is decoded]
        base = rows[0]["examples_per_s_after_first_batch"]
        for row in rows:
            after = row["examples_per_s_after_first_batch"]
            label = "SARDecode + SARCollate" if decoded else "no decode"
            print(f"| {label} | {row['workers']} | {row['examples_per_s']:.0f} | {after:.0f} | {after / base:.2f} |")
    if args.json:
        args.json.write_text(json.dumps({"decode": decode_rows, "streaming": stream_rows}, indent=2))


if __name__ == "__main__":
    main()
