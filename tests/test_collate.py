"""The DataLoader collate: pad / resize / crop policies, pass-through fields, workers. Synthetic data."""

from __future__ import annotations

import pickle

import datasets
import numpy as np
import pytest
import torch
from tiny_raw import encode_tiff, write_original

from sarlang1m.collate import SIZE_FIELD, SARCollate, sar_collate
from sarlang1m.decode import PIXELS_FIELD, VALID_FIELD, SARDecode


def example(height: int, width: int, bands: int = 1, value: float = 0.5, image_id: str = "x") -> dict:
    pixels = np.full((bands, height, width), value, dtype=np.float32)
    return {
        "image_id": image_id,
        PIXELS_FIELD: pixels,
        VALID_FIELD: np.ones(pixels.shape, dtype=bool),
        "qa": {"question": ["q?"], "answer": ["a."]},
    }


def test_pad_to_the_largest_image_marks_padding_invalid() -> None:
    batch = sar_collate([example(4, 6, value=0.25, image_id="a"), example(5, 3, value=0.75, image_id="b")])
    assert batch[PIXELS_FIELD].shape == (2, 1, 5, 6)
    assert batch[VALID_FIELD].dtype == torch.bool
    assert batch[SIZE_FIELD].tolist() == [[4, 6], [5, 3]]
    first, second = batch[PIXELS_FIELD][:, 0]
    assert (first[:4, :6] == 0.25).all() and (first[4:] == 0).all()
    assert (second[:, :3] == 0.75).all() and (second[:, 3:] == 0).all()
    assert batch[VALID_FIELD][0, 0, :4].all() and not batch[VALID_FIELD][0, 0, 4:].any()
    assert not batch[VALID_FIELD][1, 0, :, 3:].any()
    assert batch["image_id"] == ["a", "b"]
    assert batch["qa"] == [{"question": ["q?"], "answer": ["a."]}] * 2


def test_pad_to_a_fixed_size_or_multiple() -> None:
    batch = SARCollate("pad", size=8)([example(4, 6), example(5, 3)])
    assert batch[PIXELS_FIELD].shape == (2, 1, 8, 8)
    batch = SARCollate("pad", pad_to_multiple=4)([example(5, 6)])
    assert batch[PIXELS_FIELD].shape == (1, 1, 8, 8)
    with pytest.raises(ValueError, match="exceed the pad size"):
        SARCollate("pad", size=4)([example(5, 3)])


def test_resize_interpolates_pixels_and_masks() -> None:
    ramp = example(4, 4)
    ramp[PIXELS_FIELD] = np.linspace(0, 1, 16, dtype=np.float32).reshape(1, 4, 4)
    ramp[VALID_FIELD][0, 0, 0] = False
    batch = SARCollate("resize", size=(8, 8))([ramp, example(16, 12)])
    assert batch[PIXELS_FIELD].shape == (2, 1, 8, 8)
    expected = torch.nn.functional.interpolate(
        torch.from_numpy(ramp[PIXELS_FIELD])[None], size=(8, 8), mode="bilinear", align_corners=False
    )[0]
    torch.testing.assert_close(batch[PIXELS_FIELD][0], expected)
    assert not batch[VALID_FIELD][0, 0, :2, :2].any() and batch[VALID_FIELD][0, 0, 2:, 2:].all()
    torch.testing.assert_close(batch[PIXELS_FIELD][1], torch.full((1, 8, 8), 0.5))  # antialiased shrink of a flat image


