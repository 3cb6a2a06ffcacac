"""Calls to the Hub that survive a busy server and fail in one line that says what state was left.

huggingface_hub retries LFS transfers and file downloads itself (429 and 5xx, honouring `Retry-After`),
but not its API calls: commits, tags, refs, trees, repo info and revision resolution answer a transient
429 or 503 with an exception. Every call to the Hub goes through `call`, which retries those a bounded
number of times, with exponential backoff that honours the server's `Retry-After`, and records on the
final error how many attempts it made. `translated` turns whatever the transport raises (an HTTP error,
a dropped or refused connection, offline mode) into a `RemoteError` whose message names the operation,
what was tried, the repo state and what to run next, so that the CLI prints one line instead of a
traceback.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from huggingface_hub import HfApi, constants
from huggingface_hub.errors import (
    EntryNotFoundError,
    HfHubHTTPError,
    HTTPError,
    LocalEntryNotFoundError,
    OfflineModeIsEnabled,
    RepositoryNotFoundError,
    RevisionNotFoundError,
)

from ..compat import RevisionResolutionError
from ..errors import NotFoundError, RemoteError, SarlangError

#: Answers that mean "not now": the request was not carried out and may be sent again.
TRANSIENT_STATUS = (429, 502, 503, 504)
#: At most this many attempts per call (the first one included).
MAX_ATTEMPTS = 5
#: Wait before the second attempt, doubled for each further one, when the server gives no `Retry-After`.
BASE_WAIT_S = 1.0
#: No wait is longer than this, whatever `Retry-After` asks for.
MAX_WAIT_S = 60.0

T = TypeVar("T")
#: How huggingface_hub and datasets spell "on" in an environment variable.
_TRUE = ("1", "ON", "YES", "TRUE")


class HubUnavailableError(RemoteError):
    """The Hub could not be reached, or kept answering with an error after the retries."""


class HubAuthError(RemoteError):
    """The Hub refused the token (401) or its permissions (403)."""


class HubConflictError(RemoteError):
    """Another writer changed the branch while a push was committing to it (412 or 409)."""


def status_of(error: BaseException) -> int | None:
    """The HTTP status of an HTTP error, None for a transport error (no answer at all)."""
    response = getattr(error, "response", None)
    return getattr(response, "status_code", None)


#: The attribute of an error raised by `call` that holds how many attempts it made.
_ATTEMPTS = "sarlang1m_attempts"


def call(function: Callable[..., T], *args: object, **kwargs: object) -> T:
    """`function(*args, **kwargs)`, sent again after a transient answer (see the module docstring).

    Only answers in `TRANSIENT_STATUS` are retried (also when huggingface_hub wraps one, as revision
    resolution does): the server says it did not carry out the request, so sending it again is safe even
    for a commit. A dropped connection is not retried here (a commit may have landed); the caller's
    plan-again-and-resume covers it. The error that ends the attempts records how many were made
    (`attempts_made`), so that its message states what was tried.
    """
    for attempt in range(1, MAX_ATTEMPTS + 1):
        try:
            return function(*args, **kwargs)
        except (HTTPError, RevisionResolutionError) as error:
            answer = _transient_answer(error)
            if answer is None or attempt == MAX_ATTEMPTS:
                setattr(error, _ATTEMPTS, attempt)
                raise
            time.sleep(_wait(answer, attempt))
    raise AssertionError("unreachable")  # pragma: no cover


def _transient_answer(error: BaseException) -> HTTPError | None:
    """The HTTP error behind `error` if the server answered "not now" (`TRANSIENT_STATUS`), else None."""
    answer = error.__cause__ if isinstance(error, RevisionResolutionError) else error
    return answer if isinstance(answer, HTTPError) and status_of(answer) in TRANSIENT_STATUS else None


def attempts_made(error: BaseException) -> int | None:
    """How many attempts `call` made before `error` (None when `call` did not raise it)."""
    seen: BaseException | None = error
    while seen is not None:
        if hasattr(seen, _ATTEMPTS):
            return int(getattr(seen, _ATTEMPTS))
        seen = seen.__context__
    return None


def repo_commit(api: HfApi, repo_id: str, revision: str | None = None) -> str:
    """The commit the dataset repo `repo_id` is at, at `revision` (None: its default branch), retried as `call`.

    The Hub always names one; an answer without it is a `RemoteError` here rather than a None passed on.
    """
    commit = call(api.repo_info, repo_id, repo_type="dataset", revision=revision).sha
    if commit is None:
        raise RemoteError(f"the Hub named no commit for {repo_id}@{revision or 'its default branch'}: try again")
    return commit


def create_tag(api: HfApi, repo_id: str, tag: str, revision: str, message: str) -> None:
    """Tag the commit `revision` of the dataset repo (retried as `call`). A tag someone else created
    meanwhile (409) is a `HubConflictError` that says so and where that tag points: not a commit race."""
    try:
        call(api.create_tag, repo_id, tag=tag, revision=revision, repo_type="dataset", tag_message=message)
    except HTTPError as error:
        if status_of(error) != 409:
            raise
        refs = call(api.list_repo_refs, repo_id, repo_type="dataset")
        target = next((ref.target_commit for ref in refs.tags if ref.name == tag), None)
        at = f"commit {target[:12]}" if target else "a commit this client cannot see"
        ours = " (the same commit)" if target == revision else ""
        raise HubConflictError(
            f"tagging {repo_id}@{revision[:12]} as {tag} failed: someone else created the tag {tag} meanwhile, "
            f"at {at}{ours}; tags are never moved: check it with `sarlang1m verify {repo_id}@{tag}`, or publish "
            "this release as a new version"
        ) from error


def _wait(error: HTTPError, attempt: int) -> float:
    response = getattr(error, "response", None)
    retry_after = response.headers.get("Retry-After") if response is not None else None
    if retry_after is not None and retry_after.strip().isdigit():
        return min(float(retry_after), MAX_WAIT_S)
    return min(BASE_WAIT_S * 2 ** (attempt - 1), MAX_WAIT_S)


@contextmanager
def translated(what: str, state: Callable[[], str] = lambda: "", *, repo_id: str | None = None) -> Iterator[None]:
    """Raise transport failures inside the block as one-line `RemoteError`s: "WHAT failed: WHY: STATE".

    `state` is called when a failure happens, so it describes the repository as it was left then
    ("12 of 40 files committed, no tag made: run the same command again to resume").
    """
    try:
        yield
    except SarlangError:
        raise
    except (HTTPError, HfHubHTTPError, OfflineModeIsEnabled, LocalEntryNotFoundError) as error:
        raise remote_error(error, what, state(), repo_id=repo_id) from error
    except RevisionResolutionError as error:  # the Hub unreachable and no cached record of the revision
        cause = error.__cause__ or error
        if attempts_made(cause) is None and attempts_made(error) is not None:
            setattr(cause, _ATTEMPTS, attempts_made(error))
        raise remote_error(cause, what, state(), repo_id=repo_id) from error
    except OSError as error:  # datasets' own: the Hub unreachable with nothing cached, a revision it cannot find
        failure = _datasets_failure(error, what, state())
        if failure is None:
            raise
        raise failure from error
    except RuntimeError as error:  # huggingface_hub wraps a failed LFS upload: "Error while uploading 'PATH' ..."
        wrapped = error.__cause__
        if not isinstance(wrapped, (HTTPError, OfflineModeIsEnabled)):
            raise
        detail = str(error).rstrip(".").replace("Error while uploading", "uploading")
        raise remote_error(wrapped, f"{what} ({detail})", state(), repo_id=repo_id) from error


def _datasets_failure(error: OSError, what: str, state: str) -> SarlangError | None:
    """The one-line error for what `datasets` raises when it cannot get a Hub dataset, else None.

    It raises a bare `ConnectionError` when the Hub cannot be reached (or offline mode is on) and nothing
    is cached, and `DatasetNotFoundError` (a `FileNotFoundError`) for a repo or revision it cannot find.
    """
    tail = f": {state}" if state else ""
    if isinstance(error, ConnectionError):
        offline = constants.HF_HUB_OFFLINE or os.environ.get("HF_DATASETS_OFFLINE", "").upper() in (
            "1",
            "ON",
            "YES",
            "TRUE",
        )
        why = "HF_HUB_OFFLINE is set" if offline else f"the Hub at {constants.ENDPOINT} cannot be reached"
        return HubUnavailableError(
            f"{what} failed: {why} and the cache holds no copy of it ({_first_line(error)}); load it once online, "
            f"or run `sarlang1m prefetch CONFIG --release ORG/NAME@REV` while online{tail}"
        )
    if isinstance(error, FileNotFoundError) and type(error).__module__.startswith("datasets"):
        return NotFoundError(f"{what} failed: {_first_line(error)}{tail}")
    return None


def remote_error(error: BaseException, what: str, state: str = "", *, repo_id: str | None = None) -> SarlangError:
    """The one-line error for a transport failure of `what` (see `translated`)."""
    status = status_of(error)
    repo = repo_id or "the repository"
    tail = f": {state}" if state else ""
    if isinstance(error, OfflineModeIsEnabled) or (
        isinstance(error, LocalEntryNotFoundError) and constants.HF_HUB_OFFLINE
    ):
        return HubUnavailableError(f"{what} failed: HF_HUB_OFFLINE is set, so the Hub cannot be reached{tail}")
    if status is None:
        reason = _first_line(error) or type(error).__name__
        return HubUnavailableError(
            f"{what} failed: cannot reach the Hub at {constants.ENDPOINT} ({reason}); check the connection "
            f"or HF_ENDPOINT{tail}"
        )
    if status == 401:
        return HubAuthError(
            f"{what} failed: the Hub did not accept the token (401); log in with `hf auth login` or set HF_TOKEN "
            f"to a valid token{tail}"
        )
    if status == 403:
        return HubAuthError(
            f"{what} failed: the token may not do this on {repo} (403); use a token with write access to {repo}, "
            f"or a repo in a namespace you own{tail}"
        )
    if isinstance(error, (RepositoryNotFoundError, RevisionNotFoundError, EntryNotFoundError)):
        return NotFoundError(f"{what} failed: {_not_found(error, repo)}{tail}")
    if status in (409, 412):
        return HubConflictError(f"{what} failed: another commit landed on {repo} meanwhile ({status}){tail}")
    return HubUnavailableError(f"{what} failed: the Hub answered {status}{_tried(error)} ({_reason(error)}){tail}")


def _tried(error: BaseException) -> str:
    """What was tried, as counted: " after N attempts" when `call` made several, else nothing."""
    attempts = attempts_made(error)
    return f" after {attempts} attempts" if attempts is not None and attempts > 1 else ""


def _not_found(error: BaseException, repo: str) -> str:
    """What the Hub does not have, in words, with its own explanation."""
    if isinstance(error, RepositoryNotFoundError):
        what = f"no dataset repo {repo} at {constants.ENDPOINT} (or it is private and the token cannot see it)"
    elif isinstance(error, RevisionNotFoundError):
        what = f"{repo} has no such revision; list its tags with `hf repos tag list {repo} --type dataset`"
    else:
        what = f"{repo} has no such file at this revision"
    return f"{what} ({_reason(error)})"


def _reason(error: BaseException) -> str:
    """The server's own explanation (its X-Error-Message), else the error's first line."""
    message = getattr(error, "server_message", None)
    return message.strip().splitlines()[0][:200] if isinstance(message, str) and message.strip() else _first_line(error)


def _first_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return text[0][:200] if text else ""
