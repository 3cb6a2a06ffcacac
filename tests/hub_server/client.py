"""Running client code against the stand-in, in a fresh interpreter. TEST ONLY.

Mirrors no endpoint: ``HF_ENDPOINT`` is read when huggingface_hub/datasets are imported, so client code
runs in a subprocess whose environment (``HubServer.client_env``) is set before those imports, and hands
its result back through ``emit(...)``.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import subprocess
import sys
import tempfile
import textwrap
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from packaging.version import Version

#: Whether the client (huggingface_hub >= 1.21) sends a request again after its connection was dropped without an
#: answer (RemoteProtocolError); an older one fails at once, which a test of a dropped connection then expects.
RETRIES_DROPPED_CONNECTIONS = Version(importlib.metadata.version("huggingface_hub")) >= Version("1.21")

#: Holds a ``sitecustomize`` that shortens huggingface_hub's retry waits (see ``fast_backoff``).
FAST_BACKOFF = Path(__file__).parent / "fast_backoff"


class ClientError(AssertionError):
    """The client subprocess failed; carries its output."""


_PRELUDE = """\
import json as _hub_json, os as _hub_os

def emit(value):
    '''Hand ``value`` (JSON-serialisable) back to the test.'''
    with open(_hub_os.environ["HUB_TEST_RESULT"], "w", encoding="utf-8") as _file:
        _hub_json.dump(value, _file)

"""


def run_client(code: str, env: Mapping[str, str], *, timeout: float = 180.0, cwd: Path | None = None) -> Any:
    """Run ``code`` in a fresh interpreter with ``env`` (from ``HubServer.client_env``) and return what it
    passed to ``emit(...)`` (None if nothing). A non-zero exit raises ``ClientError`` with its output.
    The working directory defaults to an empty folder so that ``load_dataset("ns/name")`` cannot pick
    up a local folder of that name."""
    with tempfile.TemporaryDirectory(prefix="hub-client-") as scratch:
        result_path = Path(scratch) / "result.json"
        completed = subprocess.run(
            [sys.executable, "-c", _PRELUDE + textwrap.dedent(code)],
            env={**env, "HUB_TEST_RESULT": str(result_path)},
            cwd=cwd or scratch,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if completed.returncode != 0:
            raise ClientError(
                f"client exited with {completed.returncode}\n--- stdout ---\n{completed.stdout[-4000:]}"
                f"\n--- stderr ---\n{completed.stderr[-8000:]}"
            )
        return json.loads(result_path.read_text(encoding="utf-8")) if result_path.exists() else None


def fast_backoff(env: Mapping[str, str], scale: float = 0.01) -> dict[str, str]:
    """``env`` for a client whose huggingface_hub retry loop waits ``scale`` of its usual times (1 s doubling up to
    8 s, or ``Retry-After`` + 1 s): for tests of failures that outlast every retry. The retries are all made."""
    path = os.pathsep.join(p for p in (str(FAST_BACKOFF), env.get("PYTHONPATH", "")) if p)
    return {**env, "PYTHONPATH": path, "HUB_TEST_BACKOFF_SCALE": str(scale)}
