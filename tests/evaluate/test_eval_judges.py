"""Judges: the authors' prompt, the offline synonym judge, and the URL judge against a local stub."""

from __future__ import annotations

import json
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
from sarlang1m.evaluate.judges import parse_verdict
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
