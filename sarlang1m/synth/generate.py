"""Write a whole synthetic raw release: plan, catalog, pixels (in worker processes), texts, then the marker.

Pixels are written by `workers` processes while the main process writes the texts of the same images;
every image and every text is seeded by (seed, image index) alone, so the bytes do not depend on the
number of workers. The release is built in a hidden sibling folder and renamed to OUT at the very end,
with SYNTHETIC.md written last: an interrupted run leaves no OUT that looks complete.
"""

from __future__ import annotations

import os
import random
import shutil
import tempfile
import time
from collections import Counter, deque
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TypedDict

import numpy as np
from tqdm.auto import tqdm

from .. import schema
from ..errors import OutputExistsError
from .catalog import Catalog, ImageRecord, image_sizes, seed_key
from .layout import (
    LABELS_FILE,
    ORIGINALS,
    RADIOMETRY,
    README_FILE,
    SARDET_FOLDERS,
    SARDET_ROOT,
    SARIMAGES,
    TEXT_FILES,
    CocoWriter,
    LabelsWriter,
    TextFileWriter,
    caption_file_key,
    geotiff_bytes,
    marker,
    preprocessed_png,
    sardet_bytes,
)
from .plan import KINDS, SARDET, ReleasePlan, plan_release
from .scenes import display_image, sar_raster
from .texts import captions, questions

#: Bumped whenever the same call would write different bytes.
SYNTH_VERSION = "1.1"
_BATCH = 64


class SynthCounts(TypedDict):
    """What was written, as `SynthSummary` and SYNTHETIC.md report it (fields as in `SynthSummary`)."""

    images: dict[str, dict[str, int]]
    unused_images: int
    captions: dict[str, dict[str, int]]
    questions: dict[str, dict[str, dict[str, int]]]
    others: dict[str, int]
    text_files: dict[str, int]


@dataclass(frozen=True)
class SynthSummary:
    """What a synthetic release holds, counted while it was written."""

    root: Path
    seed: int
    version: str
    paper_scale: bool
    #: True when every image has its real pixel size (`real_sizes=True`)
    real_sizes: bool
    #: source -> split -> images the texts use
    images: dict[str, dict[str, int]]
    #: PNGs (and their GeoTIFFs) no text uses
    unused_images: int
    #: split -> caption style -> captions
    captions: dict[str, dict[str, int]]
    #: subset -> split -> application -> questions
    questions: dict[str, dict[str, dict[str, int]]]
    #: sub-type of `others` -> questions
    others: dict[str, int]
    #: text file (path without suffix) -> texts (each held by its CSV and its JSON)
    text_files: dict[str, int]
    files: int
    bytes: int
    seconds: float = field(compare=False)

    @property
    def total_images(self) -> int:
        return sum(sum(s.values()) for s in self.images.values())

    @property
    def total_texts(self) -> int:
        return sum(self.text_files.values())

    def applications(self) -> dict[str, int]:
        """Texts per application, captions included as `image_description`."""
        totals = Counter({"image_description": sum(sum(s.values()) for s in self.captions.values())})
        for splits in self.questions.values():
            for apps in splits.values():
                totals.update(apps)
        return {app: totals[app] for app in schema.APPLICATIONS}

    def to_dict(self) -> dict:
        data = asdict(self)
        data["root"] = str(self.root)
        data["total_images"], data["total_texts"] = self.total_images, self.total_texts
        data["applications"] = self.applications()
        return data


# ------------------------------------------------------------------------------------------ pixels


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


def _batches(catalog: Catalog) -> Iterator[list[ImageRecord]]:
    batch: list[ImageRecord] = []
    for record in catalog.records():
        batch.append(record)
        if len(batch) == _BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


# ------------------------------------------------------------------------------------------- texts


