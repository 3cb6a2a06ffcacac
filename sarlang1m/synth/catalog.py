"""Every image of a planned release: name, size, file format, scene seed and its share of the texts.

The catalog turns the counts of a `ReleasePlan` into per-image facts without drawing a pixel or writing
a text, so that the paper-scale allocation (1.1 M texts over 118 k images) can be checked in seconds.
Per-image numbers live in numpy arrays; `ImageRecord`s are made on demand.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from .. import schema
from ..errors import InputError
from .captions import CONCISE_CAPACITY, DETAILED_CAPACITY
from .names import NameFactory
from .placement import make_sardet_scene, make_sarvqa2_scene
from .plan import IMAGE_SOURCES, KINDS, SARDET, SARVQA2_SOURCES, ReleasePlan, apportion
from .scene_model import Scene
from .templates import question_capacity

#: Side of the square GeoTIFFs per source (scaled down from 900 / 512 / 1024), and SARDet's range.
DEFAULT_SIZES = {"spacenet6": 112, "dfc2023": 64, "openearthmap_sar": 128}
DEFAULT_SARDET_SIZES = (64, 192)
PAPER_SCALE_SIZES = {"spacenet6": 40, "dfc2023": 32, "openearthmap_sar": 48}
PAPER_SCALE_SARDET_SIZES = (32, 48)
MIN_IMAGE_SIZE = 24
#: The real originals' sides (`synth --real-sizes`): SpaceNet6 900, DFC2023 512, OpenEarthMap-SAR 1024.
REAL_SIZES = {"spacenet6": 900, "dfc2023": 512, "openearthmap_sar": 1024}
#: Looks of the speckle per source (SARDet images draw theirs per image).
LOOKS = {"spacenet6": 4, "dfc2023": 2, "openearthmap_sar": 1}
#: SARDet-100K file formats and their shares (every one appears in each split big enough for all).
SARDET_FORMATS = {"jpg": 0.80, "png": 0.12, "bmp": 0.08}
#: Share of SARDet-100K images stored as 3-channel (grey repeated) files.
SARDET_RGB_SHARE = 0.15
MAX_SARDET_OBJECTS = 8
#: Texts per image are drawn in proportion to these weights (SARDet: 1 + its number of boxes).
SARVQA2_WEIGHT = 1.0


def seed_key(seed: int, stream: str, index: int | str = "") -> str:
    """The string every per-image generator is seeded with: one stream per purpose, one per image."""
    return f"sarlang1m-synth:{seed}:{stream}:{index}"


@dataclass(frozen=True)
class ImageRecord:
    """One image of the release."""

    index: int
    source: str
    split: str
    stem: str
    extension: str
    width: int
    height: int
    place: str
    lat: float
    lon: float
    used: bool
    n_objects: int
    channels: int
    #: Position among the release's GeoTIFFs (picks the compression variant); -1 for SARDet.
    tiff_number: int
    #: Position among the SpaceNet6 GeoTIFFs (alternates planar and interleaved bands); -1 otherwise.
    spacenet6_number: int

    @property
    def file_name(self) -> str:
        return f"{self.stem}.{self.extension}"

    @property
    def subset(self) -> str:
        return schema.SOURCES[self.source].subset

    def scene(self, seed: int) -> Scene:
        """The layout of this image, the same in every process."""
        rng = random.Random(seed_key(seed, "scene", self.index))
        if self.source == SARDET:
            return make_sardet_scene(rng, self.width, self.height, self.n_objects)
        return make_sarvqa2_scene(rng, self.width, self.height, LOOKS[self.source])


@dataclass(frozen=True)
class ChipSizeMix:
    """SARDet-100K chip sizes at real scale: a weighted mix of fixed tiles and ranges of sides.

    SARDet-100K merges ten datasets, each with its own chip size (fixed tiles of a few hundred pixels,
    and variable ones such as SSDD's); the mix imitates that variety between `min_side` and `max_side`.
    Its weights are made up for benchmarks, not measured on SARDet-100K.
    """

    #: (weight, (min width, max width), (min height, max height)); a fixed tile has min == max.
    parts: tuple[tuple[float, tuple[int, int], tuple[int, int]], ...]

    @property
    def min_side(self) -> int:
        return min(min(w[0], h[0]) for _, w, h in self.parts)

    @property
    def max_side(self) -> int:
        return max(max(w[1], h[1]) for _, w, h in self.parts)

    def draw(self, rng: random.Random) -> tuple[int, int]:
        """(width, height) of one chip."""
        (_, width, height) = rng.choices(self.parts, weights=[p[0] for p in self.parts])[0]
        return rng.randint(*width), rng.randint(*height)


REAL_SARDET_SIZES = ChipSizeMix(
    (
        (0.35, (256, 256), (256, 256)),  # small fixed tiles
        (0.25, (512, 512), (512, 512)),
        (0.20, (800, 800), (800, 800)),
        (0.05, (1024, 1024), (1024, 1024)),
        (0.15, (190, 668), (190, 668)),  # variable chips, width and height drawn apart
    )
)


def image_sizes(
    paper_scale: bool, image_size: int | None, real_sizes: bool = False
) -> tuple[dict[str, int], tuple[int, int] | ChipSizeMix]:
    """GeoTIFF side per SARVQA2 source, and SARDet's (min, max) side or, at real sizes, its mix of sizes."""
    if real_sizes:
        if image_size is not None:
            raise InputError(f"image_size={image_size} and real_sizes=True contradict each other: pass one of them")
        return dict(REAL_SIZES), REAL_SARDET_SIZES
    if image_size is not None:
        if image_size < MIN_IMAGE_SIZE:
            raise InputError(f"image_size must be at least {MIN_IMAGE_SIZE} pixels, got {image_size}")
        return dict.fromkeys(SARVQA2_SOURCES, image_size), (
            max(MIN_IMAGE_SIZE, image_size * 3 // 4),
            image_size * 3 // 2,
        )
    if paper_scale:
        return dict(PAPER_SCALE_SIZES), PAPER_SCALE_SARDET_SIZES
    return dict(DEFAULT_SIZES), DEFAULT_SARDET_SIZES


def allocate(totals: np.ndarray, capacity: np.ndarray, weights: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Spread `totals[k]` texts of each kind over images: every image gets at least one text, no image
    more of a kind than its `capacity[i, k]`, the rest in proportion to `weights`."""
    totals = np.asarray(totals, dtype=np.int64)
    n, kinds = capacity.shape
    if totals.sum() < n:
        raise ValueError(f"{int(totals.sum())} texts cannot give each of {n} images one")
    short = np.flatnonzero(capacity.sum(axis=0) < totals)
    if short.size:
        raise ValueError(f"kind {int(short[0])}: {int(totals[short[0]])} texts exceed what {n} images can take")
    per_image = 1 + rng.multinomial(int(totals.sum()) - n, weights / weights.sum())
    labels = np.repeat(np.arange(kinds), totals)
    rng.shuffle(labels)
    counts = np.zeros((n, kinds), dtype=np.int64)
    np.add.at(counts, (np.repeat(np.arange(n), per_image), labels), 1)
    for kind in range(kinds):
        excess = int(np.maximum(counts[:, kind] - capacity[:, kind], 0).sum())
        counts[:, kind] = np.minimum(counts[:, kind], capacity[:, kind])
        while excess:
            spare = capacity[:, kind] - counts[:, kind]
            added = np.minimum(rng.multinomial(excess, spare / spare.sum()), spare)
            counts[:, kind] += added
            excess -= int(added.sum())
    for image in np.flatnonzero(counts.sum(axis=1) == 0):  # emptied by the capacity repair: borrow one
        donors = (counts.sum(axis=1) > 1)[:, None] & (counts > 0) & (capacity[image] > 0)[None, :]
        donor, kind = (int(v[0]) for v in np.nonzero(donors))
        counts[donor, kind] -= 1
        counts[image, kind] += 1
    return counts


class Catalog:
    """The images of a release in writing order, with their texts per kind and captions per style."""

    def __init__(
        self, plan: ReleasePlan, seed: int, sizes: dict[str, int], sardet_sizes: tuple[int, int] | ChipSizeMix
    ):
        self.plan, self.seed = plan, seed
        rng = random.Random(seed_key(seed, "catalog"))
        names = NameFactory(random.Random(seed_key(seed, "names")))
        rows: list[tuple] = []  # (source, split, ImageName, used)
        #: (subset, split) -> (first, stop) rows of that text group
        self.groups: dict[tuple[str, str], tuple[int, int]] = {}
        for split in schema.SPLITS:
            for subset, sources in (("sarvqa2", SARVQA2_SOURCES), ("sarvqa1", (SARDET,))):
                group = [(s, split, names.for_source(s), True) for s in sources for _ in range(plan.images[s][split])]
                rng.shuffle(group)
                self.groups[(subset, split)] = (len(rows), len(rows) + len(group))
                rows.extend(group)
        for source in SARVQA2_SOURCES:  # PNGs and GeoTIFFs no text refers to
            for _ in range(plan.unused_images[source]):
                rows.append((source, rng.choice(schema.SPLITS), names.for_source(source), False))
        n = len(rows)
        self.sources = [r[0] for r in rows]
        self.splits = [r[1] for r in rows]
        self.names = [r[2] for r in rows]
        self.used = np.array([r[3] for r in rows], dtype=bool)
        self.width = np.zeros(n, dtype=np.int32)
        self.height = np.zeros(n, dtype=np.int32)
        self.n_objects = np.zeros(n, dtype=np.int32)
        self.channels = np.ones(n, dtype=np.int8)
        self.extensions = ["png"] * n
        self.tiff_number = np.full(n, -1, dtype=np.int32)
        self.spacenet6_number = np.full(n, -1, dtype=np.int32)
        tiffs = spacenet6 = 0
        for i, source in enumerate(self.sources):
            if source == SARDET:
                if isinstance(sardet_sizes, ChipSizeMix):
                    self.width[i], self.height[i] = sardet_sizes.draw(rng)
                else:
                    self.width[i], self.height[i] = rng.randint(*sardet_sizes), rng.randint(*sardet_sizes)
                limit = max(2, min(MAX_SARDET_OBJECTS, int(min(self.width[i], self.height[i])) // 6))
                objects = 1
                while objects < limit and rng.random() < 0.55:
                    objects += 1
                self.n_objects[i] = objects
            else:
                self.width[i] = self.height[i] = sizes[source]
                self.tiff_number[i] = tiffs
                tiffs += 1
                if source == "spacenet6":
                    self.spacenet6_number[i] = spacenet6
                    spacenet6 += 1
        for split in schema.SPLITS:
            self._sardet_files(rng, *self.groups[("sarvqa1", split)])
        self.questions = np.zeros((n, len(KINDS)), dtype=np.int32)
        self.concise = np.zeros(n, dtype=np.int32)
        self.detailed = np.zeros(n, dtype=np.int32)
        self._allocate()

    def _sardet_files(self, rng: random.Random, first: int, stop: int) -> None:
        """Formats and channels of one split's SARDet images, every variant present when there is room;
        the first image gets two boxes so that questions relating two boxes always have a home."""
        count = stop - first
        if count == 0:
            return
        self.n_objects[first] = max(2, int(self.n_objects[first]))
        minimum = 1 if count >= len(SARDET_FORMATS) else 0
        formats = [
            ext
            for ext, k in zip(SARDET_FORMATS, apportion(count, list(SARDET_FORMATS.values()), minimum), strict=True)
            for _ in range(k)
        ]
        rng.shuffle(formats)
        self.extensions[first:stop] = formats
        rgb = apportion(count, [1 - SARDET_RGB_SHARE, SARDET_RGB_SHARE], 1 if count >= 2 else 0)[1]
        for i in rng.sample(range(first, stop), rgb):
            self.channels[i] = 3

    def _allocate(self) -> None:
        for (subset, split), (first, stop) in self.groups.items():
            if stop == first:
                continue
            group_rng = np.random.default_rng([self.seed, 17, schema.SUBSETS.index(subset), schema.SPLITS.index(split)])
            objects = self.n_objects[first:stop]
            capacity = np.array([question_capacity(subset, int(k)) for k in range(int(objects.max()) + 1)])[objects]
            weights = (1.0 + objects) if subset == "sarvqa1" else np.full(stop - first, SARVQA2_WEIGHT)
            totals = np.array([self.plan.vqa[subset][split][kind.key] for kind in KINDS])
            self.questions[first:stop] = allocate(totals, capacity, weights, group_rng)
            if subset == "sarvqa2":
                for style, column, cap in (
                    ("concise", self.concise, CONCISE_CAPACITY),
                    ("detailed", self.detailed, DETAILED_CAPACITY),
                ):
                    total = np.array([self.plan.captions[split][style]])
                    caps = np.full((stop - first, 1), cap)
                    column[first:stop] = allocate(total, caps, np.ones(stop - first), group_rng)[:, 0]

    def __len__(self) -> int:
        return len(self.sources)

    def record(self, i: int) -> ImageRecord:
        name = self.names[i]
        return ImageRecord(
            index=i,
            source=self.sources[i],
            split=self.splits[i],
            stem=name.stem,
            extension=self.extensions[i],
            width=int(self.width[i]),
            height=int(self.height[i]),
            place=name.place,
            lat=name.lat,
            lon=name.lon,
            used=bool(self.used[i]),
            n_objects=int(self.n_objects[i]),
            channels=int(self.channels[i]),
            tiff_number=int(self.tiff_number[i]),
            spacenet6_number=int(self.spacenet6_number[i]),
        )

    def records(self, first: int = 0, stop: int | None = None) -> Iterator[ImageRecord]:
        for i in range(first, len(self) if stop is None else stop):
            yield self.record(i)

    def images_per(self) -> dict[str, dict[str, int]]:
        """Used images per source and split, counted from the catalog itself."""
        counts = {s: dict.fromkeys(schema.SPLITS, 0) for s in IMAGE_SOURCES}
        for source, split, used in zip(self.sources, self.splits, self.used, strict=True):
            if used:
                counts[source][split] += 1
        return counts
