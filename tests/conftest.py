"""Shared fixtures: a private cache, a tiny hand-made raw release (synthetic), its release, a Hub stand-in."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path

# Before anything imports datasets or huggingface_hub: a private, throw-away cache and no network. The
# datasets cache of a local folder is keyed by its configs, not by file contents, so a shared cache would
# serve one test's release to another.
_CACHE = tempfile.mkdtemp(prefix="sarlang1m-tests-cache-")
atexit.register(shutil.rmtree, _CACHE, True)
os.environ["HF_HOME"] = _CACHE
os.environ["HF_DATASETS_CACHE"] = os.path.join(_CACHE, "datasets")
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["HF_HUB_DISABLE_TELEMETRY"] = "1"
# Where `push` records published commits (sarlang1m.publish.releases): never the user's own file.
os.environ["SARLANG1M_RELEASES_FILE"] = os.path.join(_CACHE, "releases.json")

import pytest  # noqa: E402
from hub_server import HubServer, hub_server  # noqa: E402, F401
from tiny_raw import make_tiny_raw  # noqa: E402


@pytest.fixture
def tiny_raw(tmp_path: Path) -> Path:
    return make_tiny_raw(tmp_path / "raw")


@pytest.fixture(scope="session")
def tiny_release(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the checked-in tiny release, tests/data/tiny_release (synthetic), for user-side tests.

    Copied once per test session so that no test can change the checked-in folder; do not modify.
    tests/test_tiny_release_data.py keeps that folder equal to what the builder makes.
    """
    from data.make_tiny_release import TINY_RELEASE

    copy = tmp_path_factory.mktemp("tiny") / "sarlang-1m"
    shutil.copytree(TINY_RELEASE, copy)
    return copy


@pytest.fixture(scope="session")
def built_tiny_release(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The release folder built now from the tiny raw release (synthetic), for tests of the build itself.

    Built once per test session, as `sarlang-1m` next to its raw release `raw`; do not modify.
    """
    from data.make_tiny_release import make_tiny_release

    root = tmp_path_factory.mktemp("built-tiny")
    return make_tiny_release(root / "sarlang-1m", raw=root / "raw")


@pytest.fixture(scope="session")
def synthetic_release(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A release built from `sarlang1m synth`'s default synthetic raw release (every source and config).

    Built once per test session, as `sarlang-1m` next to its raw release `sarlang-raw`; do not modify.
    """
    from sarlang1m.build.release import build_release
    from sarlang1m.synth import write_synthetic_release

    root = tmp_path_factory.mktemp("synthetic")
    write_synthetic_release(root / "sarlang-raw", images=120, seed=0, progress=False)
    build_release(root / "sarlang-raw", root / "sarlang-1m", progress=False)
    return root / "sarlang-1m"


@pytest.fixture
def hub_env(hub_server: HubServer, tmp_path: Path) -> dict[str, str]:  # noqa: F811
    """Client environment for the Hub stand-in (tests/hub_server/) with a fresh HF_HOME and releases file."""
    env = hub_server.client_env(tmp_path / "client")
    env["SARLANG1M_RELEASES_FILE"] = str(tmp_path / "client" / "releases.json")
    return env
