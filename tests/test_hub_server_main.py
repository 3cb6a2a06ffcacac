"""`PYTHONPATH=tests python -m hub_server`: the Hub stand-in on a port, with the environment to use it."""

import os
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

from hub_server import TEST_USER, run_client

TESTS = Path(__file__).resolve().parent


def test_the_entry_point_serves_prints_its_environment_and_stops_cleanly(tmp_path):
    env_file = tmp_path / "hub.env"
    server = subprocess.Popen(
        [sys.executable, "-m", "hub_server", "--env-file", str(env_file), "--root", str(tmp_path / "state")],
        cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(TESTS)},
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while not env_file.exists() and server.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)
        assert env_file.exists(), server.stdout.read() if server.poll() is not None else "no env file after 60 s"
        exports = dict(
            shlex.split(line.removeprefix("export "))[0].split("=", 1) for line in env_file.read_text().splitlines()
        )
        assert exports["HF_ENDPOINT"].startswith("http://127.0.0.1:") and exports["HF_HUB_DISABLE_XET"] == "1"
        assert Path(exports["HF_HOME"]).is_relative_to(tmp_path / "state")  # never the user's own cache
        assert Path(exports["SARLANG1M_RELEASES_FILE"]).is_relative_to(tmp_path / "state")
        user = run_client(
            "from huggingface_hub import HfApi; emit(HfApi().whoami()['name'])", {**os.environ, **exports}
        )
        assert user == TEST_USER
    finally:
        server.send_signal(signal.SIGTERM)
        output, _ = server.communicate(timeout=30)
    assert server.returncode == 0, output
    assert "TEST ONLY, not the Hugging Face Hub" in output and f"export HF_ENDPOINT={exports['HF_ENDPOINT']}" in output
    assert not env_file.exists()  # it named a server that is gone
