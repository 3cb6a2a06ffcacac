"""Question templates of each kind, and how many distinct questions each kind offers an image.

A kind of question is a set of templates times a set of slots (a class, a box, "the largest object",
...). The templates are kept apart from the code that fills them so that the planner's capacity
(`question_capacity`: the distinct (template, slot) pairs every image offers) and the questions
actually asked are counted from the same tuples, and an image never gets the same question twice.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from .. import schema
from .plan import KINDS
from .scene_model import SARVQA2_TARGETS, Scene
from .wording import CELL_PHRASES, SUPERLATIVES, grounds


@dataclass(frozen=True, slots=True)
class Slot:
    """What fills a template: its fields, the answer and the answer's type."""

    fields: dict[str, str]
    answer: str
    answer_type: str
    bbox: tuple[int, int, int, int] | None = None
    sentence: bool = False  # a full sentence always keeps its period


#: A group of templates that all take the same slots.
Group = tuple[Sequence[str], list[Slot]]


# ------------------------------------------------------------------------------------- templates

IDENT1 = (
    "Is there {a} in this image?",
    "Are there any {pl} in the image?",
    "Does this image contain {a}?",
    "Is {a} present in this SAR image?",
    "Can you see any {pl} in this image?",
    "Does the image show any {pl}?",
    "Is there at least one {sg} in the scene?",
    "Are any {pl} visible in this image?",
)
CLASS1 = (
    "What is the category of the {sup} object in the image?",
    "What type of object is the {sup} target in this image?",
    "What kind of target is the {sup} one in this image?",
    "Which category does the {sup} object belong to?",
    "What class is the {sup} object in this SAR image?",
)
CLASS1_COMMON = (
    "What is the most common type of object in this image?",
    "Which kind of target appears most often in the image?",
)
COUNT = (
    "How many {pl} are there in the image?",
    "How many {pl} can be seen in this image?",
    "What is the number of {pl} in the image?",
    "Count the {pl} in this image.",
    "How many {pl} does this image contain?",
    "How many {pl} are visible in this SAR image?",
)
COUNT1_PART = (
    "How many objects are in the {pos} part of the image?",
    "How many targets can be found in the {pos} region of the image?",
)
REGION1 = (
    "What is the object in the region {box}?",
    "What category does the object in {box} belong to?",
    "Identify the object within the bounding box {box}.",
    "What is inside the box {box}?",
    "Which class does the target at {box} belong to?",
    "What type of object is shown in {box}?",
    "What can be seen in the area {box}?",
    "Classify the object in the region {box}.",
)
POSITION1 = (
    "Where is {phrase} located in the image?",
    "In which part of the image is {phrase}?",
    "Which part of the image contains {phrase}?",
    "Where can {phrase} be found in this image?",
)
DIRECTION = (
    "In which direction is {a} from {b}?",
    "What is the direction of {a} relative to {b}?",
    "Relative to {b}, in which direction does {a} lie?",
)
IDENT2 = (
    "Is there {a} in this image?",
    "Does this image contain {a}?",
    "Are there any {pl} in the scene?",
    "Is {a} visible in this SAR image?",
    "Can {a} be seen in the image?",
    "Does the scene include {a}?",
)
CLASS2_SCENE = (
    "What type of area is shown in this image?",
    "What kind of scene does this SAR image show?",
    "What type of region is depicted in the image?",
    "Which category best describes this scene?",
    "What kind of area is this?",
)
CLASS2_OBJECT = (
    "What is the {sup} object in the image?",
    "What type of object is the {sup} one in this scene?",
    "What kind of structure is the {sup} target?",
)
CLASS2_SURFACE = (
    "What type of surface covers the {cell} of the image?",
    "What kind of ground is found in the {cell} part of the image?",
)
POSITION2 = (
    "Where is {phrase} located in the image?",
    "In which part of the image is {phrase}?",
    "Where can {phrase} be found?",
)
SHAPE2 = (
    "What is the shape of {phrase}?",
    "What shape does {phrase} have?",
    "Describe the shape of {phrase}.",
)
ROAD2 = (
    "In which direction does the road run?",
    "What is the orientation of the main road?",
)
PATTERN2 = (
    "How are the structures arranged in this image?",
    "What is the spatial pattern of the objects in the scene?",
    "What arrangement do the man-made structures show?",
    "What is the layout of the targets in the image?",
    "What is the distribution of the objects in the image?",
    "What pattern do the structures form?",
)
LAND_COVER2 = (
    "What is the land cover type of this area?",
    "What is the land use category of this image?",
    "Which land cover class best describes this scene?",
    "What is the dominant land cover in this image?",
    "What type of land cover is shown here?",
    "Classify the land cover of this area.",
)
#: SARVQA2 identification vocabulary: (noun, whether the scene has it); the last ones never occur.
ABSENT2 = ("aircraft", "runway", "wind turbine", "swimming pool", "railway", "tennis court", "greenhouse", "helicopter")
PRESENCE2: dict[str, Callable[[Scene], bool]] = {
    "building": lambda s: s.count("building") > 0,
    "car": lambda s: s.count("car") > 0,
    "ship": lambda s: s.count("ship") > 0,
    "storage tank": lambda s: s.count("storage tank") > 0,
    "bridge": lambda s: s.count("bridge") > 0,
    "road": lambda s: bool(s.roads),
    "water body": lambda s: s.has_water,
    "farm field": lambda s: "field" in grounds(s),
    "forest": lambda s: "vegetation" in grounds(s),
    **{noun: (lambda s: False) for noun in ABSENT2},
}
PLURAL_EXTRA = {"water body": "water bodies", "forest": "forests", "farm field": "farm fields"}


ALWAYS_REASONS2 = 6


# --------------------------------------------------------------------------------- capacities


def question_capacity(subset: str, n_objects: int) -> list[int]:
    """Distinct questions of each kind (in `plan.KINDS` order) every image of a subset can take."""
    pairs = 2 * len(DIRECTION) if n_objects >= 2 else 0  # leftmost vs rightmost, both ways
    if subset == "sarvqa1":
        capacity = {
            "object_identification": len(schema.SARVQA1_CLASSES) * len(IDENT1),
            "object_classification": len(SUPERLATIVES) * len(CLASS1),
            "instance_counting": len(schema.SARVQA1_CLASSES) * len(COUNT)
            + len(schema.SARVQA1_POSITIONS) * len(COUNT1_PART),
            "region_referring": n_objects * len(REGION1),
            "object_positioning": len(SUPERLATIVES) * len(POSITION1),
            "others/direction": pairs,
        }
    else:
        capacity = {
            "object_identification": len(PRESENCE2) * len(IDENT2),
            "object_classification": len(CLASS2_SCENE)
            + len(SUPERLATIVES) * len(CLASS2_OBJECT)
            + len(CELL_PHRASES) * len(CLASS2_SURFACE),
            "instance_counting": len(SARVQA2_TARGETS) * len(COUNT),
            "object_positioning": len(SUPERLATIVES) * len(POSITION2),
            "others/reasoning": ALWAYS_REASONS2,
            "others/shape": len(SUPERLATIVES) * len(SHAPE2),
            "others/direction": 2 * len(DIRECTION),
            "others/pattern": len(PATTERN2),
            "others/land_cover": len(LAND_COVER2),
        }
    return [capacity.get(kind.key, 0) for kind in KINDS]
