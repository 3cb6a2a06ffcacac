"""Build throughput and peak memory at several scales, and the speed-up of worker processes.

Each build runs in its own process so that its peak resident memory (ru_maxrss of the largest process)
is measured alone. Peak memory is bounded by the shard being written (its row groups and the native
buffers of the Parquet writer), not by the number of images: compare scales whose shards are full, or
pass a smaller --max-shard-size. The raw releases are SYNTHETIC (`sarlang1m synth`), generated once per scale.
Report ratios measured in one run (the machine is shared and noisy): the memory ratio between scales
10x apart, and the throughput ratio of --num-proc 2 over 1.

    python benchmarks/bench_build.py --scales 10000 100000 --num-proc 1 2 [--max-shard-size 500MB] [--json out.json]
    python benchmarks/bench_build.py --scales 400 --real-sizes --num-proc 1 2   # each source at its real size
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

_CHILD = """
import json, resource, sys, time
from sarlang1m.build.release import build_release
start = time.perf_counter()
result = build_release(
    sys.argv[1], sys.argv[2], num_proc=int(sys.argv[3]), max_shard_size=sys.argv[4], progress=False, overwrite=True
)
seconds = time.perf_counter() - start
usage = resource.getrusage
peak_kib = max(usage(resource.RUSAGE_SELF).ru_maxrss, usage(resource.RUSAGE_CHILDREN).ru_maxrss)
cpu = sum(u.ru_utime + u.ru_stime for u in (usage(resource.RUSAGE_SELF), usage(resource.RUSAGE_CHILDREN)))
print(json.dumps(
    {"seconds": seconds, "cpu_seconds": cpu, "images": result.rows, "texts": result.texts, "peak_kib": peak_kib}
))
"""


def synth(
    root: Path, images: int, image_size: int | None = None, real_sizes: bool = False, options: tuple[str, ...] = ()
) -> Path:
    """A synthetic raw release, written once per set of arguments; `options` are more `synth` flags (--upload)."""
    suffix = "-real" if real_sizes else "" if image_size is None else f"-{image_size}px"
    raw = root / f"raw-{images}{suffix}{''.join(o.replace('--', '-') for o in options)}"
    if not raw.exists():
        command = [sys.executable, "-m", "sarlang1m.cli", "synth", str(raw), "--images", str(images), "--workers", "2"]
        if image_size is not None:
            command += ["--image-size", str(image_size)]
        if real_sizes:
            command += ["--real-sizes"]
        subprocess.run([*command, *options], check=True, capture_output=True)
    return raw


def build_once(raw: Path, out: Path, num_proc: int, max_shard_size: str) -> dict:
    command = [sys.executable, "-c", _CHILD, str(raw), str(out), str(num_proc), max_shard_size]
    done = subprocess.run(command, check=True, capture_output=True, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scales", type=int, nargs="+", default=[1000, 10000], help="images per synthetic release")
    parser.add_argument("--num-proc", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--repeat", type=int, default=2, help="builds per setting; the fastest is kept")
    parser.add_argument("--max-shard-size", default="500MB", help="as `build --max-shard-size`")
    sizes = parser.add_mutually_exclusive_group()
    sizes.add_argument("--image-size", type=int, help="side of every synthetic image (default: small)")
    sizes.add_argument("--real-sizes", action="store_true", help="each source at its real pixel size and type")
    parser.add_argument("--workdir", type=Path, help="keep the synthetic raw releases here between runs")
    parser.add_argument("--json", type=Path, help="write the results here")
    args = parser.parse_args()

    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="sarlang1m-bench-"))
    results = []
    try:
        for scale in args.scales:
            raw = synth(workdir, scale, args.image_size, args.real_sizes)
            for num_proc in args.num_proc:
                out = workdir / f"out-{raw.name}-{num_proc}"
                runs = []
                for _ in range(args.repeat):  # every repeat starts without an output to replace
                    shutil.rmtree(out, ignore_errors=True)
                    runs.append(build_once(raw, out, num_proc, args.max_shard_size))
                best = min(runs, key=lambda r: r["seconds"])
                output_mib = sum(p.stat().st_size for p in out.rglob("*") if p.is_file()) / 2**20
                row = {
                    "images": scale,
                    "num_proc": num_proc,
                    "image_rows": best["images"],
                    "texts": best["texts"],
                    "images_per_s": best["images"] / best["seconds"],
                    "texts_per_s": best["texts"] / best["seconds"],
                    "peak_rss_mib": max(r["peak_kib"] for r in runs) / 1024,
                    "output_mib": output_mib,
                    "output_mib_per_s": output_mib / best["seconds"],
                    "seconds": [round(r["seconds"], 2) for r in runs],
                }
                results.append(row)
                print(
                    f"{scale:>7} images, --num-proc {num_proc}: {row['images_per_s']:8.0f} images/s "
                    f"{row['texts_per_s']:9.0f} texts/s, {row['output_mib_per_s']:6.1f} MiB/s written, "
                    f"peak RSS {row['peak_rss_mib']:6.0f} MiB"
                )
        summary = {"runs": results}
        by = {(r["images"], r["num_proc"]): r for r in results}
        small, large = min(args.scales), max(args.scales)
        for num_proc in args.num_proc:
            ratio = by[(large, num_proc)]["peak_rss_mib"] / by[(small, num_proc)]["peak_rss_mib"]
            summary[f"peak_memory_ratio_{large}_over_{small}_num_proc_{num_proc}"] = round(ratio, 3)
            print(f"peak memory, {large} vs {small} images (--num-proc {num_proc}): x{ratio:.2f}")
        if 1 in args.num_proc and 2 in args.num_proc:
            for scale in args.scales:
                speedup = by[(scale, 2)]["images_per_s"] / by[(scale, 1)]["images_per_s"]
                summary[f"speedup_2_over_1_at_{scale}"] = round(speedup, 3)
                print(f"throughput, --num-proc 2 vs 1 at {scale} images: x{speedup:.2f}")
        if args.json:
            args.json.write_text(json.dumps(summary, indent=2) + "\n")
    finally:
        if args.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    start = time.time()
    main()
    print(f"(benchmark took {time.time() - start:.0f} s)")
