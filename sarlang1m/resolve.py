"""Which release to read, at which commit, and what it says about itself (its MANIFEST and configs).

Every user-side entry point (`load`, `export`, `evaluate`, `verify`) names a release the same way: a
local folder, `ORG/NAME` or `ORG/NAME@REV`. This module turns that into a folder or a Hub repo at a
commit, refuses a moved version tag and an unbuilt raw release, and reads the MANIFEST, so that each
entry point resolves, and fails, alike.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from . import schema
from .errors import InputError, NotFoundError, ReleaseError
from .publish import releases
from .publish.manifest import parse_manifest

_HUB_REPO = re.compile(r"^(?P<repo>[A-Za-z0-9][\w.-]*/[\w.-]+)(?:@(?P<revision>[^@\s]+))?$")
#: Folders of the authors' raw release (any one of them, with no MANIFEST.json, means "not built yet").
_RAW_RELEASE_FOLDERS = ("Text", "SARimages", "SARimages_original", "SARimages_preprocessed")


def resolve_release(source: str | Path | None = None, revision: str | None = None) -> tuple[str, str | None]:
    """(path or repo id, revision) of a release: a local folder, `ORG/NAME`, or `ORG/NAME@REV`.

    A local folder has no revision; a Hub repo is read at `revision`, else at the `@REV` it names, else at
    the release this package pins (`schema.RELEASE_REVISION`), so that results are reproducible by default.
    An existing folder wins over a Hub reading of the same text.
    """
    source = schema.DEFAULT_REPO_ID if source is None else source
    if Path(source).is_dir():
        if revision is not None:
            raise InputError(f"{source} is a local folder: it has no revision (got revision={revision!r})")
        _refuse_raw_release(Path(source))
        return str(Path(source)), None
    match = _HUB_REPO.match(str(source)) if not isinstance(source, Path) else None
    if match is None:
        raise NotFoundError(f"{source}: no such release folder, and not a Hub repo id ORG/NAME[@REV]")
    if match["revision"] and revision and match["revision"] != revision:
        raise InputError(f"{source} names revision {match['revision']!r} but revision={revision!r} was given")
    return match["repo"], resolve_hub_revision(match["repo"], revision or match["revision"] or schema.RELEASE_REVISION)


def requested_revision(source: str | Path | None = None, revision: str | None = None) -> str | None:
    """The revision a user named for a release (or the pinned one), before it is resolved to a commit;
    None for a local folder. What reports show beside the commit `resolve_release` read."""
    source = schema.DEFAULT_REPO_ID if source is None else source
    if Path(source).is_dir():
        return None
    match = _HUB_REPO.match(str(source))
    return revision or (match["revision"] if match else None) or schema.RELEASE_REVISION


def looks_like_hub_repo(text: str) -> bool:
    """Whether `text` has the shape ORG/NAME[@REV] (and not of a path such as `./x` or `/x`)."""
    return _HUB_REPO.match(text) is not None


@functools.lru_cache(maxsize=64)
def resolve_hub_revision(repo_id: str, revision: str, token: str | None = None) -> str:
    """The commit to read `repo_id@revision` at: a commit sha as given; a tag or branch resolved on the
    Hub, and a version tag refused when it does not point to the commit it was published at
    (`sarlang1m.publish.releases`). Offline, a recorded tag reads at its recorded commit and anything else as named.
    Resolved once per process, through huggingface_hub's `resolve_revision`: it records the name -> commit in
    its cache, so that a later offline read by the name finds what this one read (and, with the Hub down,
    it falls back on that record)."""
    if releases.is_commit_sha(revision):
        return revision
    from huggingface_hub import HfApi, constants

    from .compat import resolve_revision
    from .publish.remote import call, translated

    expected = releases.recorded_commit(repo_id, revision)
    if constants.HF_HUB_OFFLINE:
        return expected or revision
    with translated(f"resolving {repo_id}@{revision}", repo_id=repo_id):
        actual = call(resolve_revision, HfApi(token=token), repo_id, repo_type="dataset", revision=revision)
    if expected is not None and actual != expected:
        raise releases.TagMovedError(
            f"{repo_id}@{revision} points to commit {actual[:12]}, but it was published at {expected[:12]} "
            f"({releases.user_file()} or the package's releases.json): refusing to read it; pass "
            f"revision={expected!r} to read what was published"
        )
    return actual


def _refuse_raw_release(folder: Path) -> None:
    """A folder in the authors' raw layout (Text/, SARimages/, ...) given where a built release belongs."""
    if (folder / schema.MANIFEST_FILE).is_file():
        return
    from .raw.layout import _find_dir

    found = [name for name in _RAW_RELEASE_FOLDERS if _find_dir(folder, name) is not None]
    if found:
        raise ReleaseError(
            f"{folder} is a raw release in the authors' layout ({', '.join(f + '/' for f in found)}), not a built "
            f"release: build one with `sarlang1m build {folder} --out RELEASE` and pass RELEASE"
        )


