"""Judges: who decides the open-ended answers that the string rules cannot.

The authors send every question whose answer is neither found in the prediction nor a yes/no or
0-99 answer to gpt-4o-mini with a fixed prompt. Three judges stand in for it here:

- `synonyms` (the default): offline and deterministic. It accepts an answer equal to the truth
  once case, surrounding blanks and trailing punctuation are set aside ("yes" for "Yes."), then
  decides as the `strict` protocol does (a yes/no or number must be committed to; other answers
  must appear as whole words) after unifying the four synonym pairs the authors' prompt names
  (football/soccer, playground/ground track field, building/rooftop, pond/swimming pool).
- `none`: no judge; such questions are counted wrong and reported as unjudged (a lower bound).
- a URL: any OpenAI-compatible chat-completions endpoint, sent the authors' prompt verbatim.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import logging
import os
import re
import ssl
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol, get_args

from tqdm.auto import tqdm

from ..errors import InputError, RemoteError
from .matching import normalize_answer, strict_decision, words

logger = logging.getLogger(__name__)

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
#: The judges named by a word; any other judge is an http(s) URL of an endpoint (see `make_judge`).
JudgeName = Literal["synonyms", "none"]
JUDGE_NAMES: tuple[JudgeName, ...] = get_args(JudgeName)
NO_JUDGE: JudgeName = "none"
#: The judge `evaluate vqa` uses unless told otherwise: offline, so a score needs no network or key.
DEFAULT_JUDGE: JudgeName = "synonyms"


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

    name: str = NO_JUDGE

    def verdicts(self, requests: Sequence[JudgeRequest]) -> list[bool | None]:
        return [None] * len(requests)


class SynonymJudge:
    """The offline judge: what a careful reader accepts without a model, from below.

    An answer equal to the ground truth once case, surrounding blanks and trailing punctuation are
    set aside is a match ("yes" for "yes."). Otherwise every term of a synonym pair (singular or
    plural) is replaced by the pair's first term in both texts, and the `strict` protocol's word
    rule decides: a yes/no or whole-number truth needs the prediction to commit to exactly that
    answer ("two" for "2." is a match, "yes and no" for "yes." is not); any other truth needs its
    words to occur consecutively in the prediction. It knows only the four pairs the prompt names,
    so it accepts fewer paraphrases than the GPT judge, and it never calls out.
    """

    name = "synonyms"

    def __init__(self, pairs: Sequence[tuple[str, str]] = SYNONYM_PAIRS) -> None:
        terms = {term: canonical for canonical, other in pairs for term in (canonical, other)}
        alternatives = "|".join(re.escape(t) for t in sorted(terms, key=len, reverse=True))
        self._pattern = re.compile(rf"\b({alternatives})s?\b")
        self._canonical = terms

    def _canonical_text(self, text: str) -> str:
        return self._pattern.sub(lambda m: self._canonical[m.group(1)], " ".join(words(text)))

    def verdict(self, request: JudgeRequest) -> bool:
        if normalize_answer(request.predicted) == normalize_answer(request.ground_truth):
            return True
        decision = strict_decision(self._canonical_text(request.ground_truth), self._canonical_text(request.predicted))
        return decision.correct is True

    def verdicts(self, requests: Sequence[JudgeRequest]) -> list[bool | None]:
        return [self.verdict(r) for r in requests]


def describe_judge(judge: Judge) -> str:
    """The judge as a report's title names it: what kind of number the score is."""
    if judge.name == NO_JUDGE:
        return f"{NO_JUDGE} (a lower bound: open answers are counted wrong)"
    if isinstance(judge, SynonymJudge):
        return f"{judge.name} (offline)"
    return judge.name


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


#: Longest wait between two attempts, and the longest `Retry-After` honoured.
MAX_BACKOFF_S = 30.0


def retry_delays(retries: int, backoff_s: float) -> list[float]:
    """The waits before each retry: `backoff_s`, doubled each time, at most `MAX_BACKOFF_S`."""
    return [min(backoff_s * 2**attempt, MAX_BACKOFF_S) for attempt in range(retries)]


class _Transient(Exception):
    """A failure worth asking again: no connection, a dropped one, no reply in time, HTTP 429 or 5xx."""

    def __init__(self, what: str, *, connected: bool, retry_after: float | None = None) -> None:
        super().__init__(what)
        self.what = what
        self.connected = connected
        self.retry_after = retry_after


def _retry_after(error: urllib.error.HTTPError) -> float | None:
    value = error.headers.get("Retry-After") if error.headers else None
    try:
        return min(max(float(value), 0.0), MAX_BACKOFF_S) if value is not None else None
    except ValueError:
        return None  # an HTTP date: the back-off schedule applies


