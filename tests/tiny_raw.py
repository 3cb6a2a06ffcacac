"""A tiny hand-made raw release in the authors' layout (synthetic pixels and texts) for targeted tests."""

from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path

import numpy as np
import PIL.Image
import tifffile


def png_bytes(seed: int, size: int = 24, mode: str = "L") -> bytes:
    """Synthetic 8-bit pixels (random), PNG-encoded."""
    rng = np.random.default_rng(seed)
    shape = (size, size) if mode == "L" else (size, size, 3)
    buffer = io.BytesIO()
    PIL.Image.fromarray(rng.integers(0, 256, shape, dtype=np.uint8)).save(buffer, format="PNG")
    return buffer.getvalue()


def tiff_bytes(seed: int, size: int = 24, bands: int = 1, dtype=np.float32, description: str | None = None) -> bytes:
    """Synthetic SAR-like pixels (gamma speckle; negative dB values for float), GeoTIFF-encoded, with an
    optional ImageDescription."""
    rng = np.random.default_rng(seed)
    amplitude = rng.gamma(4.0, 0.25, (bands, size, size))
    if np.dtype(dtype).kind == "f":
        pixels = (10 * np.log10(amplitude**2 + 1e-6)).astype(dtype)
    else:
        pixels = np.clip(amplitude * 1000, 0, np.iinfo(dtype).max).astype(dtype)
    described = {} if description is None else {"description": description, "metadata": None}
    if bands > 1:  # one multi-band image, as GDAL writes and reads them (not one page per band)
        described["planarconfig"] = "separate"
    return encode_tiff(pixels if bands > 1 else pixels[0], photometric="minisblack", compression="zlib", **described)


def write_original(release: Path, path: str | None, data: bytes | None) -> dict:
    """Write an original GeoTIFF at `path` under a release folder; the row columns that name it (all null
    without one), as the release writer sets them."""
    if data is None or path is None:
        return {"sar_path": None, "sar_sha256": None, "sar_bytes": None}
    (release / path).parent.mkdir(parents=True, exist_ok=True)
    (release / path).write_bytes(data)
    return {"sar_path": path, "sar_sha256": hashlib.sha256(data).hexdigest(), "sar_bytes": len(data)}


def encode_tiff(array: np.ndarray, **options) -> bytes:
    """An array as TIFF bytes; ``options`` go to `tifffile.imwrite` (compression, tile, planarconfig, ...)."""
    buffer = io.BytesIO()
    tifffile.imwrite(buffer, array, **options)
    return buffer.getvalue()


def vqa_json(records: list[tuple[str, list[tuple[str, str]]]]) -> str:
    """LLaMA-Factory `messages` JSON with one record per image (several turns each)."""
    out = []
    for image, turns in records:
        messages = []
        for i, (question, answer) in enumerate(turns):
            messages += [
                {"role": "user", "content": ("<image>" if i == 0 else "") + question},
                {"role": "assistant", "content": answer},
            ]
        out.append({"messages": messages, "images": [f"SARimages/{image}"]})
    return json.dumps(out, indent=1)


def make_tiny_raw(root: Path) -> Path:
    """A hand-made raw release in the authors' layout: 2 caption/SARVQA2 images, 2 SARDet images. Synthetic."""
    (root / "SARimages").mkdir(parents=True)
    (root / "SARimages_original").mkdir()
    sardet = root / "SARDet_100K" / "JPEGImages"
    (sardet / "train").mkdir(parents=True)
    (sardet / "val").mkdir(parents=True)
    (root / "SYNTHETIC.md").write_text("Synthetic test data, not SARLANG-1M.\n")
    (root / "SARimages" / "SN6_Rotterdam_1.png").write_bytes(png_bytes(1))
    (root / "SARimages_original" / "SN6_Rotterdam_1.tif").write_bytes(tiff_bytes(1, bands=4))
    (root / "SARimages" / "France_Alpes-Maritimes_Nice_3.png").write_bytes(png_bytes(2))
    # Its radiometry three ways: the 8-bit amplitude file says so; SpaceNet6 has a documented rule;
    # the DFC2023 file says nothing, so its pixels decide.
    nice = tiff_bytes(2, dtype=np.uint8, description="synthetic test data; radiometry=amplitude")
    (root / "SARimages_original" / "France_Alpes-Maritimes_Nice_3.tif").write_bytes(nice)
    (root / "SARimages_original" / "SV_Darwin_-12.4278_130.8688.tif").write_bytes(tiff_bytes(3, dtype=np.uint16))
    (sardet / "train" / "0000001.png").write_bytes(png_bytes(4, 32))
    (sardet / "val" / "0000002.png").write_bytes(png_bytes(5, 40, "RGB"))
    caption = root / "Text" / "caption"
    caption.mkdir(parents=True)
    (caption / "Caption-training.csv").write_text(
        "image,caption\n"
        "SN6_Rotterdam_1.png,A port with two ships.\n"
        'SN6_Rotterdam_1.png,"A port with two ships. The ships are moored at the quay, next to cranes."\n'
        "SV_Darwin_-12.4278_130.8688.png,Houses along a road.\n"
    )
    (caption / "Caption_test.csv").write_text(
        "image,caption\nFrance_Alpes-Maritimes_Nice_3.png,A dense city. Streets cross it from north to south.\n"
    )
    (caption / "Caption_test1.csv").write_text("image,caption\nFrance_Alpes-Maritimes_Nice_3.png,A dense city.\n")
    vqa = root / "Text" / "VQA"
    (vqa / "train").mkdir(parents=True)
    (vqa / "test").mkdir()
    (vqa / "train" / "SARVQA1_train.json").write_text(
        vqa_json(
            [
                (
                    "0000001.png",
                    [
                        ("Is there a ship in this image?", "Yes."),
                        ("How many ships are there in the image?", "2."),
                        ("What is the object in the region [3.0, 4.0, 10.0, 8.0]?", "Ship."),
                    ],
                )
            ]
        )
    )
    (vqa / "test" / "SARVQA1_test.json").write_text(
        vqa_json([("0000002.png", [("Where is the aircraft located in the image?", "left")])])
    )
    (vqa / "train" / "SARVQA2_train.csv").write_text(
        "image,question,answer\n"
        "SN6_Rotterdam_1.png,What is the shape of the largest building?,Rectangular.\n"
        "SV_Darwin_-12.4278_130.8688.png,Is there a road in the image?,Yes.\n"
    )
    (vqa / "test" / "SARVQA2_test.csv").write_text(
        "image,question,answer\nFrance_Alpes-Maritimes_Nice_3.png,What is the dominant land cover?,Urban.\n"
    )
    return root
