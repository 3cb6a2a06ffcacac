"""Every code block of README.md and docs/*.md runs, as written, against a synthetic release.

The blocks are read from the Markdown itself, so a doc cannot drift from the code. Each document runs in
a fresh working folder, its blocks in order (a block may use the files an earlier block wrote):

- ``python`` blocks in a fresh interpreter, ``bash`` blocks with ``bash`` (``sarlang1m`` on the PATH),
  ``json`` and ``yaml`` blocks are parsed; ``text`` blocks (file trees, outputs) are not code.
- The folder holds what a reader of the docs has at hand: ``sarlang-raw`` (``sarlang1m synth``'s default
  SYNTHETIC raw release) and ``sarlang-1m`` (built from it) unless the document makes them itself,
  ``scene.tif`` (a SpaceNet6-like GeoTIFF of that release), ``predictions.jsonl`` / ``captions.jsonl``
  (answers to its test split) and ``examples/`` and ``tests/`` as in a checkout.
- The Hub is tests/hub_server/, the offline stand-in speaking the Hub's HTTP protocol: it holds the same
  synthetic release as ``sarlang1m/SARLANG-1M`` at ``v1.0.0``, so blocks that read "the published release"
  read that, and ``push`` blocks push to it.
- A block that cannot run here (a multi-node launch, a real GPU tool, an install from the network, the
  paper-scale runs) carries ``<!-- doc-test: skip (reason) -->`` on the line before its fence;
  `test_blocks_that_cannot_run_here_are_marked_and_listed` lists them.

Re-run one document with ``python -m pytest tests/test_docs.py -k fine-tune``.
"""

from __future__ import annotations

import ast
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import yaml
from hub_server import HubServer, run_client

from sarlang1m import schema

ROOT = Path(__file__).resolve().parents[1]
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
SKIP_MARKER = re.compile(r"^<!--\s*doc-test:\s*skip\s*(?:\((?P<reason>.*)\))?\s*-->$")
FENCE = re.compile(r"^(?P<indent>\s*)(?P<fence>```+|~~~+)\s*(?P<language>[\w+-]*)\s*$")
RUNNABLE = ("python", "bash", "json", "yaml")
NOT_CODE = ("text",)
#: Seconds one block may take.
BLOCK_TIMEOUT = 600
#: Documents whose blocks train or build several times (a minute or more on 2 cores).
SLOW_DOCUMENTS = {"multi-node.md", "fine-tune.md"}


@dataclass(frozen=True)
class Block:
    document: Path
    line: int
    language: str
    code: str
    skip: str | None

    def __str__(self) -> str:
        return f"{self.document.relative_to(ROOT)}:{self.line} [{self.language or 'untagged'}]"


def code_blocks(document: Path) -> list[Block]:
    """The fenced blocks of a Markdown file, with their language and skip marker (indented fences too)."""
    lines = document.read_text(encoding="utf-8").splitlines()
    blocks, index = [], 0
    while index < len(lines):
        opening = FENCE.match(lines[index])
        if not opening:
            index += 1
            continue
        end = index + 1
        closing = re.compile(rf"^\s*{re.escape(opening['fence'])}\s*$")
        while end < len(lines) and not closing.match(lines[end]):
            end += 1
        indent = len(opening["indent"])
        code = "\n".join(line[indent:] if line[:indent].strip() == "" else line for line in lines[index + 1 : end])
        previous = next((line.strip() for line in reversed(lines[:index]) if line.strip()), "")
        marker = SKIP_MARKER.match(previous)
        skip = (marker["reason"] or "").strip() if marker else None
        blocks.append(Block(document, index + 1, opening["language"].lower(), code + "\n", skip))
        index = end + 1
    return blocks


def all_blocks() -> Iterator[Block]:
    for document in DOCUMENTS:
        yield from code_blocks(document)


# ------------------------------------------------------------------------------------ the set-up


