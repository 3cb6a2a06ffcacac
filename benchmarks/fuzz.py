"""The long fuzzing run: the suite's fuzz properties with many more examples, a mutation campaign, atheris.

Three parts, each reporting counts (all inputs are synthetic):

1. ``properties``: ``tests/test_fuzz_texts.py``, ``tests/test_fuzz_decode.py`` and ``tests/test_fuzz_headers.py``
   (crafted GeoTIFF headers under a memory ceiling) under pytest with
   ``SARLANG1M_FUZZ_SCALE`` times their example budget; per property, the examples Hypothesis ran
   and how many passed or failed.
2. ``campaign``: for ``--minutes``, random mutations (bytes flipped, set, inserted, deleted, cut,
   spliced; TIFF tags rewritten) of seed files (valid GeoTIFFs of every type and codec, the tiny raw
   release's CSV and JSON, the regression corpus), each checked by the same invariant checks as the
   tests; counts per target and outcome. An input that breaks the contract is written to ``--out``.
3. ``atheris`` (in ``--parts``, by default; ``--atheris-minutes`` long; needs ``pip install atheris``, not
   a dependency of the project, and is skipped with a note without it): coverage-guided fuzzing of the
   same checks with libFuzzer, ``-rss_limit_mb`` bounding memory.

    python benchmarks/fuzz.py [--scale 30] [--minutes 5] [--atheris-minutes 5] [--out FOLDER]
                              [--parts properties,campaign,atheris] [--seed 0] [--json counts.json]

Counts depend on the time given and the machine; what matters is that the failure counts are 0.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import json
import logging
import os
import random
import re
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TESTS = ROOT / "tests"
sys.path.insert(0, str(TESTS))

TEXT_TARGETS = (("csv", "vqa"), ("csv", "captions"), ("json", "vqa"), ("json", "captions"), ("jsonl", "vqa"))

# ------------------------------------------------------------------------------------------ part 1


def run_properties(scale: float) -> dict[str, dict[str, int]]:
    """The fuzz tests with ``scale`` times the examples; per property: examples run, passing, failing."""
    env = {**os.environ, "SARLANG1M_FUZZ_SCALE": str(scale)}
    command = [
        sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:logging",
        "--hypothesis-show-statistics", "tests/test_fuzz_texts.py", "tests/test_fuzz_decode.py",
        "tests/test_fuzz_headers.py",
    ]  # fmt: skip
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    counts: dict[str, dict[str, int]] = {}
    current = None
    for line in done.stdout.splitlines():
        if match := re.match(r"tests/test_fuzz_\w+\.py::(\w+):", line):
            current = match[1]
        elif current and (match := re.search(r"(\d+) passing, (\d+) failing, and (\d+) invalid", line)):
            entry = counts.setdefault(current, collections.Counter())
            entry.update(passing=int(match[1]), failing=int(match[2]), invalid=int(match[3]))
    summary = done.stdout.strip().splitlines()[-1] if done.stdout.strip() else done.stderr[-500:]
    counts["pytest"] = {"exit_code": done.returncode, "summary": summary}  # type: ignore[dict-item]
    if done.returncode:
        print(done.stdout[-6000:], file=sys.stderr)
    return counts


# ------------------------------------------------------------------------------------------ part 2


def text_seeds() -> list[tuple[str, str, bytes]]:
    """(format, task, content) of valid text files: the tiny raw release's and the corpus's."""
    from fuzz_corpus import corpus_files
    from tiny_raw import make_tiny_raw

    found = []
    with tempfile.TemporaryDirectory() as folder:
        raw = make_tiny_raw(Path(folder) / "raw")
        for path in sorted((raw / "Text").rglob("*")):
            if path.is_file():
                found.append((path.suffix[1:], "captions" if "aption" in path.name else "vqa", path.read_bytes()))
    for suffix in (".csv", ".json", ".jsonl"):
        for path in corpus_files(suffix):
            found.append((suffix[1:], path.name.split("-", 1)[0], path.read_bytes()))
    turns = [{"from": "human", "value": "<image>Is there a ship?"}, {"from": "gpt", "value": "Yes."}]
    records = [{"images": [f"{i:07d}.jpg"], "conversations": turns} for i in range(3)]
    found.append(("jsonl", "vqa", "\n".join(json.dumps(r) for r in records).encode()))
    return found


def mutate_bytes(data: bytes, rng: random.Random, donors: list[bytes]) -> bytes:
    """1-4 byte-level mutations, weighted to the first 256 bytes (headers, IFDs, CSV headers)."""
    out = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        if not out:
            out += rng.choice(donors)[:64]
            continue
        head = rng.random() < 0.5
        at = rng.randrange(min(len(out), 256) if head else len(out))
        operation = rng.choice(["flip", "set", "insert", "delete", "cut", "splice", "repeat"])
        if operation == "flip":
            out[at] ^= 1 << rng.randrange(8)
        elif operation == "set":
            out[at] = rng.choice([0, 1, 0x7F, 0x80, 0xFF, ord('"'), ord(","), ord("\n"), ord("["), rng.randrange(256)])
        elif operation == "insert":
            out[at:at] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 8)))
        elif operation == "delete":
            del out[at : at + rng.randint(1, 16)]
        elif operation == "cut":
            del out[at:]
        elif operation == "splice":
            donor = rng.choice(donors)
            start = rng.randrange(len(donor))
            out[at:at] = donor[start : start + rng.randint(1, 64)]
        else:
            out[at:at] = out[at : at + rng.randint(1, 16)] * rng.randint(1, 64)
    return bytes(out)


def mutate_tag(data: bytes, index: int, rng: random.Random) -> bytes:
    """Rewrite the type, count or value of one tag of seed ``index`` with an interesting number."""
    import test_fuzz_decode as decode_tests

    _, _, tags, byteorder = decode_tests.seed_layout(index)
    entry, value_at, size = rng.choice(tags)
    at, size = rng.choice([(entry + 2, 2), (entry + 4, 4), (value_at, size)])
    number = rng.choice([*decode_tests.INTERESTING, rng.randrange(1 << 16)]) % (1 << (8 * size))
    out = bytearray(data)
    out[at : at + size] = number.to_bytes(size, "little" if byteorder == "<" else "big")[: max(0, len(out) - at)]
    return bytes(out)


def classify(check: Callable[[], object]) -> str:
    """Run one check: ``ok``/``refused`` by the contract, else ``VIOLATION: ...`` / ``UNEXPECTED: ...``."""
    try:
        result = check()
    except AssertionError as error:
        return f"VIOLATION: {str(error).splitlines()[0][:100]}"
    except Exception as error:  # anything else escaping the code under test
        return f"UNEXPECTED: {type(error).__name__}: {str(error)[:100]}"
    return "refused" if result is None or isinstance(result, Exception) else "ok"


def run_campaign(minutes: float, out: Path, seed: int) -> dict[str, collections.Counter]:
    """Random mutations for ``minutes``; counts per target and outcome; bad inputs saved under ``out``."""
    import test_fuzz_decode as decode_tests
    import test_fuzz_texts as text_tests

    rng = random.Random(seed)
    tiffs = [content for _, content in decode_tests.seeds()]
    texts = text_seeds()
    donors = tiffs[:8] + [content for _, _, content in texts]
    counts: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    deadline = time.monotonic() + minutes * 60
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        number = 0
        while time.monotonic() < deadline:
            number += 1
            if rng.random() < 0.5:
                index = rng.randrange(len(tiffs))
                data = mutate_tag(tiffs[index], index, rng) if rng.random() < 0.5 else tiffs[index]
                if data == tiffs[index] or rng.random() < 0.5:
                    data = mutate_bytes(data, rng, donors)
                target = "decode"
                outcome = classify(lambda data=data: decode_tests.check_everything(data))
                suffix = ".tif"
            else:
                fmt, task, content = rng.choice(texts)
                data = mutate_bytes(content, rng, donors)
                target = f"texts {fmt} {task}"
                path = folder / f"a.{fmt}"
                path.write_bytes(data)
                checks = {"csv": text_tests.check_csv, "jsonl": text_tests.check_jsonl}
                check = checks.get(fmt)
                if check is None:  # .json: the stdlib comparison applies to lists only
                    first = text_tests.decoded(data).lstrip()[:1]
                    check = text_tests.check_json_list if first == "[" else (lambda p, t, c: text_tests.read(p, t))
                outcome = classify(lambda path=path, task=task, check=check, data=data: check(path, task, data))
                suffix = f"-{task}.{fmt}"
            counts[target][outcome] += 1
            if outcome.startswith(("VIOLATION", "UNEXPECTED")):
                out.mkdir(parents=True, exist_ok=True)
                (out / f"campaign-{seed}-{number}{suffix}").write_bytes(data)
    return counts


# ------------------------------------------------------------------------------------------ part 3

_ATHERIS_HARNESS = """
import sys, tempfile, warnings, logging
from pathlib import Path
import atheris
sys.path.insert(0, {tests!r})
logging.getLogger("tifffile").setLevel(logging.CRITICAL)
warnings.simplefilter("ignore")
with atheris.instrument_imports(include=["sarlang1m", "json", "csv"]):
    import sarlang1m.decode, sarlang1m.raw.texts, sarlang1m.sar.geotiff
