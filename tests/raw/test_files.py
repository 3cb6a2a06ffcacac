"""The inputs as one tree of files: folders, zip archives, member-name rules, refs in any process (synthetic)."""

from __future__ import annotations

import io
import multiprocessing
import os
import subprocess
import sys
import zipfile

import pytest
from zip_archives import DEVICE, FIFO, SYMLINK, rename_member, set_compression_method, write_zip

from sarlang1m.raw.files import (
    Archive,
    ArchiveFiles,
    CorruptArchiveError,
    FolderFiles,
    RawReleaseError,
    UnsafeMemberPath,
    describe_ref,
    open_raw,
    read_ref,
    ref_name,
    safe_member_path,
    sha256_of,
)

PAYLOAD = bytes(range(256)) * 40


def contents(files) -> dict[str, bytes]:
    return {f.path: files.read(f, 1 << 20) for f in files.files()}


# ------------------------------------------------------------------------------------ folders


def test_a_folder_lists_its_files_sorted_and_skips_hidden_ones(tmp_path):
    (tmp_path / "b" / ".cache").mkdir(parents=True)
    (tmp_path / "b" / "x.png").write_bytes(b"png")
    (tmp_path / "b" / ".cache" / "y.png").write_bytes(b"hidden")
    (tmp_path / ".DS_Store").write_bytes(b"hidden")
    (tmp_path / "a.json").write_bytes(b"[]")
    files = FolderFiles(tmp_path)
    assert [(f.path, f.size) for f in files.files()] == [("a.json", 2), ("b/x.png", 3)]
    assert contents(files) == {"a.json": b"[]", "b/x.png": b"png"}
    assert files.refused == [] and files.provenance() == {"form": "folder", "files": 2, "bytes": 5}


def test_a_folder_refuses_links_and_special_files_without_following_them(tmp_path):
    outside = tmp_path / "outside"
    (outside / "secret").mkdir(parents=True)
    (outside / "secret" / "key.png").write_bytes(b"secret")
    root = tmp_path / "raw"
    (root / "SARimages").mkdir(parents=True)
    (root / "SARimages" / "ok.png").write_bytes(b"ok")
    (root / "SARimages" / "link.png").symlink_to(outside / "secret" / "key.png")
    (root / "linked").symlink_to(outside / "secret", target_is_directory=True)
    os.mkfifo(root / "SARimages" / "pipe.png")
    files = FolderFiles(root)
    assert [f.path for f in files.files()] == ["SARimages/ok.png"]
    assert sorted(files.refused) == [
        ("SARimages/link.png", "a symbolic link: not followed (give its target instead)"),
        ("SARimages/pipe.png", "not a regular file (a device, FIFO or socket)"),
        ("linked", "a symbolic link: not followed (give its target instead)"),
    ]


def test_reading_more_than_the_limit_is_an_error_naming_the_file(tmp_path):
    (tmp_path / "big.tif").write_bytes(b"x" * 100)
    files = FolderFiles(tmp_path)
    (big,) = files.files()
    assert files.read(big, 100) == b"x" * 100
    with pytest.raises(RawReleaseError, match=r"big\.tif: 100 bytes, more than the 99"):
        files.read(big, 99)


# ------------------------------------------------------------------------------ member names


@pytest.mark.parametrize(
    ("name", "path"),
    [("Text/VQA/a.json", "Text/VQA/a.json"), ("./Text//a.json", "Text/a.json"), ("Text/x/../a.json", "Text/a.json"),
     ("Text\\VQA\\a.json", "Text/VQA/a.json"), ("SV_Darwin_-12.4278_130.8688.png", "SV_Darwin_-12.4278_130.8688.png")],
)  # fmt: skip
def test_safe_member_paths_are_normalised(name, path):
    assert safe_member_path(name) == path


@pytest.mark.parametrize(
    ("name", "mode", "reason"),
    [
        ("/etc/passwd", 0, "an absolute path"),
        ("\\\\server\\share\\x.png", 0, "an absolute path"),
        ("C:/Windows/x.png", 0, "a drive letter"),
        ("c:x.png", 0, "a drive letter"),
        ("../x.png", 0, "a '..' that leaves the archive"),
        ("Text/../../x.png", 0, "a '..' that leaves the archive"),
        ("Text/a\0.json", 0, "a NUL character in its name"),
        ("Text/a\x1b[2J.json", 0, "a control character in its name"),
        ("Text/a\x85.json", 0, "a control character in its name"),
        ("./", 0, "an empty path"),
        ("Text/a.json", SYMLINK, "a symbolic link"),
        ("Text/a.json", DEVICE, "a device, FIFO or socket"),
        ("Text/a.json", FIFO, "a device, FIFO or socket"),
        ("Text/", 0, "a folder"),
    ],
)
def test_unsafe_member_paths_are_refused_with_their_reason(name, mode, reason):
    with pytest.raises(UnsafeMemberPath) as refused:
        safe_member_path(name, mode)
    assert refused.value.reason == reason


