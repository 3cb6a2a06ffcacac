"""Contact sheets: a grid of images with a label and a few lines of text under each one.

`contact_sheet` lays out any rows (release rows, one-example-per-question pairs, or plain dicts) and is
what the demo uses to show images with their texts. `write_sample_grid` picks a few images of every
source from a written release, deterministically, and writes `sample_grid.png` beside the card, which
shows it, reading image bytes only from the row groups of the rows it shows. Images of a synthetic
release carry the word SYNTHETIC on the image itself, so that no crop or copy of a cell passes for
SARLANG-1M data.
"""

from __future__ import annotations

import io
import json
from collections.abc import Collection, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import PIL.Image
import PIL.ImageDraw
import PIL.ImageFont
import pyarrow.parquet as pq

from .. import schema
from .metadata import source_order, source_short_name

BACKGROUND = (255, 255, 255)
LABEL_COLOUR = (20, 20, 20)
TEXT_COLOUR = (70, 70, 70)
MARGIN = 8
#: Lines of text drawn under each image: questions and captions are cut to fit (ending in "..."), answers never.
MAX_TEXT_LINES = 5
#: What opens the line of an answer (`text_lines`): such a line is shown whole, however long.
ANSWER_PREFIX = "A: "
#: Texts of a release row turned into lines by `text_lines`.
MAX_TEXTS_PER_ROW = 2
SAMPLE_TASK = "vqa"
#: Drawn on every image of a contact sheet or sample grid of a synthetic release.
SYNTHETIC_WATERMARK = "SYNTHETIC"
WATERMARK_COLOUR = (230, 0, 0)
WATERMARK_BACKGROUND = (255, 255, 255)