def release_name(path: str, revision: str | None) -> str:
    """How a release is named in messages and reports: the folder, or ORG/NAME@REV."""
    return path if revision is None else f"{path}@{revision}"


def read_release_manifest(source: str | Path | None = None, revision: str | None = None) -> dict:
    """The MANIFEST.json of a release (local folder or Hub repo at a revision)."""
    path, revision = resolve_release(source, revision)
    if revision is None:
        manifest_path = Path(path) / schema.MANIFEST_FILE
        if not manifest_path.is_file():
            raise NotFoundError(
                f"{path}: no {schema.MANIFEST_FILE}, so not a release written by `sarlang1m build` (or its build "
                "did not finish): build the release again, or pass the folder of a built one"
            )
    else:
        from huggingface_hub import hf_hub_download

        from .publish.remote import call, translated

        with translated(f"reading the MANIFEST of {path}@{revision}", repo_id=path):
            manifest_path = Path(
                call(hf_hub_download, path, schema.MANIFEST_FILE, repo_type="dataset", revision=revision)
            )
    return parse_manifest(manifest_path.read_bytes(), str(manifest_path))


def is_synthetic_release(source: str | Path | None = None, revision: str | None = None) -> bool:
    """Whether a release's MANIFEST says it was built from synthetic data (what it derives must say so too)."""
    try:
        return bool(read_release_manifest(source, revision).get("synthetic", False))
    except (OSError, ValueError):
        return False


def check_config(
    config: str, source: str | Path | None = None, revision: str | None = None, *, split: str | None = None
) -> schema.ConfigSpec:
    """The spec of `config`, refused with the configs (and splits) THIS release has when it has no such one.

    The release's configs come from its MANIFEST; when that cannot be read, the package's own list decides.
    """
    configs = _release_configs(source, revision)
    if configs is not None and config not in configs:
        raise InputError(f"unknown config {config!r}; this release has {list(configs)}")
    splits = list((configs or {}).get(config, {}).get("splits") or schema.SPLITS)
    if split is not None and split not in splits:
        raise InputError(f"unknown split {split!r} of config {config!r}; this release has {splits}")
    return schema.config_spec(config)


def _release_configs(source: str | Path | None, revision: str | None) -> dict[str, Any] | None:
    """The MANIFEST's configs, None when it cannot be read; but a Hub repo or revision that does not exist
    is an error here, before `datasets` meets it."""
    try:
        configs = read_release_manifest(source, revision).get("configs")
    except NotFoundError as error:
        from huggingface_hub.errors import RepositoryNotFoundError, RevisionNotFoundError

        if isinstance(error.__cause__, (RepositoryNotFoundError, RevisionNotFoundError)):
            raise
        return None
    except (OSError, ValueError):
        return None
    return dict(configs) if isinstance(configs, Mapping) and configs else None
