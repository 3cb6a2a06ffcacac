"""Reading the authors' text files: every CSV and JSON variant, and every kind of bad row."""

import json

import pytest
from zip_archives import write_zip

from sarlang1m.raw import (
    RawText,
    RawTextError,
    RowProblem,
    open_raw,
    read_text_file,
    read_text_stream,
    recognise_text_file,
    strip_prompt,
)
from sarlang1m.raw.files import describe_ref, open_ref


def read(path, task):
    results = list(read_text_file(path, task))
    return [r for r in results if isinstance(r, RawText)], [r for r in results if isinstance(r, RowProblem)]


def write(tmp_path, name, content, encoding="utf-8"):
    path = tmp_path / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode(encoding))
    return path


# ---------------------------------------------------------------------------- file names


@pytest.mark.parametrize(
    ("name", "task", "split", "subset", "style"),
    [
        ("Caption-training.csv", "captions", "train", None, None),
        ("Caption_test.json", "captions", "test", None, "detailed"),
        ("caption_test1.CSV", "captions", "test", None, "concise"),
        ("SARVQA1_train.json", "vqa", "train", "sarvqa1", None),
        ("sarvqa2-test.jsonl", "vqa", "test", "sarvqa2", None),
    ],
)
def test_recognise_text_files(name, task, split, subset, style):
    spec = recognise_text_file(name)
    assert (spec.task, spec.split, spec.subset, spec.style) == (task, split, subset, style)


def test_foreign_files_are_not_recognised():
    assert recognise_text_file("notes.csv") is None
    assert recognise_text_file("SARVQA3_train.json") is None
    assert recognise_text_file("SARVQA1_train.txt") is None


# ----------------------------------------------------------------------------------- CSV


@pytest.mark.parametrize(
    "header", ["image,question,answer", "Image,Question,Answer", "image_path, Question ,ANSWER", "img,query,response"]
)
def test_csv_header_aliases(tmp_path, header):
    path = write(tmp_path, "SARVQA1_train.csv", f"{header}\n0000001.jpg,Is there a ship?,Yes.\n")
    texts, problems = read(path, "vqa")
    assert problems == []
    assert [(t.image_ref, t.question, t.text, t.row) for t in texts] == [("0000001.jpg", "Is there a ship?", "Yes.", 2)]


def test_csv_columns_in_any_order(tmp_path):
    path = write(tmp_path, "a.csv", "answer,image,question\nNo.,SARimages/0000002.png,Is there a tank?\n")
    texts, _ = read(path, "vqa")
    assert (texts[0].image_ref, texts[0].question, texts[0].text) == (
        "SARimages/0000002.png",
        "Is there a tank?",
        "No.",
    )


def test_headerless_csv_uses_positional_columns(tmp_path):
    path = write(tmp_path, "a.csv", "0000001.jpg,Is there a ship?,Yes.\nSN6_Rotterdam_1.png,How many cars?,3.\n")
    texts, problems = read(path, "vqa")
    assert problems == []
    assert [t.row for t in texts] == [1, 2]
    assert texts[1].question == "How many cars?"


def test_csv_with_bom_and_quoted_newlines(tmp_path):
    content = (
        '\ufeffimage,caption\nSN6_Rotterdam_1.png,"A port.\nTwo ships are moored, side by side."\n'
        "SN6_Rotterdam_2.png,Fields.\n"
    )
    texts, problems = read(write(tmp_path, "Caption_test.csv", content), "captions")
    assert problems == []
    assert texts[0].text == "A port.\nTwo ships are moored, side by side."
    assert [t.row for t in texts] == [2, 4]  # the second row starts on line 4: the first spans two lines


def test_csv_style_column_is_used(tmp_path):
    content = "image,caption,style\nSN6_Rotterdam_1.png,A port.,concise\n"
    texts, _ = read(write(tmp_path, "Caption-training.csv", content), "captions")
    assert texts[0].style == "concise"


def test_semicolon_delimited_csv(tmp_path):
    texts, _ = read(write(tmp_path, "a.csv", "image;question;answer\n0000001.jpg;Is there a ship?;Yes.\n"), "vqa")
    assert texts[0].text == "Yes."


def test_short_and_long_rows_are_reported_with_their_line(tmp_path):
    content = "0000001.jpg,Is there a ship?,Yes.\n0000002.jpg,Is there a car?\n0000003.jpg,Is it, really?,No.\n"
    texts, problems = read(write(tmp_path, "a.csv", content), "vqa")
    assert [t.row for t in texts] == [1]
    assert [(p.row, p.reason) for p in problems] == [(2, "malformed_row"), (3, "malformed_row")]
    assert "2 fields, expected 3" in problems[0].detail


