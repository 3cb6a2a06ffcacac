"""Fallbacks for the oldest library versions the package supports (the floors in pyproject.toml).

Each one uses the library's own API where it exists and a small equivalent where the floor predates it,
so that the package installs beside tools that pin older releases (LLaMA-Factory pins `datasets<=4.0.0`).
Remove a fallback when its library's floor rises past the version named beside it.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
from pathlib import Path
from typing import TYPE_CHECKING, Any

from huggingface_hub import constants
from huggingface_hub.errors import HfHubHTTPError, HTTPError, OfflineModeIsEnabled

if TYPE_CHECKING:
    from datasets.arrow_writer import ParquetWriter
    from huggingface_hub import HfApi

try:
    from huggingface_hub.errors import RevisionResolutionError
except ImportError:  # huggingface_hub < 1.26

    class RevisionResolutionError(Exception):  # type: ignore[no-redef]
        """A revision that could not be resolved: the Hub unreachable and nothing recorded in the cache."""


def resolve_revision(api: HfApi, repo_id: str, *, repo_type: str, revision: str) -> str:
    """The commit `revision` of `repo_id` points to, recorded in huggingface_hub's cache for later offline reads.

    `HfApi.resolve_revision` (huggingface_hub >= 1.26) where it exists; before it, the same steps: ask the Hub
    and record the name -> commit where `hf_hub_download` looks offline, or, with the Hub unreachable (or
    answering 5xx), use what an earlier call recorded; neither: `RevisionResolutionError`.
    """
    if hasattr(api, "resolve_revision"):
        return str(api.resolve_revision(repo_id, repo_type=repo_type, revision=revision).resolved)
    from huggingface_hub.file_download import _cache_commit_hash_for_specific_revision, repo_folder_name

    storage = Path(constants.HF_HUB_CACHE).expanduser().resolve() / repo_folder_name(
        repo_id=repo_id, repo_type=repo_type
    )
    cause: Exception
    try:
        commit = api.repo_info(repo_id, repo_type=repo_type, revision=revision).sha
    except HfHubHTTPError as error:
        if error.response.status_code < 500:
            raise  # the Hub answered: no such repo or revision, no permission
        cause = error
    except (HTTPError, OfflineModeIsEnabled) as error:  # no answer at all
        cause = error
    else:
        if commit is None:
            raise RevisionResolutionError(f"the Hub named no commit for {repo_id}@{revision}")
        with contextlib.suppress(OSError):  # a read-only cache: the record is best effort, as in huggingface_hub
            _cache_commit_hash_for_specific_revision(str(storage), revision, commit)
        return commit
    recorded = storage / "refs" / revision
    if recorded.is_file():
        return recorded.read_text().strip()
    raise RevisionResolutionError(
        f"Cannot resolve revision {revision!r} of {repo_type} {repo_id!r}: the Hub could not be reached "
        f"({type(cause).__name__}: {cause}) and nothing is recorded in the cache ({recorded})"
    ) from cause


def parquet_writer(**kwargs: Any) -> ParquetWriter:
    """datasets' ParquetWriter, writing a Parquet page index on every supported version.

    The Dataset Viewer reads a page of rows through the page index. datasets >= 4.1 writes it (and
    content-defined chunks) by default; 4.0 writes neither, so there it is asked for (content-defined
    chunking, which only helps Xet deduplicate uploads, is not added).
    """
    import pyarrow.parquet as pq
    from datasets.arrow_writer import ParquetWriter

    if "write_page_index" in inspect.signature(ParquetWriter.__init__).parameters:
        return ParquetWriter(**kwargs)

    class PageIndexParquetWriter(ParquetWriter):  # datasets 4.0 builds its pyarrow writer from this class
        _WRITER_CLASS = functools.partial(pq.ParquetWriter, write_page_index=True)

    return PageIndexParquetWriter(**kwargs)
