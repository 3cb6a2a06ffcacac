"""From staged rows to release records: one record per image and task, its texts nested.

This is the one place that reads image files for the release, so the `build` command and the
`SARLANG1M` datasets builder produce identical rows.
"""

from __future__ import annotations

import hashlib
import io
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Protocol, get_args

import numpy as np
import PIL.Image

from .. import schema
from ..errors import InputError
from ..raw.files import describe_ref, read_ref, ref_name
from ..sar import SARDecodeError, encode_png, read_geotiff, read_sar_metadata
from ..sar.geotiff import SARMetadata, infer_radiometry_of
from ..sar.preprocess import preprocess_pixels
from ..sar.radiometry import db_moments, db_statistics, radiometry_fits
from ..sar.tifffile_log import captured_tifffile_log, first_error
from ..schema import Radiometry
from ..sources import documented_radiometry, identify
from .staging import ImageRow, Partition, Staging

#: PIL modes the dataset viewer re-encodes as JPEG or PNG; anything else is converted to 8-bit.
VIEWER_MODES = {"1", "L", "LA", "P", "RGB", "RGBA"}
#: The most bytes read of one input image or original: far beyond any of the release (the largest originals,
#: SpaceNet6's 4-band float32 GeoTIFFs, are about 13 MB), it bounds what one bad file can take.
MAX_IMAGE_BYTES = 1 << 30


class UnreadableImageError(InputError):
    """An image file that cannot be decoded; names the file."""


#: Who decides an original's `sar_radiometry`, in the order they are asked (see `decide_radiometry`).
RadiometryDecider = Literal["file", "source_rule", "pixels"]
RADIOMETRY_DECIDERS: tuple[RadiometryDecider, ...] = get_args(RadiometryDecider)


@dataclass(frozen=True)
class RadiometryDecision:
    """An original's radiometry and which of `RADIOMETRY_DECIDERS` decided it."""

    radiometry: Radiometry
    decided_by: RadiometryDecider


def decide_radiometry(sar: bytes, source: str) -> tuple[RadiometryDecision, np.ndarray | None, SARMetadata]:
    """The radiometry of an original GeoTIFF: (1) what the file declares about itself, (2) the source's
    documented rule, (3) inference from the pixels; the first that holds for its pixel type decides.

    Returns the decision, the pixels when they had to be decoded for it (else None) and the header.
    """
    metadata = read_sar_metadata(sar, inspect_pixels=False)
    declared = metadata.declared_radiometry
    if declared is not None and radiometry_fits(declared, metadata.dtype, metadata.bands):
        return RadiometryDecision(declared, "file"), None, metadata
    documented = documented_radiometry(source, metadata.dtype, metadata.bands)
    if documented is not None:
        return RadiometryDecision(documented, "source_rule"), None, metadata
    if metadata.radiometry is not None:
        return RadiometryDecision(metadata.radiometry, "pixels"), None, metadata
    pixels, metadata = read_geotiff(sar)  # a signed type without a minimum in its header: the values tell
    return RadiometryDecision(metadata.radiometry or infer_radiometry_of(pixels), "pixels"), pixels, metadata


