"""Which source dataset an image comes from, read off its file name.

SARLANG-1M stores no source column: the source, and with it the sensor, resolution tier and GSD,
follow from the naming pattern of each source dataset. DFC2023 names also carry a latitude and a
longitude, and OpenEarthMap-SAR names a country, region and city.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from .sar.radiometry import radiometry_fits
from .schema import SOURCES, Radiometry, Source

_SARDET = re.compile(r"^\d{5,8}$")
_SPACENET6 = re.compile(r"^SN6_(?P<city>[A-Za-z]+)(?:_.*)?$", re.IGNORECASE)
_DFC2023 = re.compile(
    r"^(?P<sensor>SV|GF2)_(?P<city>.+?)_(?P<lat>[-+]?\d{1,2}(?:\.\d+)?)_(?P<lon>[-+]?\d{1,3}(?:\.\d+)?)(?:_.*)?$"
)
_OPENEARTHMAP_SAR = re.compile(r"^(?P<country>[A-Z][^_]*)_(?P<region>[^_]+)_(?P<city>.+?)_(?P<index>\d+)$")


@dataclass(frozen=True)
class ImageInfo:
    """What a file name tells about an image."""

    image_id: str
    source: str
    location: str | None = None
    lat: float | None = None
    lon: float | None = None

    @property
    def spec(self) -> Source:
        return SOURCES[self.source]

    @property
    def tier(self) -> str:
        return self.spec.tier


#: Extensions of image files; anything else after a dot is part of the name (DFC2023 names end in "130.8688").
IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff")


def image_id(file_name: str) -> str:
    """The id of an image: its file name without folders and image extension."""
    name = file_name.replace("\\", "/").rstrip("/").rsplit("/", 1)[-1]
    stem, dot, extension = name.rpartition(".")
    return stem if dot and f".{extension.lower()}" in IMAGE_EXTENSIONS else name


def identify(file_name: str) -> ImageInfo:
    """Source, location and coordinates of an image from its file name (`unknown` if no pattern fits)."""
    stem = image_id(file_name)
    if _SARDET.match(stem):
        return ImageInfo(stem, "sardet_100k")
    if m := _SPACENET6.match(stem):
        return ImageInfo(stem, "spacenet6", location=f"{m['city']}, Netherlands")
    if m := _DFC2023.match(stem):
        lat, lon = float(m["lat"]), float(m["lon"])
        if -90 <= lat <= 90 and -180 <= lon <= 180:
            return ImageInfo(stem, "dfc2023", location=m["city"].replace("_", " "), lat=lat, lon=lon)
    if m := _OPENEARTHMAP_SAR.match(stem):
        city = m["city"].replace("_", " ")
        return ImageInfo(stem, "openearthmap_sar", location=f"{city}, {m['region']}, {m['country']}")
    return ImageInfo(stem, "unknown")


def documented_radiometry(source: str, dtype: np.dtype | type, bands: int) -> Radiometry | None:
    """The source's documented radiometry (`Source.radiometry`) for an original of this pixel type, or None.

    The one place the rule is applied: it holds only where the pixels can have it (SpaceNet6's dB needs
    float or signed pixels; an 8-bit SpaceNet6 file is something else, judged by its pixels instead).
    """
    documented = SOURCES.get(source, SOURCES["unknown"]).radiometry
    if documented is None or not radiometry_fits(documented, dtype, bands):
        return None
    return documented
