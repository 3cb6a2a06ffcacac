"""Counts of synthetic releases: the paper's figures at paper scale, its proportions when small."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sarlang1m import schema
from sarlang1m.synth.plan import KINDS, SARVQA2_SHARE, apportion, plan_release


def test_paper_scale_matches_every_reported_figure():
    plan = plan_release(paper_scale=True)
    assert plan.total_images == 118_331
    assert plan.total_texts == 1_126_277
    totals = {source: sum(n.values()) for source, n in plan.images.items()}
    assert totals == {"spacenet6": 3_311, "dfc2023": 5_222, "openearthmap_sar": 4_813, "sardet_100k": 104_985}
    assert plan.images["sardet_100k"] == {"train": 94_493, "test": 10_492}
    assert sum(plan.unused_images.values()) == 87
    assert plan.captions == {
        "train": {"concise": 17_487, "detailed": 14_481},
        "test": {"concise": 7_492, "detailed": 6_190},
    }
    for split, caption_images, vqa_images, vqa_texts in (
        ("train", 9_341, 103_834, 955_372),
        ("test", 4_005, 14_497, 125_255),
    ):
        assert plan.group_images("sarvqa2", split) == caption_images
        assert plan.group_images("sarvqa1", split) + plan.group_images("sarvqa2", split) == vqa_images
        assert sum(sum(plan.vqa[subset][split].values()) for subset in schema.SUBSETS) == vqa_texts
    assert plan.application_texts() == {name: app.paper_texts for name, app in schema.APPLICATIONS.items()}
    assert plan.others_texts() == schema.OTHERS_SUBTYPES


def test_questions_go_to_the_subset_that_can_answer_them():
    plan = plan_release(paper_scale=True)
    for split in schema.SPLITS:
        assert plan.vqa["sarvqa2"][split]["region_referring"] == 0
        for key in ("others/shape", "others/pattern", "others/land_cover", "others/reasoning"):
            assert plan.vqa["sarvqa1"][split][key] == 0
            assert plan.vqa["sarvqa2"][split][key] > 0


@pytest.mark.parametrize("images", [16, 50, 120, 400])
def test_small_release_has_every_source_split_kind_and_style(images: int):
    plan = plan_release(images)
    assert plan.total_images == images
    for source, splits in plan.images.items():
        assert all(n >= 1 for n in splits.values()), source
    assert sum(plan.unused_images.values()) >= 2  # a few PNGs no text uses, as in the real release
    for split in schema.SPLITS:
        caption_images = plan.group_images("sarvqa2", split)
        for style in schema.CAPTION_STYLES:
            assert plan.captions[split][style] >= caption_images  # each caption image has both styles
        for subset in schema.SUBSETS:
            counts = plan.vqa[subset][split]
            assert sum(counts.values()) >= plan.group_images(subset, split)  # one question per image at least
            for kind in KINDS:
                share = SARVQA2_SHARE[kind.key] if subset == "sarvqa2" else 1 - SARVQA2_SHARE[kind.key]
                assert (counts[kind.key] >= 1) == (share > 0), (subset, split, kind.key)


def test_moderate_release_keeps_the_paper_proportions():
    small, paper = plan_release(5_000), plan_release(paper_scale=True)
    for source in paper.images:
        small_share = sum(small.images[source].values()) / small.total_images
        paper_share = sum(paper.images[source].values()) / paper.total_images
        assert small_share == pytest.approx(paper_share, abs=0.002), source
    small_apps, paper_apps = small.application_texts(), paper.application_texts()
    for app in schema.APPLICATIONS:
        assert small_apps[app] / small.total_texts == pytest.approx(paper_apps[app] / paper.total_texts, abs=0.01)
    assert small.total_texts / small.total_images == pytest.approx(paper.total_texts / paper.total_images, rel=0.05)


def test_too_small_a_release_is_refused():
    with pytest.raises(ValueError, match="at least 16 images"):
        plan_release(15)


@given(
    total=st.integers(0, 10_000),
    weights=st.lists(st.floats(0, 1_000, allow_nan=False), min_size=1, max_size=12),
    minimum=st.integers(0, 3),
)
def test_apportion_sums_to_total_and_keeps_minimum(total: int, weights: list[float], minimum: int):
    positive = sum(1 for w in weights if w > 0)
    if sum(weights) <= 0 or total < minimum * positive:
        with pytest.raises(ValueError):
            apportion(total, weights, minimum)
        return
    counts = apportion(total, weights, minimum)
    assert sum(counts) == total
    assert all(c >= minimum for c, w in zip(counts, weights, strict=True) if w > 0)
    assert all(c == 0 for c, w in zip(counts, weights, strict=True) if w == 0)


@given(st.lists(st.integers(0, 100_000), min_size=1, max_size=10).filter(lambda v: sum(v) > 0))
def test_apportion_meets_integer_quotas_exactly(targets: list[int]):
    assert apportion(sum(targets), targets) == targets
