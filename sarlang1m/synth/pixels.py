"""The image files of a synthetic release: each record's scene rendered and written, in worker processes.

Pixels are the slow part of `synth`, so they are written by `workers` processes in batches of records
while the main process writes the texts. Each image is seeded by (seed, image index) alone, so the bytes
do not depend on the number of workers or on the batch an image falls in.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np

from .. import schema
from .catalog import Catalog, ImageRecord
from .layout import (
    ORIGINALS,
    RADIOMETRY,
    SARDET_FOLDERS,
    SARDET_ROOT,
    SARIMAGES,
    geotiff_bytes,
    marker,
    preprocessed_png,
    sardet_bytes,
)
from .plan import SARDET
from .render import display_image, sar_raster
from .summary import SYNTH_VERSION

_BATCH = 64


def _image_description(record: ImageRecord, seed: int) -> str:
    text = f"{marker(seed, SYNTH_VERSION)}; source={record.source}"
    if record.source != SARDET:
        text += f"; radiometry={RADIOMETRY[record.source]}"
    if record.source == "spacenet6":
        text += "; bands=" + ",".join(schema.SOURCES["spacenet6"].polarizations)
    return text


def write_pixels(root: str, seed: int, records: list[ImageRecord]) -> int:
    """Render and write the image files of `records` (run in a worker process); returns bytes written."""
    written = 0
    for record in records:
        rng = np.random.default_rng([seed, 1, record.index])
        scene = record.scene(seed)
        description = _image_description(record, seed)
        if record.source == SARDET:
            folder = Path(root, SARDET_ROOT, "JPEGImages", SARDET_FOLDERS[record.split])
            data = sardet_bytes(record, display_image(scene, rng, record.channels), description)
            written += Path(folder, record.file_name).write_bytes(data)
            continue
        raster = sar_raster(scene, record.source, rng)
        written += Path(root, ORIGINALS, f"{record.stem}.tif").write_bytes(geotiff_bytes(record, raster, description))
        written += Path(root, SARIMAGES, record.file_name).write_bytes(preprocessed_png(record, raster, description))
    return written


def batches(catalog: Catalog) -> Iterator[list[ImageRecord]]:
    batch: list[ImageRecord] = []
    for record in catalog.records():
        batch.append(record)
        if len(batch) == _BATCH:
            yield batch
            batch = []
    if batch:
        yield batch
