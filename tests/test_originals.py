"""Originals as files: each GeoTIFF stored once under originals/<source>/, named by its rows, read by path.

The Hub tests use `tests/hub_server/`, an offline stand-in that speaks the Hub's HTTP protocol (not
the Hub itself).
"""

from __future__ import annotations

import hashlib
import json
import pickle
import shutil
import threading
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import tifffile
from hub_server import HubServer, run_client

from sarlang1m import schema
from sarlang1m.cli import main
from sarlang1m.decode import STREAMING_BATCH_ROWS, SARDecode
from sarlang1m.errors import InputError, NotFoundError, VerificationError
from sarlang1m.load import load
from sarlang1m.originals import OriginalsReader, check_original_path, hub_root, parse_root
from sarlang1m.publish.manifest import file_entries, originals_summary, read_manifest, verify_local, write_manifest
from sarlang1m.sar import SARDecodeError

REPO = schema.DEFAULT_REPO_ID  # the stand-in is this module's own; the tiny release is built for it


def _shards(release: Path) -> list[Path]:
    return sorted(release.glob(f"{schema.DATA_DIR}/**/*.parquet"))


def _references(release: Path) -> list[dict]:
    rows = []
    for shard in _shards(release):
        table = pq.read_table(shard, columns=["image_id", "source", "sar_path", "sar_sha256", "sar_bytes"])
        rows += [{**row, "shard": shard.relative_to(release).as_posix()} for row in table.to_pylist()]
    return rows


def _binary_fields(data_type: pa.DataType, name: str) -> list[str]:
    if pa.types.is_binary(data_type) or pa.types.is_large_binary(data_type):
        return [name]
    if pa.types.is_struct(data_type):
        return [f for field in data_type for f in _binary_fields(field.type, f"{name}.{field.name}")]
    if pa.types.is_list(data_type) or pa.types.is_large_list(data_type):
        return _binary_fields(data_type.value_type, f"{name}[]")
    return []


def test_no_parquet_file_holds_an_original_only_the_8bit_image(built_tiny_release: Path):
    for shard in _shards(built_tiny_release):
        schema_arrow = pq.read_schema(shard)
        binary = [f for field in schema_arrow for f in _binary_fields(field.type, field.name)]
        assert binary == ["image.bytes"], (shard, binary)
        assert "sar" not in schema_arrow.names


def test_each_original_is_stored_once_byte_for_byte_and_checked_three_ways(built_tiny_release: Path):
    raw = {p.name: p for p in (built_tiny_release.parent / "raw").rglob("*.tif")}
    manifest = read_manifest(built_tiny_release)
    on_disk = sorted(
        p.relative_to(built_tiny_release).as_posix() for p in (built_tiny_release / "originals").rglob("*.tif")
    )
    references = [r for r in _references(built_tiny_release) if r["sar_path"] is not None]
    assert on_disk and sorted({r["sar_path"] for r in references}) == on_disk  # no orphan, none missing
    for row in references:
        path = built_tiny_release / row["sar_path"]
        data = path.read_bytes()
        assert data == raw[path.name].read_bytes()  # byte for byte the raw GeoTIFF
        assert row["sar_path"] == f"originals/{row['source']}/{path.name}"
        digest = hashlib.sha256(data).hexdigest()
        assert row["sar_sha256"] == digest == manifest["files"][row["sar_path"]]["sha256"]
        assert row["sar_bytes"] == len(data) == manifest["files"][row["sar_path"]]["bytes"]
    # an image used by captions and VQA (and by several questions) names one file
    by_image: dict[str, set[str]] = {}
    for row in references:
        by_image.setdefault(row["image_id"], set()).add(row["sar_path"])
    assert all(len(paths) == 1 for paths in by_image.values())
    assert any(len({r["shard"].split("/")[1] for r in references if r["image_id"] == i}) == 2 for i in by_image)
    summary = manifest["originals"]
    assert summary["files"] == len(on_disk)
    assert summary["bytes"] == sum((built_tiny_release / p).stat().st_size for p in on_disk)
    assert set(summary["sources"]) == {r["source"] for r in references}


def test_rows_without_an_original_have_null_path_hash_and_size(built_tiny_release: Path):
    sardet = [r for r in _references(built_tiny_release) if r["source"] == "sardet_100k"]
    assert sardet and all(r["sar_path"] is r["sar_sha256"] is r["sar_bytes"] is None for r in sardet)


