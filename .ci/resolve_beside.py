"""Whether sarlang1m installs beside a tool (`pip install TOOL .`), resolved by pip without installing anything.

    python .ci/resolve_beside.py "llamafactory==0.9.5" --expect datasets==4.0.0

torch is named too (`torch==2.13.0`, as the README installs it), so that pip keeps that build rather than
choosing another for the tool. Prints the versions pip picked for the libraries that matter here; exits
non-zero when pip cannot resolve the set, or when a version named by --expect is not the one picked.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHOWN = ("sarlang1m", "datasets", "huggingface-hub", "pyarrow", "numpy", "torch", "transformers")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("tool", help="the tool's requirement, e.g. llamafactory==0.9.5")
    parser.add_argument("--expect", action="append", default=[], help="NAME==VERSION that pip must pick")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        report = Path(scratch) / "report.json"
        command = [sys.executable, "-m", "pip", "install", "--quiet", "--dry-run", "--ignore-installed"]
        command += ["--report", str(report), "torch==2.13.0", args.tool, str(ROOT)]
        if subprocess.run(command, check=False).returncode:
            print(f"pip cannot install sarlang1m beside {args.tool}", file=sys.stderr)
            return 1
        picked = {
            item["metadata"]["name"].lower().replace("_", "-"): item["metadata"]["version"]
            for item in json.loads(report.read_text())["install"]
        }
    tool = re.split(r"[=<>!~\[; ]", args.tool, maxsplit=1)[0].lower().replace("_", "-")
    shown = ", ".join(f"{name} {picked[name]}" for name in (tool, *SHOWN) if name in picked)
    print(f"beside {args.tool}: {shown}")
    wrong = [e for e in args.expect if picked.get(e.split("==")[0].lower().replace("_", "-")) != e.split("==")[1]]
    if wrong:
        print(f"expected {', '.join(wrong)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
