"""The authors' class prompts: which SARVQA1 questions get which closed vocabulary, and when to add them.

The authors tell users who mix SARVQA1 and SARVQA2 to prepend the closed vocabulary of SARVQA1 to its
questions (`schema.CLASS_PROMPTS`). These rules are shared by the pair views (`sarlang1m.views`) and the
chat exports (`sarlang1m.export`), so that both add the same prompt to the same question.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .. import schema
from ..errors import InputError

#: The subset whose questions get a class prompt.
PROMPTED_SUBSET = "sarvqa1"


def class_prompt_for(text: Mapping[str, Any], subset: str | None) -> str | None:
    """The class prompt the authors prescribe for one SARVQA1 question, None for any other question.

    Positioning questions, and direction questions (answered with position words), get the position
    vocabulary; every other SARVQA1 question gets the six object classes.
    """
    if subset != PROMPTED_SUBSET:
        return None
    if text.get("application") == "object_positioning" or text.get("subtype") == "direction":
        return schema.CLASS_PROMPTS["positions"]
    return schema.CLASS_PROMPTS["classes"]


def with_class_prompt(question: str, prompt: str | None) -> str:
    """The question with its class prompt in front (unchanged when there is none)."""
    return question if prompt is None else f"{prompt} {question}"


def class_prompts_default(config: str) -> bool:
    """On for VQA configs that can mix SARVQA1 and SARVQA2, off for a single subset and for captions."""
    spec = schema.config_spec(config)
    return spec.task == "vqa" and spec.subset is None


def resolve_class_prompts(
    class_prompts: bool | None, *, task: str, config: str | None, subsets: set[str] | None = None
) -> bool:
    """Whether to prepend class prompts: the caller's choice, else the config's default, else the data's.

    Without a config, `subsets` (the subsets present, when known) decides: on only when both are there.
    When neither is known (a stream without a config name), prompts are on: they only touch SARVQA1
    questions, and a model trained on a mix needs them.
    """
    if task != "vqa":
        if class_prompts:
            raise InputError("class prompts apply to VQA questions, not to captions: leave out --class-prompts")
        return False
    if class_prompts is not None:
        return bool(class_prompts)
    if config is not None:
        return class_prompts_default(config)
    if subsets is not None:
        return {s for s in subsets if s} >= set(schema.SUBSETS)
    return True