# ---------------------------------------------------------------------------------- archives


@pytest.mark.parametrize("compression", [zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED])
def test_archive_members_are_streamed_as_they_were_stored(tmp_path, compression):
    archive = write_zip(tmp_path / "a.zip", {"Text/": b"", "Text/a.csv": b"x,y\n", "SARimages/b.png": PAYLOAD},
                        compression=compression)  # fmt: skip
    files = open_raw(archive)
    assert isinstance(files, ArchiveFiles)
    assert contents(files) == {"SARimages/b.png": PAYLOAD, "Text/a.csv": b"x,y\n"}  # the folder entry holds nothing
    png = files.files()[0]
    assert ref_name(png.ref) == "b.png" and describe_ref(png.ref) == f"{archive.absolute()}: SARimages/b.png"
    with files.open(png) as stream:  # seekable, as the text readers need (they rewind)
        assert stream.read(10) == PAYLOAD[:10] and stream.seek(0) == 0 and stream.read() == PAYLOAD
    assert files.provenance() == {
        "form": "archives",
        "archives": [{"name": "a.zip", "bytes": archive.stat().st_size, "members": 2}],
        "plain_files": 0,
    }


def test_zip64_archives_are_read(tmp_path, monkeypatch):
    path = tmp_path / "big.zip"
    with monkeypatch.context() as small:  # zip64 records without writing 4 GB: the limits, lowered while writing
        small.setattr(zipfile, "ZIP64_LIMIT", 1000)
        small.setattr(zipfile, "ZIP_FILECOUNT_LIMIT", 0)
        write_zip(path, {"SARimages_original/a.tif": PAYLOAD})
    assert b"PK\x06\x06" in path.read_bytes()  # the zip64 end of central directory
    with zipfile.ZipFile(path) as archive:
        assert archive.getinfo("SARimages_original/a.tif").extra.startswith(b"\x01\x00")  # zip64 sizes and offset
    files = open_raw(path)
    assert contents(files) == {"SARimages_original/a.tif": PAYLOAD}
    assert sha256_of(files.files()[0]) == __import__("hashlib").sha256(PAYLOAD).hexdigest()


def test_hostile_members_are_never_listed_and_each_is_refused_with_its_reason(tmp_path):
    archive = write_zip(
        tmp_path / "evil.zip",
        {
            "/etc/cron.d/x": b"absolute",
            "../../outside.png": b"escape",
            "C:/Windows/x.png": b"drive",
            "SARimages/link.png": b"/etc/passwd",
            "SARimages/dev.png": b"",
            "SARimages/a\x1b[31m.png": b"control",
            "SARimages/aXb.png": b"nul",
            "SARimages/ok.png": b"ok",
        },
        modes={"SARimages/link.png": SYMLINK, "SARimages/dev.png": DEVICE},
    )
    rename_member(archive, "SARimages/aXb.png", b"SARimages/a\0b.png")
    files = open_raw(archive)
    assert contents(files) == {"SARimages/ok.png": b"ok"}
    assert sorted(files.refused) == sorted(
        [
            ("evil.zip: '/etc/cron.d/x'", "an absolute path"),
            ("evil.zip: '../../outside.png'", "a '..' that leaves the archive"),
            ("evil.zip: 'C:/Windows/x.png'", "a drive letter"),
            ("evil.zip: 'SARimages/link.png'", "a symbolic link"),
            ("evil.zip: 'SARimages/dev.png'", "a device, FIFO or socket"),
            ("evil.zip: 'SARimages/a\\x1b[31m.png'", "a control character in its name"),
            ("evil.zip: 'SARimages/a\\x00b.png'", "a NUL character in its name"),
        ]
    )
    assert not (tmp_path.parent / "outside.png").exists()


