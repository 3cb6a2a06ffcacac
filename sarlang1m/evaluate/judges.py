"""Judges: who decides the open-ended answers that the string rules cannot.

The authors send every question whose answer is neither found in the prediction nor a yes/no or
0-99 answer to gpt-4o-mini with a fixed prompt. Three judges stand in for it here:

- `none`: no judge; such questions are counted wrong and reported as unjudged (a lower bound).
- `synonyms`: offline and deterministic, built from the four synonym pairs the authors' prompt
  names (football/soccer, playground/ground track field, building/rooftop, pond/swimming pool).
- a URL: any OpenAI-compatible chat-completions endpoint, sent the authors' prompt verbatim.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from ..errors import RemoteError

#: The synonym pairs named in the authors' judge prompt, in their order.
SYNONYM_PAIRS: tuple[tuple[str, str], ...] = (
    ("football", "soccer"),
    ("playground", "ground track field"),
    ("building", "rooftop"),
    ("pond", "swimming pool"),
)
#: The model the authors' script calls.
PAPER_JUDGE_MODEL = "gpt-4o-mini"
#: `max_tokens` of the authors' request.
PAPER_MAX_TOKENS = 100
JUDGE_MODEL_ENV = "SARLANG1M_JUDGE_MODEL"
JUDGE_KEY_ENVS = ("SARLANG1M_JUDGE_API_KEY", "OPENAI_API_KEY")
JUDGE_NAMES = ("none", "synonyms")


def judge_prompt(question: str, ground_truth: str, predicted: str) -> str:
    """The authors' judge prompt, character for character (their script passes lower-cased texts)."""
    examples = ", ".join(f"{a} and {b}" for a, b in SYNONYM_PAIRS)
    return (
        f"Question: {question}\nGround Truth Answer: {ground_truth}\nPredicted Answer: {predicted}\n"
        "Does the predicted answer match the ground truth? Answer 1 for match and 0 for not match. "
        "Use semantic meaning not exact match. "
        f"Synonyms are also treated as a match, e.g., {examples}. Do not explain the reason.\n"
    )


@dataclass(frozen=True)
class JudgeRequest:
    """What a judge sees: the texts exactly as the protocol passes them (lower-cased)."""

    question: str
    ground_truth: str
    predicted: str


class Judge(Protocol):
    """Decides open answers; a verdict of None means no usable verdict (counted wrong, reported)."""

    name: str

    def verdicts(self, requests: Sequence[JudgeRequest]) -> list[bool | None]: ...


class NoJudge:
    """Leaves every open answer undecided, so the score is what the string rules alone allow."""

    name = "none"

    def verdicts(self, requests: Sequence[JudgeRequest]) -> list[bool | None]:
        return [None] * len(requests)


def _words(text: str) -> list[str]:
    return re.findall(r"\w+", text.lower())


def contains_phrase(words: Sequence[str], phrase: Sequence[str]) -> bool:
    """Whether `phrase` occurs in `words` as consecutive whole words (empty phrase: only in empty)."""
    if not phrase:
        return not words
    size = len(phrase)
    return any(list(words[i : i + size]) == list(phrase) for i in range(len(words) - size + 1))


class SynonymJudge:
    """Accepts a prediction that contains the ground truth once the prompt's synonyms are unified.

    Both texts are split into words; every term of a synonym pair (singular or plural) is replaced
    by the pair's first term; the verdict is whether the ground truth's words occur consecutively
    in the prediction's. It only knows the four pairs the prompt names: it approximates the GPT
    judge from below and never calls out.
    """

    name = "synonyms"

    def __init__(self, pairs: Sequence[tuple[str, str]] = SYNONYM_PAIRS) -> None:
        terms = {term: canonical for canonical, other in pairs for term in (canonical, other)}
        alternatives = "|".join(re.escape(t) for t in sorted(terms, key=len, reverse=True))
        self._pattern = re.compile(rf"\b({alternatives})s?\b")
        self._canonical = terms

    def _canonical_words(self, text: str) -> list[str]:
        spaced = " ".join(_words(text))
        return self._pattern.sub(lambda m: self._canonical[m.group(1)], spaced).split()

    def verdict(self, request: JudgeRequest) -> bool:
        return contains_phrase(self._canonical_words(request.predicted), self._canonical_words(request.ground_truth))

    def verdicts(self, requests: Sequence[JudgeRequest]) -> list[bool | None]:
        return [self.verdict(r) for r in requests]


class JudgeError(RemoteError):
    """The judge endpoint could not be reached or answered with something that is not a reply."""


def parse_verdict(reply: str) -> bool | None:
    """1 → match, 0 → no match; anything else → None (the authors' `int(reply)` would crash)."""
    match = re.fullmatch(r"\s*([01])\s*\.?\s*", reply)
    return None if match is None else match.group(1) == "1"


def default_cache_path(model: str) -> Path:
    """Where verdicts of a model are kept between runs, so a rerun costs no calls."""
    root = Path(os.environ.get("SARLANG1M_CACHE", Path.home() / ".cache" / "sarlang1m"))
    return root / "judge" / (re.sub(r"[^\w.-]+", "_", model) + ".jsonl")