def test_empty_fields_are_reported(tmp_path):
    content = "image,question,answer\n0000001.jpg,,Yes.\n,Is there a ship?,No.\n"
    texts, problems = read(write(tmp_path, "a.csv", content), "vqa")
    assert texts == []
    assert [(p.row, p.reason) for p in problems] == [(2, "empty_field"), (3, "empty_field")]
    assert "question" in problems[0].detail and "image" in problems[1].detail


def test_invalid_utf8_is_reported_for_its_row_only(tmp_path):
    content = b"image,question,answer\n0000001.jpg,Is there a ship?,Yes.\n0000002.jpg,Is there a \xff\xfe car?,No.\n"
    texts, problems = read(write(tmp_path, "a.csv", content), "vqa")
    assert len(texts) == 1
    assert [(p.row, p.reason) for p in problems] == [(3, "invalid_utf8")]
    assert "\\xff" in problems[0].detail


def test_latin1_file_reports_every_affected_row(tmp_path):
    content = "image,caption\nSN6_Rotterdam_1.png,Un quai près du port.\nSN6_Rotterdam_2.png,Fields.\n"
    texts, problems = read(write(tmp_path, "a.csv", content, encoding="latin-1"), "captions")
    assert [t.row for t in texts] == [3]
    assert [p.row for p in problems] == [2]


def test_unknown_header_is_a_clear_error(tmp_path):
    path = write(tmp_path, "SARVQA1_train.csv", "foo,bar,baz\n1,2,3\n")
    with pytest.raises(RawTextError, match=r"SARVQA1_train.csv: line 1: unknown header \['foo', 'bar', 'baz'\]"):
        read(path, "vqa")


def test_header_missing_a_field_names_it(tmp_path):
    path = write(tmp_path, "a.csv", "image,question\n0000001.jpg,Is there a ship?\n")
    with pytest.raises(RawTextError, match=r"no column for \['text'\]"):
        read(path, "vqa")


@pytest.mark.parametrize("content", [b"", b"\n\n  \n", b"\xef\xbb\xbf"])
def test_empty_files_are_reported(tmp_path, content):
    texts, problems = read(write(tmp_path, "a.csv", content), "vqa")
    assert texts == [] and [p.reason for p in problems] == ["empty_file"]


def test_csv_blank_lines_are_not_rows(tmp_path):
    texts, problems = read(write(tmp_path, "a.csv", "image,caption\n\nSN6_Rotterdam_1.png,A port.\n\n"), "captions")
    assert len(texts) == 1 and problems == []


# ---------------------------------------------------------------------------------- JSON


def messages_record(image, *turns):
    messages = []
    for i, (question, answer) in enumerate(turns):
        messages.append({"role": "user", "content": ("<image>" if i == 0 else "") + question})
        messages.append({"role": "assistant", "content": answer})
    return {"messages": messages, "images": [image]}


def test_json_messages_variant(tmp_path):
    records = [messages_record("SARimages/0000001.jpg", ("Is there a ship?", "Yes."))]
    texts, problems = read(write(tmp_path, "a.json", json.dumps(records)), "vqa")
    assert problems == []
    assert [(t.row, t.turn, t.image_ref, t.question, t.text) for t in texts] == [
        (1, 0, "SARimages/0000001.jpg", "Is there a ship?", "Yes.")
    ]


def test_json_conversations_variant_and_multi_turn(tmp_path):
    record = {
        "conversations": [
            {"from": "human", "value": "<image>\nHow many ships are there?"},
            {"from": "gpt", "value": "2."},
            {"from": "human", "value": "Where is the larger ship?"},
            {"from": "gpt", "value": "top left"},
        ],
        "images": ["0000001.jpg"],
    }
    texts, problems = read(write(tmp_path, "a.json", json.dumps([record])), "vqa")
    assert problems == []
    assert [(t.turn, t.question, t.text) for t in texts] == [
        (0, "How many ships are there?", "2."),
        (1, "Where is the larger ship?", "top left"),
    ]


def test_json_caption_record_takes_the_assistant_turn(tmp_path):
    record = messages_record("SN6_Rotterdam_1.png", ("Describe the content of this image in one sentence.", "A port."))
    texts, _ = read(write(tmp_path, "Caption_test1.json", json.dumps([record])), "captions")
    assert [(t.question, t.text) for t in texts] == [(None, "A port.")]


