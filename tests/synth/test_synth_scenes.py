"""SAR-like scenes (synthetic): layouts with unambiguous boxes, speckle statistics, radiometry per source."""

from __future__ import annotations

import random

import numpy as np
import pytest

from sarlang1m.synth.placement import make_sardet_scene, make_sarvqa2_scene
from sarlang1m.synth.render import display_image, reflectivity, sar_raster, speckle
from sarlang1m.synth.scene_model import PATTERNS


def _sardet_scenes(count: int, low: int = 32, high: int = 64):
    rng = random.Random(0)
    for i in range(count):
        width, height, objects = rng.randint(low, high), rng.randint(low, high), rng.randint(1, 5)
        yield make_sardet_scene(random.Random(f"scene{i}"), width, height, objects), objects


def test_sardet_scenes_have_the_asked_boxes_inside_the_image_with_unique_extremes():
    for scene, objects in _sardet_scenes(400):
        assert len(scene.targets) == objects
        assert len({t.box for t in scene.targets}) == objects
        for t in scene.targets:
            assert t.w >= 2 and t.h >= 2 and t.x >= 0 and t.y >= 0
            assert t.x + t.w <= scene.width and t.y + t.h <= scene.height
        for metric in (lambda t: t.area, lambda t: t.center[0], lambda t: t.center[1]):
            values = sorted(metric(t) for t in scene.targets)
            if len(values) > 1:
                assert values[0] < values[1] and values[-2] < values[-1]


def test_sarvqa2_scenes_have_a_land_cover_and_two_targets_at_least():
    for i in range(200):
        scene = make_sarvqa2_scene(random.Random(f"v{i}"), 32, 32, 2)
        assert len(scene.targets) >= 2
        assert scene.pattern in PATTERNS
        if scene.pattern != "scattered":
            assert scene.count("building") >= 3


def test_layout_is_a_function_of_the_seed():
    a = make_sarvqa2_scene(random.Random("same"), 64, 64, 1)
    b = make_sarvqa2_scene(random.Random("same"), 64, 64, 1)
    c = make_sarvqa2_scene(random.Random("other"), 64, 64, 1)
    assert a == b and a != c


@pytest.mark.parametrize("looks", [1, 4])
def test_speckle_has_unit_mean_and_variance_one_over_looks(looks: int):
    rng = np.random.default_rng(0)
    noisy = speckle(np.full((400, 400), 2.0), looks, rng) / 2.0
    assert noisy.mean() == pytest.approx(1.0, abs=0.01)
    assert noisy.var() == pytest.approx(1.0 / looks, rel=0.05)


def test_targets_are_brighter_than_water_and_water_darker_than_land():
    brighter = total = 0
    for i in range(60):
        scene = make_sardet_scene(random.Random(f"sea{i}"), 96, 96, 3)
        sigma, _ = reflectivity(scene, np.random.default_rng(i))
        grid_x, grid_y = np.meshgrid(np.arange(96) + 0.5, np.arange(96) + 0.5)
        water = np.asarray(scene.is_water(grid_x, grid_y), dtype=bool)
        boxes = np.zeros_like(water)
        for t in scene.targets:
            boxes[t.y : t.y + t.h, t.x : t.x + t.w] = True
        if (water & ~boxes).any() and (~water & ~boxes).sum() > 50:
            assert np.median(sigma[water & ~boxes]) < np.median(sigma[~water & ~boxes])
        for t in scene.targets:
            total += 1
            brighter += sigma[t.y : t.y + t.h, t.x : t.x + t.w].max() > 10 * np.median(sigma)
    assert brighter / total > 0.95


def test_rasters_have_each_source_radiometry():
    scene = make_sarvqa2_scene(random.Random(1), 48, 48, 4)
    rng = np.random.default_rng(0)
    spacenet6 = sar_raster(scene, "spacenet6", rng)
    assert spacenet6.shape == (4, 48, 48) and spacenet6.dtype == np.float32
    assert (spacenet6 < 0).any()  # dB
    hh, hv, vh, vv = (float(np.mean(band)) for band in spacenet6)
    assert hv < hh - 3 and vh < vv - 3  # cross-pol well below co-pol
    assert sar_raster(scene, "dfc2023", rng).dtype == np.uint16
    assert sar_raster(scene, "openearthmap_sar", rng).dtype == np.uint8
    with pytest.raises(ValueError, match="no original GeoTIFF"):
        sar_raster(scene, "sardet_100k", rng)
    assert display_image(scene, rng, 3).shape == (48, 48, 3)
    assert display_image(scene, rng, 1).dtype == np.uint8
