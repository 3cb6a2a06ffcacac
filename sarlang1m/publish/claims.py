"""What a release's MANIFEST and rows claim, recounted from its files: counts, and the originals rows name.

A release whose every file hashes right can still claim what its files do not hold: a shard's ``rows``,
a config's images, texts, shards and bytes, the originals per source (what the card, the Croissant
metadata and `export` report), or rows that name originals it does not have. So `verify` (and `push`,
which verifies first) reads what the shards say and recounts: rows from each shard's Parquet footer,
texts from the lengths of its text-id column, the originals from its ``sar_*`` columns, nothing else.
On the Hub those are range reads of a footer and a few column chunks per shard (`hub_shards`), so a
revision is cross-checked without downloading its images or originals.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import pyarrow.compute as pc
import pyarrow.parquet as pq

from .. import schema
from ..errors import SarlangError
from .manifest import originals_problems, originals_summary
from .remote import call, status_of

#: Opens one Parquet file of a release by its path in the release.
OpenShard = Callable[[str], pq.ParquetFile]
#: (sar_path, sar_sha256, sar_bytes, shard) of a row that names an original.
Reference = tuple[str, str, int, str]
_REFERENCE_COLUMNS = ("sar_path", "sar_sha256", "sar_bytes")


@dataclass
class ShardFacts:
    """What the shards themselves say: rows (footer), texts (id lists), the originals their rows name."""

    rows: dict[str, int] = field(default_factory=dict)
    texts: dict[str, int] = field(default_factory=dict)
    references: list[Reference] = field(default_factory=list)
    unreadable: dict[str, str] = field(default_factory=dict)


def parquet_files(files: dict[str, dict]) -> list[str]:
    """The Parquet files a MANIFEST lists, sorted."""
    return sorted(name for name in files if name.endswith(".parquet"))


def read_shard_facts(names: Iterable[str], open_shard: OpenShard) -> ShardFacts:
    """Rows, texts and referenced originals of each shard; a shard that does not read is listed with why.

    Each shard is read through `remote.call`: on the Hub, a transient answer is retried like every Hub read.
    """
    facts = ShardFacts()
    for name in names:
        try:
            rows, texts, references = call(_read_one, name, open_shard)
        except (OSError, ValueError) as error:  # pyarrow's errors are both; a damaged footer is a finding
            if isinstance(error, SarlangError) or status_of(error) is not None or _is_transport(error):
                raise
            facts.unreadable[name] = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
            continue
        facts.rows[name] = rows
        if texts is not None:
            facts.texts[name] = texts
        facts.references += references
    return facts


def _read_one(name: str, open_shard: OpenShard) -> tuple[int, int | None, list[Reference]]:
    """(rows, texts or None, references) of one shard: its footer and two column groups, nothing else."""
    parquet = open_shard(name)
    names = parquet.schema_arrow.names
    text_column = next((schema.TEXT_COLUMN[t] for t in schema.TEXT_COLUMN if name.startswith(f"data/{t}/")), None)
    texts = None
    if text_column in names:
        ids = parquet.read(columns=[f"{text_column}.id"]).column(0).combine_chunks().field("id")
        texts = int(pc.sum(pc.list_value_length(ids)).as_py() or 0)
    references: list[Reference] = []
    if all(column in names for column in _REFERENCE_COLUMNS):
        for batch in parquet.iter_batches(columns=list(_REFERENCE_COLUMNS), batch_size=65_536):
            for path, sha256, size in zip(*(column.to_pylist() for column in batch.columns), strict=True):
                if path is not None:
                    references.append((path, sha256, size, name))
    return parquet.metadata.num_rows, texts, references


def _is_transport(error: BaseException) -> bool:
    """A connection that failed (no answer): the Hub's fault, not the shard's."""
    return type(error).__module__.split(".")[0] in ("httpx", "httpx2", "httpcore", "urllib3", "requests")


def claim_problems(manifest: dict, facts: ShardFacts) -> list[str]:
    """Where the MANIFEST's counts differ from what the files hold (one line per claim), and shards that
    do not read. Checked: each shard's ``rows``; per config and split its ``images``, ``texts``, ``files``
    and ``download_bytes``; the ``originals`` summary per source."""
    files = manifest["files"]
    problems = [f"{name}: not readable as Parquet ({why})" for name, why in sorted(facts.unreadable.items())]
    for name in sorted(facts.rows):
        claimed = files.get(name, {}).get("rows")
        if claimed is not None and claimed != facts.rows[name]:
            problems.append(f"{name}: the MANIFEST says {claimed} rows, its Parquet footer {facts.rows[name]}")
    for config, summary in sorted((manifest.get("configs") or {}).items()):
        for split, claims in sorted(((summary or {}).get("splits") or {}).items()):
            problems += _split_problems(f"configs[{config!r}] {split}", claims, files, facts)
    claimed_originals = manifest.get("originals")
    if isinstance(claimed_originals, dict) and claimed_originals != originals_summary(files):
        problems.append(_originals_difference(claimed_originals, originals_summary(files)))
    return problems


def _split_problems(where: str, claims: dict, files: dict[str, dict], facts: ShardFacts) -> list[str]:
    pattern = claims.get("data_files")
    if not isinstance(pattern, str):
        return [f"{schema.MANIFEST_FILE}: {where}: no data_files pattern"]
    shards = [name for name in parquet_files(files) if matches_pattern(name, pattern)]
    counted = {
        "images": sum(facts.rows.get(name, 0) for name in shards),
        "texts": sum(facts.texts.get(name, 0) for name in shards),
        "files": len(shards),
        "download_bytes": sum(files[name]["bytes"] for name in shards),
    }
    what = {"images": "image rows", "texts": "texts", "files": "shards", "download_bytes": "bytes of shards"}
    return [
        f"{schema.MANIFEST_FILE}: {where} claims {claims.get(key)} {what[key]}, its shards ({pattern}) hold {value}"
        for key, value in counted.items()
        if key in claims and claims[key] != value
    ]


def matches_pattern(path: str, pattern: str) -> bool:
    """Whether `path` matches the glob `pattern` part by part (``*`` never crosses a ``/``)."""
    parts, globs = path.split("/"), pattern.split("/")
    return len(parts) == len(globs) and all(fnmatch.fnmatchcase(p, g) for p, g in zip(parts, globs, strict=True))


def _originals_difference(claimed: dict, counted: dict) -> str:
    sources = sorted(set(claimed.get("sources") or {}) | set(counted["sources"]))
    differ = [s for s in sources if (claimed.get("sources") or {}).get(s) != counted["sources"].get(s)]
    detail = ", ".join(
        f"{s}: claims {(claimed.get('sources') or {}).get(s)}, holds {counted['sources'].get(s)}" for s in differ
    )
    return (
        f"{schema.MANIFEST_FILE}: originals claims {claimed.get('files')} files of {claimed.get('bytes')} bytes, "
        f"the release lists {counted['files']} of {counted['bytes']}" + (f" ({detail})" if detail else "")
    )


def contents_problems(manifest: dict, open_shard: OpenShard) -> list[str]:
    """Every problem of rows and counts: the shards read once, then the originals they name and the counts."""
    facts = read_shard_facts(parquet_files(manifest["files"]), open_shard)
    return originals_problems(manifest["files"], facts.references) + claim_problems(manifest, facts)


def hub_shards(repo_id: str, commit: str, token: str | bool | None = None) -> OpenShard:
    """Opens the shards of a Hub commit for range reads (footer and chosen column chunks only)."""
    from huggingface_hub import HfFileSystem

    filesystem = HfFileSystem(token=token)

    def open_shard(name: str) -> pq.ParquetFile:
        return pq.ParquetFile(filesystem.open(f"datasets/{repo_id}@{commit}/{name}", "rb", block_size=2**20))

    return open_shard
