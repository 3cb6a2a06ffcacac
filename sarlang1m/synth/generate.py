"""Write a whole synthetic raw release: plan, catalog, pixels (in worker processes), texts, then the marker.

Pixels (`pixels`) are written by `workers` processes while the main process writes the texts of the
same images (`text_sink`); every image and every text is seeded by (seed, image index) alone, so the
bytes do not depend on the number of workers. OUT must be a new path or an empty folder
(`sarlang1m.output_folders`); the release is built in a hidden sibling folder and renamed to OUT at the
very end, with SYNTHETIC.md (`readme`) written last: an interrupted run leaves no OUT that looks complete.
"""

from __future__ import annotations

import os
import shutil
import time
from collections import deque
from concurrent.futures import Future, ProcessPoolExecutor
from pathlib import Path

from tqdm.auto import tqdm

from ..messages import naming
from ..output_folders import check_output_folder, swap_into_place, work_folder
from .catalog import Catalog, image_sizes
from .layout import ORIGINALS, README_FILE, SARDET_FOLDERS, SARDET_ROOT, SARIMAGES, TEXT_FILES
from .pixels import batches, write_pixels
from .plan import plan_release
from .readme import synthetic_readme
from .summary import SYNTH_VERSION, SynthCounts, SynthSummary
from .text_sink import TextSink
from .upload import pack_sardet, pack_upload, reported_text_files

__all__ = ["SYNTH_VERSION", "SynthSummary", "write_synthetic_release"]


def _run(root: Path, catalog: Catalog, seed: int, workers: int, progress: bool, upload: bool) -> TextSink:
    for folder in (SARIMAGES, ORIGINALS, *(f"{SARDET_ROOT}/JPEGImages/{f}" for f in SARDET_FOLDERS.values())):
        (root / folder).mkdir(parents=True, exist_ok=True)
    sink = TextSink(root, seed, reported_text_files() if upload else TEXT_FILES)
    # every image file: those the texts use and the unused ones the authors' release also has
    image_bar = tqdm(total=len(catalog), unit="img", desc="synth images", disable=not progress, position=0)
    text_bar = tqdm(total=catalog.plan.total_texts, unit="text", desc="synth texts", disable=not progress, position=1)
    pool = ProcessPoolExecutor(max_workers=workers) if workers > 1 else None
    pending: deque[tuple[Future, int]] = deque()
    try:
        for batch in batches(catalog):
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
    upload: bool = False,
    sardet_archive: bool = False,
    workers: int = 1,
    progress: bool = True,
) -> SynthSummary:
    """Write a synthetic raw SARLANG-1M release into `out` (a new or empty folder) and summarise it.

    `images` sets the size of a small release (the paper's proportions, every source, split,
    application, sub-type, caption style and file variant present); `paper_scale` writes exactly the
    paper's 118,331 images and 1,126,277 texts instead, with tiny pixels. `image_size` overrides the
    side of the images; `real_sizes` writes every image at its real size instead (SpaceNet6 900 x 900
    x 4 float32, DFC2023 512 x 512 uint16, OpenEarthMap-SAR 1024 x 1024 uint8, SARDet-100K chips of
    190-1024 px), for benchmarks that must see what users will. `upload` writes the release as the
    authors' upload instead: zip archives side by side, the texts in the reported layout (`synth.upload`);
    `sardet_archive` writes SARDet-100K as one archive beside them instead of a folder. `workers` processes
    render pixels. Same arguments, same bytes.
    """
    started = time.perf_counter()
    out = Path(out)
    if workers < 1:
        raise ValueError(f"workers must be at least 1, got {workers}")
    check_output_folder(out)
    plan = plan_release(images, paper_scale=paper_scale)
    catalog = Catalog(plan, seed, *image_sizes(paper_scale, image_size, real_sizes))
    staging = work_folder(out, "synth-incomplete")
    try:
        with naming(out, staging):
            summary_counts = _write_files(staging, catalog, seed, workers, progress, upload)
            if upload:
                pack_upload(staging)
            if sardet_archive:
                pack_sardet(staging)
            form = {"upload": upload, "sardet_archive": sardet_archive}
            (staging / README_FILE).write_text(
                synthetic_readme(plan, seed, images, image_size, real_sizes, summary_counts, form), encoding="utf-8"
            )
            files, size = _tree_size(staging)
            check_output_folder(out)  # again: still new or empty
            swap_into_place(staging, out)
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


def _write_files(root: Path, catalog: Catalog, seed: int, workers: int, progress: bool, upload: bool) -> SynthCounts:
    """Every image and text file of the release under `root`; returns what was written."""
    sink = _run(root, catalog, seed, workers, progress, upload)
    return {
        "images": catalog.images_per(),
        "unused_images": int((~catalog.used).sum()),
        "captions": sink.captions,
        "questions": sink.questions,
        "others": sink.others,
        "text_files": {w.style.stem: w.texts for w in sink.files.values()},
    }