def contact_sheet(
    rows: Iterable[Mapping[str, Any]],
    *,
    columns: int = 4,
    cell: int = 192,
    texts: bool = True,
    font_size: int | None = None,
    watermark: str | None = None,
) -> PIL.Image.Image:
    """A grid of the rows' images, each fitted into a `cell` x `cell` square, with its label and texts.

    Each row is a mapping with `image` (encoded bytes, a `{"bytes": ...}` dict as stored in Parquet, or a
    PIL image) and optionally `label` (one bold line) and `lines` (text lines). Without `lines`, the
    texts of a release row (`qa`, `captions`) or of a pair (`question`/`answer`, `text`) are used, see
    `text_lines`. Texts are wrapped to the cell's width; past `MAX_TEXT_LINES` the longest question or caption
    is cut, never an answer (a line starting with `ANSWER_PREFIX`): the cells grow to show every answer whole.
    With `texts=False` only the labels are drawn. Rows are laid out left to right.
    `watermark` (e.g. `SYNTHETIC_WATERMARK`) is written across the top of every image, on the image itself.
    """
    if columns < 1:
        raise ValueError(f"columns must be at least 1, got {columns}")
    if cell < 32:
        raise ValueError(f"cell must be at least 32 pixels, got {cell}")
    cells = [_cell_content(index, row, texts) for index, row in enumerate(rows)]
    if not cells:
        raise ValueError("no rows to show: a contact sheet needs at least one image")
    font_size = font_size or max(10, cell // 16)
    font = PIL.ImageFont.load_default(size=font_size)
    bold = PIL.ImageFont.load_default(size=font_size + 1)
    watermark_font = PIL.ImageFont.load_default(size=max(font_size + 1, cell // 8))
    line_height = font_size + 4
    wrapped = [(label and _ellipsis(label, bold, cell), _fit_lines(lines, font, cell)) for _, label, lines in cells]
    text_rows = max((bool(label) + len(lines) for label, lines in wrapped), default=0)
    cell_height = cell + (MARGIN // 2 + text_rows * line_height if text_rows else 0)
    grid_columns = min(columns, len(cells))
    grid_rows = -(-len(cells) // grid_columns)
    sheet = PIL.Image.new(
        "RGB",
        (grid_columns * (cell + MARGIN) + MARGIN, grid_rows * (cell_height + MARGIN) + MARGIN),
        BACKGROUND,
    )
    draw = PIL.ImageDraw.Draw(sheet)
    for index, ((image, _, _), (label, lines)) in enumerate(zip(cells, wrapped, strict=True)):
        left = MARGIN + (index % grid_columns) * (cell + MARGIN)
        top = MARGIN + (index // grid_columns) * (cell_height + MARGIN)
        thumbnail = _fit(image, cell)
        image_left, image_top = left + (cell - thumbnail.width) // 2, top + (cell - thumbnail.height) // 2
        sheet.paste(thumbnail, (image_left, image_top))
        if watermark:
            _draw_watermark(draw, watermark, (image_left, image_top), thumbnail.size, watermark_font)
        y = top + cell + MARGIN // 2
        if label:
            draw.text((left, y), label, fill=LABEL_COLOUR, font=bold)
            y += line_height
        for line in lines:
            draw.text((left, y), line, fill=TEXT_COLOUR, font=font)
            y += line_height
    return sheet


def _draw_watermark(
    draw: PIL.ImageDraw.ImageDraw,
    text: str,
    origin: tuple[int, int],
    size: tuple[int, int],
    font: PIL.ImageFont.FreeTypeFont | PIL.ImageFont.ImageFont,
) -> None:
    """`text` in red on a white band along the top of an image (inside it, however small the image)."""
    left, top = origin
    box = draw.textbbox((0, 0), text, font=font)
    band_height = min(size[1], box[3] - box[1] + 6)
    draw.rectangle((left, top, left + size[0] - 1, top + band_height - 1), fill=WATERMARK_BACKGROUND)
    draw.text((left + 3, top + 3 - box[1]), text, fill=WATERMARK_COLOUR, font=font)


def release_is_synthetic(release: str | Path) -> bool:
    """Whether a release folder is synthetic: its MANIFEST says so, or (before the MANIFEST is written, during
    a build) its dataset card carries the `synthetic` tag."""
    release = Path(release)
    manifest = release / schema.MANIFEST_FILE
    if manifest.is_file():
        return bool(json.loads(manifest.read_text(encoding="utf-8")).get("synthetic", False))
    card = release / schema.CARD_FILE
    if not card.is_file():
        return False
    from huggingface_hub import DatasetCard

    return "synthetic" in (DatasetCard.load(card).data.to_dict().get("tags") or [])


def text_lines(row: Mapping[str, Any], *, max_texts: int = MAX_TEXTS_PER_ROW) -> list[str]:
    """Lines for the texts of a row: `lines` as given, else Q/A pairs of `qa`, captions, or a pair's fields."""
    if row.get("lines") is not None:
        return [str(line) for line in row["lines"]]
    lines: list[str] = []
    questions = schema.text_records("vqa", row.get("qa"), row=row.get("image_id"))
    captions = schema.text_records("captions", row.get("captions"), row=row.get("image_id"))
    if questions:
        for item in questions[:max_texts]:
            lines += [f"Q: {item['question']}", f"{ANSWER_PREFIX}{item['answer']}"]
    elif captions:
        lines += [str(item["text"]) for item in captions[:max_texts]]
    elif row.get("question") is not None:
        lines += [f"Q: {row['question']}", f"{ANSWER_PREFIX}{row.get('answer', '')}"]
    elif row.get("text") is not None:
        lines.append(str(row["text"]))
    return lines


def _cell_content(index: int, row: Mapping[str, Any], texts: bool) -> tuple[PIL.Image.Image, str, list[str]]:
    if not isinstance(row, Mapping):
        raise TypeError(f"row {index}: expected a mapping with an 'image', got {type(row).__name__}")
    name = f"row {index}" + (f" ({row['image_id']})" if row.get("image_id") else "")
    if row.get("image") is None:
        raise ValueError(f"{name}: no image (a contact sheet row needs an 'image')")
    image = _open(row["image"], name)
    return image, str(row.get("label") or ""), text_lines(row) if texts else []


def _open(value: Any, name: str) -> PIL.Image.Image:
    """An image from bytes, a Parquet `{"bytes": ...}` cell or a PIL image, decoded fully."""
    if isinstance(value, PIL.Image.Image):
        return value
    data = value.get("bytes") if isinstance(value, Mapping) else value
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(f"{name}: image must be bytes, a {{'bytes': ...}} dict or a PIL image, got {type(value)}")
    try:
        with PIL.Image.open(io.BytesIO(bytes(data))) as image:
            image.load()
            return image.copy()
    except (OSError, SyntaxError, ValueError, PIL.Image.DecompressionBombError) as error:
        raise ValueError(f"{name}: cannot decode the image ({error})") from error


def _fit(image: PIL.Image.Image, cell: int) -> PIL.Image.Image:
    """The image in RGB, scaled (up or down) to fit a cell x cell square, aspect kept."""
    if image.mode not in ("RGB", "L"):
        image = _to_8bit(image)
    image = image.convert("RGB")
    scale = cell / max(image.width, image.height)
    size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
    return image.resize(size, PIL.Image.Resampling.LANCZOS if scale < 1 else PIL.Image.Resampling.NEAREST)


def _to_8bit(image: PIL.Image.Image) -> PIL.Image.Image:
    """16-bit and float images stretched to 8 bits (min-max); palette and alpha images flattened."""
    if image.mode in ("I", "I;16", "I;16B", "I;16L", "F"):
        image = image.convert("F")
        low, high = image.getextrema()  # one band ("F"): two numbers
        assert isinstance(low, (int, float)) and isinstance(high, (int, float))
        scale = 255.0 / (high - low) if high > low else 0.0
        return image.point(lambda value: (value - low) * scale).convert("L")
    return image.convert("RGBA").convert("RGB") if "A" in image.mode or image.mode == "P" else image


Font = PIL.ImageFont.FreeTypeFont | PIL.ImageFont.ImageFont


def _fit_lines(lines: Sequence[str], font: Font, width: int, max_lines: int = MAX_TEXT_LINES) -> list[str]:
    """`lines` wrapped to `width` pixels; past `max_lines`, the longest line that is not an answer loses its
    last piece (and ends in an ellipsis) until they fit or every such line is down to one piece."""
    pieces = [_wrap_to_width(line, font, width) for line in lines]
    cuttable = [index for index, line in enumerate(lines) if not line.startswith(ANSWER_PREFIX)]
    cut: set[int] = set()
    while cuttable and sum(map(len, pieces)) > max_lines:
        longest = max(cuttable, key=lambda index: len(pieces[index]))
        if len(pieces[longest]) == 1:
            break
        pieces[longest].pop()
        cut.add(longest)
    for index in cut:
        pieces[index][-1] = _ellipsis(pieces[index][-1] + " ...", font, width)
    return [piece for line in pieces for piece in line]


def _wrap_to_width(text: str, font: Font, width: int) -> list[str]:
    """`text` in lines of at most `width` pixels, broken between words (a word wider than that, inside it)."""
    lines: list[str] = []
    current = ""
    for word in text.split():
        candidate = f"{current} {word}" if current else word
        if font.getlength(candidate) <= width:
            current = candidate
            continue
        if current:
            lines.append(current)
        while len(word) > 1 and font.getlength(word) > width:
            fits = max(1, sum(1 for end in range(1, len(word) + 1) if font.getlength(word[:end]) <= width))
            lines.append(word[:fits])
            word = word[fits:]
        current = word
    return [*lines, current] if current or not lines else lines


def _ellipsis(text: str, font: Font, width: int) -> str:
    """`text`, or as much of it as fits in `width` pixels followed by "..."."""
    if font.getlength(text) <= width:
        return text
    while text and font.getlength(text + "...") > width:
        text = text[:-1]
    return text.rstrip() + "..."


# ------------------------------------------------------------------------------ sample grid


def sample_rows(
    release: str | Path, *, per_source: int = 2, task: str = SAMPLE_TASK, exclude: Collection[str] = ()
) -> list[dict[str, Any]]:
    """A deterministic choice of `per_source` rows of every source, spread evenly over its rows.

    Rows are taken in file order (train shards first), at evenly spaced positions among a source's rows,
    so two builds of the same input show the same images. Rows of the image ids in `exclude` are never
    chosen. Only the `source` and `image_id` columns are scanned; images and texts are read from the row
    groups that hold the chosen rows.
    """
    if per_source < 1:
        raise ValueError(f"per_source must be at least 1, got {per_source}")
    release = Path(release)
    files = sorted(
        (release / schema.DATA_DIR / task).rglob("*.parquet"),
        key=lambda p: (p.name.split("-", 1)[0] != "train", p.relative_to(release).as_posix()),
    )
    positions: dict[str, list[tuple[Path, int, int]]] = {}  # source -> (file, row group, row in group)
    for path in files:
        parquet = pq.ParquetFile(path)
        for group in range(parquet.metadata.num_row_groups):
            scanned = parquet.read_row_group(group, columns=["source", "image_id"])
            ids = scanned["image_id"].to_pylist()
            for row, source in enumerate(scanned["source"].to_pylist()):
                if ids[row] not in exclude:
                    positions.setdefault(source, []).append((path, group, row))
    chosen: list[tuple[str, Path, int, int]] = []
    for source in sorted(positions, key=source_order):
        rows = positions[source]
        count = min(per_source, len(rows))
        picks = sorted({(i * len(rows)) // count + len(rows) // (2 * count) for i in range(count)})
        chosen += [(source, *rows[min(pick, len(rows) - 1)]) for pick in picks]
    text_column = schema.TEXT_COLUMN[task]
    columns = ["image_id", "image", "source", "tier", text_column]
    samples = []
    for source, path, group, row in chosen:
        table = pq.ParquetFile(path).read_row_group(group, columns=columns)
        record = table.slice(row, 1).to_pylist()[0]
        record["label"] = f"{source_short_name(source) if source in schema.SOURCES else source} | {record['tier']}"
        samples.append(record)
    return samples


def distinct_sample_rows(release: str | Path, tasks: Sequence[str], *, per_source: int = 1) -> list[dict[str, Any]]:
    """`sample_rows` of each task in turn, none showing an image an earlier task's rows show already."""
    rows: list[dict[str, Any]] = []
    for task in tasks:
        rows += sample_rows(release, per_source=per_source, task=task, exclude={row["image_id"] for row in rows})
    return rows


def write_sample_grid(
    release: str | Path,
    *,
    per_source: int = 2,
    columns: int = 4,
    cell: int = 192,
    texts: bool = True,
    synthetic: bool | None = None,
) -> Path | None:
    """Write `sample_grid.png` into the release folder (None, and no file, when it holds no image).

    `synthetic` (None: see `release_is_synthetic`) writes SYNTHETIC on every image.
    """
    release = Path(release)
    synthetic = release_is_synthetic(release) if synthetic is None else synthetic
    rows = sample_rows(release, per_source=per_source)
    if not rows:
        return None
    for row in rows:
        row["lines"] = [row["image_id"], *text_lines(row, max_texts=1)]
    watermark = SYNTHETIC_WATERMARK if synthetic else None
    sheet = contact_sheet(rows, columns=columns, cell=cell, texts=texts, watermark=watermark)
    path = release / schema.SAMPLE_GRID_FILE
    sheet.save(path, format="PNG", optimize=True)
    return path
