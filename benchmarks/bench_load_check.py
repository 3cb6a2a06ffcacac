"""What checking downloaded files against the MANIFEST costs a non-streaming `sarlang1m.load` from the Hub.

A SYNTHETIC raw release (`sarlang1m synth`) is built, pushed to the offline Hub stand-in of the tests
(`tests/hub_server/`, which speaks the Hub's HTTP protocol), and loaded non-streaming in a fresh
process with a fresh cache without the check (`verify_download=False`); then the check that
`verify_download=True` adds is timed on its own in the same process, on the same cache: first when
every downloaded file is hashed, then again when each is marked as checked (a later load). Report
the ratios to the load, measured in one run (the machine is shared):

    python benchmarks/bench_load_check.py --images 2000 [--image-size 256] [--repeat 3] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from hub_server import HubServer, run_client

REPO = "bench/sarlang1m-load-check"

_LOAD = """
import time, sarlang1m
from sarlang1m.release_files import check_downloaded_files
from sarlang1m.resolve import resolve_release
repo, commit = resolve_release({repo!r}, "v1.0.0")
start = time.perf_counter()
data = sarlang1m.load("vqa", source=repo, revision=commit, verify_download=False)
load = time.perf_counter() - start
start = time.perf_counter()
hashed = check_downloaded_files(repo, commit)  # what load(verify_download=True) adds: hash every downloaded file
check = time.perf_counter() - start
start = time.perf_counter()
again = check_downloaded_files(repo, commit)  # a later load on the same cache: markers only
check_again = time.perf_counter() - start
assert hashed > 0 and again == 0
emit({{"load": load, "check": check, "check_again": check_again, "files": hashed,
       "rows": sum(d.num_rows for d in data.values())}})
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--images", type=int, default=2000, help="images of the synthetic raw release")
    parser.add_argument("--image-size", type=int, default=None)
    parser.add_argument("--repeat", type=int, default=3, help="loads per setting; the fastest is kept")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="sarlang1m-bench-load-"))
    try:
        raw, release = root / "raw", root / "release"
        synth = [sys.executable, "-m", "sarlang1m.cli", "synth", str(raw), "--images", str(args.images), "--quiet"]
        if args.image_size:
            synth += ["--image-size", str(args.image_size)]
        subprocess.run(synth, check=True, capture_output=True)
        build = [sys.executable, "-m", "sarlang1m.cli", "build", str(raw), "--out", str(release), "--repo", REPO]
        subprocess.run(build, check=True, capture_output=True)
        with HubServer(root / "hub") as hub:
            env = hub.client_env(root / "push") | {"SARLANG1M_RELEASES_FILE": str(root / "r.json")}
            push = [sys.executable, "-m", "sarlang1m.cli", "push", str(release), "--repo", REPO, "--version", "1.0.0"]
            subprocess.run(push, check=True, capture_output=True, env=env)
            results: dict[str, list[float]] = {"load": [], "check": [], "check_again": []}
            done: dict = {}
            for attempt in range(args.repeat):
                client = hub.client_env(root / f"load-{attempt}") | {"SARLANG1M_RELEASES_FILE": str(root / "r.json")}
                done = run_client(_LOAD.format(repo=REPO), client, timeout=3600)
                for name in results:
                    results[name].append(done[name])
                shutil.rmtree(root / f"load-{attempt}", ignore_errors=True)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    best = {name: min(times) for name, times in results.items()}
    summary = {
        "images": args.images,
        "rows": done.get("rows"),
        "files_hashed": done.get("files"),
        "seconds": best,
        "ratio_check_over_load_without_check": best["check"] / best["load"],
        "ratio_cached_check_over_load_without_check": best["check_again"] / best["load"],
    }
    print(json.dumps(summary, indent=2))
    if args.json:
        args.json.write_text(json.dumps(summary, indent=2) + "\n")


if __name__ == "__main__":
    main()
