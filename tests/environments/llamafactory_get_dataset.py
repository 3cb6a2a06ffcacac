"""LLaMA-Factory's own `get_dataset` over a `sarlang1m export llamafactory` folder, offline. TEST ONLY.

Run by tests/test_environments.py with the python of a virtualenv holding llamafactory and sarlang1m:

    python llamafactory_get_dataset.py EXPORT_DIR DATASET_NAME

The template is Qwen2-VL's (`qwen2_vl`, the paper's model family), so that the images are opened and
their tokens expanded as in training; the tokenizer and image processor are built here, in memory, since
no model can be downloaded. Prints one JSON line: examples loaded, records in the file, image tokens and
labelled tokens of the first example.
"""

from __future__ import annotations

import importlib.machinery
import json
import sys
import types
from pathlib import Path

SPECIAL_TOKENS = [
    "<|endoftext|>",
    "<|im_start|>",
    "<|im_end|>",
    "<|vision_start|>",
    "<|vision_end|>",
    "<|image_pad|>",
    "<|video_pad|>",
]


def without_mismatched_extensions() -> None:
    """PyPI's torchvision and torchaudio are built for the CUDA build of torch, and fail to load their
    operators beside the CPU build installed here. Neither is used for images: transformers falls back to its
    PIL image processor without torchvision, and LLaMA-Factory only imports torchaudio."""
    for name in ("torchvision", "torchaudio"):
        try:
            __import__(name)
        except (OSError, RuntimeError):
            for loaded in [m for m in sys.modules if m == name or m.startswith(f"{name}.")]:
                del sys.modules[loaded]
            if name == "torchvision":
                sys.modules[name] = None  # type: ignore[assignment]  # "not installed", for transformers
            else:
                stub = types.ModuleType(name)
                stub.__spec__ = importlib.machinery.ModuleSpec(name, None)
                sys.modules[name] = stub


def main(export_dir: Path, dataset: str) -> None:
    without_mismatched_extensions()
    from llamafactory.data import get_template_and_fix_tokenizer
    from llamafactory.data.loader import get_dataset
    from llamafactory.hparams import get_train_args
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast, Qwen2VLImageProcessor

    info = json.loads((export_dir / "dataset_info.json").read_text())[dataset]
    records = json.loads((export_dir / info["file_name"]).read_text())
    words = sorted({w for r in records for m in r["messages"] for w in m["content"].split()})
    core = Tokenizer(models.WordLevel({t: i for i, t in enumerate(["[UNK]", *SPECIAL_TOKENS, *words])}, "[UNK]"))
    core.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=core,
        unk_token="[UNK]",
        eos_token="<|im_end|>",
        pad_token="<|endoftext|>",
        additional_special_tokens=SPECIAL_TOKENS,
    )
    processor = types.SimpleNamespace(image_processor=Qwen2VLImageProcessor(), tokenizer=tokenizer)
    model_args, data_args, training_args, _, _ = get_train_args(
        {
            "model_name_or_path": "offline",
            "stage": "sft",
            "do_train": True,
            "finetuning_type": "lora",
            "dataset_dir": str(export_dir),
            "dataset": dataset,
            "template": "qwen2_vl",
            "cutoff_len": 1024,
            "output_dir": str(export_dir / "output"),
            "overwrite_cache": True,
            "report_to": "none",
        }
    )
    template = get_template_and_fix_tokenizer(tokenizer, data_args)
    train = get_dataset(template, model_args, data_args, training_args, "sft", tokenizer, processor)["train_dataset"]
    first = train[0]
    image_pad = tokenizer.convert_tokens_to_ids("<|image_pad|>")
    summary = {
        "examples": len(train),
        "records": len(records),
        "image_tokens": first["input_ids"].count(image_pad),
        "labelled": sum(1 for label in first["labels"] if label != -100),
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    main(Path(sys.argv[1]), sys.argv[2])
