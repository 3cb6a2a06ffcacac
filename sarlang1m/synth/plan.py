"""How many images and texts a synthetic release holds, per source, split, subset, application and style.

The counts are planned before any pixel or text is made, so that the paper-scale figures can be checked
in milliseconds and a small release keeps the paper's proportions. At paper scale every figure the paper
reports is met exactly; the split of each application between SARVQA1 and SARVQA2, which the paper does
not report, follows `SARVQA2_SHARE` (documented in docs/synthetic-data.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .. import schema
from ..errors import InputError

SARVQA2_SOURCES = ("spacenet6", "dfc2023", "openearthmap_sar")
SARDET = "sardet_100k"
IMAGE_SOURCES = (*SARVQA2_SOURCES, SARDET)
#: The real release ships 13,433 PNGs of which 87 are used by no text.
PAPER_UNUSED_PNGS = 87
#: A small release needs room for every source in every split.
MIN_IMAGES = 16


@dataclass(frozen=True)
class QuestionKind:
    """An application, refined by its sub-type for `others`: the unit the counts are planned in."""

    application: str
    subtype: str = ""

    @property
    def key(self) -> str:
        return f"{self.application}/{self.subtype}" if self.subtype else self.application

    @property
    def paper_texts(self) -> int:
        if self.subtype:
            return schema.OTHERS_SUBTYPES[self.subtype]
        return schema.APPLICATIONS[self.application].paper_texts


KINDS: tuple[QuestionKind, ...] = (
    *(QuestionKind(app) for app in schema.VQA_APPLICATIONS if app != "others"),
    *(QuestionKind("others", subtype) for subtype in schema.OTHERS_SUBTYPES),
)

#: Share of each kind's paper count that goes to SARVQA2 (the rest is SARVQA1). Boxes make region
#: referring a SARVQA1 task; scene-level questions (shape, pattern, land cover, reasoning) need a scene,
#: so they are SARVQA2's; SARVQA1 "direction" questions relate two boxes with its closed position words.
SARVQA2_SHARE: dict[str, float] = {
    "object_identification": 0.06,
    "object_classification": 0.30,
    "instance_counting": 0.12,
    "region_referring": 0.0,
    "object_positioning": 0.20,
    "others/reasoning": 1.0,
    "others/shape": 1.0,
    "others/direction": 0.5,
    "others/pattern": 1.0,
    "others/land_cover": 1.0,
}


def apportion(total: int, weights: Sequence[float], minimum: int = 0) -> list[int]:
    """Integers summing to `total`, proportional to `weights` (largest remainders), each positive weight
    getting at least `minimum`; integer quotas are met exactly, so paper figures survive unchanged."""
    w = np.asarray(weights, dtype=np.float64)
    if total < 0 or (w < 0).any() or w.sum() <= 0:
        raise ValueError(f"cannot apportion {total} over weights {list(weights)}")
    positive = w > 0
    if total < minimum * int(positive.sum()):
        raise ValueError(f"{total} is too few to give {minimum} to each of {int(positive.sum())} cells")
    quotas = total * w / w.sum()
    counts = np.floor(quotas + 1e-9).astype(np.int64)
    counts[positive] = np.maximum(counts[positive], minimum)
    floor = np.where(positive, minimum, 0)
    while (gap := total - int(counts.sum())) != 0:
        slack = quotas - counts
        if gap > 0:
            index = int(np.argmax(np.where(positive, slack, -np.inf)))
            counts[index] += 1
        else:
            index = int(np.argmin(np.where(counts > floor, slack, np.inf)))
            counts[index] -= 1
    return [int(c) for c in counts]


@dataclass(frozen=True)
class ReleasePlan:
    """Counts of a synthetic release; no name, pixel or text yet."""

    paper_scale: bool
    #: source -> split -> images (SARDet-100K's `val` folder is the `test` split)
    images: dict[str, dict[str, int]]
    #: source -> PNGs (and GeoTIFFs) no text refers to
    unused_images: dict[str, int]
    #: split -> caption style -> captions
    captions: dict[str, dict[str, int]]
    #: subset -> split -> kind key -> questions
    vqa: dict[str, dict[str, dict[str, int]]]

    def group_images(self, subset: str, split: str) -> int:
        return sum(n[split] for source, n in self.images.items() if schema.SOURCES[source].subset == subset)

    @property
    def total_images(self) -> int:
        return sum(sum(n.values()) for n in self.images.values())

    @property
    def total_captions(self) -> int:
        return sum(sum(n.values()) for n in self.captions.values())

    @property
    def total_questions(self) -> int:
        return sum(sum(n.values()) for split in self.vqa.values() for n in split.values())

    @property
    def total_texts(self) -> int:
        return self.total_captions + self.total_questions

    def application_texts(self) -> dict[str, int]:
        """Texts per application (captions are `image_description`)."""
        totals = dict.fromkeys(schema.APPLICATIONS, 0)
        totals["image_description"] = self.total_captions
        for splits in self.vqa.values():
            for counts in splits.values():
                for key, n in counts.items():
                    totals[key.split("/")[0]] += n
        return totals

    def others_texts(self) -> dict[str, int]:
        totals = dict.fromkeys(schema.OTHERS_SUBTYPES, 0)
        for splits in self.vqa.values():
            for counts in splits.values():
                for key, n in counts.items():
                    if key.startswith("others/"):
                        totals[key.split("/")[1]] += n
        return totals


def _paper_images() -> dict[str, dict[str, int]]:
    """The paper's images per source and split; SARVQA2 sources split in proportion to their size."""
    for split in schema.SPLITS:
        expected = schema.PAPER.vqa_images[split] - schema.PAPER.sardet_images[split]
        if expected != schema.PAPER.caption_images[split]:
            raise AssertionError("schema.PAPER: caption images must be the VQA images that are not SARDet's")
    sizes = [schema.SOURCES[s].paper_images for s in SARVQA2_SOURCES]
    test = apportion(schema.PAPER.caption_images["test"], sizes)
    images = {s: {"train": n - t, "test": t} for s, n, t in zip(SARVQA2_SOURCES, sizes, test, strict=True)}
    images[SARDET] = dict(schema.PAPER.sardet_images)
    return images


