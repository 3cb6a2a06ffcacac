"""SAR-like scenes: a layout of surfaces and targets, then reflectivity times multiplicative speckle.

A scene is described by `scene_model`, drawn by `placement` and rendered by `render`; this module is
where the rest of `synth` (and its tests) take all three from. The captions, the questions and the
COCO boxes are read off the same layout the pixels are rendered from, so they agree with the image.
"""

from __future__ import annotations

from .placement import make_sardet_scene, make_sarvqa2_scene
from .render import display_image, reflectivity, sar_raster, speckle
from .scene_model import PATTERNS, PROFILES, SARVQA2_TARGETS, SURFACE_NAMES, Line, Profile, Scene, Target

__all__ = [
    "PATTERNS",
    "PROFILES",
    "SARVQA2_TARGETS",
    "SURFACE_NAMES",
    "Line",
    "Profile",
    "Scene",
    "Target",
    "display_image",
    "make_sardet_scene",
    "make_sarvqa2_scene",
    "reflectivity",
    "sar_raster",
    "speckle",
]
