"""pytest fixtures: a started ``HubServer`` per test and a client environment for it. TEST ONLY.

Mirrors no endpoint. ``hub_server_fixture(...)`` makes variants (e.g. multipart LFS uploads) in a test
module; tests/conftest.py re-exports ``hub_server``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from .server import HubServer


def hub_server_fixture(scope: str = "function", **server_options: Any) -> Callable[..., Iterator[HubServer]]:
    """A pytest fixture yielding a started ``HubServer`` (state in a temporary folder), e.g.
    ``hub_with_multipart = hub_server_fixture(multipart_chunk_size=1024)`` in a test module."""

    @pytest.fixture(scope=scope)  # type: ignore[call-overload]
    def _hub_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HubServer]:
        with HubServer(tmp_path_factory.mktemp("hub"), **server_options) as server:
            yield server

    return _hub_server


hub_server = hub_server_fixture()


@pytest.fixture
def hub_env(hub_server: HubServer, tmp_path: Path) -> dict[str, str]:
    """Client environment for ``hub_server`` with a fresh ``HF_HOME`` for this test."""
    return hub_server.client_env(tmp_path / "client")