def test_a_folder_of_archives_is_one_tree_with_the_plain_files_beside_them(tmp_path):
    write_zip(tmp_path / "Text.zip", {"Text/VQA/train/SARVQA1_train.json": b"[]"})
    write_zip(tmp_path / "images.zip", {"SARimages_original/a.tif": PAYLOAD})
    (tmp_path / "SARDet_100K" / "JPEGImages" / "train").mkdir(parents=True)
    (tmp_path / "SARDet_100K" / "JPEGImages" / "train" / "0000001.jpg").write_bytes(b"jpg")
    (tmp_path / "SYNTHETIC.md").write_text("synthetic")
    files = open_raw(tmp_path)
    assert isinstance(files, ArchiveFiles)
    assert contents(files) == {
        "SARDet_100K/JPEGImages/train/0000001.jpg": b"jpg",
        "SARimages_original/a.tif": PAYLOAD,
        "SYNTHETIC.md": b"synthetic",
        "Text/VQA/train/SARVQA1_train.json": b"[]",
    }  # the archives themselves are containers, not files of the tree
    assert [a["name"] for a in files.provenance()["archives"]] == ["Text.zip", "images.zip"]
    assert files.provenance()["plain_files"] == 2
    files.close()


def test_a_folder_without_archives_is_a_folder(tmp_path):
    (tmp_path / "Text").mkdir()
    (tmp_path / "Text" / "a.zip.txt").write_text("not an archive")
    assert isinstance(open_raw(tmp_path), FolderFiles)


def test_a_path_met_twice_with_the_same_content_is_read_once_and_reported(tmp_path):
    write_zip(tmp_path / "a.zip", {"SARimages/x.png": PAYLOAD})
    write_zip(tmp_path / "b.zip", {"SARimages/x.png": PAYLOAD}, compression=zipfile.ZIP_STORED)
    (tmp_path / "SARimages").mkdir()
    (tmp_path / "SARimages" / "x.png").write_bytes(PAYLOAD)
    files = open_raw(tmp_path)
    assert contents(files) == {"SARimages/x.png": PAYLOAD}
    assert [entry for entry, _ in files.refused] == ["a.zip: 'SARimages/x.png'", "b.zip: 'SARimages/x.png'"]
    assert all(reason.endswith("(size and CRC-32): read once") for _, reason in files.refused)


@pytest.mark.parametrize("beside", [False, True])
def test_a_path_met_twice_with_different_contents_is_an_error_naming_both(tmp_path, beside):
    write_zip(tmp_path / "b.zip", {"SARimages/x.png": b"two"})
    if beside:
        (tmp_path / "SARimages").mkdir()
        (tmp_path / "SARimages" / "x.png").write_bytes(b"one")
    else:
        write_zip(tmp_path / "a.zip", {"SARimages/x.png": b"one"})
    first = str(tmp_path / "SARimages" / "x.png") if beside else f"{tmp_path / 'a.zip'}: SARimages/x.png"
    with pytest.raises(RawReleaseError) as error:
        open_raw(tmp_path).files()
    assert str(error.value) == (
        f"SARimages/x.png: in both {first} and {tmp_path / 'b.zip'}: SARimages/x.png, with different contents; "
        "remove one of them (the build cannot tell which is right)"
    )


def test_a_name_twice_in_one_archive_with_different_contents_is_an_error(tmp_path):
    path = tmp_path / "a.zip"
    with zipfile.ZipFile(path, "w") as archive, pytest.warns(UserWarning, match="Duplicate name"):
        archive.writestr("SARimages/x.png", b"one")
        archive.writestr("SARimages/x.png", b"two")
    with pytest.raises(RawReleaseError, match=r"^SARimages/x\.png: in both .*with different contents"):
        open_raw(path).files()


# ------------------------------------------------------------------------------ damaged archives


def test_a_member_with_a_bad_crc_is_one_line_naming_archive_and_member(tmp_path):
    archive = write_zip(tmp_path / "SARimages_original.zip", {"SARimages_original/a.tif": PAYLOAD},
                        compression=zipfile.ZIP_STORED)  # fmt: skip
    data = bytearray(archive.read_bytes())
    data[data.find(PAYLOAD) + 100] ^= 0xFF
    archive.write_bytes(bytes(data))
    (member,) = open_raw(archive).files()
    with pytest.raises(CorruptArchiveError) as error:
        read_ref(member.ref, 1 << 20)
    message = str(error.value)
    assert message.startswith(f"{archive.absolute()}: SARimages_original/a.tif: damaged in its archive (Bad CRC-32")
    assert message.endswith("download the archive again") and "\n" not in message


