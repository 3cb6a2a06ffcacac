"""The full-size release, simulated: synth --paper-scale, build with 1 and 2 processes, verify, stream.

The raw release is SYNTHETIC (118,331 images and 1,126,277 texts in the paper's proportions, small
pixels). Reported, in one run:
- build wall time, peak resident memory (largest process) and output size, for --num-proc 1 and 2, and
  the throughput ratio of 2 processes over 1;
- determinism: both builds must give identical MANIFEST file hashes;
- verify time;
- streaming at size: a whole config streamed with SAR decoding (`sarlang1m.load(..., decode="sar")`),
  examples/s, against a bare pyarrow scan of the same shards (the ceiling), as a ratio.

    python benchmarks/bench_paper_scale.py --workdir /scratch/sarlang1m-paper [--shard-multiple 2] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

_BUILD = """
import json, resource, sys, time
from sarlang1m.build.release import build_release
start = time.perf_counter()
result = build_release(sys.argv[1], sys.argv[2], num_proc=int(sys.argv[3]), shard_multiple=int(sys.argv[4]),
                       progress=False, overwrite=True)
seconds = time.perf_counter() - start
usage = resource.getrusage
peak = max(usage(resource.RUSAGE_SELF).ru_maxrss, usage(resource.RUSAGE_CHILDREN).ru_maxrss)
print(json.dumps({"seconds": seconds, "images": result.rows, "texts": result.texts, "peak_kib": peak}))
"""

_STREAM = """
import json, sys, time
import pyarrow.parquet as pq
from pathlib import Path
from sarlang1m import load, schema

release, config, split = Path(sys.argv[1]), sys.argv[2], sys.argv[3]
files = sorted(release.glob(schema.config_spec(config).split_glob(split)))
start = time.perf_counter()
rows = sum(batch.num_rows for f in files for batch in pq.ParquetFile(f).iter_batches(batch_size=256))
bare = time.perf_counter() - start
start = time.perf_counter()
decoded = sar = 0
for example in load(config, split=split, source=release, streaming=True, decode="sar"):
    decoded += 1
    sar += example["pixels_source"] == "sar"
seconds = time.perf_counter() - start
print(json.dumps({"rows": rows, "bare_seconds": bare, "decoded": decoded, "from_sar": sar, "seconds": seconds}))
"""


def run_json(code: str, *args: str) -> dict:
    done = subprocess.run([sys.executable, "-c", code, *args], check=True, capture_output=True, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def folder_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workdir", type=Path, required=True, help="holds the raw release and the builds (~3 GB)")
    parser.add_argument("--shard-multiple", type=int, default=2, help="as `build --shard-multiple`")
    parser.add_argument("--stream-config", default="sarvqa2")
    parser.add_argument("--stream-split", default="train")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    raw = args.workdir / "raw"
    report: dict = {}
    if not raw.exists():
        start = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "sarlang1m.cli", "synth", str(raw), "--paper-scale", "--workers", "2", "--quiet"],
            check=True,
        )
        report["synth_seconds"] = round(time.perf_counter() - start, 1)
    report["raw_bytes"] = folder_bytes(raw)
    builds = {}
    for num_proc in (1, 2):
        out = args.workdir / f"release-{num_proc}"
        result = run_json(_BUILD, str(raw), str(out), str(num_proc), str(args.shard_multiple))
        result["output_bytes"] = folder_bytes(out)
        builds[num_proc] = result
        print(
            f"build --num-proc {num_proc}: {result['seconds']:.1f} s, {result['images']} image rows, "
            f"{result['texts']} texts, peak RSS {result['peak_kib'] / 1024:.0f} MiB, "
            f"output {result['output_bytes'] / 2**20:.0f} MiB"
        )
    report["builds"] = builds
    report["speedup_2_over_1"] = round(builds[1]["seconds"] / builds[2]["seconds"], 3)
    print(f"throughput, 2 processes over 1: x{report['speedup_2_over_1']:.2f}")
    manifests = [json.loads((args.workdir / f"release-{n}" / "MANIFEST.json").read_text()) for n in (1, 2)]
    report["identical_manifest_files"] = manifests[0]["files"] == manifests[1]["files"]
    print(f"identical MANIFEST file hashes (1 vs 2 processes): {report['identical_manifest_files']}")
    start = time.perf_counter()
    verify = subprocess.run(
        [sys.executable, "-m", "sarlang1m.cli", "verify", str(args.workdir / "release-2")],
        capture_output=True,
        text=True,
    )
    report["verify"] = {"ok": verify.returncode == 0, "seconds": round(time.perf_counter() - start, 1)}
    print(f"verify: {verify.stdout.strip()} ({report['verify']['seconds']} s)")
    stream = run_json(_STREAM, str(args.workdir / "release-2"), args.stream_config, args.stream_split)
    stream["examples_per_s"] = stream["decoded"] / stream["seconds"]
    stream["bare_rows_per_s"] = stream["rows"] / stream["bare_seconds"]
    stream["ratio_to_bare_scan"] = stream["examples_per_s"] / stream["bare_rows_per_s"]
    report["stream"] = stream
    print(
        f"streaming {args.stream_config}/{args.stream_split} with SAR decoding: {stream['decoded']} examples "
        f"({stream['from_sar']} from GeoTIFFs), {stream['examples_per_s']:.0f} examples/s; bare pyarrow scan "
        f"{stream['bare_rows_per_s']:.0f} rows/s; ratio {stream['ratio_to_bare_scan']:.3f}"
    )
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    main()
