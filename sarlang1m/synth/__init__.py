"""A synthetic raw SARLANG-1M release in the authors' layout, for the demo, the tests and benchmarks.

The real release cannot be downloaded here, so this package writes one that looks like it: the same
folders, file names, text file formats and proportions, SAR-like pixels, and questions whose answers
agree with the pixels. Everything it writes says it is synthetic.

In the order a release is made: `plan` and `catalog` decide how many of what and each image's name,
size and seed (`names`); `placement` draws each image's scene (`scene_model`) and `render` turns it
into pixels; `templates`, `questions` and `captions` read the texts off the same scene with shared
`wording`; `pixels` and `text_sink` write the files in the authors' `layout`; `generate` runs it all
and moves the release into place, with `readme` (SYNTHETIC.md) last.
"""

from .generate import SYNTH_VERSION, SynthSummary, write_synthetic_release
from .plan import KINDS, QuestionKind, ReleasePlan, plan_release

__all__ = [
    "KINDS",
    "SYNTH_VERSION",
    "QuestionKind",
    "ReleasePlan",
    "SynthSummary",
    "plan_release",
    "write_synthetic_release",
]
