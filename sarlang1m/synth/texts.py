"""Captions and questions in the style of the paper's examples, read off a `Scene`.

Every answer is computed from the scene the pixels are rendered from. The work is split by job:
`wording` holds the words and places both kinds of text share, `templates` the question templates and
each image's capacity (`question_capacity`, which the planner respects), `questions` fills them for
one scene, and `captions` describes a SARVQA2 scene. This module is where the rest of `synth` (and
its tests) take them from.
"""

from __future__ import annotations

from .captions import CONCISE_CAPACITY, DETAILED_CAPACITY, captions
from .questions import questions
from .templates import question_capacity
from .wording import Text

__all__ = ["CONCISE_CAPACITY", "DETAILED_CAPACITY", "Text", "captions", "question_capacity", "questions"]