class _TextSink:
    """All text outputs of a release, and the tallies the summary reports."""

    def __init__(self, root: Path, seed: int):
        self.seed = seed
        self.files = {key: TextFileWriter(root, style) for key, style in TEXT_FILES.items()}
        self.labels = LabelsWriter(root)
        description = marker(seed, SYNTH_VERSION)
        self.coco = {
            split: CocoWriter(root / SARDET_ROOT / "Annotations" / f"{folder}.json", description)
            for split, folder in SARDET_FOLDERS.items()
        }
        self.captions = {split: dict.fromkeys(schema.CAPTION_STYLES, 0) for split in schema.SPLITS}
        self.questions = {
            subset: {split: dict.fromkeys(schema.VQA_APPLICATIONS, 0) for split in schema.SPLITS}
            for subset in schema.SUBSETS
        }
        self.others = dict.fromkeys(schema.OTHERS_SUBTYPES, 0)

    def write_image(self, catalog: Catalog, record: ImageRecord) -> int:
        """Every text of one image (and its COCO entry); returns how many texts."""
        rng = random.Random(seed_key(self.seed, "texts", record.index))
        scene = record.scene(self.seed)
        subset, split = record.subset, record.split
        if record.source == SARDET:
            self.coco[split].add(record, [(t.category, t.box) for t in scene.targets])
        made = questions(scene, subset, catalog.questions[record.index], rng)
        self._write(self.files[(subset, split, "")], record, made, rng)
        for text in made:
            self.questions[subset][split][text.application] += 1
            if text.subtype:
                self.others[text.subtype] += 1
        total = len(made)
        if subset == "sarvqa2":
            caps = captions(
                scene, record.place, int(catalog.concise[record.index]), int(catalog.detailed[record.index]), rng
            )
            for style in schema.CAPTION_STYLES if split != "train" else ("",):
                chosen = [c for c in caps if style in ("", c.style)]
                self._write(self.files[caption_file_key(split, style)], record, chosen, rng)
            for caption in caps:
                self.captions[split][caption.style] += 1
            total += len(caps)
        return total

    def _write(self, writer: TextFileWriter, record: ImageRecord, texts: list, rng: random.Random) -> None:
        if texts:
            self.labels.write(writer.style, record, texts, writer.write(record, texts, rng))

    def close(self) -> None:
        for writer in self.files.values():
            writer.close()
        for coco in self.coco.values():
            coco.close()
        self.labels.close()


# ------------------------------------------------------------------------------------------ release


def _check_out(out: Path) -> None:
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise OutputExistsError(f"{out}: exists and is not an empty folder; synth writes only into a new or empty one")


def _run(root: Path, catalog: Catalog, seed: int, workers: int, progress: bool) -> _TextSink:
    for folder in (SARIMAGES, ORIGINALS, *(f"{SARDET_ROOT}/JPEGImages/{f}" for f in SARDET_FOLDERS.values())):
        (root / folder).mkdir(parents=True, exist_ok=True)
    sink = _TextSink(root, seed)
    image_bar = tqdm(total=len(catalog), unit="img", desc="synth images", disable=not progress, position=0)
    text_bar = tqdm(total=catalog.plan.total_texts, unit="text", desc="synth texts", disable=not progress, position=1)
    pool = ProcessPoolExecutor(max_workers=workers) if workers > 1 else None
    pending: deque[tuple[Future, int]] = deque()
    try:
        for batch in _batches(catalog):
            if pool is None:
                write_pixels(str(root), seed, batch)
                image_bar.update(len(batch))
            else:
                pending.append((pool.submit(write_pixels, str(root), seed, batch), len(batch)))
            for record in batch:
                if record.used:
                    text_bar.update(sink.write_image(catalog, record))
            while len(pending) > 2 * workers or (pending and pending[0][0].done()):
                future, size = pending.popleft()
                future.result()
                image_bar.update(size)
        while pending:
            future, size = pending.popleft()
            future.result()
            image_bar.update(size)
    finally:
        if pool is not None:
            pool.shutdown(cancel_futures=True)
        sink.close()
        image_bar.close()
        text_bar.close()
    return sink


def _tree_size(root: Path) -> tuple[int, int]:
    files = size = 0
    for folder, _, names in os.walk(root):
        for name in names:
            files += 1
            size += os.path.getsize(os.path.join(folder, name))
    return files, size


