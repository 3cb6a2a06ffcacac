"""One full epoch of the documented training loader on configs that mix quad-pol and single-band images.

`vqa` and `sarvqa2` hold 4-band SpaceNet6 GeoTIFFs next to single-band DFC2023 / OpenEarthMap-SAR files
and 8-bit SARDet-100K fallbacks. The loader of docs/fine-tune.md (map-style pairs, decode="sar",
shuffle) with the default collate, and with one named band, must run through every example. Synthetic
release.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from sarlang1m.collate import SARCollate
from sarlang1m.decode import PIXELS_FIELD, VALID_FIELD
from sarlang1m.load import load


@pytest.mark.parametrize("workers", [0, 2])
@pytest.mark.parametrize("config", ["vqa", "sarvqa2"])
def test_one_epoch_with_the_default_collate(synthetic_release: Path, config: str, workers: int) -> None:
    train = load(config, split="train", source=str(synthetic_release), decode="sar", pairs=True)
    loader = torch.utils.data.DataLoader(
        train, batch_size=16, shuffle=True, num_workers=workers, collate_fn=SARCollate()
    )
    seen, channels = [], set()
    for batch in loader:
        pixels, valid = batch[PIXELS_FIELD], batch[VALID_FIELD]
        assert pixels.dtype == torch.float32 and valid.shape == pixels.shape
        assert torch.isfinite(pixels).all()
        channels.add(pixels.shape[1])
        seen += batch["id"]
    assert sorted(seen) == sorted(
        example["id"] for example in load(config, split="train", source=str(synthetic_release), decode=None, pairs=True)
    )
    assert 4 in channels  # the quad-pol images keep their four bands


@pytest.mark.parametrize("config", ["vqa", "sarvqa2"])
def test_one_epoch_with_a_named_band_gives_one_channel(synthetic_release: Path, config: str) -> None:
    train = load(
        config, split="train", source=str(synthetic_release), decode="sar", pairs=True, sar_options={"bands": ["VV"]}
    )
    loader = torch.utils.data.DataLoader(train, batch_size=16, num_workers=0, collate_fn=SARCollate("resize", size=32))
    examples = 0
    for batch in loader:
        assert batch[PIXELS_FIELD].shape[1:] == (1, 32, 32)
        examples += len(batch["id"])
    assert examples == len(train)