@dataclass
class SARStatistics:
    """Per-band dB moments of the original SAR pixels, per GeoTIFF; summed per source for the MANIFEST.

    Kept per file so that an image written in several tasks (and by several workers) counts once.
    """

    files: dict[str, tuple[str, Radiometry, list[str], np.ndarray]] = field(default_factory=dict)
    #: path -> (source, decision) of every original, display ones included (see `provenance`).
    decisions: dict[str, tuple[str, RadiometryDecision]] = field(default_factory=dict)

    def needs(self, path: str) -> bool:
        return path not in self.files

    def add(
        self,
        path: str,
        source: str,
        radiometry: Radiometry,
        polarizations: list[str],
        pixels: np.ndarray,
        nodata: float | None,
    ) -> None:
        """Record the moments of one GeoTIFF's decoded pixels ``(bands, H, W)`` (once per path)."""
        if path in self.files:
            return
        moments = db_moments(pixels, radiometry, nodata=nodata)
        if moments[:, 0].min() > 0:  # a band without a valid pixel (all nodata) says nothing about the source
            self.files[path] = (source, radiometry, polarizations, moments)

    def decided(self, path: str, source: str, decision: RadiometryDecision) -> None:
        """Record how one original's radiometry was decided (once per path)."""
        self.decisions.setdefault(path, (source, decision))

    def provenance(self) -> dict[str, dict]:
        """Per source: originals, how many got each radiometry, and how many each rule decided."""
        radiometries: dict[str, Counter] = {}
        deciders: dict[str, Counter] = {}
        for source, decision in self.decisions.values():
            radiometries.setdefault(source, Counter())[decision.radiometry] += 1
            deciders.setdefault(source, Counter())[decision.decided_by] += 1
        return {
            source: {
                "images": sum(radiometries[source].values()),
                "radiometry": dict(sorted(radiometries[source].items())),
                "decided_by": {k: deciders[source][k] for k in RADIOMETRY_DECIDERS if deciders[source][k]},
            }
            for source in sorted(radiometries)
        }

    def merge(self, other: SARStatistics) -> None:
        for path, entry in other.files.items():
            self.files.setdefault(path, entry)
        for path, decided in other.decisions.items():
            self.decisions.setdefault(path, decided)

    def summary(self) -> dict[str, dict]:
        """Mean and standard deviation in dB per band and source, as published in the MANIFEST.

        A source's files with another band count than its first file (in path order) are left out, so that
        every figure describes one homogeneous set of bands.
        """
        sources: dict[str, dict] = {}
        for path in sorted(self.files):
            source, radiometry, polarizations, moments = self.files[path]
            entry = sources.setdefault(
                source, {"radiometry": radiometry, "polarizations": polarizations, "images": 0, "moments": None}
            )
            if entry["moments"] is None:
                entry["moments"] = moments.copy()
            elif entry["moments"].shape == moments.shape:
                entry["moments"] += moments
            else:
                continue
            entry["images"] += 1
        result = {}
        for source in sorted(sources):
            entry = sources[source]
            mean, std = db_statistics(entry["moments"])
            result[source] = {
                "radiometry": entry["radiometry"],
                "polarizations": entry["polarizations"],
                "images": entry["images"],
                "pixels_per_band": [int(c) for c in entry["moments"][:, 0]],
                "mean_db": [round(v, 4) for v in mean],
                "std_db": [round(v, 4) for v in std],
            }
        return result


@dataclass(frozen=True)
class _Original:
    """A record's original GeoTIFF: its bytes, decided radiometry, and pixels when they were decoded."""

    path: str
    data: bytes
    radiometry: Radiometry
    pixels: np.ndarray | None
    metadata: SARMetadata


def _read_original(
    ref: str, source: str, stats: SARStatistics | None, *, need_pixels: bool, stored: bytes | None = None
) -> _Original:
    """Read (from its `raw.files` ref, or the release's `stored` copy), check and decide one original. Its pixels
    are decoded when `stats` first meets it (always without `stats`), or when `need_pixels`: a truncated or
    damaged original fails here, like a truncated PNG, not in a user's training run. tifffile's messages are
    captured: an error among them (its word for damage it worked around, such as tags past the end of the
    file) makes the original unreadable. Statistics count it by its file name, the same whether a folder or an
    archive holds it."""
    sar, path = read_ref(ref, MAX_IMAGE_BYTES) if stored is None else stored, ref_name(ref)
    first = stats is None or path not in stats.decisions
    with captured_tifffile_log() as log:
        try:
            decision, pixels, metadata = decide_radiometry(sar, source)
            if pixels is None and (first or need_pixels):
                pixels, metadata = read_geotiff(sar)
        except SARDecodeError as error:
            raise UnreadableImageError(f"{describe_ref(ref)}: cannot decode GeoTIFF ({error})") from error
    if (damage := first_error(log)) is not None:
        raise UnreadableImageError(f"{describe_ref(ref)}: damaged GeoTIFF ({damage})")
    if stats is not None:
        stats.decided(path, source, decision)
        if decision.radiometry != "display" and stats.needs(path) and pixels is not None:
            polarizations = list(schema.SOURCES[source].polarizations)
            stats.add(path, source, decision.radiometry, polarizations, pixels, metadata.nodata)
    return _Original(path, sar, decision.radiometry, pixels, metadata)


class OriginalsSink(Protocol):
    """Where records' original GeoTIFFs go (`original_files.OriginalsWriter`), each stored once."""

    def __call__(self, path: str, data: bytes) -> None:
        """Store an original at its path in the release."""

    def stored(self, path: str) -> bytes | None:
        """The original already stored at `path` (by the image's other task, in any worker), else None."""


