"""Contact sheets and the release's sample grid: layout, inputs, determinism, bad rows named."""

import io

import numpy as np
import PIL.Image
import PIL.ImageDraw
import pytest

from sarlang1m import schema
from sarlang1m.card.preview import (
    MARGIN,
    MAX_TEXT_LINES,
    SYNTHETIC_WATERMARK,
    WATERMARK_COLOUR,
    contact_sheet,
    distinct_sample_rows,
    sample_rows,
    text_lines,
    write_sample_grid,
)
from sarlang1m.publish.manifest import read_manifest

COLOURS = [(255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 0), (0, 255, 255)]


def solid_png(colour: tuple[int, int, int], size: tuple[int, int] = (20, 10)) -> bytes:
    """Synthetic: a one-colour PNG."""
    buffer = io.BytesIO()
    PIL.Image.new("RGB", size, colour).save(buffer, format="PNG")
    return buffer.getvalue()


def cell_centre(sheet: PIL.Image.Image, index: int, columns: int, cell: int, cell_height: int) -> tuple:
    left = MARGIN + (index % columns) * (cell + MARGIN)
    top = MARGIN + (index // columns) * (cell_height + MARGIN)
    return sheet.getpixel((left + cell // 2, top + cell // 2))


def test_images_are_laid_out_left_to_right_in_rows():
    rows = [{"image": solid_png(colour)} for colour in COLOURS]
    sheet = contact_sheet(rows, columns=2, cell=64, texts=False)
    assert sheet.size == (2 * (64 + MARGIN) + MARGIN, 3 * (64 + MARGIN) + MARGIN)
    assert [cell_centre(sheet, i, 2, 64, 64) for i in range(5)] == COLOURS
    assert sheet.getpixel((sheet.width - 1 - MARGIN - 32, sheet.height - 1 - MARGIN - 32)) == (255, 255, 255)


def test_images_keep_their_aspect_ratio():
    sheet = contact_sheet([{"image": solid_png((255, 0, 0), size=(40, 10))}], columns=1, cell=80, texts=False)
    column = [sheet.getpixel((MARGIN + 40, MARGIN + y)) for y in range(80)]
    red = [y for y, pixel in enumerate(column) if pixel == (255, 0, 0)]
    assert red[0] == 30 and len(red) == 20  # 80 x 20 once scaled, centred in the 80 x 80 cell


def test_every_kind_of_image_cell_is_accepted():
    grey16 = PIL.Image.fromarray(np.full((8, 8), 40000, dtype=np.uint16))
    floats = PIL.Image.fromarray(np.linspace(0, 1, 64, dtype=np.float32).reshape(8, 8))
    rows = [
        {"image": solid_png(COLOURS[0])},
        {"image": {"bytes": solid_png(COLOURS[1]), "path": "x.png"}},
        {"image": PIL.Image.new("RGB", (5, 5), COLOURS[2])},
        {"image": grey16},
        {"image": floats},
        {"image": PIL.Image.new("P", (5, 5), 0)},
    ]
    sheet = contact_sheet(rows, columns=3, cell=40, texts=False)
    assert [cell_centre(sheet, i, 3, 40, 40) for i in range(3)] == COLOURS[:3]
    assert sheet.mode == "RGB"


def test_texts_add_lines_under_each_image():
    row = {"image": solid_png(COLOURS[0]), "label": "SpaceNet6 | vhr", "lines": ["one", "two", "three"]}
    with_texts = contact_sheet([row], cell=64, font_size=10)
    labels_only = contact_sheet([row], cell=64, font_size=10, texts=False)
    bare = contact_sheet([{"image": row["image"]}], cell=64, font_size=10)
    assert bare.height < labels_only.height < with_texts.height
    assert with_texts.height - labels_only.height == 3 * (10 + 4)
    band = with_texts.crop((MARGIN, MARGIN + 64, MARGIN + 64, with_texts.height - MARGIN))
    assert band.convert("L").getextrema()[0] < 128  # some dark text was drawn under the image


def test_long_texts_are_cut_to_a_few_lines():
    row = {"image": solid_png(COLOURS[0]), "lines": ["word " * 200]}
    short = contact_sheet([{"image": row["image"], "lines": ["word"]}], cell=64, font_size=10)
    long = contact_sheet([row], cell=64, font_size=10)
    assert long.height - short.height == (MAX_TEXT_LINES - 1) * (10 + 4)


@pytest.fixture
def drawn_texts(monkeypatch):
    """Every string drawn on a contact sheet, with its width in pixels, in drawing order."""
    drawn: list[tuple[str, float]] = []
    draw_text = PIL.ImageDraw.ImageDraw.text

    def record(self, xy, text, *args, **kwargs):
        drawn.append((text, self.textlength(text, font=kwargs.get("font"))))
        return draw_text(self, xy, text, *args, **kwargs)

    monkeypatch.setattr(PIL.ImageDraw.ImageDraw, "text", record)
    return drawn


def test_answers_are_shown_whole_and_questions_cut_to_fit(drawn_texts):
    answer = "It is likely moderately populated, with a few groups of buildings along the river bank."
    question = "What can be inferred about the population density of this area from the buildings it shows?"
    contact_sheet([{"image": solid_png(COLOURS[0]), "question": question, "answer": answer}], cell=96, font_size=10)
    texts = [text for text, _ in drawn_texts]
    answer_lines = texts[texts.index(next(t for t in texts if t.startswith("A: "))) :]
    assert " ".join(answer_lines) == f"A: {answer}"  # every word of the answer, over several lines
    assert (
        len(texts) > MAX_TEXT_LINES
        and texts[0].startswith("Q: ")
        and texts[len(texts) - len(answer_lines) - 1].endswith("...")
    )
    assert all(width <= 96 for _, width in drawn_texts)  # every line fits the cell


def test_the_sample_grid_shows_every_answer_whole(synthetic_release, tmp_path, drawn_texts):
    copy = tmp_path / "release"
    copy.mkdir()
    (copy / "data").symlink_to(synthetic_release / "data", target_is_directory=True)
    write_sample_grid(copy, synthetic=True)
    shown = " ".join(text for text, _ in drawn_texts if text != SYNTHETIC_WATERMARK)
    rows = sample_rows(synthetic_release)
    assert rows
    for row in rows:
        answer = schema.text_records("vqa", row["qa"])[0]["answer"]
        assert f"A: {answer}" in shown, (row["image_id"], answer)
    assert all(width <= 192 for _, width in drawn_texts)


def test_distinct_sample_rows_never_show_an_image_twice(synthetic_release):
    rows = distinct_sample_rows(synthetic_release, ("captions", "vqa"))
    ids = [row["image_id"] for row in rows]
    assert len(ids) == len(set(ids))
    captioned = {row["source"] for row in sample_rows(synthetic_release, per_source=1, task="captions")}
    questioned = {row["source"] for row in sample_rows(synthetic_release, per_source=1, task="vqa")}
    assert len(rows) == len(captioned) + len(questioned)  # every source of each task still shown
    assert rows[: len(captioned)] == sample_rows(synthetic_release, per_source=1, task="captions")


def test_text_lines_of_release_rows_and_pairs():
    qa = {"question": ["Is there a ship?", "How many?", "Where?"], "answer": ["Yes.", "2.", "Left."]}  # column-wise
    assert text_lines({"qa": qa}) == ["Q: Is there a ship?", "A: Yes.", "Q: How many?", "A: 2."]
    assert text_lines({"captions": {"text": ["A port.", "Ships.", "More."]}}) == ["A port.", "Ships."]
    assert text_lines({"question": "How many?", "answer": "2."}) == ["Q: How many?", "A: 2."]
    assert text_lines({"text": "A city.", "qa": {"question": [], "answer": []}}) == ["A city."]
    assert text_lines({"lines": ["given"], "qa": qa}) == ["given"]


def test_bad_rows_are_named():
    with pytest.raises(ValueError, match=r"row 1 \(SN6_Rotterdam_7\): no image"):
        contact_sheet([{"image": solid_png(COLOURS[0])}, {"image_id": "SN6_Rotterdam_7"}])
    with pytest.raises(ValueError, match=r"row 0 \(0000042\): cannot decode the image"):
        contact_sheet([{"image_id": "0000042", "image": b"not an image"}])
    with pytest.raises(TypeError, match="row 0: image must be bytes"):
        contact_sheet([{"image": 42}])
    with pytest.raises(TypeError, match="row 0: expected a mapping"):
        contact_sheet([b"bytes"])
    with pytest.raises(ValueError, match="at least one image"):
        contact_sheet([])
    with pytest.raises(ValueError, match="columns must be at least 1"):
        contact_sheet([{"image": solid_png(COLOURS[0])}], columns=0)
    with pytest.raises(ValueError, match="cell must be at least 32"):
        contact_sheet([{"image": solid_png(COLOURS[0])}], cell=8)


# ------------------------------------------------------------------------------ the sample grid


def test_sample_rows_cover_every_source_deterministically(built_tiny_release):
    rows = sample_rows(built_tiny_release, per_source=2)
    assert rows == sample_rows(built_tiny_release, per_source=2)
    by_source = {}
    for row in rows:
        by_source.setdefault(row["source"], []).append(row["image_id"])
    assert by_source == {
        "spacenet6": ["SN6_Rotterdam_1"],
        "dfc2023": ["SV_Darwin_-12.4278_130.8688"],
        "openearthmap_sar": ["France_Alpes-Maritimes_Nice_3"],
        "sardet_100k": ["0000001", "0000002"],  # train shards first
    }
    assert all(row["label"].endswith(f"| {row['tier']}") for row in rows)
    one = [r["image_id"] for r in sample_rows(built_tiny_release, per_source=1) if r["source"] == "sardet_100k"]
    assert one == ["0000002"]  # the middle one of the source's rows
    with pytest.raises(ValueError, match="per_source must be at least 1"):
        sample_rows(built_tiny_release, per_source=0)


def test_the_release_has_its_grid_listed_and_shown(built_tiny_release, tmp_path):
    grid = built_tiny_release / schema.SAMPLE_GRID_FILE
    assert grid.name in read_manifest(built_tiny_release)["files"]
    assert f"]({schema.SAMPLE_GRID_FILE})" in (built_tiny_release / schema.CARD_FILE).read_text()
    image = PIL.Image.open(grid)
    assert image.format == "PNG" and image.mode == "RGB"
    assert image.width == 4 * (192 + MARGIN) + MARGIN  # 5 images in rows of 4
    copy = tmp_path / "copy"
    copy.mkdir()
    (copy / "data").symlink_to(built_tiny_release / "data", target_is_directory=True)
    assert write_sample_grid(copy, synthetic=True).read_bytes() == grid.read_bytes()


def test_the_grid_shows_the_chosen_images(built_tiny_release):
    rows = sample_rows(built_tiny_release, per_source=2)
    sheet = contact_sheet(rows, cell=96, texts=False)
    for index, row in enumerate(rows):
        expected = PIL.Image.open(io.BytesIO(row["image"]["bytes"])).convert("RGB")
        scale = 96 / max(expected.size)
        centre = expected.getpixel((int(48 / scale), int(48 / scale)))
        assert cell_centre(sheet, index, 4, 96, 96 + MARGIN // 2 + 14) == centre, row["image_id"]


def watermark_pixels(sheet: PIL.Image.Image, box: tuple[int, int, int, int]) -> int:
    """Pixels of the watermark's red (text edges are blended) inside `box` (left, top, right, bottom)."""
    assert WATERMARK_COLOUR == (230, 0, 0)
    region = np.asarray(sheet.convert("RGB").crop(box)).astype(int)
    return int((region[..., 0] - region[..., 1:].max(axis=-1) > 100).sum())


def test_a_watermark_is_drawn_on_every_image_itself():
    rows = [{"image": solid_png(colour, size=(64, 64))} for colour in COLOURS[1:3]]
    plain = contact_sheet(rows, columns=2, cell=64, texts=False)
    marked = contact_sheet(rows, columns=2, cell=64, texts=False, watermark=SYNTHETIC_WATERMARK)
    for index in range(2):
        image_box = (MARGIN + index * (64 + MARGIN), MARGIN, MARGIN + index * (64 + MARGIN) + 64, MARGIN + 64)
        assert watermark_pixels(plain, image_box) == 0
        assert watermark_pixels(marked, image_box) > 20  # inside the image, not in the text under it
    assert cell_centre(marked, 1, 2, 64, 64) == COLOURS[2]  # the image stays visible under the band


def test_the_sample_grid_of_a_synthetic_release_says_so_on_each_image(built_tiny_release, tmp_path):
    """The tiny release is synthetic: its grid differs from an unmarked one by the red word on each image."""
    grid = PIL.Image.open(built_tiny_release / schema.SAMPLE_GRID_FILE)
    real = tmp_path / "real"
    real.mkdir()
    (real / "data").symlink_to(built_tiny_release / "data", target_is_directory=True)
    unmarked = PIL.Image.open(write_sample_grid(real, synthetic=False))
    assert unmarked.size == grid.size
    count = len(sample_rows(built_tiny_release))
    rows = -(-count // 4)
    cell_height = (grid.height - MARGIN) // rows - MARGIN
    for index in range(count):
        left, top = MARGIN + (index % 4) * (192 + MARGIN), MARGIN + (index // 4) * (cell_height + MARGIN)
        square = (left, top, left + 192, top + 192)  # the image, not the text under it
        assert watermark_pixels(grid, square) > watermark_pixels(unmarked, square) + 20, index
