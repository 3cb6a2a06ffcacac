"""Peak memory of decoding the two decompression bombs of ``tests/geotiff_bombs.py`` (SYNTHETIC files).

Each bomb (16,384 x 16,384 uint8 zeros: 35 KB of zstd, 280 KB of deflate) is put in a release folder as
the original of a row, and decoded in a fresh process whose peak resident memory is
reported (Linux's ``VmHWM``), with the process's peak just before the decode (imports, the file read)
for reference:

- ``row``: as ``sarlang1m.load(decode="sar")`` decodes it, ``SARDecode(root=...)`` on a row that says what
  a real row says (a 512 x 512 single-band image, its true ``sar_bytes`` and ``sar_sha256``);
- ``row claiming it``: the same with a row that claims the bomb's own size (a hostile release);
- ``bytes``: ``decode_sar`` on the file's bytes with no row (a caller decoding a file of their own).

    python benchmarks/bench_bombs.py [--json bombs.json]

Absolute figures depend on the platform's allocator; what matters is the bound.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))


def main() -> None:
    from geotiff_bombs import BOMB_SIDE, BOMBS, bomb_row, peak_memory

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", type=Path, help="also write the figures as JSON")
    args = parser.parse_args()
    results = {}
    with tempfile.TemporaryDirectory(prefix="sarlang1m-bombs-") as folder:
        root = Path(folder)
        for name in BOMBS:
            for label, side, how in (
                ("row", 512, "row"),
                ("row claiming it", BOMB_SIDE, "row"),
                ("bytes", 512, "bytes"),
            ):
                row = bomb_row(root, name, side=side)
                figures = peak_memory(root, row, how)
                results[f"{name}/{label}"] = {"file_kb": round(row["sar_bytes"] / 1000, 1), **figures}
                print(
                    f"{name:8s} {label:16s} {row['sar_bytes'] / 1000:6.1f} KB: peak {figures['peak_mb']:7.1f} MB "
                    f"(before the decode {figures['before_mb']:6.1f} MB): {figures['outcome'][:150]}"
                )
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
