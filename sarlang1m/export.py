"""Chat-format exports of a release for fine-tuning tools: LLaMA-Factory, LLaVA, Hugging Face messages.

Each question (or caption) becomes one single-turn conversation with the paper's prompt
(`schema.VQA_PROMPT`, `schema.CAPTION_PROMPT`), the SARVQA1 class prompt where `sarlang1m.views` adds
one, and the 8-bit image written once per image (the release's bytes as they are, no re-encoding) into
an images folder; records name images by paths relative to the output file's folder, which is where
each tool resolves them from (LLaMA-Factory's ``media_dir`` defaults to its ``dataset_dir``; LLaVA
joins ``--image_folder`` and the path).

Formats (checked in the tests against each tool's documented schema):

- ``llamafactory``: ShareGPT with OpenAI-style tags, ``{"messages": [{"role", "content"}], "images"}``,
  ``<image>`` in the user turn; a ``dataset_info.json`` entry is written next to the output.
- ``llava``: ``{"id", "image", "conversations": [{"from": "human"|"gpt", "value"}]}``, the first human
  turn starting with ``<image>\\n``; always a JSON array (LLaVA reads the file with ``json.load``).
- ``messages``: the chat-template format of transformers/TRL, ``{"messages": [{"role", "content":
  [{"type": "image"}, {"type": "text", "text"}]}], "images"}``.

A ``.jsonl`` output is written as JSON lines, anything else as one JSON array. The export streams: its
memory does not grow with the release (beyond the set of image ids written).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO, Any, Literal, get_args

from tqdm.auto import tqdm

from . import schema
from .atomic import atomic_path, check_output_file
from .errors import InputError, OutputExistsError
from .load import load
from .output_folders import check_can_create
from .release_files import damaged_shards_named
from .resolve import check_config, is_synthetic_release, read_release_manifest
from .summary import configs_from_json
from .views import flatten_row, resolve_class_prompts

ExportFormat = Literal["llamafactory", "llava", "messages"]
FORMATS: tuple[ExportFormat, ...] = get_args(ExportFormat)
DATASET_INFO_FILE = "dataset_info.json"
#: Columns an export reads (those the task has): the original GeoTIFFs (``sar_path``) are never fetched.
_COLUMNS = ("image_id", "file_name", "image", "subset")
_SAFE_FILE_STEM = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._,+=@-]*$")


@dataclass(frozen=True)
class ExportResult:
    """What an export wrote."""

    out: Path
    format: ExportFormat
    examples: int
    images_written: int
    images_reused: int
    images_dir: Path
    dataset_info: Path | None
    #: The release was built from synthetic data (its MANIFEST says so): so is everything exported.
    synthetic: bool = False

    def summary(self) -> str:
        extra = f"; registered in {self.dataset_info}" if self.dataset_info else ""
        return (
            ("SYNTHETIC release: " if self.synthetic else "")
            + f"wrote {self.out}: {self.examples} {self.format} examples; images in {self.images_dir} "
            f"({self.images_written} written, {self.images_reused} already there){extra}"
        )


def _check_format(fmt: str) -> ExportFormat:
    """The format itself if it is one of `FORMATS`, else an InputError listing them."""
    for known in FORMATS:
        if fmt == known:
            return known
    raise InputError(f"unknown export format {fmt!r}; expected one of {FORMATS}")


def export(
    release: str | Path,
    fmt: ExportFormat,
    out: str | Path,
    *,
    config: str = "vqa",
    split: str = "train",
    images_dir: str | Path | None = None,
    class_prompts: bool | None = None,
    vqa_prompt: str = schema.VQA_PROMPT,
    caption_prompt: str = schema.CAPTION_PROMPT,
    dataset_name: str | None = None,
    revision: str | None = None,
    progress: bool = True,
) -> ExportResult:
    """Write the texts of one config and split of `release` as `fmt` records into `out`.

    Args:
        release: a release folder, or a Hub repo id (pinned revision by default, see `sarlang1m.load`).
        fmt: ``llamafactory``, ``llava`` or ``messages``.
        out: the output file; ``.jsonl`` gives JSON lines (not for ``llava``), anything else a JSON array.
        config, split: what to export (e.g. ``vqa``/``train``, ``captions``/``test``).
        images_dir: where the images go (default: ``images`` next to `out`); shared between exports,
            an image already there with the same SHA-256 is not rewritten.
        class_prompts: SARVQA1 class prompts (see `sarlang1m.views`); None: the config's default.
        vqa_prompt: the user turn of a question, with a ``{question}`` field (default: the paper's).
        caption_prompt: the user turn of a caption (default: the paper's).
        dataset_name: the LLaMA-Factory dataset name (default: ``sarlang1m_<config>_<split>``).
        revision: Hub revision (Hub releases only).
        progress: show a progress bar.
    """
    fmt = _check_format(fmt)
    out = Path(out)
    images_dir = Path(images_dir) if images_dir is not None else out.parent / "images"
    _check_outputs(out, images_dir)
    task = _check_request(release, fmt, out, config=config, split=split, revision=revision, vqa_prompt=vqa_prompt)
    records = _Records(
        task,
        class_prompts=resolve_class_prompts(class_prompts, task=task, config=config),
        user_turn=_user_turn(task, vqa_prompt=vqa_prompt, caption_prompt=caption_prompt),
        make_record=_RECORD_MAKERS[fmt],
    )
    rows = _image_rows(release, revision, config, split, task)
    images = _ImageWriter(images_dir, relative_to=out.parent)
    total = _texts_in(release, revision, config, split)
    bar = tqdm(total=total, desc=f"export {fmt}", unit=" texts", disable=not progress, dynamic_ncols=True)
    out.parent.mkdir(parents=True, exist_ok=True)
    try:
        with damaged_shards_named(release, revision, config, split):
            examples = _write(out, rows, images, records, lines=out.suffix.lower() == ".jsonl", bar=bar)
    finally:
        bar.close()
    dataset_info = None
    if fmt == "llamafactory":
        dataset_info = register_llamafactory(out, dataset_name or f"sarlang1m_{config}_{split}".replace("-", "_"))
    synthetic = is_synthetic_release(release, revision)
    return ExportResult(out, fmt, examples, images.written, images.reused, images_dir, dataset_info, synthetic)


def _check_outputs(out: Path, images_dir: Path) -> None:
    """Refuse outputs that cannot be written before anything is read or written (not after every image)."""
    check_output_file(out)
    if images_dir.exists() and not images_dir.is_dir():
        raise InputError(f"{images_dir}: is a file, not a folder the images can go into")
    check_can_create(images_dir)


def _check_request(
    release: str | Path,
    fmt: ExportFormat,
    out: Path,
    *,
    config: str,
    split: str,
    revision: str | None,
    vqa_prompt: str,
) -> str:
    """The task of `config`, once the prompt, the release's config and split, and the output's kind are checked."""
    if "{question}" not in vqa_prompt:
        raise InputError(f"the VQA prompt needs a {{question}} field, got {vqa_prompt!r}")
    task = check_config(config, release, revision, split=split).task
    if fmt == "llava" and out.suffix.lower() == ".jsonl":
        raise InputError(f"{out}: LLaVA reads one JSON array (json.load); use a .json output")
    return task


def _image_rows(
    release: str | Path, revision: str | None, config: str, split: str, task: str
) -> Iterable[Mapping[str, Any]]:
    """The split's image rows, streamed, with the columns an export reads (no original is fetched)."""
    columns = [name for name in (*_COLUMNS, schema.TEXT_COLUMN[task]) if name in schema.FEATURES[task]]
    return load(config, split=split, streaming=True, decode=None, source=release, revision=revision, columns=columns)


def _write(
    out: Path, rows: Iterable[Mapping[str, Any]], images: _ImageWriter, records: _Records, *, lines: bool, bar: tqdm
) -> int:
    """Every record of `rows` into `out` (atomically), each image written once; the number of records."""
    examples = 0
    with (
        atomic_path(out) as partial,
        partial.open("w", encoding="utf-8") as handle,
        _RecordSink(handle, lines=lines) as sink,
    ):
        for row in rows:
            for record in records.of(row, images.write(row)):
                sink.write(record)
                examples += 1
                bar.update(1)
    return examples


# ------------------------------------------------------------------------------------------- records


def llamafactory_record(text_id: str, image: str, prompt: str, answer: str) -> dict[str, Any]:
    """LLaMA-Factory ShareGPT (OpenAI tags): one ``<image>`` token per image, in the user turn."""
    return {
        "id": text_id,
        "messages": [
            {"role": "user", "content": f"{schema.IMAGE_TOKEN}{prompt}"},
            {"role": "assistant", "content": answer},
        ],
        "images": [image],
    }


def llava_record(text_id: str, image: str, prompt: str, answer: str) -> dict[str, Any]:
    """LLaVA's fine-tuning format: ``<image>\\n`` opens the first human turn."""
    return {
        "id": text_id,
        "image": image,
        "conversations": [
            {"from": "human", "value": f"{schema.IMAGE_TOKEN}\n{prompt}"},
            {"from": "gpt", "value": answer},
        ],
    }


def messages_record(text_id: str, image: str, prompt: str, answer: str) -> dict[str, Any]:
    """The transformers/TRL chat-template format: typed content parts, images in their own column."""
    return {
        "id": text_id,
        "messages": [
            {"role": "user", "content": [{"type": "image"}, {"type": "text", "text": prompt}]},
            {"role": "assistant", "content": [{"type": "text", "text": answer}]},
        ],
        "images": [image],
    }


_RECORD_MAKERS: dict[ExportFormat, Callable[[str, str, str, str], dict[str, Any]]] = {
    "llamafactory": llamafactory_record,
    "llava": llava_record,
    "messages": messages_record,
}


@dataclass(frozen=True)
class _Records:
    """How an image row becomes records: its texts flattened, each with its user turn and answer, in one format."""

    task: str
    class_prompts: bool
    user_turn: Callable[[Mapping[str, Any]], str]
    make_record: Callable[[str, str, str, str], dict[str, Any]]

    def of(self, row: Mapping[str, Any], image_path: str) -> Iterator[dict[str, Any]]:
        for example in flatten_row(row, self.task, class_prompts=self.class_prompts):
            prompt, answer = self.user_turn(example), _answer(example, self.task)
            yield self.make_record(example["id"], image_path, prompt, answer)


def llamafactory_dataset_info(file_name: str) -> dict[str, Any]:
    """The ``dataset_info.json`` entry LLaMA-Factory needs for a ShareGPT file with OpenAI-style tags."""
    return {
        "file_name": file_name,
        "formatting": "sharegpt",
        "columns": {"messages": "messages", "images": "images"},
        "tags": {"role_tag": "role", "content_tag": "content", "user_tag": "user", "assistant_tag": "assistant"},
    }


def register_llamafactory(out: Path, dataset_name: str) -> Path:
    """Add (or replace) `dataset_name` in the ``dataset_info.json`` next to `out`, keeping other entries."""
    info_path = out.parent / DATASET_INFO_FILE
    entries: dict[str, Any] = {}
    if info_path.is_file():
        try:
            entries = json.loads(info_path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as error:
            raise InputError(f"{info_path}: not valid JSON ({error}); fix or remove it") from error
        if not isinstance(entries, dict):
            raise InputError(f"{info_path}: expected a JSON object of datasets, got {type(entries).__name__}")
    entries[dataset_name] = llamafactory_dataset_info(out.name)
    with atomic_path(info_path) as partial:
        partial.write_text(json.dumps(entries, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return info_path


def _user_turn(task: str, *, vqa_prompt: str, caption_prompt: str) -> Callable[[Mapping[str, Any]], str]:
    if task == "captions":
        return lambda example: caption_prompt
    return lambda example: vqa_prompt.format(question=example["question"])


def _answer(example: Mapping[str, Any], task: str) -> str:
    answer = example["text"] if task == "captions" else example["answer"]
    if not isinstance(answer, str) or not answer.strip():
        field = "text" if task == "captions" else "answer"
        raise InputError(f"text {example['id']!r} of image {example['image_id']!r}: empty {field} {answer!r}")
    return answer


# ------------------------------------------------------------------------------------------- writing


class _RecordSink:
    """Streams records as JSON lines or as one JSON array, never holding more than one record."""

    def __init__(self, handle: IO[str], *, lines: bool) -> None:
        self.handle = handle
        self.lines = lines
        self.count = 0

    def __enter__(self) -> _RecordSink:
        if not self.lines:
            self.handle.write("[")
        return self

    def write(self, record: Mapping[str, Any]) -> None:
        text = json.dumps(record, ensure_ascii=False)
        if self.lines:
            self.handle.write(text + "\n")
        else:
            self.handle.write(("," if self.count else "") + "\n" + text)
        self.count += 1

    def __exit__(self, *exc_info: object) -> None:
        if not self.lines:
            self.handle.write("\n]\n" if self.count else "]\n")


class _ImageWriter:
    """Writes each image once (by image id) and returns its path relative to the output's folder."""

    def __init__(self, folder: Path, *, relative_to: Path) -> None:
        self.folder = folder
        self.relative_to = relative_to
        self.paths: dict[str, str] = {}
        self.written = 0
        self.reused = 0

    def write(self, row: Mapping[str, Any]) -> str:
        image_id = row.get("image_id")
        if image_id in self.paths:
            return self.paths[image_id]
        if not isinstance(image_id, str) or not _SAFE_FILE_STEM.match(image_id) or ".." in image_id:
            raise InputError(f"image id {image_id!r} cannot be used as a file name")
        data = _image_bytes(row)
        suffix = PurePosixPath(row.get("file_name") or "").suffix.lower() or ".png"
        target = self.folder / f"{image_id}{suffix}"
        if target.is_file():
            if target.read_bytes() != data:
                raise OutputExistsError(
                    f"{target} exists with other content than image {image_id!r}: "
                    "export into an empty --images-dir, or remove the stale file"
                )
            self.reused += 1
        else:
            self.folder.mkdir(parents=True, exist_ok=True)
            with atomic_path(target) as partial:
                partial.write_bytes(data)
            self.written += 1
        self.paths[image_id] = Path(os.path.relpath(target, self.relative_to)).as_posix()
        return self.paths[image_id]


def _image_bytes(row: Mapping[str, Any]) -> bytes:
    image = row.get("image")
    data = image.get("bytes") if isinstance(image, Mapping) else None
    if data is None and isinstance(image, Mapping) and image.get("path") and Path(image["path"]).is_file():
        data = Path(image["path"]).read_bytes()
    if not data:
        raise InputError(f"image {row.get('image_id')!r}: the release holds no bytes for it")
    return bytes(data)


def _texts_in(release: str | Path, revision: str | None, config: str, split: str) -> int | None:
    """The number of texts the MANIFEST announces for (config, split), for the progress bar."""
    try:
        manifest = read_release_manifest(release, revision)
        return configs_from_json(manifest["configs"])[config].splits[split].texts
    except (OSError, KeyError, TypeError, ValueError):
        return None
