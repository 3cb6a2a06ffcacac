"""The measured summary of a built release, per config and split: the MANIFEST's `configs` object.

`schema.ConfigSpec` says what a config selects; a `ConfigSummary` says what a build found there (images,
texts, shards, bytes). The release writer (`build.release`) makes them and writes them to the MANIFEST;
the card, its YAML, the Croissant metadata, the viewer check and `export` (on the user side) read them
back with `configs_from_json`. Because both sides read it, it sits beside `schema` rather than in `build/`,
and because its JSON form is part of the MANIFEST's bytes, the conversion is written out field by field.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .errors import ReleaseError
from .schema import MANIFEST_FILE


@dataclass(frozen=True)
class SplitSummary:
    """One split of a written config: rows (images), texts, shards, bytes, and the glob of its shards."""

    images: int
    texts: int
    files: int
    num_bytes: int
    download_bytes: int
    data_files: str

    def to_json(self) -> dict[str, Any]:
        return {
            "images": self.images,
            "texts": self.texts,
            "files": self.files,
            "num_bytes": self.num_bytes,
            "download_bytes": self.download_bytes,
            "data_files": self.data_files,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SplitSummary:
        return cls(
            images=data["images"],
            texts=data["texts"],
            files=data["files"],
            num_bytes=data["num_bytes"],
            download_bytes=data["download_bytes"],
            data_files=data["data_files"],
        )


@dataclass(frozen=True)
class ConfigSummary:
    """One written config (its `ConfigSpec` facts) and its splits that have files, in `SPLITS` order."""

    task: str
    description: str
    default: bool
    subset: str | None
    tier: str | None
    splits: dict[str, SplitSummary] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """The MANIFEST's form; its key order is part of the MANIFEST's bytes."""
        return {
            "task": self.task,
            "description": self.description,
            "default": self.default,
            "subset": self.subset,
            "tier": self.tier,
            "splits": {split: summary.to_json() for split, summary in self.splits.items()},
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ConfigSummary:
        return cls(
            task=data["task"],
            description=data["description"],
            default=data["default"],
            subset=data["subset"],
            tier=data["tier"],
            splits={split: SplitSummary.from_json(summary) for split, summary in data["splits"].items()},
        )


def configs_to_json(configs: dict[str, ConfigSummary]) -> dict[str, dict[str, Any]]:
    """The MANIFEST's `configs` object."""
    return {name: config.to_json() for name, config in configs.items()}


def configs_from_json(data: dict[str, Any], where: str = MANIFEST_FILE) -> dict[str, ConfigSummary]:
    """The MANIFEST's `configs` object read back; a missing or malformed field is a `ReleaseError` naming it."""
    configs = {}
    for name, config in data.items():
        try:
            configs[name] = ConfigSummary.from_json(config)
        except (KeyError, TypeError, AttributeError) as error:
            raise ReleaseError(
                f"{where}: configs[{name!r}] is malformed ({type(error).__name__}: {error}); rebuild the release"
            ) from error
    return configs
