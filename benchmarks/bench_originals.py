"""Originals as files, measured: layout checks, streaming bytes before/after, decode="sar" throughput.

On a SYNTHETIC release (`synth --real-sizes` when available: each source at its real pixel size and
type), in one run:

1. **Layout.** No Parquet column holds an original; each original is stored once, byte for byte the
   raw GeoTIFF, its sha256 equal to the rows' ``sar_sha256`` and to the MANIFEST; no orphan, none missing.
2. **Streaming bytes.** The release is pushed to the Hub stand-in of ``tests/`` (an offline server that
   speaks the Hub's HTTP protocol), and a plain ``load_dataset(repo, config, split=..., streaming=True)``
   pass reads every row; the bytes the server sends are counted and divided by the bytes of the
   ``image`` and text columns (their compressed column chunks). "before" is the same rows with the
   original GeoTIFF in a binary ``sar`` column (the earlier layout, rebuilt from this release).
3. **decode="sar" throughput** (image rows per second, one process), cycled trials, medians:
   - ``limit``: `decode_sar` over the same original bytes already in memory (decode-only limit);
   - ``local``: ``sarlang1m.load(config, source=folder, decode="sar", streaming=True)``;
   - ``hub``: the same from the stand-in with ``--latency-ms`` added to every request.
   - ``hub_without_read_ahead``: the same with `SARDecode`'s read-ahead off (each batch's originals
     requested only when the batch is decoded), for the ratio of what the read-ahead buys.

    python benchmarks/bench_originals.py --workdir DIR [--images 200] [--real-sizes] [--latency-ms 30]

Absolute times depend on the machine; quote the ratios, measured in one run.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import multiprocessing
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))  # the Hub stand-in


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workdir", type=Path, required=True)
    parser.add_argument("--images", type=int, default=200)
    parser.add_argument("--real-sizes", action="store_true", help="each source at its real pixel size and type")
    parser.add_argument("--image-size", type=int, help="one side for every image instead (synth --image-size)")
    parser.add_argument("--latency-ms", type=float, default=30.0, help="added to every stand-in request")
    parser.add_argument("--trials", type=int, default=3)
    parser.add_argument("--config", default="sarvqa2", help="config of the throughput figures")
    parser.add_argument("--skip-streaming", action="store_true", help="only the layout and throughput figures")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()

    args.workdir.mkdir(parents=True, exist_ok=True)
    delay = StandIn(args.workdir / "hub")  # its own process: serving competes with decoding for no lock
    for key, value in delay.client_env.items():  # before huggingface_hub and datasets are imported
        os.environ[key] = value

    release = _build(args.workdir, args.images, args.real_sizes, args.image_size)
    results: dict = {"release": str(release), "images": args.images, "real_sizes": args.real_sizes}
    results["layout"] = check_layout(release, args.workdir / "raw")
    print(json.dumps(results["layout"], indent=1))

    from sarlang1m.publish.hub import push_release

    push_release(release, "bench/after", "1.0.0", progress=False)
    if not args.skip_streaming:
        push_release(_legacy_copy(release, args.workdir / "legacy"), "bench/before", "1.0.0", progress=False)
    results["streaming"] = [] if args.skip_streaming else streaming_bytes(delay, release)
    for row in results["streaming"]:
        print(
            f"{row['config']:>14s}/{row['split']:<5s} image+text {row['image_text_bytes'] / 2**20:8.1f} MiB   "
            f"before x{row['before']:.2f}   after x{row['after']:.2f}"
        )
    results["throughput"] = throughput(release, "bench/after", args.config, delay, args.latency_ms, args.trials)
    print(json.dumps(results["throughput"], indent=1))
    delay.stop()
    if args.json:
        args.json.write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")


def _build(workdir: Path, images: int, real_sizes: bool, image_size: int | None) -> Path:
    import inspect

    from sarlang1m.build.release import build_release
    from sarlang1m.synth import write_synthetic_release

    raw, release = workdir / "raw", workdir / "release"
    if not release.exists():
        options: dict = {"real_sizes": True} if real_sizes else {"image_size": image_size}
        if real_sizes and "real_sizes" not in inspect.signature(write_synthetic_release).parameters:
            raise SystemExit("this version of sarlang1m has no synth --real-sizes")
        if not raw.exists():
            write_synthetic_release(raw, images=images, seed=0, progress=False, **options)
        build_release(raw, release, progress=False, repo_id="bench/after")
    return release


# ---------------------------------------------------------------------------------- 1. layout


def check_layout(release: Path, raw: Path) -> dict:
    """Must-show 1: no binary original in Parquet; each original once, byte-identical, hashes agree."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from sarlang1m.publish.manifest import read_manifest, verify_local

    manifest = read_manifest(release)
    binary_columns = set()
    references: dict[str, str] = {}
    for name in manifest["files"]:
        if name.endswith(".parquet"):
            schema = pq.read_schema(release / name)
            binary_columns |= {f.name for f in schema if pa.types.is_binary(f.type) or pa.types.is_large_binary(f.type)}
            table = pq.read_table(release / name, columns=["sar_path", "sar_sha256"])
            for path, sha256 in zip(*(c.to_pylist() for c in table.columns), strict=True):
                if path is not None:
                    assert references.setdefault(path, sha256) == sha256, path
    raw_files = {p.name: p for p in raw.rglob("*.tif")}
    identical = sum((release / path).read_bytes() == raw_files[Path(path).name].read_bytes() for path in references)
    hashes = sum(
        hashlib.sha256((release / path).read_bytes()).hexdigest() == sha == manifest["files"][path]["sha256"]
        for path, sha in references.items()
    )
    stored = [n for n in manifest["files"] if n.startswith("originals/")]
    verification = verify_local(release)
    return {
        "binary_parquet_columns": sorted(binary_columns),
        "originals_stored": len(stored),
        "originals_named_by_rows": len(references),
        "byte_identical_to_raw": identical,
        "sha256_agree_three_ways": hashes,
        "verify_problems": verification.problems,
        "original_bytes": sum(manifest["files"][n]["bytes"] for n in stored),
    }


