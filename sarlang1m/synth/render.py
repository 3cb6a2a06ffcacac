"""Rendering a `Scene` as pixels: reflectivity times multiplicative speckle, in each source's radiometry.

Rendering is vectorised numpy: a reflectivity map (fields of different backscatter, dark water and
roads, buildings with a bright double-bounce edge and a shadow, bright compact ships, tanks, aircraft,
cars, bridges and piers) multiplied by unit-mean gamma speckle of L looks, then converted to the
original GeoTIFF radiometry of a SARVQA2 source, or to an 8-bit SARDet-100K-like image.
"""

from __future__ import annotations

import numpy as np

from .. import schema
from ..sar.preprocess import box_mean
from .scene_model import SURFACES, Scene, Target

#: Radiometric floor (linear intensity) so that dB stays finite.
_FLOOR = 1e-6
#: Amplitude scale of the synthetic DFC2023 uint16 files and OpenEarthMap-SAR uint8 files.
DFC2023_AMPLITUDE_SCALE = 1500.0
OPENEARTHMAP_AMPLITUDE_SCALE = 110.0
SPACENET6_BANDS = schema.SOURCES["spacenet6"].polarizations


def _smooth_noise(rng: np.random.Generator, height: int, width: int, cell: int = 6) -> np.ndarray:
    """Unit-variance noise correlated over about `cell` pixels (coarse noise, repeated, box-blurred)."""
    coarse = rng.standard_normal((height // cell + 2, width // cell + 2))
    fine = np.repeat(np.repeat(coarse, cell, axis=0), cell, axis=1)[:height, :width]
    window = min(2 * (cell // 2) + 1, 2 * ((min(height, width) - 1) // 2) + 1)
    smooth = box_mean(fine, window) if window > 1 else fine
    return smooth / max(float(smooth.std()), 1e-9)


def reflectivity(scene: Scene, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Noise-free sigma0 (linear) and the cross-pol ratio of every pixel."""
    height, width = scene.height, scene.width
    xs, ys = np.arange(width) + 0.5, np.arange(height) + 0.5
    parcel = (
        np.searchsorted(scene.y_edges, ys)[:, None] * (len(scene.x_edges) + 1)
        + np.searchsorted(scene.x_edges, xs)[None, :]
    )
    sigma = np.asarray(scene.levels)[parcel]
    cross = np.asarray([SURFACES[s][2] for s in scene.surfaces])[parcel]
    rough = np.asarray([0.6 if s == "vegetation" else 0.25 for s in scene.surfaces])[parcel]
    sigma = sigma * np.exp(rough * _smooth_noise(rng, height, width))
    grid_x, grid_y = np.meshgrid(xs, ys)
    water = np.asarray(scene.is_water(grid_x, grid_y), dtype=bool)
    if water.any():
        clutter = scene.water_level * np.exp(0.4 * _smooth_noise(rng, height, width, cell=4))
        sigma = np.where(water, clutter, sigma)
        cross = np.where(water, 0.02, cross)
    for road in scene.roads:
        on_road = np.abs(road.distance(grid_x, grid_y)) < road.half_width
        sigma = np.where(on_road, 0.006 * (1 + 0.3 * rng.random()), sigma)
        cross = np.where(on_road, 0.05, cross)
    for target in scene.targets:
        _draw_target(sigma, cross, target, rng)
    return sigma, cross


def _draw_target(sigma: np.ndarray, cross: np.ndarray, target: Target, rng: np.random.Generator) -> None:
    """Paint one target inside its box (the sensor looks from the bottom of the image)."""
    x, y, w, h = target.box
    window = sigma[y : y + h, x : x + w]
    jj, ii = np.meshgrid(np.arange(w) + 0.5, np.arange(h) + 0.5)
    category = target.category
    if category == "building":
        window[:] = rng.uniform(0.08, 0.3)
        window[-1, :] = rng.uniform(8, 25)  # double bounce at the wall facing the sensor
        shadow = slice(max(0, y - max(1, h // 4)), y)
        sigma[shadow, x : x + w] = 0.003
    elif category == "car":
        window[:] = rng.uniform(1, 3)
        window[h // 2, w // 2] = rng.uniform(6, 12)
    elif category == "ship":
        hull = ((jj - w / 2) / (w / 2)) ** 2 + ((ii - h / 2) / (h / 2)) ** 2 <= 1.0
        window[hull] = rng.uniform(2, 6)
        rows, cols = np.nonzero(hull)
        picks = rng.integers(0, rows.size, size=min(rows.size, int(rng.integers(2, 5))))
        window[rows[picks], cols[picks]] = rng.uniform(15, 60)
    elif category in ("tank", "storage tank"):
        radius = min(w, h) / 2
        rim = max(0.8, 0.3 * radius)
        distance = np.hypot(jj - w / 2, ii - h / 2)
        window[distance < radius - rim] = 0.1
        window[(distance <= radius) & (distance >= radius - rim)] = rng.uniform(4, 10)
    elif category == "aircraft":
        along_w = w >= h
        length, span = (w, h) if along_w else (h, w)
        u, v = (jj, ii) if along_w else (ii, jj)
        fuselage = np.abs(v - span / 2) < max(0.6, 0.12 * span)
        wings = np.abs(u - 0.45 * length) < max(0.6, 0.1 * length)
        tail = (u > 0.85 * length) & (np.abs(v - span / 2) < 0.25 * span)
        window[fuselage | wings | tail] = rng.uniform(1.5, 4)
    elif category == "bridge":
        window[:] = rng.uniform(0.8, 2)
        if w >= h:
            window[[0, -1], :] = rng.uniform(4, 9)
        else:
            window[:, [0, -1]] = rng.uniform(4, 9)
    elif category == "harbor":
        window[:] = np.maximum(window, 0.05)
        if w >= h:
            window[:, ::3] = rng.uniform(1, 3)
            window[0, :] = rng.uniform(3, 8)
        else:
            window[::3, :] = rng.uniform(1, 3)
            window[:, 0] = rng.uniform(3, 8)
    else:
        raise ValueError(f"no way to draw a {category!r}")
    cross[y : y + h, x : x + w] = 0.12


def speckle(intensity: np.ndarray, looks: int, rng: np.random.Generator) -> np.ndarray:
    """Fully developed speckle: intensity times unit-mean gamma noise of `looks` looks."""
    return intensity * rng.gamma(looks, 1.0 / looks, size=intensity.shape)


def sar_raster(scene: Scene, source: str, rng: np.random.Generator) -> np.ndarray:
    """The original GeoTIFF pixels of a SARVQA2 source, in its documented radiometry.

    SpaceNet6: (4, H, W) float32 dB in the band order HH, HV, VH, VV. DFC2023: (H, W) uint16
    amplitude. OpenEarthMap-SAR: (H, W) uint8 amplitude.
    """
    sigma, cross = reflectivity(scene, rng)
    if source == "spacenet6":
        hh = speckle(sigma, scene.looks, rng)
        vv = speckle(sigma * 0.85, scene.looks, rng)
        hv = speckle(sigma * cross, scene.looks, rng)
        vh = hv * rng.gamma(20.0, 1.0 / 20.0, size=hv.shape)  # reciprocity: VH is HV up to a little noise
        bands = {"HH": hh, "HV": hv, "VH": vh, "VV": vv}
        stacked = np.stack([bands[p] for p in SPACENET6_BANDS])
        return (10.0 * np.log10(np.maximum(stacked, _FLOOR))).astype(np.float32)
    amplitude = np.sqrt(speckle(sigma, scene.looks, rng))
    if source == "dfc2023":
        return np.clip(np.rint(amplitude * DFC2023_AMPLITUDE_SCALE), 0, 65535).astype(np.uint16)
    if source == "openearthmap_sar":
        return np.clip(np.rint(amplitude * OPENEARTHMAP_AMPLITUDE_SCALE), 0, 255).astype(np.uint8)
    raise ValueError(f"{source!r} has no original GeoTIFF")


def display_image(scene: Scene, rng: np.random.Generator, channels: int) -> np.ndarray:
    """An 8-bit SARDet-100K-like image: speckled, then a dB or an amplitude stretch; grey or grey-as-RGB."""
    sigma, _ = reflectivity(scene, rng)
    intensity = np.maximum(speckle(sigma, scene.looks, rng), _FLOOR)
    if rng.random() < 0.5:
        values = 10.0 * np.log10(intensity)
        low, high = np.percentile(values, (1.0, 99.5))
    else:
        values = np.sqrt(intensity)
        low, high = 0.0, float(np.percentile(values, 99.0))
    grey = np.clip(np.rint((values - low) * (255.0 / max(high - low, 1e-9))), 0, 255).astype(np.uint8)
    return np.repeat(grey[:, :, None], 3, axis=2) if channels == 3 else grey
