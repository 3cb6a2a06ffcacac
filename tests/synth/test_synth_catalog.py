"""Per-image facts of synthetic releases, checked at paper scale without drawing a pixel."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from sarlang1m import schema
from sarlang1m.sources import identify
from sarlang1m.synth.captions import CONCISE_CAPACITY, DETAILED_CAPACITY
from sarlang1m.synth.catalog import REAL_SIZES, Catalog, allocate, image_sizes
from sarlang1m.synth.plan import KINDS, plan_release
from sarlang1m.synth.templates import question_capacity


@pytest.fixture(scope="module")
def paper_catalog() -> Catalog:
    plan = plan_release(paper_scale=True)
    return Catalog(plan, 0, *image_sizes(True, None))


def test_paper_scale_allocation_meets_the_plan_per_group_and_kind(paper_catalog: Catalog):
    plan = paper_catalog.plan
    for (subset, split), (first, stop) in paper_catalog.groups.items():
        per_kind = paper_catalog.questions[first:stop].sum(axis=0)
        assert dict(zip((k.key for k in KINDS), per_kind.tolist(), strict=True)) == plan.vqa[subset][split]
        assert (paper_catalog.questions[first:stop].sum(axis=1) >= 1).all(), "an image without a question"
        if subset == "sarvqa2":
            assert paper_catalog.concise[first:stop].sum() == plan.captions[split]["concise"]
            assert paper_catalog.detailed[first:stop].sum() == plan.captions[split]["detailed"]
            assert paper_catalog.concise[first:stop].min() >= 1 and paper_catalog.detailed[first:stop].min() >= 1
            assert paper_catalog.concise.max() <= CONCISE_CAPACITY and paper_catalog.detailed.max() <= DETAILED_CAPACITY
        else:
            assert paper_catalog.concise[first:stop].sum() == paper_catalog.detailed[first:stop].sum() == 0
    assert paper_catalog.images_per() == plan.images
    assert int((~paper_catalog.used).sum()) == 87


def test_paper_scale_allocation_respects_every_image_capacity(paper_catalog: Catalog):
    for (subset, _split), (first, stop) in paper_catalog.groups.items():
        objects = paper_catalog.n_objects[first:stop]
        capacity = np.array([question_capacity(subset, int(n)) for n in objects])
        assert (paper_catalog.questions[first:stop] <= capacity).all()


def test_paper_scale_names_are_unique_and_name_their_source(paper_catalog: Catalog):
    stems = [name.stem for name in paper_catalog.names]
    assert len(set(stems)) == len(stems)
    wrong = [(s, src) for s, src in zip(stems, paper_catalog.sources, strict=True) if identify(s).source != src]
    assert wrong == []


def test_sardet_files_mix_formats_channels_and_sizes():
    plan = plan_release(120)
    sizes = image_sizes(False, None)
    catalog = Catalog(plan, 3, *sizes)
    for split in schema.SPLITS:
        first, stop = catalog.groups[("sarvqa1", split)]
        assert set(catalog.extensions[first:stop]) == {"jpg", "png", "bmp"}
        assert set(catalog.channels[first:stop].tolist()) == {1, 3}
        assert catalog.n_objects[first] >= 2  # questions relating two boxes need one such image per split
    sardet = [i for i, s in enumerate(catalog.sources) if s == "sardet_100k"]
    low, high = sizes[1]
    assert low <= catalog.width[sardet].min() and catalog.width[sardet].max() <= high
    assert len(set(catalog.width[sardet].tolist())) > 10


def test_image_size_overrides_every_source_and_has_a_floor():
    tiffs, sardet = image_sizes(False, 40)
    assert set(tiffs.values()) == {40} and sardet == (30, 60)
    with pytest.raises(ValueError, match="at least 24"):
        image_sizes(False, 8)


def test_real_sizes_are_the_sources_own_and_sardet_chips_vary_by_seed_alone():
    sizes, chips = image_sizes(False, None, real_sizes=True)
    assert sizes == REAL_SIZES == {"spacenet6": 900, "dfc2023": 512, "openearthmap_sar": 1024}
    assert (chips.min_side, chips.max_side) == (190, 1024)
    plan = plan_release(600)
    a, b, c = (Catalog(plan, seed, sizes, chips) for seed in (4, 4, 5))
    sardet = [i for i, s in enumerate(a.sources) if s == "sardet_100k"]
    drawn = list(zip(a.width[sardet].tolist(), a.height[sardet].tolist(), strict=True))
    assert drawn == list(zip(b.width[sardet].tolist(), b.height[sardet].tolist(), strict=True))
    assert (a.width[sardet] != c.width[sardet]).any()
    assert all(190 <= min(size) <= max(size) <= 1024 for size in drawn)
    counts = Counter(drawn)
    for side in (256, 512, 800, 1024):  # every fixed tile of the mix occurs, and so do variable chips
        assert counts[(side, side)] > 0
    assert sum(1 for w, h in drawn if w != h) > 0
    assert {a.width[i] for i, s in enumerate(a.sources) if s != "sardet_100k"} == set(REAL_SIZES.values())
    with pytest.raises(ValueError, match="contradict"):
        image_sizes(False, 64, real_sizes=True)


def test_allocate_keeps_capacity_and_one_text_per_image():
    rng = np.random.default_rng(0)
    capacity = np.array([[1, 0], [1, 3], [1, 3], [5, 0]])
    counts = allocate(np.array([4, 6]), capacity, np.array([1.0, 1.0, 1.0, 50.0]), rng)
    assert counts.sum(axis=0).tolist() == [4, 6]
    assert (counts <= capacity).all() and (counts.sum(axis=1) >= 1).all()


def test_allocate_refuses_impossible_requests():
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="cannot give each of 3 images one"):
        allocate(np.array([2]), np.full((3, 1), 5), np.ones(3), rng)
    with pytest.raises(ValueError, match="kind 1: 7 texts exceed"):
        allocate(np.array([1, 7]), np.array([[2, 3], [2, 3]]), np.ones(2), rng)


def test_catalogs_differ_by_seed_only():
    plan = plan_release(60)
    a, b, c = (Catalog(plan, seed, *image_sizes(False, None)) for seed in (5, 5, 6))
    assert [n.stem for n in a.names] == [n.stem for n in b.names]
    assert (a.questions == b.questions).all()
    assert [n.stem for n in a.names] != [n.stem for n in c.names]
    assert Counter(a.sources) == Counter(c.sources)
