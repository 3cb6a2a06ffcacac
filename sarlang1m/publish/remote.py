"""Calls to the Hub that survive a busy server and fail in one line that says what state was left.

huggingface_hub retries LFS transfers and file downloads itself (429 and 5xx, honouring `Retry-After`),
but not its API calls: commits, tags, refs, trees and repo info answer a transient 429 or 503 with an
exception. `call` retries those a bounded number of times, with exponential backoff that honours the
server's `Retry-After`. `translated` turns whatever the transport raises (an HTTP error, a dropped or
refused connection, offline mode) into a `RemoteError` whose message names the operation, the repo
state and what to run next, so that the CLI prints one line instead of a traceback.
"""

from __future__ import annotations

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


def call(function: Callable[..., T], *args: object, **kwargs: object) -> T:
    """`function(*args, **kwargs)`, sent again after a transient answer (see the module docstring).

    Only answers in `TRANSIENT_STATUS` are retried: the server says it did not carry out the request,
    so sending it again is safe even for a commit. A dropped connection is not retried here (a commit
    may have landed); the caller's plan-again-and-resume covers it.
    """
    for attempt in range(1, MAX_ATTEMPTS + 1):
        try:
            return function(*args, **kwargs)
        except HTTPError as error:
            if status_of(error) not in TRANSIENT_STATUS or attempt == MAX_ATTEMPTS:
                raise
            time.sleep(_wait(error, attempt))
    raise AssertionError("unreachable")  # pragma: no cover


def repo_commit(api: HfApi, repo_id: str, revision: str | None = None) -> str:
    """The commit the dataset repo `repo_id` is at, at `revision` (None: its default branch), retried as `call`.

    The Hub always names one; an answer without it is a `RemoteError` here rather than a None passed on.
    """
    commit = call(api.repo_info, repo_id, repo_type="dataset", revision=revision).sha
    if commit is None:
        raise RemoteError(f"the Hub named no commit for {repo_id}@{revision or 'its default branch'}: try again")
    return commit


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
        raise remote_error(error.__cause__ or error, what, state(), repo_id=repo_id) from error
    except RuntimeError as error:  # huggingface_hub wraps a failed LFS upload: "Error while uploading 'PATH' ..."
        cause = error.__cause__
        if not isinstance(cause, (HTTPError, OfflineModeIsEnabled)):
            raise
        detail = str(error).rstrip(".").replace("Error while uploading", "uploading")
        raise remote_error(cause, f"{what} ({detail})", state(), repo_id=repo_id) from error


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
        return NotFoundError(f"{what} failed: {_first_line(error)}{tail}")
    if status in (409, 412):
        return HubConflictError(f"{what} failed: another commit landed on {repo} meanwhile ({status}){tail}")
    retried = f" after {MAX_ATTEMPTS} attempts" if status in TRANSIENT_STATUS else ""
    return HubUnavailableError(f"{what} failed: the Hub answered {status}{retried} ({_first_line(error)}){tail}")


def _first_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return text[0][:200] if text else ""