def test_jsonl_and_flat_records(tmp_path):
    lines = [
        json.dumps({"image": "0000001.jpg", "question": "Is there a ship?", "answer": "Yes."}),
        "",
        "{not json",
        json.dumps({"images": ["0000002.jpg"], "instruction": "How many cars", "input": "are there?", "output": "3."}),
    ]
    texts, problems = read(write(tmp_path, "a.jsonl", "\n".join(lines)), "vqa")
    assert [(t.row, t.question) for t in texts] == [(1, "Is there a ship?"), (4, "How many cars are there?")]
    assert [(p.row, p.reason) for p in problems] == [(3, "malformed_record")]


def test_json_lines_saved_as_json(tmp_path):
    lines = [json.dumps({"image": f"000000{i}.jpg", "question": "Is there a ship?", "answer": "No."}) for i in (1, 2)]
    texts, _ = read(write(tmp_path, "a.json", "\n".join(lines)), "vqa")
    assert len(texts) == 2


def test_malformed_json_is_a_clear_error_with_its_place(tmp_path):
    path = write(tmp_path, "SARVQA2_test.json", '[\n {"images": ["a.png"],\n  "messages": [}\n]')
    with pytest.raises(RawTextError, match=r"SARVQA2_test.json: line 3, column \d+: malformed JSON"):
        read(path, "vqa")


@pytest.mark.parametrize(
    ("record", "reason", "detail"),
    [
        ("just a string", "malformed_record", "must be an object"),
        ({"messages": [{"role": "user", "content": "<image>Q?"}]}, "malformed_record", "no image key"),
        ({"images": [], "messages": []}, "malformed_record", "exactly one image"),
        ({"images": ["a.png", "b.png"], "messages": []}, "malformed_record", "exactly one image"),
        ({"images": ["a.png"], "messages": "hello"}, "malformed_record", "non-empty list"),
        (
            {"images": ["a.png"], "messages": [{"role": "assistant", "content": "Yes."}]},
            "malformed_record",
            "without a question",
        ),
        ({"images": ["a.png"], "messages": [{"role": "robot", "content": "Yes."}]}, "malformed_record", "unknown role"),
        ({"images": ["a.png"], "messages": [{"role": "user", "content": "Q?"}]}, "unpaired_turn", "without an answer"),
        (
            {
                "images": ["a.png"],
                "messages": [{"role": "user", "content": "Q?"}, {"role": "assistant", "content": ""}],
            },
            "empty_field",
            "text",
        ),
        ({"images": ["a.png"], "foo": 1}, "malformed_record", "no messages"),
    ],
)
def test_bad_json_records_are_reported(tmp_path, record, reason, detail):
    good = messages_record("0000001.jpg", ("Is there a ship?", "Yes."))
    texts, problems = read(write(tmp_path, "a.json", json.dumps([good, record])), "vqa")
    assert len(texts) == 1
    assert [(p.row, p.reason) for p in problems] == [(2, reason)]
    assert detail in problems[0].detail


def test_empty_json_list_is_reported(tmp_path):
    texts, problems = read(write(tmp_path, "a.json", "[]"), "vqa")
    assert texts == [] and [p.reason for p in problems] == ["empty_file"]


def test_json_object_holding_one_list(tmp_path):
    data = {"data": [messages_record("0000001.jpg", ("Is there a ship?", "Yes."))]}
    texts, _ = read(write(tmp_path, "a.json", json.dumps(data)), "vqa")
    assert len(texts) == 1


def test_json_non_utf8_is_reported_per_record(tmp_path):
    good = json.dumps(messages_record("0000001.jpg", ("Is there a ship?", "Yes.")))
    bad = json.dumps(messages_record("0000002.jpg", ("Is there a car?", "XX")))
    content = ("[" + good + ",\n" + bad + "]").encode("utf-8").replace(b"XX", b"\xff")
    texts, problems = read(write(tmp_path, "a.json", content), "vqa")
    assert len(texts) == 1 and [p.reason for p in problems] == ["invalid_utf8"]


# ------------------------------------------------------------------------------- prompts


@pytest.mark.parametrize(
    ("raw", "question"),
    [
        ("<image>Is there a ship?", "Is there a ship?"),
        ("<image>\nQuestion: Is there a ship?. Answer the question concisely.", "Is there a ship?"),
        ("Question: How many cars are there. Answer the question concisely.", "How many cars are there?"),
        (
            "<image>The classes are: tank, car, aircraft, harbor, bridge, ship. What is in [1, 2, 3, 4]?",
            "What is in [1, 2, 3, 4]?",
        ),
    ],
)
def test_strip_prompt(raw, question):
    assert strip_prompt(raw) == question


# ----------------------------------------------------------------- streaming JSON lists

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from sarlang1m.raw import streams  # noqa: E402