def _legacy_copy(release: Path, out: Path) -> Path:
    """The earlier layout: the same rows with the original GeoTIFF in a binary `sar` column, no originals/."""
    import shutil

    import pyarrow as pa
    import pyarrow.parquet as pq

    from sarlang1m import schema
    from sarlang1m.publish.manifest import read_manifest, write_manifest

    if out.exists():
        shutil.rmtree(out)
    shutil.copytree(release, out, ignore=shutil.ignore_patterns(schema.ORIGINALS_DIR, schema.MANIFEST_FILE))
    for shard in sorted((out / schema.DATA_DIR).rglob("*.parquet")):
        parquet = pq.ParquetFile(release / shard.relative_to(out))
        # the earlier writer: up to 256 rows or 32 MiB of image+GeoTIFF per row group
        with pq.ParquetWriter(shard, _legacy_schema(parquet.schema_arrow), write_page_index=True) as writer:
            for batch in parquet.iter_batches(batch_size=256):
                paths = batch.column("sar_path").to_pylist()
                originals = [None if p is None else (release / p).read_bytes() for p in paths]
                table = pa.Table.from_batches([batch]).drop_columns(list(_PATH_COLUMNS))
                table = table.append_column("sar", pa.array(originals, pa.binary())).replace_schema_metadata(None)
                rows, size = [], 0
                for index, data in enumerate(originals):
                    size += len(data or b"") + len(batch.column("image")[index]["bytes"].as_py() or b"")
                    rows.append(index)
                    if size >= 32 * 2**20:
                        writer.write_table(table.slice(rows[0], len(rows)))
                        rows, size = [], 0
                if rows:
                    writer.write_table(table.slice(rows[0], len(rows)))
    from huggingface_hub import DatasetCard

    manifest = read_manifest(release)
    for name in (schema.CARD_FILE, schema.CROISSANT_FILE):  # published as bench/before: say so
        text = (out / name).read_text(encoding="utf-8")
        (out / name).write_text(text.replace(manifest["repo_id"], "bench/before"), encoding="utf-8")
    card = DatasetCard.load(out / schema.CARD_FILE)
    card.data.pop("dataset_info", None)  # its features name the new columns; let datasets read the Parquet schema
    card.save(out / schema.CARD_FILE)
    for name in ("files", "manifest_format"):
        manifest.pop(name)
    write_manifest(out, {**manifest, "repo_id": "bench/before"})
    return out


