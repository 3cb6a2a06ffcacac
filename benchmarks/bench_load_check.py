"""What checking downloaded files against the MANIFEST costs a non-streaming `sarlang1m.load` from the Hub.

A SYNTHETIC raw release (`sarlang1m synth`) is built, pushed to the offline Hub stand-in of the tests
(`tests/hub_server.py`, which speaks the Hub's HTTP protocol), and loaded non-streaming in fresh
processes with fresh caches: without the check (`verify_download=False`), with it (first load: every
downloaded file is hashed), each followed by a second load on the same cache (with the check, each
file was marked as checked, so only the markers are looked up). Report the ratios, measured in one
run (the machine is shared):

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
start = time.perf_counter()
data = sarlang1m.load("vqa", source={repo!r}, revision="v1.0.0", verify_download={check})
rows = sum(d.num_rows for d in data.values())
emit({{"seconds": time.perf_counter() - start, "rows": rows}})
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
            env = hub.client_env(root / "push") | {"SARLANG1M_RELEASES_FILE": str(root / "releases.json")}
            push = [sys.executable, "-m", "sarlang1m.cli", "push", str(release), "--repo", REPO, "--version", "1.0.0"]
            subprocess.run(push, check=True, capture_output=True, env=env)
            results: dict[str, list[float]] = {}
            rows = 0
            for attempt in range(args.repeat):
                for check in (False, True):
                    home = root / f"load-{check}-{attempt}"
                    client = hub.client_env(home) | {"SARLANG1M_RELEASES_FILE": str(root / "releases.json")}
                    for load in ("first", "again"):  # again: the same cache (datasets' Arrow cache, our markers)
                        done = run_client(_LOAD.format(repo=REPO, check=check), client, timeout=3600)
                        results.setdefault(f"{load}_{'check' if check else 'no_check'}", []).append(done["seconds"])
                        rows = done["rows"]
                    shutil.rmtree(home, ignore_errors=True)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    best = {name: min(times) for name, times in results.items()}
    summary = {
        "images": args.images,
        "rows": rows,
        "seconds": best,
        "ratio_first_load_check_over_no_check": best["first_check"] / best["first_no_check"],
        "ratio_cached_load_check_over_no_check": best["again_check"] / best["again_no_check"],
    }
    print(json.dumps(summary, indent=2))
    if args.json:
        args.json.write_text(json.dumps(summary, indent=2) + "\n")


if __name__ == "__main__":
    main()