class OpenAICompatibleJudge:
    """The authors' judge call against any OpenAI-compatible `/chat/completions` endpoint.

    The request matches theirs: one user message holding one text part with `judge_prompt`, and
    `max_tokens=100`; like them it sets no temperature, so a remote model may not be deterministic.
    Replies are cached on disk by (model, prompt), requests run on a few threads, and transient
    HTTP errors (429, 5xx, connection) are retried before a `JudgeError` stops the run (verdicts
    obtained so far stay in the cache).
    """

    def __init__(
        self,
        base_url: str,
        *,
        model: str | None = None,
        api_key: str | None = None,
        cache_path: str | Path | None = None,
        max_workers: int = 8,
        timeout_s: float = 60.0,
        retries: int = 3,
    ) -> None:
        self.endpoint = base_url.rstrip("/") + "/chat/completions"
        self.model = model or os.environ.get(JUDGE_MODEL_ENV) or PAPER_JUDGE_MODEL
        self.name = f"{self.model}@{base_url}"
        self._api_key = api_key or next((os.environ[e] for e in JUDGE_KEY_ENVS if os.environ.get(e)), None)
        self._cache_path = Path(cache_path) if cache_path else default_cache_path(self.model)
        self._max_workers = max_workers
        self._timeout_s = timeout_s
        self._retries = retries
        self._lock = threading.Lock()
        self._replies = self._load_cache()
        self.calls = 0

    def _key(self, prompt: str) -> str:
        return hashlib.sha256(f"{self.model}\n{prompt}".encode()).hexdigest()

    def _load_cache(self) -> dict[str, str]:
        replies: dict[str, str] = {}
        if self._cache_path.is_file():
            for line in self._cache_path.read_text(encoding="utf-8").splitlines():
                try:
                    entry = json.loads(line)
                    replies[entry["key"]] = entry["reply"]
                except (json.JSONDecodeError, KeyError, TypeError):
                    continue  # a line cut short by an interrupted run: that verdict is asked again
        return replies

    def _remember(self, key: str, reply: str) -> None:
        with self._lock:
            self._replies[key] = reply
            self._cache_path.parent.mkdir(parents=True, exist_ok=True)
            with self._cache_path.open("a", encoding="utf-8") as handle:
                handle.write(json.dumps({"key": key, "reply": reply}) + "\n")

    def request_body(self, prompt: str) -> dict:
        return {
            "model": self.model,
            "messages": [{"role": "user", "content": [{"type": "text", "text": prompt}]}],
            "max_tokens": PAPER_MAX_TOKENS,
        }

    def _post(self, prompt: str) -> str:
        headers = {"Content-Type": "application/json"}
        if self._api_key:
            headers["Authorization"] = f"Bearer {self._api_key}"
        data = json.dumps(self.request_body(prompt)).encode()
        for attempt in range(self._retries + 1):
            request = urllib.request.Request(self.endpoint, data=data, headers=headers, method="POST")
            try:
                with urllib.request.urlopen(request, timeout=self._timeout_s) as response:
                    body = json.loads(response.read())
                with self._lock:
                    self.calls += 1
                content = body["choices"][0]["message"]["content"]
                return content if isinstance(content, str) else ""
            except urllib.error.HTTPError as error:
                transient = error.code == 429 or error.code >= 500
                if not transient or attempt == self._retries:
                    raise JudgeError(f"judge endpoint {self.endpoint} answered HTTP {error.code}") from error
            except (urllib.error.URLError, TimeoutError) as error:
                if attempt == self._retries:
                    raise JudgeError(f"judge endpoint {self.endpoint} unreachable: {error}") from error
            except (json.JSONDecodeError, KeyError, IndexError, TypeError) as error:
                raise JudgeError(f"judge endpoint {self.endpoint} sent no chat completion: {error}") from error
            time.sleep(min(2**attempt, 30))
        raise AssertionError("unreachable")

    def _reply(self, prompt: str) -> str:
        key = self._key(prompt)
        cached = self._replies.get(key)
        if cached is not None:
            return cached
        reply = self._post(prompt)
        self._remember(key, reply)
        return reply

    def verdicts(self, requests: Sequence[JudgeRequest]) -> list[bool | None]:
        prompts = [judge_prompt(r.question, r.ground_truth, r.predicted) for r in requests]
        with ThreadPoolExecutor(max_workers=self._max_workers) as pool:
            replies = list(pool.map(self._reply, prompts))
        return [parse_verdict(reply) for reply in replies]


def make_judge(judge: str | Judge, *, cache_path: str | Path | None = None) -> Judge:
    """A judge from its CLI spelling: `none`, `synonyms` or an http(s) URL of an endpoint."""
    if not isinstance(judge, str):
        return judge
    if judge == "none":
        return NoJudge()
    if judge == "synonyms":
        return SynonymJudge()
    if judge.startswith(("http://", "https://")):
        return OpenAICompatibleJudge(judge, cache_path=cache_path)
    raise ValueError(f"unknown judge {judge!r}; expected one of {JUDGE_NAMES} or an http(s):// URL")
