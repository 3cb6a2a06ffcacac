"""Fixtures of the synthetic release tests: one default release, built once per session (synthetic)."""

from __future__ import annotations

from pathlib import Path

import pytest

from sarlang1m.synth import SynthSummary, write_synthetic_release


@pytest.fixture(scope="session")
def default_release(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, SynthSummary]:
    """The default small release (120 images, seed 0); tests must not modify it."""
    out = tmp_path_factory.mktemp("synth") / "release"
    return out, write_synthetic_release(out, progress=False)