class OpenAICompatibleJudge:
    """The authors' judge call against any OpenAI-compatible `/chat/completions` endpoint.

    The request matches theirs: one user message holding one text part with `judge_prompt`, and
    `max_tokens=100`; like them it sets no temperature, so a remote model may not be deterministic.
    Replies are cached on disk by (model, prompt), requests run on a few threads, and transient
    failures (no connection, a dropped connection, no reply within `timeout_s`, HTTP 429 and 5xx)
    are retried `retries` times after the waits of `retry_delays` before a `JudgeError` stops the
    run (verdicts obtained so far stay in the cache). The first request is sent alone, so an
    endpoint that cannot be reached fails once, within the retries of one request.
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
        backoff_s: float = 0.5,
        progress: bool = True,
    ) -> None:
        self.endpoint = base_url.rstrip("/") + "/chat/completions"
        self.model = model or os.environ.get(JUDGE_MODEL_ENV) or PAPER_JUDGE_MODEL
        self.name = f"{self.model}@{base_url}"
        self._api_key = api_key or next((os.environ[e] for e in JUDGE_KEY_ENVS if os.environ.get(e)), None)
        self._cache_path = Path(cache_path) if cache_path else default_cache_path(self.model)
        self._max_workers = max_workers
        self._timeout_s = timeout_s
        self._delays = retry_delays(retries, backoff_s)
        self._progress = progress
        self._lock = threading.Lock()
        self._stop = threading.Event()
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

    def _post_once(self, data: bytes, headers: dict[str, str]) -> str:
        """One request; `_Transient` for what is worth asking again, `JudgeError` for what is not."""
        request = urllib.request.Request(self.endpoint, data=data, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=self._timeout_s) as response:
                raw = response.read()
        except urllib.error.HTTPError as error:
            if error.code == 429 or error.code >= 500:
                raise _Transient(
                    f"answered HTTP {error.code}", connected=True, retry_after=_retry_after(error)
                ) from error
            hint = " (check $SARLANG1M_JUDGE_API_KEY or $OPENAI_API_KEY)" if error.code in (401, 403) else ""
            raise JudgeError(f"judge endpoint {self.endpoint} answered HTTP {error.code}{hint}") from error
        except urllib.error.URLError as error:  # before a request was sent: name, route, refusal, connect timeout
            if isinstance(error.reason, ssl.SSLError):
                raise JudgeError(f"judge endpoint {self.endpoint}: TLS failed: {error.reason}") from error
            raise _Transient(f"cannot be reached ({error.reason})", connected=False) from error
        except TimeoutError as error:
            raise _Transient(f"sent no reply within {self._timeout_s:g} s", connected=True) from error
        except (ConnectionError, http.client.HTTPException) as error:  # RemoteDisconnected, reset, cut short
            raise _Transient(f"dropped the connection ({type(error).__name__}: {error})", connected=True) from error
        try:
            content = json.loads(raw)["choices"][0]["message"]["content"]
        except (json.JSONDecodeError, UnicodeDecodeError, KeyError, IndexError, TypeError) as error:
            raise JudgeError(f"judge endpoint {self.endpoint} sent no chat completion: {error!r}") from error
        with self._lock:
            self.calls += 1
        return content if isinstance(content, str) else ""

    def _post(self, prompt: str) -> str:
        headers = {"Content-Type": "application/json"}
        if self._api_key:
            headers["Authorization"] = f"Bearer {self._api_key}"
        data = json.dumps(self.request_body(prompt)).encode()
        started = time.monotonic()
        attempts = 1 + len(self._delays)
        for attempt in range(attempts):
            try:
                return self._post_once(data, headers)
            except _Transient as failure:
                if attempt == attempts - 1 or self._stop.is_set():
                    raise self._gave_up(failure, attempt + 1, time.monotonic() - started) from failure
                delay = failure.retry_after if failure.retry_after is not None else self._delays[attempt]
                logger.warning(
                    "judge endpoint %s %s; retrying in %.1f s (attempt %d of %d)",
                    self.endpoint, failure.what, delay, attempt + 1, attempts,
                )  # fmt: skip
                if self._stop.wait(delay):  # another request gave up meanwhile: so does this one
                    raise self._gave_up(failure, attempt + 1, time.monotonic() - started) from failure
        raise AssertionError("unreachable")

    def _gave_up(self, failure: _Transient, attempts: int, seconds: float) -> JudgeError:
        tried = f"tried {attempts} time{'s' if attempts > 1 else ''} over {seconds:.1f} s"
        if failure.connected:
            what_next = f"verdicts so far are cached in {self._cache_path}: a rerun asks only the rest"
        else:
            what_next = "check that the server runs and that --judge is its base URL (e.g. http://HOST:PORT/v1)"
        return JudgeError(f"judge endpoint {self.endpoint} {failure.what}: {tried}; {what_next}")

    def _ask(self, prompt: str) -> None:
        key = self._key(prompt)
        if key not in self._replies:
            self._remember(key, self._post(prompt))

    def verdicts(self, requests: Sequence[JudgeRequest]) -> list[bool | None]:
        prompts = [judge_prompt(r.question, r.ground_truth, r.predicted) for r in requests]
        pending = [p for p in dict.fromkeys(prompts) if self._key(p) not in self._replies]
        if pending:
            self._stop.clear()
            with tqdm(total=len(pending), desc="judge", unit=" answers", disable=not self._progress) as bar:
                self._ask(pending[0])  # alone: an endpoint that cannot be reached fails once
                bar.update(1)
                with ThreadPoolExecutor(max_workers=self._max_workers) as pool:
                    futures = [pool.submit(self._ask, prompt) for prompt in pending[1:]]
                    try:
                        for future in as_completed(futures):
                            future.result()
                            bar.update(1)
                    except BaseException:
                        self._stop.set()  # the first failure ends the run: no thread starts or retries more
                        for future in futures:
                            future.cancel()
                        raise
        return [parse_verdict(self._replies[self._key(prompt)]) for prompt in prompts]


def make_judge(judge: JudgeName | str | Judge, *, cache_path: str | Path | None = None) -> Judge:
    """A judge from its CLI spelling: `synonyms`, `none` or an http(s) URL of an endpoint."""
    if not isinstance(judge, str):
        return judge
    if judge == NO_JUDGE:
        return NoJudge()
    if judge == "synonyms":
        return SynonymJudge()
    if judge.startswith(("http://", "https://")):
        return OpenAICompatibleJudge(judge, cache_path=cache_path)
    raise InputError(f"unknown judge {judge!r}; expected one of {JUDGE_NAMES} or an http(s):// URL")
