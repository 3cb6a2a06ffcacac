"""``PYTHONPATH=tests python -m hub_server``: the Hub stand-in on a port, for trying the publish path offline.
TEST ONLY: this is the tests' stand-in for the Hub's HTTP protocol, not a Hub.

It prints the environment a client needs (``HF_ENDPOINT``, the token it accepts, no Xet, and a private
``HF_HOME`` and releases file, so nothing it serves mixes with the real Hub's cache or publish records)
as ``export`` lines, and writes them to ``--env-file`` too, then serves until Ctrl-C or SIGTERM.
Its repositories live in ``--root`` (default: a temporary folder removed when it stops).
"""

from __future__ import annotations

import argparse
import shlex
import signal
import tempfile
import threading
from pathlib import Path

from sarlang1m.atomic import atomic_path

from .server import HubServer

#: The variables of ``HubServer.client_env`` a user's shell needs (the rest quiets the tests' clients).
CLIENT_VARIABLES = (
    "HF_ENDPOINT",
    "HF_TOKEN",
    "HF_HUB_DISABLE_XET",
    "HF_HUB_OFFLINE",
    "HF_DATASETS_OFFLINE",
    "HF_HOME",
    "SARLANG1M_RELEASES_FILE",
    "NO_PROXY",
    "no_proxy",
)


def export_lines(server: HubServer, home: Path) -> str:
    """``export NAME=VALUE`` lines (shell-quoted) that point huggingface_hub, datasets and sarlang1m at `server`."""
    env = server.client_env(home)
    return "".join(f"export {name}={shlex.quote(env[name])}\n" for name in CLIENT_VARIABLES)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m hub_server",
        description="Start the tests' Hub stand-in (TEST ONLY, not a Hub) and print the environment to use it.",
    )
    parser.add_argument("--port", type=int, default=0, help="port to listen on (default: 0, any free port)")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    parser.add_argument("--root", type=Path, help="folder for its repositories (default: a temporary folder)")
    parser.add_argument("--env-file", type=Path, help="also write the export lines to this file (for `source`)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="hub-stand-in-") as scratch:
        root = (args.root or Path(scratch)).absolute()
        root.mkdir(parents=True, exist_ok=True)
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        with HubServer(root / "hub", host=args.host, port=args.port) as server:
            exports = export_lines(server, root / "client")
            if args.env_file is not None:
                with atomic_path(args.env_file) as partial:  # whole or absent: a script may wait for it
                    partial.write_text(exports, encoding="utf-8")
            print(f"Hub stand-in (TEST ONLY, not the Hugging Face Hub) at {server.endpoint}, state in {root}")
            print("Point a shell at it with:")
            print(exports, end="", flush=True)
            try:
                while not stop.wait(0.5):
                    pass
            except KeyboardInterrupt:
                pass
            finally:
                if args.env_file is not None:
                    args.env_file.unlink(missing_ok=True)  # it names a server that is gone
        print("Hub stand-in stopped", flush=True)


if __name__ == "__main__":
    main()
