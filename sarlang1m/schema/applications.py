"""What the texts are about: the paper's seven applications, the sub-types of "others", answer types,
caption styles, and the closed vocabularies of SARVQA1 and of the paper's land-cover statistics."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Application:
    name: str
    title: str
    task: str
    paper_texts: int


APPLICATIONS: dict[str, Application] = {
    a.name: a
    for a in (
        Application("image_description", "Image Description", "captions", 45_650),
        Application("object_identification", "Object Identification", "vqa", 484_620),
        Application("object_classification", "Object Classification", "vqa", 132_525),
        Application("instance_counting", "Instance Counting", "vqa", 117_382),
        Application("region_referring", "Region Referring", "vqa", 221_450),
        Application("object_positioning", "Object Positioning", "vqa", 106_171),
        Application("others", "Others", "vqa", 18_479),
    )
}
VQA_APPLICATIONS = tuple(a for a, spec in APPLICATIONS.items() if spec.task == "vqa")

#: Sub-types of "others" with their reported counts in the paper.
OTHERS_SUBTYPES: dict[str, int] = {
    "reasoning": 14_048,
    "shape": 2_391,
    "direction": 1_103,
    "pattern": 857,
    "land_cover": 80,
}

ANSWER_TYPES = ("yes_no", "number", "category", "position", "free_text")
CAPTION_STYLES = ("concise", "detailed")

#: The closed vocabularies of SARVQA1 (questions generated from SARDet-100K boxes).
SARVQA1_CLASSES = ("tank", "car", "aircraft", "harbor", "bridge", "ship")
SARVQA1_POSITIONS = ("top", "center", "bottom", "left", "right")

#: The 16 land-cover classes of the paper's statistics figure.
LAND_COVER_CLASSES = (
    "Residential",
    "Industrial",
    "Urban",
    "Mixed-use",
    "Park",
    "Recreational",
    "Residential and construction",
    "Forest",
    "Minimal",
    "Parking area",
    "Commercial",
    "Farming",
    "Urban development",
    "Agricultural field",
    "Energy generation and agriculture",
    "Vegetation",
)
