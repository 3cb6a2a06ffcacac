"""SAR rasters without Parquet or datasets: read GeoTIFFs, know their radiometry, normalise, preprocess.

Pure numpy + tifffile, so it serves the build (header metadata, dB statistics, 8-bit PNGs) and the
readers alike; `sarlang1m.decode` bridges it to `datasets`.
"""

from .geotiff import (
    DEFAULT_MAX_PIXELS,
    SARDecodeError,
    SARMetadata,
    read_geotiff,
    read_sar_metadata,
)
from .normalize import NORMALIZATIONS, normalize_band
from .preprocess import box_mean, encode_png, lee_filter, preprocess_for_vlm
from .radiometry import db_moments, db_statistics, infer_radiometry, to_db

__all__ = [
    "DEFAULT_MAX_PIXELS",
    "NORMALIZATIONS",
    "SARDecodeError",
    "SARMetadata",
    "box_mean",
    "db_moments",
    "db_statistics",
    "encode_png",
    "infer_radiometry",
    "lee_filter",
    "normalize_band",
    "preprocess_for_vlm",
    "read_geotiff",
    "read_sar_metadata",
    "to_db",
]
