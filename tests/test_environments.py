"""sarlang1m installed beside the fine-tuning tools its users run, each in a virtualenv of its own.

- LLaMA-Factory 0.9.5 (the authors' tool) pins datasets<=4.0.0: `pip install llamafactory==0.9.5 sarlang1m`
  resolves to datasets 4.0.0, and LLaMA-Factory's own `get_dataset` loads a `sarlang1m export llamafactory`
  folder there (tests/environments/llamafactory_get_dataset.py).
- TRL, newest: it requires a recent datasets; both install, and a release streams there with sarlang1m.

Each test creates a virtualenv and installs from the package index (several minutes and about a GB for
LLaMA-Factory), so they are opt-in: SARLANG1M_TEST_ENVIRONMENTS=1. CI checks that both sets resolve
(`.ci/resolve_beside.py`, no install). torch is installed first as the README does (`torch==2.13.0`), and
named again beside the tool so that pip keeps it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LLAMAFACTORY_CHECK = Path(__file__).resolve().parent / "environments" / "llamafactory_get_dataset.py"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        os.environ.get("SARLANG1M_TEST_ENVIRONMENTS") != "1",
        reason="opt-in: set SARLANG1M_TEST_ENVIRONMENTS=1 (creates virtualenvs and installs from the package index)",
    ),
]


def run(*command: str | Path, cwd: Path | None = None) -> str:
    done = subprocess.run([str(c) for c in command], cwd=cwd, capture_output=True, text=True, check=False)
    assert done.returncode == 0, f"{' '.join(map(str, command))}\n{(done.stdout + done.stderr)[-6000:]}"
    return done.stdout


def virtualenv_beside(folder: Path, *requirements: str) -> Path:
    """A virtualenv holding torch 2.13.0, `requirements` and sarlang1m from this checkout: its python."""
    run(sys.executable, "-m", "venv", folder)
    python = folder / "bin" / "python"
    run(python, "-m", "pip", "install", "--quiet", "torch==2.13.0")
    run(python, "-m", "pip", "install", "--quiet", "torch==2.13.0", *requirements, ROOT)
    return python


def installed(python: Path, name: str) -> str:
    return run(python, "-c", f"import importlib.metadata as m; print(m.version({name!r}))").strip()


def test_llamafactory_0_9_5_loads_a_sarlang1m_export_with_its_own_get_dataset(tmp_path: Path) -> None:
    python = virtualenv_beside(tmp_path / "venv", "llamafactory==0.9.5")
    assert installed(python, "datasets") == "4.0.0"
    assert installed(python, "torch").startswith("2.13.0")
    cli = tmp_path / "venv" / "bin" / "sarlang1m"
    run(cli, "synth", tmp_path / "raw", "--images", "40")
    run(cli, "build", tmp_path / "raw", "--out", tmp_path / "release")
    export = tmp_path / "export"
    run(cli, "export", "llamafactory", tmp_path / "release", "--config", "vqa", "--split", "train",
        "--out", export / "vqa_train.json")  # fmt: skip
    summary = json.loads(run(python, LLAMAFACTORY_CHECK, export, "sarlang1m_vqa_train").splitlines()[-1])
    assert summary["examples"] == summary["records"] > 0  # every record became a training example
    assert summary["image_tokens"] > 0  # its image was opened and expanded into the template's tokens
    assert summary["labelled"] > 0  # the answer is what is trained on


def test_trl_newest_installs_beside_sarlang1m_and_streams_a_release(tmp_path: Path) -> None:
    python = virtualenv_beside(tmp_path / "venv", "trl")
    assert installed(python, "torch").startswith("2.13.0")
    release = ROOT / "tests" / "data" / "tiny_release"
    code = (
        "import trl, sarlang1m\n"
        f"rows = sarlang1m.load('vqa', split='train', streaming=True, source={str(release)!r}, pairs=True)\n"
        "print(trl.__version__, sum(1 for _ in rows))"
    )
    version, examples = run(python, "-c", code).split()
    assert int(examples) > 0, f"trl {version}: no example streamed"
