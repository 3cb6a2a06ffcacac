"""The build from the authors' upload as downloaded (zip archives, read in place) against the unzipped tree.

The same SYNTHETIC raw release (`sarlang1m synth`, same seed) is written unzipped (`tree`) and as the upload
(`--upload --sardet-archive`: Text.zip, the two image archives and SARDet-100K as one archive, every member
deflated, as `zip` does by default: `deflated`); a copy of those archives with every member stored
(`stored`, as `zip -n .png:.tif:.jpg` writes already-compressed files) shows what inflating costs. Each
form is built in its own process (as `bench_build`), in A-B-C-C-B-A order per round so that drift of this
shared machine falls on all; the fastest build of each form is kept. Reported, from one run:
- the ratio of each archive form over the tree, in wall time and in CPU time (user + system, all the
  build's processes: less sensitive to other work on a shared machine) (target: at most 1.15);
- the same ratios for reading alone: every input image and text file read once through `raw.files`;
- what unzipping the deflated archives takes (the step a build from archives saves), and the ratio of the
  build from them over unzip + build from the tree;
- the peak extra disk of each build: its work folder and output, polled while it runs, beyond the inputs;
  and the inputs' sizes (unzipping adds the tree's).

    python benchmarks/bench_build_sources.py --images 1000 --real-sizes [--num-proc 1] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from pathlib import Path

from bench_build import build_once, synth

ROUND = ("tree", "deflated", "stored", "stored", "deflated", "tree")
_TIMES = ("seconds", "cpu_seconds")
_MIB = 2**20

_READ = """
import json, sys, time
from sarlang1m.raw.files import read_ref, sha256_of
from sarlang1m.raw.layout import open_layout
start, cpu = time.perf_counter(), time.process_time()
layout = open_layout(sys.argv[1])
size = sum(len(read_ref(file.ref, 1 << 30)) for _, file in layout.image_files())
for text in layout.text_files:
    sha256_of(text.file)
seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
print(json.dumps({"seconds": seconds, "cpu_seconds": cpu, "bytes": size}))
"""


def disk_bytes(folder: Path) -> int:
    """Bytes allocated on disk under `folder` (blocks, not apparent sizes)."""
    total = 0
    for parent, _, names in os.walk(folder):
        for name in names:
            try:
                total += os.lstat(os.path.join(parent, name)).st_blocks * 512
            except FileNotFoundError:  # removed while walking (the build's work folder)
                continue
    return total


def stored_copy(upload: Path) -> Path:
    """The upload with every archive re-packed, its members stored instead of deflated (made once)."""
    target = upload.with_name(f"{upload.name}-stored")
    if target.exists():
        return target
    partial = upload.with_name(f".{target.name}.partial")
    shutil.rmtree(partial, ignore_errors=True)
    shutil.copytree(upload, partial, ignore=shutil.ignore_patterns("*.zip"))
    for archive in sorted(upload.glob("*.zip")):
        with zipfile.ZipFile(archive) as source, zipfile.ZipFile(partial / archive.name, "w") as stored:
            for info in source.infolist():
                stored.writestr(info, source.read(info), compress_type=zipfile.ZIP_STORED)
    partial.rename(target)
    return target


def build_watching_disk(raw: Path, dest: Path, num_proc: int, max_shard_size: str) -> dict:
    """One build into the empty folder `dest`, its peak disk use (work folder + output) sampled every 50 ms."""
    shutil.rmtree(dest, ignore_errors=True)
    dest.mkdir(parents=True)
    done: dict = {}
    worker = threading.Thread(target=lambda: done.update(build_once(raw, dest / "release", num_proc, max_shard_size)))
    worker.start()
    peak = 0
    while worker.is_alive():
        peak = max(peak, disk_bytes(dest))
        time.sleep(0.05)
    worker.join()
    if not done:
        raise RuntimeError(f"the build of {raw} failed")
    return {**done, "peak_disk": max(peak, disk_bytes(dest)), "output": disk_bytes(dest / "release")}


def read_once(raw: Path) -> dict:
    """Every input image and text file of `raw` read once through `raw.files`, in a fresh process."""
    done = subprocess.run([sys.executable, "-c", _READ, str(raw)], check=True, capture_output=True, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def unzip_once(upload: Path, dest: Path) -> dict:
    """Every archive of the upload extracted into `dest` (what a user does before building from a tree)."""
    shutil.rmtree(dest, ignore_errors=True)
    start, cpu = time.perf_counter(), time.process_time()
    for archive in sorted(upload.glob("*.zip")):
        with zipfile.ZipFile(archive) as opened:
            opened.extractall(dest)
    result = {"seconds": time.perf_counter() - start, "cpu_seconds": time.process_time() - cpu}
    shutil.rmtree(dest, ignore_errors=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--images", type=int, default=1000, help="images of the synthetic release")
    parser.add_argument("--real-sizes", action="store_true", help="each source at its real pixel size and type")
    parser.add_argument("--num-proc", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=2, help="rounds; the fastest build of each form is kept")
    parser.add_argument("--max-shard-size", default="500MB", help="as `build --max-shard-size`")
    parser.add_argument("--workdir", type=Path, help="keep the synthetic raw releases here between runs")
    parser.add_argument("--json", type=Path, help="write the results here")
    args = parser.parse_args()

    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="sarlang1m-bench-sources-"))
    try:
        upload = synth(workdir, args.images, real_sizes=args.real_sizes, options=("--upload", "--sardet-archive"))
        raws = {"tree": synth(workdir, args.images, real_sizes=args.real_sizes), "deflated": upload}
        raws["stored"] = stored_copy(upload)
        builds: dict[str, list[dict]] = {form: [] for form in raws}
        reads: dict[str, list[dict]] = {form: [] for form in raws}
        unzips = []
        for _ in range(args.repeat):
            unzips.append(unzip_once(upload, workdir / "unzipped"))
            for form in ROUND:
                reads[form].append(read_once(raws[form]))
                dest = workdir / f"out-{form}"
                builds[form].append(build_watching_disk(raws[form], dest, args.num_proc, args.max_shard_size))
        summary = report(raws, builds, reads, unzips)
        if args.json:
            args.json.write_text(json.dumps(summary, indent=2) + "\n")
    finally:
        if args.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)


def best(runs: list[dict]) -> dict[str, float]:
    return {key: min(r[key] for r in runs) for key in _TIMES}


def report(raws: dict[str, Path], builds: dict, reads: dict, unzips: list[dict]) -> dict:
    summary: dict = {"images": builds["tree"][0]["images"], "texts": builds["tree"][0]["texts"], "forms": {}}
    for form, runs in builds.items():
        entry = {
            "input_mib": round(disk_bytes(raws[form]) / _MIB, 1),
            "peak_extra_disk_mib": round(max(r["peak_disk"] for r in runs) / _MIB, 1),
            "output_mib": round(runs[0]["output"] / _MIB, 1),
            "peak_rss_mib": round(max(r["peak_kib"] for r in runs) / 1024),
            "build_seconds": [round(r["seconds"], 2) for r in runs],
            "build_cpu_seconds": [round(r["cpu_seconds"], 2) for r in runs],
            "read_seconds": [round(r["seconds"], 2) for r in reads[form]],
            "read_cpu_seconds": [round(r["cpu_seconds"], 2) for r in reads[form]],
        }
        if form != "tree":
            for name, runs_of in (("build", builds), ("read", reads)):
                mine, tree = best(runs_of[form]), best(runs_of["tree"])
                entry[f"{name}_ratio_over_tree"] = {key: round(mine[key] / tree[key], 3) for key in _TIMES}
        summary["forms"][form] = entry
        print(f"{form:>8}: " + ", ".join(f"{key} {value}" for key, value in entry.items()))
    unzip, tree, deflated = best(unzips), best(builds["tree"]), best(builds["deflated"])
    summary["unzip"] = {key: round(unzip[key], 2) for key in _TIMES}
    summary["deflated_over_unzip_and_tree"] = {
        key: round(deflated[key] / (unzip[key] + tree[key]), 3) for key in _TIMES
    }
    print(f"   unzip: {summary['unzip']} (the step a build from the archives saves)")
    print(f"deflated archives vs unzip + tree: {summary['deflated_over_unzip_and_tree']}")
    return summary


if __name__ == "__main__":
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    start = time.time()
    main()
    print(f"(benchmark took {time.time() - start:.0f} s)")