_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)


@settings(max_examples=150, deadline=None)
@given(items=st.lists(_json_values, max_size=8), indent=st.sampled_from([None, 0, 1, 2]), chunk=st.integers(1, 64))
def test_streamed_json_list_equals_json_loads(tmp_path_factory, items, indent, chunk):
    path = tmp_path_factory.mktemp("json") / "a.json"
    path.write_text(json.dumps(items, indent=indent))
    original = streams._JSON_CHUNK
    streams._JSON_CHUNK = chunk
    try:
        with open(path, encoding="utf-8-sig", errors="surrogateescape", newline="") as handle:
            assert list(streams.json_array_items(path, handle)) == items
    finally:
        streams._JSON_CHUNK = original


@pytest.mark.parametrize(
    ("content", "where", "message"),
    [
        ('[{"a": 1}\n {"b": 2}]', "line 2, column 2", "expected ',' or ']'"),
        ('[{"a": 1},\n', "line 2, column 1", "not closed"),
        ('[{"a": 1}] extra', "line 1, column 12", "extra data"),
        ('[{"a": 1},\n\n  {"b": tru}]', "line 3, column 9", "Expecting value"),
        ('[{"a": 1},]', "line 1, column 11", "Expecting value"),
    ],
)
def test_streamed_json_errors_name_their_place(tmp_path, monkeypatch, content, where, message):
    monkeypatch.setattr(streams, "_JSON_CHUNK", 3)  # the error is found after buffer compactions
    path = write(tmp_path, "SARVQA1_train.json", content)
    with pytest.raises(RawTextError, match=rf"SARVQA1_train.json: {where}: malformed JSON: .*{message}"):
        read(path, "vqa")


def test_a_long_json_list_is_read_record_by_record(tmp_path, monkeypatch):
    monkeypatch.setattr(streams, "_JSON_CHUNK", 256)
    records = [messages_record(f"{i:07d}.jpg", ("Is there a ship?", "Yes.")) for i in range(500)]
    texts, problems = read(write(tmp_path, "a.json", json.dumps(records, indent=1)), "vqa")
    assert problems == [] and [t.row for t in texts] == list(range(1, 501))
    assert texts[-1].image_ref == "0000499.jpg"


# ------------------------------------------------------------------------- from an archive member


@pytest.mark.parametrize(
    ("name", "task", "content"),
    [
        ("Text/VQA/test/SARVQA2_test.csv", "vqa", "Image Name,Question,Answer\r\nSN6_Rotterdam_1.png,Is it?,No.\r\n"),
        ("Text/VQA/train/SARVQA1_train.csv", "vqa", "Image Name , Question, Answer \n0000001.jpg,How many?,2.\n"),
        ("Text/Caption/test/Caption_test.csv", "captions", "\ufeffImage Name, Caption\nSN6_Rotterdam_1.png,A port.\n"),
        ("Text/Caption/train/Caption_train.json", "captions",
         '[{"messages": [{"role": "user", "content": "<image>Describe."}, {"role": "assistant", "content": "A port."}],'
         ' "images": ["SARimages/SN6_Rotterdam_1.png"]}]'),
    ],
)  # fmt: skip
def test_a_member_of_text_zip_reads_as_the_same_file_on_disk(tmp_path, name, task, content):
    """The reported layout's headers (`Image Name`, `Question`, `Answer`, `Caption`, stray spaces included),
    read from Text.zip as from the unzipped file: the same texts."""
    data = content.encode("utf-8")
    on_disk = read(write(tmp_path, name.rsplit("/", 1)[1], data), task)
    (member,) = open_raw(write_zip(tmp_path / "Text.zip", {name: data})).files()
    results = list(read_text_stream(open_ref(member.ref), describe_ref(member.ref), task))
    texts = [r for r in results if isinstance(r, RawText)]
    assert (texts, [r for r in results if isinstance(r, RowProblem)]) == on_disk and len(texts) == 1
    assert texts[0].image_ref.endswith(("SN6_Rotterdam_1.png", "0000001.jpg"))


def test_an_error_in_a_member_names_the_archive_and_the_member(tmp_path):
    archive = write_zip(tmp_path / "Text.zip", {"Text/VQA/train/SARVQA1_train.json": b'[{"messages": [}]'})
    (member,) = open_raw(archive).files()
    with pytest.raises(RawTextError) as error:
        list(read_text_stream(open_ref(member.ref), describe_ref(member.ref), "vqa"))
    assert str(error.value).startswith(f"{archive}: Text/VQA/train/SARVQA1_train.json: line 1, column")
