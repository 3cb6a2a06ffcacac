"""Judges: the authors' prompt, the offline synonym judge, and the URL judge against a local stub."""

from __future__ import annotations

import inspect
import json
import logging
import socket
import struct
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from sarlang1m.evaluate import (
    JudgeError,
    JudgeRequest,
    NoJudge,
    OpenAICompatibleJudge,
    SynonymJudge,
    judge_prompt,
    make_judge,
    score_vqa,
)
from sarlang1m.evaluate.judges import parse_verdict, retry_delays
from sarlang1m.evaluate.references import VQAReference

# Copied by hand from the authors' Evaluate_VQA.py (the f-string of check_match_with_gpt).
AUTHORS_PROMPT = (
    "Question: what is it?\nGround Truth Answer: playground\nPredicted Answer: a soccer field\n"
    "Does the predicted answer match the ground truth? Answer 1 for match and 0 for not match. "
    "Use semantic meaning not exact match. Synonyms are also treated as a match, e.g., football and "
    "soccer, playground and ground track field, building and rooftop, pond and swimming pool. "
    "Do not explain the reason.\n"
)


def test_prompt_is_the_authors_verbatim() -> None:
    assert judge_prompt("what is it?", "playground", "a soccer field") == AUTHORS_PROMPT


@pytest.mark.parametrize(
    ("truth", "predicted", "verdict"),
    [
        ("playground", "a ground track field", True),
        ("ground track field", "playground", True),
        ("football field", "a soccer field", True),
        ("building", "rooftops", True),
        ("swimming pool", "pond", True),
        ("ponds", "swimming pools", True),
        ("building", "tree", False),
        ("pond", "swimming", False),  # half of a two-word synonym is not the synonym
        ("soccer", "soccerball", False),  # whole words only
    ],
)
def test_synonym_judge(truth: str, predicted: str, verdict: bool) -> None:
    assert SynonymJudge().verdicts([JudgeRequest("q", truth, predicted)]) == [verdict]


def test_no_judge_decides_nothing() -> None:
    assert NoJudge().verdicts([JudgeRequest("q", "a", "b")] * 2) == [None, None]


@pytest.mark.parametrize(
    ("reply", "verdict"), [("1", True), ("0", False), (" 1.\n", True), ("0 ", False), ("Yes", None), ("10", None)]
)
def test_reply_parsing(reply: str, verdict: bool | None) -> None:
    assert parse_verdict(reply) is verdict


class _StubChatServer:
    """A local OpenAI-compatible endpoint: replies 1 when the predicted answer mentions soccer, else 0."""

    def __init__(self) -> None:
        self.bodies: list[dict] = []
        self.headers: list[dict] = []
        self.status = 200
        self.reply: str | None = None
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                stub.bodies.append(body)
                stub.headers.append({"path": self.path, "auth": self.headers.get("Authorization")})
                text = body["messages"][0]["content"][0]["text"]
                predicted = text.split("Predicted Answer: ")[1].split("\n")[0]
                content = stub.reply or ("1" if "soccer" in predicted else "0")
                payload = json.dumps({"choices": [{"message": {"role": "assistant", "content": content}}]})
                self.send_response(stub.status)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(payload.encode())

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/v1"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def chat_server() -> Iterator[_StubChatServer]:
    server = _StubChatServer()
    yield server
    server.close()


def test_url_judge_sends_the_authors_request_and_caches(chat_server: _StubChatServer, tmp_path: Path) -> None:
    cache = tmp_path / "verdicts.jsonl"
    requests = [JudgeRequest("what is it?", "playground", "a soccer field"), JudgeRequest("q", "pond", "lake")]
    judge = OpenAICompatibleJudge(chat_server.url, model="judge-model", api_key="secret", cache_path=cache)
    assert judge.verdicts(requests) == [True, False]
    assert chat_server.headers[0] == {"path": "/v1/chat/completions", "auth": "Bearer secret"}
    first = next(b for b in chat_server.bodies if "Answer: playground" in b["messages"][0]["content"][0]["text"])
    assert first == {
        "model": "judge-model",
        "messages": [{"role": "user", "content": [{"type": "text", "text": AUTHORS_PROMPT}]}],
        "max_tokens": 100,
    }
    again = OpenAICompatibleJudge(chat_server.url, model="judge-model", cache_path=cache)
    assert again.verdicts(requests) == [True, False]
    assert len(chat_server.bodies) == 2  # the second judge answered from the cache
    other_model = OpenAICompatibleJudge(chat_server.url, model="another", cache_path=cache)
    other_model.verdicts(requests[:1])
    assert len(chat_server.bodies) == 3  # verdicts are cached per model