def write_synthetic_release(
    out: str | Path,
    *,
    images: int = 120,
    seed: int = 0,
    paper_scale: bool = False,
    image_size: int | None = None,
    real_sizes: bool = False,
    workers: int = 1,
    progress: bool = True,
) -> SynthSummary:
    """Write a synthetic raw SARLANG-1M release into `out` (a new or empty folder) and summarise it.

    `images` sets the size of a small release (the paper's proportions, every source, split,
    application, sub-type, caption style and file variant present); `paper_scale` writes exactly the
    paper's 118,331 images and 1,126,277 texts instead, with tiny pixels. `image_size` overrides the
    side of the images; `real_sizes` writes every image at its real size instead (SpaceNet6 900 x 900
    x 4 float32, DFC2023 512 x 512 uint16, OpenEarthMap-SAR 1024 x 1024 uint8, SARDet-100K chips of
    190-1024 px), for benchmarks that must see what users will. `workers` processes render pixels.
    Same arguments, same bytes.
    """
    started = time.perf_counter()
    out = Path(out)
    _check_out(out)
    if workers < 1:
        raise ValueError(f"workers must be at least 1, got {workers}")
    plan = plan_release(images, paper_scale=paper_scale)
    catalog = Catalog(plan, seed, *image_sizes(paper_scale, image_size, real_sizes))
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.synth-incomplete-", dir=out.parent))
    try:
        sink = _run(staging, catalog, seed, workers, progress)
        text_files = {w.style.stem: w.texts for w in sink.files.values()}
        summary_counts: SynthCounts = {
            "images": catalog.images_per(),
            "unused_images": int((~catalog.used).sum()),
            "captions": sink.captions,
            "questions": sink.questions,
            "others": sink.others,
            "text_files": text_files,
        }
        (staging / README_FILE).write_text(
            synthetic_readme(plan, seed, images, image_size, real_sizes, summary_counts), encoding="utf-8"
        )
        files, size = _tree_size(staging)
        staging.chmod(0o755)
        _check_out(out)
        if out.exists():
            out.rmdir()
        staging.rename(out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return SynthSummary(
        root=out,
        seed=seed,
        version=SYNTH_VERSION,
        paper_scale=paper_scale,
        real_sizes=real_sizes,
        files=files,
        bytes=size,
        seconds=time.perf_counter() - started,
        **summary_counts,
    )


# ------------------------------------------------------------------------------------------ marker


def _table(header: list[str], rows: list[list]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def synthetic_readme(
    plan: ReleasePlan, seed: int, images: int, image_size: int | None, real_sizes: bool, counts: SynthCounts
) -> str:
    """SYNTHETIC.md: says loudly what this folder is, how it was made and what it holds."""
    call = "paper_scale=True" if plan.paper_scale else f"images={images}"
    if image_size is not None:
        call += f", image_size={image_size}"
    if real_sizes:
        call += ", real_sizes=True"
    image_rows = [[source, n["train"], n["test"], sum(n.values())] for source, n in counts["images"].items()]
    caption_rows = [[split, n["concise"], n["detailed"]] for split, n in counts["captions"].items()]
    question_rows = [
        [subset, split, *(apps[a] for a in schema.VQA_APPLICATIONS)]
        for subset, splits in counts["questions"].items()
        for split, apps in splits.items()
    ]
    total_texts = sum(counts["text_files"].values())
    used_images = sum(sum(n.values()) for n in counts["images"].values())
    return f"""# SYNTHETIC DATA: this is not SARLANG-1M

**Every file in this folder is synthetic.** It was generated by `sarlang1m synth` to imitate the layout,
file naming and proportions of the authors' SARLANG-1M release, for demos and tests. No pixel is a real
SAR measurement and no text describes a real image; place names and coordinates in file names are
decoys. Do not train or evaluate models on it as if it were data.

- generator version: {SYNTH_VERSION}
- seed: {seed}
- made by: `write_synthetic_release(OUT, {call}, seed={seed})` (the number of workers does not change a byte)
- images used by texts: {used_images:,}; unused PNGs: {counts["unused_images"]}
- texts: {total_texts:,}

## Images per source and split

{_table(["source", "train", "test", "total"], image_rows)}

SARDet-100K images are under `{SARDET_ROOT}/` (its `val` folder is the test split), not in `{SARIMAGES}/`,
as in the real release.

## Captions

{_table(["split", "concise", "detailed"], caption_rows)}

## Questions per application

{_table(["subset", "split", *schema.VQA_APPLICATIONS], question_rows)}

Sub-types of `others`: {", ".join(f"{k} {v}" for k, v in counts["others"].items())}.

## Texts per file (each written as CSV and as JSON)

{_table(["file", "texts"], [[k, v] for k, v in counts["text_files"].items()])}

## Where else the files say they are synthetic

GeoTIFF ImageDescription, PNG `tEXt` chunk `Description`, JPEG comment, COCO `info.description`.
Each GeoTIFF also declares its radiometry in its GDAL_METADATA tag (item `RADIOMETRY`, shown by
`gdalinfo`), with its bands' polarisations where it has several.
BMP files and the CSV / JSON texts have no place for such a note: this file marks them.

## Ground truth

`{LABELS_FILE}` holds one row per text: the file (without suffix), its 1-based line in the CSV (header
included), its 1-based record and 0-based turn in the JSON, the image, and the application, sub-type,
answer type, caption style and box the generator used. Question kinds planned per image:
{", ".join(k.key for k in KINDS)}.
"""