def test_center_and_random_crops_pad_small_images() -> None:
    big = example(10, 10)
    big[PIXELS_FIELD] = np.arange(100, dtype=np.float32).reshape(1, 10, 10)
    batch = SARCollate("center_crop", size=4)([big, example(2, 3)])
    torch.testing.assert_close(batch[PIXELS_FIELD][0, 0], torch.from_numpy(big[PIXELS_FIELD][0, 3:7, 3:7]))
    assert batch[VALID_FIELD][1, 0, :2, :3].all() and not batch[VALID_FIELD][1, 0, 2:].any()
    crops = {
        int(
            SARCollate("random_crop", size=4, generator=torch.Generator().manual_seed(s))([big])[PIXELS_FIELD][
                0, 0, 0, 0
            ]
        )
        for s in range(20)
    }
    assert len(crops) > 3 and all(0 <= c // 10 <= 6 and c % 10 <= 6 for c in crops)


def test_mixed_band_counts_get_zero_channels_marked_invalid() -> None:
    """Quad-pol and single-band images in one batch (as in vqa, sarvqa2): padded channels are 0 and False."""
    mixed = [example(4, 4, bands=4, value=0.5, image_id="quad"), example(3, 4, bands=1, value=0.25, image_id="one")]
    batch = sar_collate(mixed)
    assert batch[PIXELS_FIELD].shape == (2, 4, 4, 4)
    assert (batch[PIXELS_FIELD][0] == 0.5).all() and batch[VALID_FIELD][0].all()
    assert (batch[PIXELS_FIELD][1, 0, :3] == 0.25).all() and batch[VALID_FIELD][1, 0, :3].all()
    assert (batch[PIXELS_FIELD][1, 1:] == 0).all() and not batch[VALID_FIELD][1, 1:].any()
    assert not batch[VALID_FIELD][1, 0, 3:].any()
    fixed = SARCollate(channels=4)([example(4, 4, bands=1), example(4, 4, bands=2)])  # every batch: 4 channels
    assert fixed[PIXELS_FIELD].shape == (2, 4, 4, 4) and not fixed[VALID_FIELD][:, 2:].any()
    assert SARCollate("resize", size=2, channels=2)(mixed[1:])[PIXELS_FIELD].shape == (1, 2, 2, 2)


def test_bad_batches_are_refused_with_the_example_named() -> None:
    with pytest.raises(ValueError, match=r"example 1 \(quad\) has 4 bands, more than channels=2"):
        SARCollate(channels=2)([example(4, 4, bands=1), example(4, 4, bands=4, image_id="quad")])
    with pytest.raises(ValueError, match="channels must be >= 1"):
        SARCollate(channels=0)
    with pytest.raises(KeyError, match="decode it with SARDecode"):
        sar_collate([{"image_id": "raw"}])
    wrong = example(4, 4, image_id="bad-mask")
    wrong[VALID_FIELD] = np.ones((1, 2, 2), bool)
    with pytest.raises(ValueError, match="bad-mask"):
        sar_collate([wrong])
    with pytest.raises(ValueError, match="needs size"):
        SARCollate("resize")
    with pytest.raises(ValueError, match="unknown collate mode"):
        SARCollate("stretch", size=4)


def test_streaming_dataloader_with_two_workers(tmp_path) -> None:
    """Synthetic Parquet shards -> streaming dataset -> SARDecode -> DataLoader(num_workers=2) -> batches."""
    rng = np.random.default_rng(3)
    for shard in range(2):
        rows = [
            {
                "image_id": f"s{shard}-{i}",
                **write_original(
                    tmp_path / "release",
                    f"originals/dfc2023/s{shard}-{i}.tif",
                    encode_tiff((rng.gamma(1, 1, (16 + i, 20)) * 1000).astype(np.uint16), compression="zstd"),
                ),
                "sar_radiometry": "amplitude",
                "polarizations": [],
                "source": "dfc2023",
            }
            for i in range(5)
        ]
        datasets.Dataset.from_list(rows).to_parquet(tmp_path / "shards" / f"train-{shard:05d}-of-00002.parquet")
    stream = datasets.load_dataset("parquet", data_dir=str(tmp_path / "shards"), split="train", streaming=True)
    collate = pickle.loads(pickle.dumps(SARCollate("pad", pad_to_multiple=8)))
    loader = torch.utils.data.DataLoader(
        SARDecode(root=tmp_path / "release").apply(stream, batch_size=2),
        batch_size=3,
        num_workers=2,
        collate_fn=collate,
    )
    batches = list(loader)
    ids = sorted(i for batch in batches for i in batch["image_id"])
    assert ids == sorted(f"s{s}-{i}" for s in range(2) for i in range(5))
    for batch in batches:
        assert batch[PIXELS_FIELD].shape[-2:] == (24, 24)
        assert batch[PIXELS_FIELD].dtype == torch.float32
        assert batch["pixels_source"] == ["sar"] * len(batch["image_id"])