def test_url_judge_in_a_score(chat_server: _StubChatServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("SARLANG1M_CACHE", str(tmp_path))
    reference = VQAReference(
        "a", "What is it?", "Playground", "others", None, "free_text", "i", "dfc2023", "high", "sarvqa2"
    )
    result = score_vqa([{"id": "a", "prediction": "A soccer field"}], [reference], judge=chat_server.url)
    assert result.outcomes[0].rule == "judge_accept"
    assert "Predicted Answer: a soccer field\n" in chat_server.bodies[0]["messages"][0]["content"][0]["text"]
    assert list((tmp_path / "judge").glob("*.jsonl"))


def test_url_judge_unusable_reply_is_no_verdict(chat_server: _StubChatServer, tmp_path: Path) -> None:
    chat_server.reply = "It depends."
    judge = OpenAICompatibleJudge(chat_server.url, cache_path=tmp_path / "c.jsonl")
    assert judge.verdicts([JudgeRequest("q", "a", "b")]) == [None]


def test_url_judge_client_error_stops_the_run(chat_server: _StubChatServer, tmp_path: Path) -> None:
    chat_server.status = 401
    judge = OpenAICompatibleJudge(chat_server.url, cache_path=tmp_path / "c.jsonl", retries=0)
    with pytest.raises(JudgeError, match="HTTP 401"):
        judge.verdicts([JudgeRequest("q", "a", "b")])


def test_make_judge_spellings(tmp_path: Path) -> None:
    assert make_judge("none").name == "none"
    assert make_judge("synonyms").name == "synonyms"
    assert isinstance(make_judge("http://127.0.0.1:9/v1", cache_path=tmp_path / "c"), OpenAICompatibleJudge)
    with pytest.raises(ValueError, match="unknown judge 'gpt-4o'"):
        make_judge("gpt-4o")


# ---------------------------------------------------------------------------------------------
# Failures of the endpoint: retried as documented, then one JudgeError that says what was tried


class _DroppingServer:
    """A local endpoint that drops the first `drops` connections without a reply, then answers "1".

    `how="close"` closes the socket (the client sees http.client.RemoteDisconnected); `how="reset"`
    aborts it with an RST (ConnectionResetError).
    """

    def __init__(self, drops: int | None, how: str) -> None:
        self.requests = 0
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers["Content-Length"]))
                server.requests += 1
                if drops is None or server.requests <= drops:
                    if how == "reset":  # linger 0: closing sends an RST instead of a FIN
                        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                        self.connection.close()
                    self.close_connection = True
                    return  # no status line: the client reads an empty reply
                payload = json.dumps({"choices": [{"message": {"role": "assistant", "content": "1"}}]}).encode()
                self.send_response(200)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/v1"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.mark.parametrize("how", ["close", "reset"])
def test_a_dropped_connection_is_retried(how: str, tmp_path: Path) -> None:
    server = _DroppingServer(drops=2, how=how)
    try:
        judge = OpenAICompatibleJudge(server.url, cache_path=tmp_path / "c.jsonl", backoff_s=0.01, progress=False)
        assert judge.verdicts([JudgeRequest("q", "a", "b")]) == [True]
        assert server.requests == 3
    finally:
        server.close()


@pytest.mark.parametrize(("how", "kind"), [("close", "RemoteDisconnected"), ("reset", "ConnectionResetError")])
def test_a_judge_that_keeps_dropping_ends_in_one_judge_error(how: str, kind: str, tmp_path: Path) -> None:
    server = _DroppingServer(drops=None, how=how)
    try:
        judge = OpenAICompatibleJudge(
            server.url, cache_path=tmp_path / "c.jsonl", retries=2, backoff_s=0.01, progress=False
        )
        with pytest.raises(JudgeError, match=rf"dropped the connection \({kind}.*tried 3 times over") as raised:
            judge.verdicts([JudgeRequest("q", "a", str(i)) for i in range(20)])
        assert "\n" not in str(raised.value) and "c.jsonl" in str(raised.value)
        # the first request is sent alone: 20 pending answers cost the retries of one, not of twenty
        assert server.requests == 3
    finally:
        server.close()


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_an_unreachable_endpoint_fails_once_saying_what_was_tried(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    url = f"http://127.0.0.1:{_closed_port()}/v1"
    judge = OpenAICompatibleJudge(url, cache_path=tmp_path / "c.jsonl", backoff_s=0.01, progress=False)
    with caplog.at_level(logging.WARNING), pytest.raises(JudgeError) as raised:
        judge.verdicts([JudgeRequest("q", "a", str(i)) for i in range(40)])
    message = str(raised.value)
    assert message.startswith(f"judge endpoint {url}/chat/completions cannot be reached (")
    assert "tried 4 times over" in message and "base URL" in message
    retries = [r.getMessage() for r in caplog.records if "retrying in" in r.getMessage()]
    assert len(retries) == 3  # one request's retries, each said as it happens, not one per pending answer


def test_the_default_retry_schedule_is_short() -> None:
    """The documented schedule: 3 retries after 0.5, 1 and 2 s, so an endpoint that is down fails in ~3.5 s."""
    defaults = inspect.signature(OpenAICompatibleJudge).parameters
    retries, backoff_s = defaults["retries"].default, defaults["backoff_s"].default
    assert retry_delays(retries, backoff_s) == [0.5, 1.0, 2.0]
    assert retry_delays(10, 0.5)[-1] == 30.0  # capped