@pytest.fixture(scope="module")
def published(synthetic_release: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[HubServer]:
    """The Hub stand-in, holding the synthetic release as the published one (`sarlang1m/SARLANG-1M@v1.0.0`)."""
    with HubServer(tmp_path_factory.mktemp("hub")) as server:
        home = tmp_path_factory.mktemp("publisher")
        run_client(
            f"""
            from sarlang1m.publish import hub
            hub.push_release({str(synthetic_release)!r}, {schema.DEFAULT_REPO_ID!r}, {schema.RELEASE_VERSION!r},
                             progress=False)
            """,
            server.client_env(home),
        )
        yield server


@pytest.fixture(scope="module")
def reader_files(synthetic_release: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """What every document's folder starts with (copied per document, so that none sees another's files)."""
    folder = tmp_path_factory.mktemp("reader")
    shutil.copytree(synthetic_release, folder / "sarlang-1m")
    shutil.copytree(synthetic_release.parent / "sarlang-raw", folder / "sarlang-raw")
    answers: dict[str, list[str]] = {"vqa": [], "captions": []}
    for task in answers:
        for path in sorted(synthetic_release.glob(schema.config_spec(task).split_glob("test"))):
            column = schema.TEXT_COLUMN[task]
            for row in pq.read_table(path, columns=["image_id", column]).to_pylist():
                # column-wise, one list per field; predictions are keyed by the global id <image_id>-<id>
                answers[task] += [f"{row['image_id']}-{i}" for i in row[column]["id"]]
    write_jsonl(folder / "predictions.jsonl", [{"id": i, "prediction": "Yes."} for i in answers["vqa"]])
    write_jsonl(folder / "captions.jsonl", [{"id": i, "prediction": "A SAR image."} for i in answers["captions"]])
    quad = next(iter(sorted((synthetic_release / "originals" / "spacenet6").glob("*.tif"))), None)
    assert quad is not None, "the synthetic release has no SpaceNet6 GeoTIFF"
    (folder / "scene.tif").write_bytes(quad.read_bytes())
    return folder


def write_jsonl(path: Path, records: list[dict]) -> None:
    path.write_text("".join(json.dumps(record) + "\n" for record in records), encoding="utf-8")


def runnable(blocks: list[Block]) -> list[Block]:
    return [block for block in blocks if block.skip is None]


def makes_itself(blocks: list[Block], pattern: str) -> bool:
    """Whether a bash block the document runs writes this folder itself (then it is not given beforehand)."""
    return any(re.search(pattern, b.code, re.MULTILINE) for b in runnable(blocks) if b.language == "bash")


def reader_folder(document: Path, blocks: list[Block], reader_files: Path, tmp_path: Path) -> Path:
    work = tmp_path / "work"
    work.mkdir()
    for entry in reader_files.iterdir():
        if entry.name == "sarlang-raw" and makes_itself(blocks, r"sarlang1m synth sarlang-raw\b"):
            continue
        if entry.name == "sarlang-1m" and makes_itself(blocks, r"sarlang1m build \S+ --out sarlang-1m\b"):
            continue
        copy = shutil.copytree if entry.is_dir() else shutil.copy2
        copy(entry, work / entry.name)
    (work / "examples").symlink_to(ROOT / "examples", target_is_directory=True)
    (work / "tests").symlink_to(ROOT / "tests", target_is_directory=True)  # the Hub stand-in, as in a checkout
    return work


def run_block(block: Block, work: Path, env: dict[str, str], scratch: Path) -> str | None:
    """None when the block ran (or parsed), else what went wrong."""
    if block.language == "json":
        try:
            json.loads(block.code)
        except ValueError as error:
            return f"invalid JSON: {error}"
        return None
    if block.language == "yaml":
        try:
            yaml.safe_load(block.code)
        except yaml.YAMLError as error:
            return f"invalid YAML: {error}"
        return None
    if block.language == "python":
        script = scratch / f"block_{block.line}.py"
        script.write_text(block.code, encoding="utf-8")
        command = [sys.executable, str(script)]
    else:
        command = ["bash", "-c", "set -eo pipefail\n" + block.code]
    try:
        done = subprocess.run(command, cwd=work, env=env, capture_output=True, text=True, timeout=BLOCK_TIMEOUT)
    except subprocess.TimeoutExpired:
        return f"still running after {BLOCK_TIMEOUT} s"
    if done.returncode:
        return f"exit status {done.returncode}\n{(done.stdout + done.stderr)[-4000:]}"
    return None


def document_params() -> list:
    return [
        pytest.param(d, id=d.name, marks=[pytest.mark.slow] if d.name in SLOW_DOCUMENTS else [])
        for d in DOCUMENTS
        if any(b.skip is None and b.language in RUNNABLE for b in code_blocks(d))
    ]


# ------------------------------------------------------------------------------------ the tests


def test_every_block_is_tagged_with_a_language_this_test_knows() -> None:
    unknown = [
        f"{block}: tag it ```text (not code) or one of {RUNNABLE}"
        for block in all_blocks()
        if block.language not in RUNNABLE + NOT_CODE and block.skip is None
    ]
    assert not unknown, "\n".join(unknown)


def test_blocks_that_cannot_run_here_are_marked_and_listed() -> None:
    skipped = [block for block in all_blocks() if block.skip is not None]
    listing = "\n".join(f"  {block}: {block.skip}" for block in skipped)
    print(f"{len(skipped)} doc blocks are not run here:\n{listing}")
    assert all(block.skip for block in skipped), f"a skip marker needs a reason in parentheses:\n{listing}"
    runnable_blocks = [block for block in all_blocks() if block.skip is None and block.language in RUNNABLE]
    assert len(skipped) < len(runnable_blocks)  # skipping stays the exception


@pytest.mark.parametrize("document", document_params())
def test_the_code_blocks_of_a_document_run(
    document: Path, published: HubServer, reader_files: Path, tmp_path: Path
) -> None:
    blocks = code_blocks(document)
    work = reader_folder(document, blocks, reader_files, tmp_path)
    env = published.client_env(tmp_path / "home")
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    env["SARLANG1M_DEBUG"] = "1"  # a failing command shows its traceback here
    scratch = tmp_path / "blocks"
    scratch.mkdir()
    failures = []
    for block in blocks:
        if block.skip is not None or block.language not in RUNNABLE:
            continue
        problem = run_block(block, work, env, scratch)
        if problem:
            failures.append(f"{block}:\n{block.code}--> {problem}")
    assert not failures, "\n\n".join(failures)


# ------------------------------------------------------------------------------------ benchmark docstrings


def documented_flags(script: Path) -> set[str]:
    """Flags a benchmark's docstring gives as its own: in its usage lines and in ``--literals``."""
    doc = ast.get_docstring(ast.parse(script.read_text(encoding="utf-8"))) or ""
    usage = re.findall(rf"^\s*python benchmarks/{re.escape(script.name)}.*(?:\n\s+\[.*)*", doc, re.MULTILINE)
    literals = re.findall(r"``(--[a-z][a-z-]*)", doc)
    return set(re.findall(r"(?<![\w-])--[a-z][a-z-]*", "\n".join(usage))) | set(literals)


@pytest.mark.parametrize("script", sorted((ROOT / "benchmarks").glob("*.py")), ids=lambda p: p.name)
def test_benchmark_docstrings_name_only_real_flags(script: Path) -> None:
    done = subprocess.run([sys.executable, str(script), "--help"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    options = done.stdout[done.stdout.index("options:") :]
    accepted = set(re.findall(r"(?<![\w-])--[a-z][a-z-]*", options))
    assert documented_flags(script) <= accepted, (
        f"{script.name}: not flags of the script: {documented_flags(script) - accepted}"
    )


# ------------------------------------------------------------------------------------ error tables

ERROR_TABLES = ROOT / "docs" / "robustness.md"
ERROR_SECTION = "## Errors, command by command"


def error_table_rows() -> list[tuple[str, str, int]]:
    """(command, message, exit status) of every table row under ERROR_SECTION that starts with a command."""
    text = ERROR_TABLES.read_text(encoding="utf-8")
    if ERROR_SECTION not in text:
        return []
    section = text[text.index(ERROR_SECTION) :]
    rows = []
    for line in section.splitlines():
        cells = [cell.strip() for cell in re.split(r"(?<!\\)\|", line.strip())[1:-1]]
        command = re.fullmatch(r"`(sarlang1m [^`]+)`", cells[0]) if len(cells) == 3 else None
        message = re.match(r"`([^`]+)`", cells[1]) if command else None
        if command and message and cells[2].isdigit():
            rows.append((command[1], message[1], int(cells[2])))
    return rows


def test_the_error_tables_are_what_the_commands_print(reader_files: Path, tmp_path: Path) -> None:
    """Each row of docs/robustness.md's error tables that starts with a command: its message and exit status."""
    rows = error_table_rows()
    assert len(rows) >= 10
    work = tmp_path / "work"
    shutil.copytree(reader_files, work)
    env = {**os.environ, "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])}
    wrong = []
    for command, message, status in rows:
        done = subprocess.run(["bash", "-c", command], cwd=work, env=env, capture_output=True, text=True, timeout=300)
        name = command.split()[1]
        printed = [line for line in done.stderr.splitlines() if line.startswith(f"sarlang1m {name}: error: ")]
        if done.returncode != status or not printed or message not in printed[0] or "Traceback" in done.stderr:
            wrong.append(f"{command}: exit {done.returncode}, stderr:\n{done.stderr[-2000:]}")
    assert not wrong, "\n\n".join(wrong)


# ------------------------------------------------------------------------------------ what the docs say

#: Lines about the layout before release format 4, whose binary `sar` column they may name.
EARLIER_LAYOUT = ("earlier layout", "first layout", '"before"')


def test_the_docs_name_only_columns_a_release_has() -> None:
    """ "a row's `X`" and "the `X` column" name a column of the release (no `sar` column since format 4)."""
    columns = {name for features in schema.FEATURES.values() for name in features}
    wrong = []
    for document in DOCUMENTS:
        for number, line in enumerate(document.read_text(encoding="utf-8").splitlines(), 1):
            if any(marker in line for marker in EARLIER_LAYOUT):
                continue
            for match in re.finditer(r"rows?'s? `(\w+)`|`(\w+)` column", line):
                name = match[1] or match[2]
                if name not in columns:
                    wrong.append(f"{document.relative_to(ROOT)}:{number}: `{name}` is not a column: {line.strip()}")
    assert not wrong, "\n".join(wrong)


def test_chat_templates_in_the_docs_render_text_and_leave_the_images_to_the_processor() -> None:
    """The exported messages hold image placeholders, the images another column: apply_chat_template must not
    tokenize (it would look for the images in the messages); the processor takes text and images together."""
    calls = [
        node
        for block in all_blocks()
        if block.language == "python"
        for node in ast.walk(ast.parse(block.code))
        if isinstance(node, ast.Call)
    ]
    templates = [call for call in calls if ast.unparse(call.func).endswith(".apply_chat_template")]
    assert templates, "the docs show how a messages export reaches a processor"
    for call in templates:
        tokenize = next((k.value for k in call.keywords if k.arg == "tokenize"), None)
        assert isinstance(tokenize, ast.Constant) and tokenize.value is False, ast.unparse(call)
    processors = [call for call in calls if ast.unparse(call.func) == "processor"]
    assert processors and all({"text", "images"} <= {k.arg for k in call.keywords} for call in processors)


def test_the_queries_page_is_linked_and_shows_the_column_wise_forms() -> None:
    """DuckDB (the viewer's SQL console), Polars and pyarrow over the nested, column-wise texts."""
    assert "(docs/queries.md)" in (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = [b for b in code_blocks(ROOT / "docs" / "queries.md") if b.skip is None]
    code = "".join(block.code for block in blocks)
    for form in ("len(qa.id)", "unnest(qa.application)", '.struct.field("id").list.len()', "pyarrow.dataset"):
        assert form in code, form
    assert {"duckdb", "polars", "pyarrow"} <= {m.split(".")[0] for b in blocks for m in imported_modules(b.code)}


def imported_modules(code: str) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(code)):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names