def image_record(
    partition: Partition,
    row: ImageRow,
    texts: dict[str, list],
    stats: SARStatistics | None = None,
    originals: OriginalsSink | None = None,
) -> dict:
    """The release row of one image: its 8-bit image, where its original GeoTIFF lies, provenance and texts.

    The row names the original (``sar_path``, ``sar_sha256``, ``sar_bytes``); its bytes go to `originals`
    (the release writer stores each once), or nowhere when the caller only needs rows (the builder). An
    original `originals` already stored (for the image's other task) is read from there: the inputs are read
    once per original, which saves inflating it again from an archive.
    """
    info = identify(row.image_id)
    source = schema.SOURCES[info.source]
    generated = row.image_kind == "generated"
    original = None
    if row.sar_path:
        release_path = schema.original_path(info.source, ref_name(row.sar_path))
        stored = originals.stored(release_path) if originals is not None else None
        original = _read_original(row.sar_path, info.source, stats, need_pixels=generated, stored=stored)
    file_name, image = _image_file(row, original, source.polarizations)
    image, width, height = _viewer_image(image, describe_ref(row.image_path))
    sar, sar_path = None, None
    if original is not None:
        sar, sar_path = original.data, schema.original_path(info.source, Path(original.path).name)
        if originals is not None:
            originals(sar_path, original.data)
    record: dict[str, object] = {
        "image_id": row.image_id,
        "file_name": file_name,
        "image": {"bytes": image, "path": file_name},
        "sar_path": sar_path,
        "sar_sha256": hashlib.sha256(sar).hexdigest() if sar is not None else None,
        "sar_bytes": len(sar) if sar is not None else None,
        "sar_radiometry": original.radiometry if original is not None else None,
        "polarizations": list(source.polarizations) if sar is not None else [],
        "source": info.source,
        "tier": info.tier,
        "gsd_m_min": source.gsd_m[0],
        "gsd_m_max": source.gsd_m[1],
        "sensor": source.sensor,
        "location": info.location,
        "lat": info.lat,
        "lon": info.lon,
        "width": width,
        "height": height,
    }
    if partition.task == "vqa":
        record["subset"] = partition.subset
    record[schema.TEXT_COLUMN[partition.task]] = texts
    return record


def _image_file(row: ImageRow, original: _Original | None, polarizations: tuple[str, ...]) -> tuple[str, bytes]:
    """The file name and bytes of a row's 8-bit image: the file on disk, or one generated from its original."""
    if row.image_kind != "generated":
        return ref_name(row.image_path), read_ref(row.image_path, MAX_IMAGE_BYTES)
    if original is None or original.pixels is None:
        raise ValueError(f"{row.image_id}: a generated image needs its original GeoTIFF")
    grey = preprocess_pixels(
        original.pixels,
        nodata=original.metadata.nodata,
        radiometry=original.radiometry,
        polarizations=polarizations,
    )
    return f"{row.image_id}.png", encode_png(grey)


def _viewer_image(data: bytes, where: str) -> tuple[bytes, int, int]:
    """Decode the image fully (a truncated file must fail here, not in a user's training run)."""
    try:
        with PIL.Image.open(io.BytesIO(data)) as image:
            image.load()
            if image.mode in VIEWER_MODES:
                return data, image.width, image.height
            array = np.asarray(image, dtype=np.float64)
    except (OSError, SyntaxError, ValueError, PIL.Image.DecompressionBombError) as error:
        raise UnreadableImageError(f"{where}: cannot decode image ({error})") from error
    # 16-bit or float images: stretched to 8 bits so the viewer and VLMs can show them.
    low, high = np.nanpercentile(array, (2, 98)) if array.size else (0.0, 1.0)
    scaled = np.clip((array - low) / max(high - low, 1e-12) * 255, 0, 255).astype(np.uint8)
    return encode_png(scaled), scaled.shape[1], scaled.shape[0]


def iter_records(
    staging: Staging,
    partition: Partition,
    shard: int | None = None,
    *,
    stats: SARStatistics | None = None,
    failures: list[tuple[Partition, str, str]] | None = None,
    originals: OriginalsSink | None = None,
) -> Iterator[dict]:
    """Records of a partition (or one shard of it), in image-id order.

    An unreadable image raises `UnreadableImageError`, unless `failures` is given: it is then listed there
    (partition, image id, reason) and skipped, and the caller reports its texts.
    """
    for row in staging.image_rows(partition, shard):
        try:
            yield image_record(partition, row, staging.texts(partition, row.image_id), stats, originals)
        except UnreadableImageError as error:
            if failures is None:
                raise
            failures.append((partition, row.image_id, str(error)))
