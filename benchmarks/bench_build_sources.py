"""The build from the authors' upload as downloaded (zip archives, read in place) against the unzipped tree.

The same SYNTHETIC raw release (`sarlang1m synth`, same seed) is written twice: unzipped, and as the upload
(`--upload --sardet-archive`: Text.zip, the two image archives and SARDet-100K as one archive). Each form is
built in its own process (as `bench_build`), in A-B-B-A order per repeat so that drift of this shared
machine falls on both; the fastest build of each form is kept. Reported, from one run:
- the wall-time ratio archives / unzipped tree (target: at most 1.15);
- the peak extra disk of each build: its work folder and output, polled while it runs, beyond the inputs;
- the inputs' sizes: what the archives take, and what unzipping them would add.

    python benchmarks/bench_build_sources.py --images 1000 --real-sizes [--num-proc 1] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import tempfile
import threading
import time
from pathlib import Path

from bench_build import build_once, synth

FORMS = {"tree": (), "archives": ("--upload", "--sardet-archive")}


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--images", type=int, default=1000, help="images of the synthetic release")
    parser.add_argument("--real-sizes", action="store_true", help="each source at its real pixel size and type")
    parser.add_argument("--num-proc", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=2, help="A-B-B-A rounds; the fastest build of each form is kept")
    parser.add_argument("--max-shard-size", default="500MB", help="as `build --max-shard-size`")
    parser.add_argument("--workdir", type=Path, help="keep the synthetic raw releases here between runs")
    parser.add_argument("--json", type=Path, help="write the results here")
    args = parser.parse_args()

    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="sarlang1m-bench-sources-"))
    try:
        raws = {form: synth(workdir, args.images, real_sizes=args.real_sizes, options=o) for form, o in FORMS.items()}
        runs: dict[str, list[dict]] = {form: [] for form in FORMS}
        for _ in range(args.repeat):
            for form in ("tree", "archives", "archives", "tree"):
                dest = workdir / f"out-{form}"
                runs[form].append(build_watching_disk(raws[form], dest, args.num_proc, args.max_shard_size))
        summary = report(raws, runs)
        if args.json:
            args.json.write_text(json.dumps(summary, indent=2) + "\n")
    finally:
        if args.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)


def report(raws: dict[str, Path], runs: dict[str, list[dict]]) -> dict:
    mib = 2**20
    best = {form: min(r["seconds"] for r in form_runs) for form, form_runs in runs.items()}
    summary: dict = {"images": runs["tree"][0]["images"], "texts": runs["tree"][0]["texts"], "forms": {}}
    for form, form_runs in runs.items():
        entry = {
            "input_mib": round(disk_bytes(raws[form]) / mib, 1),
            "peak_extra_disk_mib": round(max(r["peak_disk"] for r in form_runs) / mib, 1),
            "output_mib": round(form_runs[0]["output"] / mib, 1),
            "peak_rss_mib": round(max(r["peak_kib"] for r in form_runs) / 1024),
            "seconds": [round(r["seconds"], 2) for r in form_runs],
        }
        summary["forms"][form] = entry
        print(
            f"{form:>8}: inputs {entry['input_mib']:8.1f} MiB, peak extra disk {entry['peak_extra_disk_mib']:8.1f} MiB "
            f"(output {entry['output_mib']:.1f} MiB), peak RSS {entry['peak_rss_mib']} MiB, builds {entry['seconds']} s"
        )
    summary["time_ratio_archives_over_tree"] = round(best["archives"] / best["tree"], 3)
    print(f"build time, archives vs unzipped tree: x{summary['time_ratio_archives_over_tree']:.3f} (target <= 1.15)")
    unzip = summary["forms"]["tree"]["input_mib"]
    print(f"unzipping the archives first would take {unzip:.1f} MiB more disk than building from them")
    return summary


if __name__ == "__main__":
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    start = time.time()
    main()
    print(f"(benchmark took {time.time() - start:.0f} s)")