_PATH_COLUMNS = ("sar_path", "sar_sha256", "sar_bytes")


def _legacy_schema(schema):
    import pyarrow as pa

    for name in _PATH_COLUMNS:
        schema = schema.remove(schema.get_field_index(name))
    return schema.append(pa.field("sar", pa.binary())).remove_metadata()


# ---------------------------------------------------------------------------------- 2. streaming bytes


class StandIn:
    """The Hub stand-in of ``tests/`` in a process of its own, adding latency to every request and counting
    the bytes it sends. In the benchmark's process, serving 13 MB originals would compete with decoding for
    the interpreter lock, which a remote Hub does not."""

    def __init__(self, folder: Path) -> None:
        context = multiprocessing.get_context("spawn")
        self._latency = context.Value("d", 0.0)
        self._sent = context.Value("q", 0)
        here, there = context.Pipe()
        client_home = Path(tempfile.mkdtemp(prefix="bench-originals-client-"))
        self._process = context.Process(
            target=_serve, args=(folder, client_home, there, self._latency, self._sent), daemon=True
        )
        self._process.start()
        self._pipe = here
        self.client_env: dict[str, str] = here.recv()

    @property
    def seconds(self) -> float:
        return self._latency.value

    @seconds.setter
    def seconds(self, value: float) -> None:
        self._latency.value = value

    @property
    def sent(self) -> int:
        return self._sent.value

    def cpu_seconds(self) -> float:
        """CPU time the stand-in's process has used (all its threads): serving is work a remote Hub does on its
        own machines, but here it takes cores the decoding could have used."""
        fields = Path(f"/proc/{self._process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime

    def stop(self) -> None:
        self._pipe.send("stop")
        self._process.join(timeout=10)


def _serve(folder: Path, client_home: Path, pipe, latency, sent) -> None:
    """The stand-in's process: patch its handler to delay and count, serve until told to stop."""
    import hub_server

    handler = hub_server._Handler
    for method in ("do_GET", "do_HEAD", "do_POST", "do_PUT"):
        original = getattr(handler, method, None)
        if original is None:
            continue

        def delayed(self, original=original):
            if latency.value:
                time.sleep(latency.value)
            real = self.wfile

            class Counting:
                def write(self, data):
                    with sent.get_lock():
                        sent.value += len(data)
                    return real.write(data)

                def __getattr__(self, name):
                    return getattr(real, name)

            self.wfile = Counting()
            try:
                return original(self)
            finally:
                self.wfile = real

        setattr(handler, method, delayed)
    server = hub_server.HubServer(folder).start()
    pipe.send(server.client_env(client_home))
    pipe.recv()
    server.stop()


def streaming_bytes(meter: StandIn, release: Path) -> list[dict]:
    """Bytes a plain streaming pass reads per config and split, before and after, over image+text bytes."""
    import datasets
    import pyarrow.parquet as pq

    from sarlang1m import schema
    from sarlang1m.publish.manifest import read_manifest

    configs = read_manifest(release)["configs"]
    rows = []
    for config, summary in configs.items():
        task = summary["task"]
        for split, info in summary["splits"].items():
            files = sorted(release.glob(info["data_files"]))
            wanted = ("image", schema.TEXT_COLUMN[task])
            image_text = 0
            for path in files:
                metadata = pq.ParquetFile(path).metadata
                for g in range(metadata.num_row_groups):
                    group = metadata.row_group(g)
                    for c in range(group.num_columns):
                        if group.column(c).path_in_schema.split(".")[0] in wanted:
                            image_text += group.column(c).total_compressed_size
            measured = {}
            for label, repo in (("before", "bench/before"), ("after", "bench/after")):
                start = meter.sent
                dataset = datasets.load_dataset(repo, config, split=split, streaming=True, revision="v1.0.0")
                count = sum(1 for _ in dataset)
                assert count == info["images"], (config, split, count)
                measured[label] = (meter.sent - start) / image_text
            rows.append({"config": config, "split": split, "image_text_bytes": image_text, **measured})
    return rows


# ---------------------------------------------------------------------------------- 3. throughput


def throughput(release: Path, repo: str, config: str, delay: StandIn, latency_ms: float, trials: int) -> dict:
    """Image rows per second: decode-only limits, streaming from the folder, streaming from the stand-in."""
    from concurrent.futures import ThreadPoolExecutor

    import datasets

    import sarlang1m
    from sarlang1m.decode import STREAMING_BATCH_ROWS, decode_sar, default_decode_threads

    rows = list(datasets.load_dataset(str(release), config, split="train", streaming=True))
    originals = [(release / r["sar_path"]).read_bytes() for r in rows if r["sar_path"]]
    radiometries = [r["sar_radiometry"] for r in rows if r["sar_path"]]
    threads = default_decode_threads()

    def limit():  # the limit: one thread decoding the bytes already in memory
        for data, radiometry in zip(originals, radiometries, strict=True):
            yield decode_sar(data, radiometry=radiometry)

    def limit_threads():  # like for like: as many decoding threads as SARDecode uses, same bytes in memory
        with ThreadPoolExecutor(threads) as pool:
            yield from pool.map(lambda data, kind: decode_sar(data, radiometry=kind), originals, radiometries)

    def local():
        yield from sarlang1m.load(config, split="train", source=release, decode="sar", streaming=True)

    def hub():
        delay.seconds = latency_ms / 1000
        try:
            yield from sarlang1m.load(
                config, split="train", source=repo, revision="v1.0.0", decode="sar", streaming=True
            )
        finally:
            delay.seconds = 0.0

    def hub_without_read_ahead():  # the same, each batch's reads started only when the batch is decoded
        from sarlang1m.originals import OriginalsReader

        reads_remote = OriginalsReader.reads_remote
        OriginalsReader.reads_remote = property(lambda self: False)  # type: ignore[method-assign]
        try:
            yield from hub()
        finally:
            OriginalsReader.reads_remote = reads_remote  # type: ignore[method-assign]

    # Steady state, as a training loop sees it: the rows after the first streaming batch, timed from that
    # batch's last row to the last row, the same rows for every run. The first batch pays for resolving the
    # data files and opening the first shard (once per epoch), and a batched map yields its rows all at once,
    # so timing from the first row would credit the pipelines with a batch they decoded before the clock.
    skip = STREAMING_BATCH_ROWS
    if len(originals) < 3 * skip:
        raise SystemExit(f"{config!r} train has {len(originals)} originals; use more --images (>= {3 * skip})")
    runs = {
        "limit": limit,
        "limit_threads": limit_threads,
        "local": local,
        "hub": hub,
        "hub_without_read_ahead": hub_without_read_ahead,
    }
    rates: dict[str, list[float]] = {name: [] for name in runs}
    stand_in_cores: list[float] = []  # cores the stand-in's process kept busy during the timed hub rows
    load_before = os.getloadavg()
    for _ in range(trials):
        for name, run in runs.items():
            rows_seen = 0
            for _row in run():
                rows_seen += 1
                if rows_seen == skip:
                    start, served = time.perf_counter(), delay.cpu_seconds()
            elapsed = time.perf_counter() - start
            rates[name].append((rows_seen - skip) / elapsed)
            if name.startswith("hub"):
                stand_in_cores.append((delay.cpu_seconds() - served) / elapsed)
    medians = {name: statistics.median(values) for name, values in rates.items()}
    return {
        "config": config,
        "rows": len(originals),
        "original_mib": sum(map(len, originals)) / 2**20,
        "latency_ms": latency_ms,
        "cores": len(os.sched_getaffinity(0)),
        "decode_threads": threads,
        "timed_rows": len(originals) - skip,
        "load_average_before_after": [load_before[0], os.getloadavg()[0]],
        "rows_per_s": medians,
        "stand_in_cores_during_hub": statistics.median(stand_in_cores),
        "local_over_limit": medians["local"] / medians["limit"],
        "local_over_limit_threads": medians["local"] / medians["limit_threads"],
        "hub_over_local": medians["hub"] / medians["local"],
        "hub_without_read_ahead_over_local": medians["hub_without_read_ahead"] / medians["local"],
    }


if __name__ == "__main__":
    main()