import test_fuzz_decode as decode_tests
import test_fuzz_texts as text_tests
FOLDER = Path(tempfile.mkdtemp())
TARGETS = {targets!r}

def test_one_input(data: bytes) -> None:
    if not data:
        return
    target, data = data[0] % (len(TARGETS) + 1), data[1:]
    if target == len(TARGETS):
        decode_tests.check_everything(data)
        return
    fmt, task = TARGETS[target]
    path = FOLDER / ("a." + fmt)
    path.write_bytes(data)
    if fmt == "csv":
        text_tests.check_csv(path, task, data)
    elif fmt == "jsonl":
        text_tests.check_jsonl(path, task, data)
    elif text_tests.decoded(data).lstrip()[:1] == "[":
        text_tests.check_json_list(path, task, data)
    else:
        text_tests.read(path, task)

atheris.Setup(sys.argv, test_one_input)
atheris.Fuzz()
"""


def run_atheris(minutes: float, out: Path) -> dict[str, object]:
    """libFuzzer over the same checks, seeded with the campaign's seeds (target byte first)."""
    import test_fuzz_decode as decode_tests

    try:
        import atheris  # noqa: F401
    except ImportError:
        return {"skipped": "atheris is not installed (pip install atheris; not a project dependency)"}
    corpus = out / "atheris-corpus"
    corpus.mkdir(parents=True, exist_ok=True)
    for number, (_, content) in enumerate(decode_tests.seeds()):
        (corpus / f"tiff-{number}").write_bytes(bytes([len(TEXT_TARGETS)]) + content)
    for number, (fmt, task, content) in enumerate(text_seeds()):
        if (fmt, task) in TEXT_TARGETS:
            (corpus / f"text-{number}").write_bytes(bytes([TEXT_TARGETS.index((fmt, task))]) + content)
    harness = out / "atheris_harness.py"
    harness.write_text(_ATHERIS_HARNESS.format(tests=str(TESTS), targets=TEXT_TARGETS))
    command = [
        sys.executable, str(harness), str(corpus), f"-max_total_time={int(minutes * 60)}", "-timeout=20",
        "-rss_limit_mb=3072", "-max_len=65536", f"-artifact_prefix={out}/", "-print_final_stats=1",
    ]  # fmt: skip
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    stats = dict(re.findall(r"^stat::(\w+):\s+(\d+)", done.stderr, re.M))
    lines = [line for line in done.stderr.splitlines() if line.startswith("#") and "cov:" in line]
    crashed = [line for line in done.stderr.splitlines() if "ERROR: libFuzzer" in line or "Uncaught Python" in line]
    if done.returncode:
        print(done.stderr[-6000:], file=sys.stderr)
    last = lines[-1] if lines else ""
    return {"exit_code": done.returncode, "final_stats": stats, "last_status": last, "errors": crashed}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=float, default=30.0, help="example budget multiplier for part 1")
    parser.add_argument("--minutes", type=float, default=5.0, help="length of the mutation campaign (part 2)")
    parser.add_argument("--atheris-minutes", type=float, default=5.0, help="length of the atheris run (part 3)")
    parser.add_argument("--parts", default="properties,campaign,atheris")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, help="where failing inputs go (default: a new temporary folder)")
    parser.add_argument("--json", type=Path, help="write the counts here too")
    args = parser.parse_args()
    logging.getLogger("tifffile").setLevel(logging.CRITICAL)
    warnings.simplefilter("ignore")
    parts = set(args.parts.split(","))
    out = args.out or Path(tempfile.mkdtemp(prefix="sarlang1m-fuzz-"))
    report: dict[str, object] = {"out": str(out)}
    if "properties" in parts:
        started = time.monotonic()
        report["properties"] = run_properties(args.scale)
        report["properties_seconds"] = round(time.monotonic() - started)
    if "campaign" in parts:
        report["campaign"] = {k: dict(v) for k, v in run_campaign(args.minutes, out, args.seed).items()}
    if "atheris" in parts:
        report["atheris"] = run_atheris(args.atheris_minutes, out.resolve())
    text = json.dumps(report, indent=2, default=str)
    print(text)
    if args.json:
        args.json.write_text(text)
    properties = report.get("properties", {})
    bad = bool(properties.get("pytest", {}).get("exit_code")) or any(
        isinstance(v, dict) and v.get("failing") for v in properties.values()
    )
    bad = bad or any(k.startswith(("VIOLATION", "UNEXPECTED")) for c in report.get("campaign", {}).values() for k in c)
    with contextlib.suppress(AttributeError):
        bad = bad or bool(report.get("atheris", {}).get("errors"))
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
