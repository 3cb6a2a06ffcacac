"""Decode + normalise cost against a bare tifffile decode, and streaming throughput with DataLoader workers.

Part 1, on one core, the same in-memory synthetic 1024^2 GeoTIFFs for every method. Each trial runs every
method once, in an order that rotates from trial to trial, so that a slower minute of a shared machine
hits all methods alike; each method's cost is the median over trials of its time divided by the bare
decode's time in the same trial. Times are the CPU time of the calling thread (``time.thread_time``):
on a machine shared with other jobs, the time spent waiting for a core is not the method's cost.

- ``bare``: ``tifffile.imread``, single-threaded as in decode_sar (what any reader must pay);
- ``decode_sar``: `sarlang1m.decode_sar` with its defaults (percentile stretch, ``approximate``);
- ``exact``: the same with ``percentile_method="exact"``;
- ``usual``: ``tifffile.imread``, then per band ``log10`` of every pixel, ``np.percentile``, clip, scale.

The target (issue 10): ``decode_sar`` / ``bare`` <= 1.30 for the float32 amplitude band (zstd, tiled).
``--profile`` also times the steps of that band's normalisation, as ratios to the same bare decode.

Part 2: examples/s of a streaming dataset (synthetic Parquet shards of GeoTIFF rows) through
`SARDecode` and a torch DataLoader with 0 and 2 workers, same files, one run.

    python benchmarks/bench_decode.py [--trials 60] [--profile] [--no-streaming] [--json results.json]

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
from sarlang1m.sar import normalize, percentiles
from sarlang1m.sar.geotiff import read_geotiff

SIDE = 1024
#: decode_sar / bare decode allowed for the float32 amplitude band.
TARGET_RATIO = 1.30
TARGET_CASE = "float32 amplitude zstd"


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
    if dtype == "uint8 amplitude":  # 8-bit amplitude, as OpenEarthMap-SAR stores it
        return np.clip(np.sqrt(intensity) * 60, 0, 255).astype(np.uint8)
    return np.sqrt(intensity).astype(np.float32)


#: (label, synthetic pixels, tifffile compression, radiometry). The radiometry is passed to decode_sar as
#: `SARDecode` passes the release's ``sar_radiometry`` column (the default ``decode="sar"`` path); without
#: it, a float band costs one more reduction to infer it from the sign of its values.
CASES = [
    (TARGET_CASE, "float32", "zstd", "amplitude"),
    ("uint16 amplitude zstd", "uint16", "zstd", "amplitude"),
    ("uint8 amplitude deflate", "uint8 amplitude", "zlib", "amplitude"),
    ("uint8 display deflate (x / 255)", "uint8", "zlib", "display"),
    ("complex64 zstd", "complex64", "zstd", "complex"),
    ("complex64 uncompressed", "complex64", None, "complex"),
]


def tiff_bytes(pixels: np.ndarray, compression: str | None) -> bytes:
    buffer = io.BytesIO()
    tifffile.imwrite(buffer, pixels, compression=compression, tile=(256, 256))
    return buffer.getvalue()


def bare_decode(data: bytes) -> np.ndarray:
    """tifffile alone, single-threaded like decode_sar (parallelism belongs to the DataLoader)."""
    return tifffile.imread(io.BytesIO(data), maxworkers=1)


def usual_way(data: bytes, radiometry: str) -> np.ndarray:
    """The common recipe: dB of every pixel, np.percentile, clip and scale (display: / 255)."""
    pixels = bare_decode(data)
    if radiometry == "display":
        return pixels.astype(np.float32) / 255
    with np.errstate(divide="ignore"):
        decibels = 10 * np.log10(np.abs(pixels) ** 2) if pixels.dtype.kind == "c" else 20 * np.log10(pixels)
    finite = np.isfinite(decibels)
    low, high = np.percentile(decibels[finite], [2, 98])
    return np.where(finite, np.clip((decibels - low) / (high - low), 0, 1), 0).astype(np.float32)


def interleaved_ratios(
    methods: dict[str, Callable[[], object]], trials: int, baseline: str = "bare"
) -> tuple[dict[str, float], dict[str, float]]:
    """Per method: the median over trials of its thread CPU time over the baseline's in the same trial,
    and its median time. Every method runs once per trial (after one untimed warm-up round), in an
    order rotated from trial to trial."""
    names = list(methods)
    for name in names:
        methods[name]()
    times: dict[str, list[float]] = {name: [] for name in names}
    for trial in range(trials):
        shift = trial % len(names)
        for name in names[shift:] + names[:shift]:
            start = time.thread_time()
            methods[name]()
            times[name].append(time.thread_time() - start)
    ratios = {
        name: statistics.median(t / b for t, b in zip(times[name], times[baseline], strict=True)) for name in names
    }
    return ratios, {name: statistics.median(values) for name, values in times.items()}


def bench_decode(trials: int) -> list[dict]:
    rng = np.random.default_rng(0)
    rows = []
    for label, kind, compression, radiometry in CASES:
        data = tiff_bytes(synthetic_pixels(kind, rng), compression)
        ratios, medians = interleaved_ratios(
            {
                "bare": lambda data=data: bare_decode(data),
                "decode_sar": lambda data=data, r=radiometry: decode_sar(data, radiometry=r),
                "exact": lambda data=data, r=radiometry: decode_sar(data, radiometry=r, percentile_method="exact"),
                "usual": lambda data=data, r=radiometry: usual_way(data, r),
            },
            trials,
        )
        rows.append(
            {
                "case": label,
                "file_mb": len(data) / 1e6,
                "bare_ms": medians["bare"] * 1e3,
                "decode_sar_over_bare": ratios["decode_sar"],
                "exact_over_bare": ratios["exact"],
                "usual_over_bare": ratios["usual"],
            }
        )
    return rows


def profile_steps(trials: int) -> dict[str, float]:
    """The default normalisation of the float32 band, step by step, each as a ratio to the bare decode
    (interleaved like `bench_decode`)."""
    data = tiff_bytes(synthetic_pixels("float32", np.random.default_rng(0)), "zstd")
    pixels = bare_decode(data)
    band = normalize.linear_band(pixels, "amplitude")
    valid = normalize.validity(band, None)
    low_db, high_db = normalize.percentile_bounds_db(band, normalize.DEFAULT_PERCENTILES, valid)
    scale = normalize.scale_from_db(low_db, high_db)
    buffer = np.empty(band.values.shape, dtype=bool)
    sample = normalize.SortedSample(band.values, valid)
    work = np.empty_like(band.values)
    ratios, _ = interleaved_ratios(
        {
            "bare": lambda: bare_decode(data),
            "read_geotiff (header checks + decode)": lambda: read_geotiff(data),
            "validity (min, max)": lambda: normalize.validity(band, None),
            "sample histogram": lambda: normalize.SortedSample(band.values, valid),
            "one exact count": lambda: percentiles._count_at_most(band.values, sample[sample.size // 2], valid, buffer),
            "both percentiles (approximate)": lambda: normalize.percentile_bounds_db(
                band, normalize.DEFAULT_PERCENTILES, valid
            ),
            "both percentiles (exact)": lambda: normalize.percentile_bounds_db(
                band, normalize.DEFAULT_PERCENTILES, valid, "exact"
            ),
            "full 16-bit histogram (bincount)": lambda: np.bincount(band.values.view(np.uint32) >> 16),
            "log10, scale and clip (into a reused buffer)": lambda: normalize.apply_scale(band, scale, None, work),
            "normalize_band": lambda: normalize.normalize_band(pixels, "amplitude"),
            "decode_sar": lambda: decode_sar(data, radiometry="amplitude"),
        },
        trials,
    )
    return ratios


def write_stream_shards(folder: Path, rows: int, shards: int, side: int) -> None:
    """A release-like folder: Parquet shards under ``shards/`` whose rows name uint16 zstd GeoTIFFs stored
    as files under ``originals/`` (as a release stores them)."""
    import hashlib

    import datasets

    datasets.disable_progress_bars()
    rng = np.random.default_rng(1)
    per_shard = rows // shards
    (folder / "originals" / "dfc2023").mkdir(parents=True)
    (folder / "shards").mkdir()
    for shard in range(shards):
        records = []
        for i in range(per_shard):
            data = tiff_bytes(synthetic_pixels("uint16", rng, side), "zstd")
            path = f"originals/dfc2023/synthetic-{shard}-{i}.tif"
            (folder / path).write_bytes(data)
            records.append(
                {
                    "image_id": f"synthetic-{shard}-{i}",
                    "sar_path": path,
                    "sar_sha256": hashlib.sha256(data).hexdigest(),
                    "sar_bytes": len(data),
                    "sar_radiometry": "amplitude",
                    "polarizations": [],
                    "source": "dfc2023",
                }
            )
        shard_path = folder / "shards" / f"train-{shard:05d}-of-{shards:05d}.parquet"
        datasets.Dataset.from_list(records).to_parquet(shard_path)


def ids_only(examples: list[dict]) -> dict[str, list]:
    """Collate of the no-decode baseline: the ids only (the originals are not read)."""
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
                shards = str(Path(folder) / "shards")
                stream = datasets.load_dataset("parquet", data_dir=shards, split="train", streaming=True)
                source = SARDecode(root=folder).apply(stream, batch_size=4) if decoded else stream
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
    parser.add_argument("--trials", type=int, default=60)
    parser.add_argument("--profile", action="store_true", help="also time the float32 band's steps")
    parser.add_argument("--no-streaming", action="store_true", help="skip part 2")
    parser.add_argument("--stream-rows", type=int, default=1024)
    parser.add_argument("--stream-side", type=int, default=512)
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args()

    all_cpus = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {min(all_cpus)})  # part 1 on one core
    decode_rows = bench_decode(args.trials)
    steps = profile_steps(args.trials) if args.profile else {}
    os.sched_setaffinity(0, all_cpus)
    print(f"Decode + normalise, {SIDE}x{SIDE}, one core, {args.trials} interleaved trials")
    print("(median of per-trial ratios to the bare decode)\n")
    print("| file | MB | bare decode | decode_sar (approximate) | decode_sar exact | usual (log10 + np.percentile) |")
    print("|---|---|---|---|---|---|")
    for row in decode_rows:
        print(
            f"| {row['case']} | {row['file_mb']:.1f} | 1.00 ({row['bare_ms']:.1f} ms) "
            f"| {row['decode_sar_over_bare']:.2f} | {row['exact_over_bare']:.2f} | {row['usual_over_bare']:.2f} |"
        )
    target = next(row for row in decode_rows if row["case"] == TARGET_CASE)["decode_sar_over_bare"]
    verdict = "met" if target <= TARGET_RATIO else "NOT met"
    print(f"\nTarget: {TARGET_CASE} decode_sar <= {TARGET_RATIO:.2f} x bare: {target:.2f}, {verdict}")
    if steps:
        print("\nSteps of the float32 band's normalisation, ratio to the bare decode of the same trial\n")
        print("| step | cost / bare decode |")
        print("|---|---|")
        for name, ratio in steps.items():
            print(f"| {name} | {ratio:.3f} |")
    stream_rows = [] if args.no_streaming else bench_streaming(args.stream_rows, args.stream_side)
    if stream_rows:
        print(f"\nStreaming {args.stream_rows} rows of {args.stream_side}^2 uint16 zstd GeoTIFFs from 4 Parquet shards")
        print(f"({len(all_cpus)} CPUs available; 'no decode' reads the rows only, for reference)\n")
        print("| pipeline | DataLoader workers | examples/s, whole run | after the first batch | ratio to 0 workers |")
        print("|---|---|---|---|---|")
    for decoded in (False, True) if stream_rows else ():
        rows = [row for row in stream_rows if row["decode"] is decoded]
        base = rows[0]["examples_per_s_after_first_batch"]
        for row in rows:
            after = row["examples_per_s_after_first_batch"]
            label = "SARDecode + SARCollate" if decoded else "no decode"
            print(f"| {label} | {row['workers']} | {row['examples_per_s']:.0f} | {after:.0f} | {after / base:.2f} |")
    if args.json:
        figures = {"decode": decode_rows, "steps": steps, "streaming": stream_rows}
        args.json.write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