def test_card_and_croissant_describe_the_originals(built_tiny_release: Path):
    card = (built_tiny_release / schema.CARD_FILE).read_text(encoding="utf-8")
    assert "`originals/spacenet6/`" in card and "sar_path" in card
    croissant = json.loads((built_tiny_release / schema.CROISSANT_FILE).read_text(encoding="utf-8"))
    file_sets = {d["@id"]: d for d in croissant["distribution"]}
    assert file_sets["originals"]["includes"] == ["originals/**/*.tif"]
    assert file_sets["originals"]["encodingFormat"] == "image/tiff"


def _copy(release: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "release"
    shutil.copytree(release, copy)
    return copy


def _rewrite_manifest(release: Path) -> None:
    """Re-list the files in the MANIFEST, as someone hand-editing a release would, so that only the
    cross-check between rows and originals can notice what changed."""
    manifest = read_manifest(release)
    manifest.pop("files")
    manifest.pop("manifest_format")
    files = file_entries(release)
    manifest["originals"] = originals_summary(files)
    write_manifest(release, manifest, files)


def test_verify_finds_an_orphan_original(built_tiny_release: Path, tmp_path: Path):
    release = _copy(built_tiny_release, tmp_path)
    (release / "originals" / "spacenet6" / "SN6_orphan.tif").write_bytes(b"II*\x00")
    _rewrite_manifest(release)
    problems = verify_local(release).problems
    assert problems == ["originals/spacenet6/SN6_orphan.tif: an original no row names"]


def test_verify_finds_a_missing_original_and_a_changed_one(built_tiny_release: Path, tmp_path: Path):
    release = _copy(built_tiny_release, tmp_path)
    originals = sorted((release / "originals").rglob("*.tif"))
    originals[0].unlink()
    originals[1].write_bytes(originals[1].read_bytes() + b"\x00")
    _rewrite_manifest(release)
    problems = verify_local(release).problems
    missing, changed = (p.relative_to(release).as_posix() for p in originals[:2])
    assert any(p.startswith(f"{missing}: named by data/") and "not in the MANIFEST" in p for p in problems)
    assert any(p.startswith(f"{changed}: data/") and "the file has others" in p for p in problems)


def test_original_paths_are_stable_and_bucketed_where_a_source_could_outgrow_a_folder():
    assert schema.original_path("spacenet6", "SN6_1.tif") == "originals/spacenet6/SN6_1.tif"
    bucketed = schema.original_path("sardet_100k", "0001.tif")  # 104,985 images in the paper
    bucket = hashlib.sha1(b"0001.tif").hexdigest()[:2]
    assert bucketed == f"originals/sardet_100k/{bucket}/0001.tif"
    assert schema.original_path("unknown", "x.tif").count("/") == 3  # size unknown: bucketed too
    for bad in ("a/b.tif", "..", "", "a\\b.tif"):
        with pytest.raises(ValueError):
            schema.original_path("spacenet6", bad)


# ---------------------------------------------------------------------------------- reading


def test_reader_checks_size_and_sha256_and_refuses_paths_outside_originals(built_tiny_release: Path, tmp_path: Path):
    row = next(r for r in _references(built_tiny_release) if r["sar_path"])
    reader = OriginalsReader(built_tiny_release)
    assert (
        reader.read(row["sar_path"], row["sar_sha256"], row["sar_bytes"])
        == (built_tiny_release / row["sar_path"]).read_bytes()
    )
    with pytest.raises(VerificationError, match="sha256 differs"):
        reader.read(row["sar_path"], "0" * 64, row["sar_bytes"])
    with pytest.raises(VerificationError, match="bytes, the row says"):
        reader.read(row["sar_path"], row["sar_sha256"], row["sar_bytes"] + 1)
    assert OriginalsReader(built_tiny_release, check_sha256=False).read(row["sar_path"], "0" * 64)  # opt-out
    for bad in ("../MANIFEST.json", "originals/../README.md", "/etc/passwd", "data/x.tif", "originals/x.tif"):
        with pytest.raises(InputError, match="not a relative path under originals/"):
            check_original_path(bad)
    with pytest.raises(NotFoundError, match="original not found"):
        OriginalsReader(tmp_path).read(row["sar_path"])


def test_reader_survives_pickling_before_and_after_its_threads_start(built_tiny_release: Path):
    row = next(r for r in _references(built_tiny_release) if r["sar_path"])
    wanted = (row["sar_path"], row["sar_sha256"], row["sar_bytes"])
    reader = pickle.loads(pickle.dumps(OriginalsReader(built_tiny_release, workers=4)))
    data = reader.submit(reader.read, *wanted).result()
    assert data == (built_tiny_release / row["sar_path"]).read_bytes()
    assert pickle.loads(pickle.dumps(reader)).read(*wanted) == data  # a used reader pickles too (no pool)


def test_reads_started_ahead_are_taken_over_and_only_the_last_calls_are_held(built_tiny_release: Path, monkeypatch):
    rows = list({r["sar_path"]: r for r in _references(built_tiny_release) if r["sar_path"]}.values())
    assert len(rows) >= 3  # distinct originals (captions and VQA rows share them)
    reads: list[str] = []
    lock = threading.Lock()
    original = OriginalsReader._read_local

    def counted(self, path, limit=None):
        with lock:
            reads.append(path)
        return original(self, path, limit)

    monkeypatch.setattr(OriginalsReader, "_read_local", counted)
    reader = OriginalsReader(built_tiny_release, workers=2)
    wanted = [(r["sar_path"], r["sar_sha256"], r["sar_bytes"]) for r in rows]
    reader.read_ahead(wanted[:-2])
    reader.read_ahead(wanted[-2:])  # the first call's reads are dropped: only the last two are held
    for path, sha256, size in wanted:
        assert reader.read(path, sha256, size) == (built_tiny_release / path).read_bytes()
    kept = [path for path, _, _ in wanted[-2:]]
    assert all(reads.count(path) == 1 for path in kept)  # taken over, not read again
    assert all(1 <= reads.count(path) <= 2 for path, _, _ in wanted[:-2])
    reader.read_ahead(wanted[:1])
    assert pickle.loads(pickle.dumps(reader)).read(*wanted[0]) == reader.read(*wanted[0])  # pickles mid-flight


def test_a_read_started_ahead_fails_where_it_is_taken_over(built_tiny_release: Path, tmp_path: Path):
    row = next(r for r in _references(built_tiny_release) if r["sar_path"])
    reader = OriginalsReader(built_tiny_release, workers=2)
    reader.read_ahead([(row["sar_path"], "0" * 64, row["sar_bytes"])])
    with pytest.raises(VerificationError, match="sha256 differs"):
        reader.read(row["sar_path"], "0" * 64, row["sar_bytes"])


def test_streaming_from_a_remote_root_reads_the_next_batchs_originals_early(built_tiny_release: Path, monkeypatch):
    import datasets

    columns = ["image_id", "source", "sar_path", "sar_sha256", "sar_bytes", "sar_radiometry", "polarizations"]
    table = pa.concat_tables(pq.read_table(shard, columns=columns) for shard in _shards(built_tiny_release))
    first, second = list({r["sar_path"]: r for r in table.to_pylist() if r["sar_path"]}.values())[:2]
    batch = STREAMING_BATCH_ROWS  # the first decode batch names only `first`, the second only `second`
    stream = datasets.IterableDataset.from_generator(lambda: iter([first] * batch + [second] * batch))
    reads: list[str] = []
    original = OriginalsReader._read_local
    monkeypatch.setattr(
        OriginalsReader, "_read_local", lambda self, path, limit=None: reads.append(path) or original(self, path, limit)
    )
    monkeypatch.setattr(OriginalsReader, "reads_remote", property(lambda self: True))  # as a Hub root is
    decoded = iter(SARDecode(root=built_tiny_release).apply(stream))
    assert next(decoded)["pixels_source"] == "sar"  # the first batch only, decoded
    deadline = time.monotonic() + 10
    while second["sar_path"] not in reads and time.monotonic() < deadline:
        time.sleep(0.01)
    assert reads.count(second["sar_path"]) == 1  # requested while the first batch decoded
    assert sum(1 for _ in decoded) == 2 * batch - 1 and reads.count(second["sar_path"]) == 1  # taken over


def test_roots_parse_as_local_folders_or_hub_revisions(tmp_path: Path):
    assert parse_root(tmp_path) == tmp_path
    assert str(parse_root(hub_root("org/name", "v1.0.0"))) == "hf://datasets/org/name@v1.0.0"
    with pytest.raises(InputError, match="hf://datasets/ORG/NAME@REVISION"):
        parse_root("hf://models/org/name")


def test_decoding_rows_that_name_originals_needs_a_root(built_tiny_release: Path):
    row = next(r for r in _references(built_tiny_release) if r["sar_path"])
    with pytest.raises(SARDecodeError, match="pass root="):
        SARDecode()(row)
    decoded = SARDecode(root=built_tiny_release)(row)
    assert decoded["pixels_source"] == "sar" and decoded["pixels"].ndim == 3


@pytest.mark.parametrize("streaming", [False, True])
def test_load_decodes_originals_by_path_from_a_local_release(built_tiny_release: Path, streaming: bool):
    dataset = load("sarvqa2", split="train", source=built_tiny_release, decode="sar", streaming=streaming)
    rows = list(dataset)
    assert rows and all(row["pixels_source"] == "sar" for row in rows)
    assert all(row["pixels"].shape[0] == (4 if row["source"] == "spacenet6" else 1) for row in rows)


def test_a_tampered_original_is_refused_when_decoded(built_tiny_release: Path, tmp_path: Path):
    release = _copy(built_tiny_release, tmp_path)
    target = next(iter(sorted((release / "originals" / "dfc2023").glob("*.tif"))))
    data = bytearray(target.read_bytes())
    data[-1] ^= 0xFF
    target.write_bytes(bytes(data))
    rows = load("sarvqa2", source=release, decode="sar", streaming=True, split="train")
    with pytest.raises(VerificationError, match=f"{target.name}: sha256 differs"):
        list(rows)


# ---------------------------------------------------------------------------------- the Hub


@pytest.fixture(scope="module")
def pushed(built_tiny_release: Path, tmp_path_factory: pytest.TempPathFactory):
    """The tiny release pushed as v1.0.0 to a Hub stand-in of this module."""
    with HubServer(tmp_path_factory.mktemp("hub")) as server:
        env = server.client_env(tmp_path_factory.mktemp("client"))
        run_client(
            f"""
            import sarlang1m.publish.hub as hub
            hub.push_release({str(built_tiny_release)!r}, {REPO!r}, "1.0.0", progress=False)
            """,
            env,
        )
        yield server, env


def _original_gets(server: HubServer) -> list[str]:
    return [r.path for r in server.requests if r.route == "resolve" and r.method == "GET" and "/originals/" in r.path]


def test_streaming_from_the_hub_fetches_each_original_once_per_batch(pushed, built_tiny_release: Path):
    server, env = pushed
    before = len(_original_gets(server))
    result = run_client(
        f"""
        import sarlang1m
        rows = sarlang1m.load("sarvqa2", split="train", source={REPO!r}, revision="v1.0.0", streaming=True,
                              decode="sar", pairs=True)
        seen = [(r["image_id"], r["pixels_source"], list(r["pixels"].shape)) for r in rows]
        emit(seen)
        """,
        env,
    )
    gets = _original_gets(server)[before:]
    assert result and all(source == "sar" for _, source, _ in result)
    images = {image for image, _, _ in result}
    batches = -(-len(result) // 16)  # SARDecode.apply's default batch size
    # every original fetched, none more than once within a batch: a run of questions on one image that a
    # batch boundary splits costs at most one more GET per boundary
    assert len({g.rsplit("/", 1)[-1] for g in gets}) == len(images)
    assert len(images) <= len(gets) <= len(images) + batches - 1
    before = len(_original_gets(server))
    decoded = run_client(  # one batch naming every original three times, shuffled: each is fetched once
        f"""
        import random
        import datasets
        from sarlang1m.decode import SARDecode
        from sarlang1m.originals import hub_root
        rows = list(datasets.load_dataset({REPO!r}, "vqa", split="train", revision="v1.0.0"))
        rows = [r for r in rows if r["sar_path"]] * 3
        random.Random(0).shuffle(rows)
        batch = {{key: [row[key] for row in rows] for key in rows[0]}}
        out = SARDecode(root=hub_root({REPO!r}, "v1.0.0"), fetch_workers=4)(batch)
        emit({{"rows": len(rows), "sources": sorted(set(out["pixels_source"]))}})
        """,
        env,
    )
    once = _original_gets(server)[before:]
    assert decoded["sources"] == ["sar"] and decoded["rows"] == 3 * len(set(once)) and len(once) == len(set(once))


def test_map_style_from_the_hub_caches_originals_for_the_next_epoch(pushed):
    _, env = pushed
    epoch = f"""
        import sarlang1m
        rows = sarlang1m.load("sarvqa2", split="test", source={REPO!r}, revision="v1.0.0", decode="sar")
        emit([[row["image_id"], row["pixels_source"], float(row["pixels"].sum())] for row in rows])
        """
    first = run_client(epoch, env)
    second = run_client(epoch, {**env, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"})
    assert first and all(source == "sar" for _, source, _ in first)
    assert second == first  # the second epoch read every original from huggingface_hub's cache


def test_prefetch_downloads_a_configs_originals_for_offline_use(pushed, built_tiny_release: Path, tmp_path: Path):
    _, shared = pushed
    env = {**shared, "HF_HOME": str(tmp_path / "hf")}  # a cache no other test of the module has filled
    fetched = run_client(
        f"""
        from sarlang1m.originals import prefetch
        fetched = prefetch("sarvqa2", source={REPO!r}, revision="v1.0.0", sources=["spacenet6"], progress=False)
        emit({{"files": fetched.files, "bytes": fetched.bytes}})
        """,
        env,
    )
    spacenet6 = sorted((built_tiny_release / "originals" / "spacenet6").glob("*.tif"))
    assert fetched == {"files": len(spacenet6), "bytes": sum(p.stat().st_size for p in spacenet6)}
    offline = run_client(
        f"""
        from sarlang1m.originals import OriginalsReader, hub_root
        reader = OriginalsReader(hub_root({REPO!r}, "v1.0.0"), cache=True)
        emit({{path: len(reader.read(path)) for path in {[f"originals/spacenet6/{p.name}" for p in spacenet6]!r}}})
        """,
        {**env, "HF_HUB_OFFLINE": "1"},
    )
    assert offline == {f"originals/spacenet6/{p.name}": p.stat().st_size for p in spacenet6}


def test_a_tag_read_online_is_found_offline_without_a_record_of_it(pushed, tmp_path: Path):
    """Resolving a tag records it in huggingface_hub's cache: a repo no releases file records (a fork, a
    mirror) loads offline by the tag it was first loaded by."""
    _, shared = pushed
    env = {**shared, "HF_HOME": str(tmp_path / "hf"), "SARLANG1M_RELEASES_FILE": str(tmp_path / "releases.json")}
    script = f"""
        import sarlang1m
        rows = sarlang1m.load("vqa", split="test", source={REPO!r}, revision="v1.0.0", columns=["image_id"])
        emit(sorted(rows["image_id"]))
        """
    online = run_client(script, env)
    assert online and run_client(script, {**env, "HF_HUB_OFFLINE": "1"}) == online


def test_gdal_opens_an_original_where_it_lies_on_the_hub(pushed, built_tiny_release: Path):
    """GIS users: rasterio (GDAL /vsicurl/) on the resolve URL of an original, at the release's tag."""
    pytest.importorskip("rasterio")
    _, env = pushed
    path = "originals/spacenet6/SN6_Rotterdam_1.tif"
    opened = run_client(
        f"""
        import rasterio
        from sarlang1m.originals import gdal_path
        with rasterio.Env(GDAL_DISABLE_READDIR_ON_OPEN="EMPTY_DIR", GDAL_HTTP_MAX_RETRY="0"):
            with rasterio.open(gdal_path({REPO!r}, {path!r}, "v1.0.0")) as dataset:
                emit({{"shape": [dataset.count, dataset.height, dataset.width], "dtype": dataset.dtypes[0],
                      "sum": float(dataset.read().astype("float64").sum())}})
        """,
        env,
    )
    local = tifffile.imread(built_tiny_release / path)
    assert opened == {
        "shape": list(local.shape),
        "dtype": str(local.dtype),
        "sum": float(local.astype("float64").sum()),
    }


def test_prefetch_command_on_a_local_release(built_tiny_release: Path, capsys):
    main(["prefetch", "sarvqa2", "--release", str(built_tiny_release), "--source", "dfc2023"])
    files = sorted((built_tiny_release / "originals" / "dfc2023").glob("*.tif"))
    assert capsys.readouterr().out.startswith(f"{len(files)} originals (")


def test_a_missing_original_on_the_hub_is_one_not_found_line(pushed):
    _, env = pushed
    result = run_client(
        f"""
        from sarlang1m.errors import NotFoundError
        from sarlang1m.originals import OriginalsReader, hub_root
        for cache in (False, True):
            try:
                OriginalsReader(hub_root({REPO!r}, "v1.0.0"), cache=cache).read("originals/spacenet6/absent.tif")
            except NotFoundError as error:
                emit_line = str(error)
        emit(emit_line)
        """,
        env,
    )
    assert result.startswith("fetching hf://datasets/") and "absent.tif failed" in result and "\n" not in result
