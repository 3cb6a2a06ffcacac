"""Decompression bombs: tiny GeoTIFFs whose headers claim a huge image of zeros (SYNTHETIC, for tests). TEST ONLY.

Each is a valid TIFF: 16,384 x 16,384 uint8 (2**28 samples, within the decoder's default pixel limit) in
tiles of zeros, which compress to almost nothing. Decoded and normalised without a check they take about
2 GB. `tests/sar/test_sar_header_checks.py` and `benchmarks/bench_bombs.py` use them; `peak_memory` decodes
one in a fresh process and reports its peak resident memory.
"""

from __future__ import annotations

import functools
import hashlib
import io
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import tifffile

#: Side of the image each bomb claims, in pixels.
BOMB_SIDE = 16_384
#: (codec, tile side) of each bomb: zstd in 512-pixel tiles is about 35 KB, deflate in 1024-pixel tiles about 280 KB.
BOMBS = {"zstd": ("zstd", 512), "deflate": ("deflate", 1024)}


@functools.cache
def bomb(name: str) -> bytes:
    """The bytes of the bomb `name` (a key of `BOMBS`), written tile by tile (no 256 MB array is made)."""
    codec, side = BOMBS[name]
    tile = np.zeros((side, side), np.uint8)
    tiles = (tile for _ in range((BOMB_SIDE // side) ** 2))
    buffer = io.BytesIO()
    tifffile.imwrite(buffer, tiles, shape=(BOMB_SIDE, BOMB_SIDE), dtype=np.uint8, tile=(side, side), compression=codec)
    return buffer.getvalue()


def bomb_row(root: Path, name: str, *, side: int = 512) -> dict:
    """Write bomb `name` as a DFC2023 original under `root` and return the row that names it: a single-band
    `side` x `side` image (512: what a real row says; `BOMB_SIDE`: a row that claims the bomb's size)."""
    data = bomb(name)
    path = f"originals/dfc2023/SV_Bomb_{name}.tif"
    (root / path).parent.mkdir(parents=True, exist_ok=True)
    (root / path).write_bytes(data)
    return {
        "image_id": f"SV_Bomb_{name}",
        "sar_path": path,
        "sar_sha256": hashlib.sha256(data).hexdigest(),
        "sar_bytes": len(data),
        "sar_radiometry": "amplitude",
        "polarizations": [],
        "source": "dfc2023",
        "width": side,
        "height": side,
        "image": None,
    }


_CHILD = """
import json, sys
from sarlang1m.decode import SARDecode, decode_sar
from sarlang1m.errors import SarlangError

def peak_mb():  # this process's own peak (ru_maxrss would keep the parent's across fork and exec)
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmHWM:")) / 1024

root, row, how = sys.argv[1], json.loads(sys.argv[2]), sys.argv[3]
data = open(f"{root}/{row['sar_path']}", "rb").read()
before = peak_mb()
try:
    if how == "row":
        SARDecode(root=root, decode_threads=1, fetch_workers=1)(row)
    else:
        decode_sar(data)
    outcome = "decoded"
except (SarlangError, MemoryError) as error:
    outcome = f"{type(error).__name__}: {error}"
print(json.dumps({"before_mb": before, "peak_mb": peak_mb(), "outcome": outcome}))
"""


def peak_memory(root: Path, row: dict, how: str) -> dict:
    """Decode the original `row` names, in a fresh process: by `SARDecode` on the row (``how="row"``) or by
    `decode_sar` on its bytes alone (``"bytes"``). Returns the process's peak resident memory just before
    and after the decode (MB, Linux's ``VmHWM``) and the outcome ("decoded", or the error)."""
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(_CHILD), str(root), json.dumps(row), how],
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])
