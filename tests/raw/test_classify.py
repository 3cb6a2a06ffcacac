"""The labels derived from questions and answers, on the paper's own examples and close variants."""

import pytest

from sarlang1m import schema
from sarlang1m.raw import answer_type, caption_style, classify_question, normalize_answer, parse_bbox
from sarlang1m.raw.classify import question_answer_type


@pytest.mark.parametrize(
    ("question", "answer", "application", "subtype"),
    [
        ("Is there a ship in this image?", "Yes.", "object_identification", None),
        ("Are there any aircraft visible?", "No.", "object_identification", None),
        ("What type of land is shown in the image?", "Forest/park.", "object_classification", None),
        ("What kind of object is at the top of the image?", "Ship.", "object_classification", None),
        ("How many ships are there in the image?", "2.", "instance_counting", None),
        ("What is the number of tanks in the scene?", "5.", "instance_counting", None),
        ("What is the object in the region [56.0, 191.0, 112.0, 122.0]?", "Bridge.", "region_referring", None),
        ("Where is the aircraft located in the image?", "top", "object_positioning", None),
        ("Which part of the image contains the harbor?", "near center", "object_positioning", None),
        ("What is the shape of the large building?", "Rectangular.", "others", "shape"),
        ("In which direction is the runway oriented?", "North-south.", "others", "direction"),
        ("What pattern do the fields form?", "A regular grid of strips.", "others", "pattern"),
        ("What is the dominant land cover in this scene?", "Residential.", "others", "land_cover"),
        ("Why are the ships located near the harbor?", "They are docked for loading.", "others", "reasoning"),
        ("What might the bright lines suggest about the area?", "Roads between fields.", "others", "reasoning"),
        ("What explains the grainy appearance of this image?", "Speckle.", "others", "reasoning"),
    ],
)
def test_applications_from_wording(question, answer, application, subtype):
    assert classify_question(question, answer) == (application, subtype)
    assert application in schema.APPLICATIONS
    assert subtype is None or subtype in schema.OTHERS_SUBTYPES


def test_unrecognised_wording_falls_back_on_the_answer():
    assert classify_question("Tell me about the target.", "Yes.") == ("object_identification", None)
    assert classify_question("Tell me about the target.", "3.") == ("instance_counting", None)
    assert classify_question("Tell me about the target.", "top left") == ("object_positioning", None)
    assert classify_question("Tell me about the target.", "Oil tank.") == ("object_classification", None)
    long = "It is a long free-form description of the whole scene."
    assert classify_question("Tell me about the target.", long) == ("others", None)


@pytest.mark.parametrize(
    ("answer", "application", "expected"),
    [
        ("Yes.", "object_identification", "yes_no"),
        ("no", "object_identification", "yes_no"),
        ("12.", "instance_counting", "number"),
        ("three", "instance_counting", "number"),
        ("top left", "object_positioning", "position"),
        ("Near the center.", "object_positioning", "position"),
        ("Forest/park.", "object_classification", "category"),
        ("Ship.", "region_referring", "category"),
        ("Residential and construction.", "others", "category"),
        ("They are docked at the pier for loading cargo.", "others", "free_text"),
    ],
)
def test_answer_types(answer, application, expected):
    assert answer_type(answer, application) == expected
    assert expected in schema.ANSWER_TYPES


def test_direction_answers_naming_a_position_are_positions():
    assert answer_type("Top.", "others", "direction") == "position"
    assert answer_type("Top.", "others") == "category"


def test_bbox_is_parsed_as_written():
    assert parse_bbox("What is in [56.0, 191.0, 112.0, 122.0]?") == [56.0, 191.0, 112.0, 122.0]
    assert parse_bbox("What is in [ 5, 6 , 7,8 ] here?") == [5.0, 6.0, 7.0, 8.0]
    assert parse_bbox("What is in [1.0, 2.0, 3.0]?") is None
    assert parse_bbox("Is there a ship?") is None


def test_caption_style_for_mixed_files():
    assert caption_style("A harbor with two ships.") == "concise"
    assert caption_style("A harbor with two ships. The ships are moored along the pier.") == "detailed"
    assert caption_style(" ".join(["word"] * 30) + ".") == "detailed"


def test_normalize_answer():
    assert normalize_answer("  Yes. ") == "yes"
    assert normalize_answer("Forest/park.") == "forest/park"


def test_a_question_records_answer_type_is_derived_from_its_answer():
    question = {"answer": "Two.", "application": "instance_counting", "subtype": None}
    assert question_answer_type(question) == "number"
    assert question_answer_type({**question, "answer": None}) is None  # nothing to derive it from
    assert question_answer_type({"answer": "Yes.", "answer_type": "free_text"}) is None  # no application