def _paper_vqa(images: dict[str, dict[str, int]]) -> dict[str, dict[str, dict[str, int]]]:
    """Paper questions per subset, split and kind: kind totals exact, split totals exact."""
    sarvqa2 = {k.key: round(k.paper_texts * SARVQA2_SHARE[k.key]) for k in KINDS}
    per_subset = {"sarvqa1": {k.key: k.paper_texts - sarvqa2[k.key] for k in KINDS}, "sarvqa2": sarvqa2}
    sarvqa2_images = {split: sum(images[s][split] for s in SARVQA2_SOURCES) for split in schema.SPLITS}
    sarvqa2_test = round(sum(sarvqa2.values()) * sarvqa2_images["test"] / sum(sarvqa2_images.values()))
    test_totals = {"sarvqa2": sarvqa2_test, "sarvqa1": schema.PAPER.vqa_texts["test"] - sarvqa2_test}
    plan: dict[str, dict[str, dict[str, int]]] = {}
    for subset, kinds in per_subset.items():
        keys = list(kinds)
        test = apportion(test_totals[subset], [kinds[k] for k in keys])
        plan[subset] = {
            "train": {k: kinds[k] - t for k, t in zip(keys, test, strict=True)},
            "test": dict(zip(keys, test, strict=True)),
        }
    return plan


def _scaled(paper: dict[str, int], ratio: float, floor_total: int) -> dict[str, int]:
    """Paper counts times `ratio`, every paper-positive cell kept (at least 1)."""
    keys = list(paper)
    positive = sum(1 for k in keys if paper[k] > 0)
    total = max(round(sum(paper.values()) * ratio), floor_total, positive)
    return dict(zip(keys, apportion(total, [paper[k] for k in keys], minimum=1), strict=True))


def plan_release(images: int = 120, *, paper_scale: bool = False) -> ReleasePlan:
    """The counts of a release of about `images` images (exactly the paper's with `paper_scale`)."""
    paper_images = _paper_images()
    paper_vqa = _paper_vqa(paper_images)
    if paper_scale:
        return ReleasePlan(
            paper_scale=True,
            images=paper_images,
            unused_images=dict(
                zip(
                    SARVQA2_SOURCES,
                    apportion(PAPER_UNUSED_PNGS, [schema.SOURCES[s].paper_images for s in SARVQA2_SOURCES]),
                    strict=True,
                )
            ),
            captions={split: dict(styles) for split, styles in schema.PAPER.captions.items()},
            vqa=paper_vqa,
        )
    if images < MIN_IMAGES:
        raise InputError(
            f"a synthetic release needs at least {MIN_IMAGES} images (every source in every split), got {images}"
        )
    cells = [(s, split) for s in IMAGE_SOURCES for split in schema.SPLITS]
    counts = apportion(images, [paper_images[s][split] for s, split in cells], minimum=1)
    small_images: dict[str, dict[str, int]] = {s: {} for s in IMAGE_SOURCES}
    for (source, split), n in zip(cells, counts, strict=True):
        small_images[source][split] = n
    paper_sarvqa2 = sum(schema.SOURCES[s].paper_images for s in SARVQA2_SOURCES)
    small_sarvqa2 = sum(sum(small_images[s].values()) for s in SARVQA2_SOURCES)
    unused_total = max(2, round(PAPER_UNUSED_PNGS * small_sarvqa2 / paper_sarvqa2))
    unused = apportion(unused_total, [schema.SOURCES[s].paper_images for s in SARVQA2_SOURCES])

    def ratio(subset: str, split: str) -> float:
        sources = SARVQA2_SOURCES if subset == "sarvqa2" else (SARDET,)
        return sum(small_images[s][split] for s in sources) / sum(paper_images[s][split] for s in sources)

    vqa = {
        subset: {
            split: _scaled(
                {k: n for k, n in paper_vqa[subset][split].items()},
                ratio(subset, split),
                floor_total=sum(small_images[s][split] for s in IMAGE_SOURCES if schema.SOURCES[s].subset == subset),
            )
            for split in schema.SPLITS
        }
        for subset in schema.SUBSETS
    }
    captions = {}
    for split in schema.SPLITS:
        n_images = sum(small_images[s][split] for s in SARVQA2_SOURCES)
        r = ratio("sarvqa2", split)
        # every caption image has at least one caption of each style, as in the paper
        captions[split] = {style: max(round(n * r), n_images) for style, n in schema.PAPER.captions[split].items()}
    return ReleasePlan(
        paper_scale=False,
        images=small_images,
        unused_images=dict(zip(SARVQA2_SOURCES, unused, strict=True)),
        captions=captions,
        vqa=vqa,
    )