def test_a_damaged_deflate_stream_names_archive_and_member(tmp_path):
    archive = write_zip(tmp_path / "Text.zip", {"Text/a.json": os.urandom(2000) * 3})
    with zipfile.ZipFile(archive) as opened:
        start = opened.getinfo("Text/a.json").header_offset + 30 + len("Text/a.json")
    data = bytearray(archive.read_bytes())
    data[start : start + 40] = b"\xff" * 40
    archive.write_bytes(bytes(data))
    files = open_raw(archive)
    with pytest.raises(CorruptArchiveError, match=rf"^{archive.absolute()}: Text/a\.json: damaged in its archive"):
        sha256_of(files.files()[0])


def test_a_truncated_archive_is_one_line_naming_it(tmp_path):
    archive = write_zip(tmp_path / "Text.zip", {"Text/a.json": PAYLOAD})
    archive.write_bytes(archive.read_bytes()[:-30])
    with pytest.raises(CorruptArchiveError) as error:
        open_raw(tmp_path)
    assert str(error.value).startswith(f"{archive.absolute()}: not a readable zip archive (")
    assert str(error.value).endswith("it may be incomplete or damaged: download it again")


def test_an_unsupported_compression_method_says_what_to_do(tmp_path):
    archive = write_zip(tmp_path / "a.zip", {"Text/a.json": PAYLOAD})
    set_compression_method(archive, 9)  # Deflate64, which Windows writes for large archives
    (member,) = open_raw(archive).files()
    with pytest.raises(CorruptArchiveError, match=r"Text/a\.json: .*compression method 9.*build from the folder"):
        read_ref(member.ref, 1 << 20)


# ---------------------------------------------------------------------------- refs, any process


def _read_in_worker(ref: str) -> tuple[int, bytes]:
    return os.getpid(), read_ref(ref, 1 << 20)


def test_refs_are_read_in_forked_workers_that_open_their_own_archives(tmp_path):
    members = {f"SARimages/{n}.png": os.urandom(5000 + n) for n in range(40)}
    files = open_raw(write_zip(tmp_path / "images.zip", members))
    refs = [f.ref for f in files.files()] * 3
    with multiprocessing.get_context("fork").Pool(2) as pool:
        read = pool.map(_read_in_worker, refs, chunksize=1)
    assert {pid for pid, _ in read} - {os.getpid()}
    assert [data for _, data in read] == [members[f.path] for f in files.files()] * 3
    assert files.read(files.files()[0], 1 << 20) == members["SARimages/0.png"]  # the parent's archive still reads


def test_a_ref_is_read_in_a_new_process(tmp_path):
    files = open_raw(write_zip(tmp_path / "a.zip", {"Text/a.json": PAYLOAD}))
    code = "import sys; from sarlang1m.raw.files import read_ref; sys.stdout.buffer.write(read_ref(sys.argv[1], 9**9))"
    done = subprocess.run([sys.executable, "-c", code, files.files()[0].ref], capture_output=True, check=True)
    assert done.stdout == PAYLOAD


def test_archive_files_take_any_seekable_binary_file(tmp_path):
    buffer = io.BytesIO(write_zip(tmp_path / "a.zip", {"Text/a.json": PAYLOAD}).read_bytes())
    files = ArchiveFiles([Archive("memory://a.zip", "a.zip", buffer)], label="in memory")
    assert contents(files) == {"Text/a.json": PAYLOAD}
    assert describe_ref(files.files()[0].ref) == "memory://a.zip: Text/a.json"


# ------------------------------------------------------------------------------------ open_raw


def test_open_raw_refuses_the_hub_for_now_and_what_it_cannot_read(tmp_path):
    with pytest.raises(RawReleaseError, match=r"^hf://datasets/ORG/NAME: building from the Hub: not yet supported"):
        open_raw("hf://datasets/ORG/NAME")
    with pytest.raises(RawReleaseError, match=r"nope: not a folder or a \.zip archive \(it does not exist\)"):
        open_raw(tmp_path / "nope")
    (tmp_path / "a.tar").write_bytes(b"tar")
    with pytest.raises(RawReleaseError, match=r"a\.tar: not a folder or a \.zip archive \(it is something else\)"):
        open_raw(tmp_path / "a.tar")
