"""What the SARLANG-1M paper (arXiv 2504.03254) reports and prescribes: the release's sizes, which
`synth --paper-scale` reproduces and a build is compared against, and the prompts the authors use."""

from __future__ import annotations

from dataclasses import dataclass

from .applications import SARVQA1_CLASSES, SARVQA1_POSITIONS


@dataclass(frozen=True)
class PaperCounts:
    """Reported sizes of the real release, per split (used by `synth --paper-scale`)."""

    sardet_images: dict[str, int]
    caption_images: dict[str, int]
    captions: dict[str, dict[str, int]]
    vqa_images: dict[str, int]
    vqa_texts: dict[str, int]

    @property
    def images(self) -> int:
        return sum(self.vqa_images.values())

    @property
    def texts(self) -> int:
        return sum(self.vqa_texts.values()) + sum(sum(s.values()) for s in self.captions.values())


PAPER = PaperCounts(
    sardet_images={"train": 94_493, "test": 10_492},
    caption_images={"train": 9_341, "test": 4_005},
    captions={
        "train": {"concise": 17_487, "detailed": 14_481},
        "test": {"concise": 7_492, "detailed": 6_190},
    },
    vqa_images={"train": 103_834, "test": 14_497},
    vqa_texts={"train": 955_372, "test": 125_255},
)

#: The paper's prompts (used by the exports and by the evaluation examples).
CAPTION_PROMPT = "Describe the content of this image in one sentence."
VQA_PROMPT = "Question: {question}. Answer the question concisely."
#: The image placeholder of LLaMA-Factory and LLaVA user turns (removed from questions on reading).
IMAGE_TOKEN = "<image>"
#: What the authors tell users to prepend to SARVQA1 questions when mixing it with SARVQA2.
CLASS_PROMPTS = {
    "classes": "The classes are: " + ", ".join(SARVQA1_CLASSES) + ".",
    "positions": "The classes are: " + ", ".join(SARVQA1_POSITIONS) + ".",
}
