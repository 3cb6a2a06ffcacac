"""Batch decoded SAR examples for a torch DataLoader, whatever the sizes of their images.

SARLANG-1M mixes 512^2 (DFC2023), 900^2 (SpaceNet6), 1024^2 (OpenEarthMap-SAR) and variable-size
SARDet-100K images, so a batch needs a size policy:

- ``pad`` (default): zero-pad bottom and right to the largest image of the batch (or to ``size``);
  nothing is resampled, the padding is False in the valid mask.
- ``resize``: bilinear resize to ``size`` (antialiased when shrinking); the valid mask is resized with
  nearest neighbour. Invalid pixels are 0 and bleed slightly into their neighbours.
- ``center_crop`` / ``random_crop``: a ``size`` window, padded (mask False) where an image is smaller.

Bands: SARLANG-1M mixes 4-band quad-pol SpaceNet6 with single-band images in the same configs (``vqa``,
``sarvqa2``, ``vqa-vhr``). Examples with fewer bands than the batch's channel count get zero channels at
the end, False in the valid mask: ``channels=None`` (default) gives the batch as many channels as its
example with the most bands, ``channels=N`` exactly N in every batch (a model's fixed input width). To
give every example the same bands instead, choose them with ``SARDecode(bands=[...])``.

Pixels and masks are stacked into tensors; every other field (ids, texts, nested questions) is passed
through as a list, one entry per example.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal, get_args

import numpy as np
import torch
import torch.nn.functional as F

from .decode import PIXELS_FIELD, VALID_FIELD

#: How a batch gets one size (see the module docstring).
CollateMode = Literal["pad", "resize", "center_crop", "random_crop"]
COLLATE_MODES: tuple[CollateMode, ...] = get_args(CollateMode)
#: Field added by the collate: the (height, width) of each image before padding, cropping or resizing.
SIZE_FIELD = "pixels_size"


def _check_mode(mode: str) -> CollateMode:
    """The mode itself if it is one of `COLLATE_MODES`, else a ValueError listing them."""
    for known in COLLATE_MODES:
        if mode == known:
            return known
    raise ValueError(f"unknown collate mode {mode!r}; expected one of {COLLATE_MODES}")


def _as_size(size: int | Sequence[int] | None) -> tuple[int, int] | None:
    if size is None:
        return None
    height, width = (size, size) if isinstance(size, int) else (int(size[0]), int(size[1]))
    if height <= 0 or width <= 0:
        raise ValueError(f"size must be positive, got {size!r}")
    return height, width


class SARCollate:
    """``collate_fn`` for a DataLoader over `SARDecode` output (see the module docstring for the modes).

    Picklable, so it works with ``num_workers >= 2``. ``channels`` fixes the channel count (None: the
    batch's most bands); missing channels are zeros, False in the valid mask. ``pad_to_multiple`` rounds
    the padded size up (e.g. to a ViT patch size). ``generator`` seeds ``random_crop``; by default torch's
    per-worker seed is used.
    """

    def __init__(
        self,
        mode: CollateMode = "pad",
        size: int | Sequence[int] | None = None,
        *,
        channels: int | None = None,
        pad_to_multiple: int = 1,
        antialias: bool = True,
        generator: torch.Generator | None = None,
        pixels_field: str = PIXELS_FIELD,
        valid_field: str = VALID_FIELD,
    ) -> None:
        self.mode = _check_mode(mode)
        self.size = _as_size(size)
        if mode != "pad" and self.size is None:
            raise ValueError(f"collate mode {mode!r} needs size=(height, width)")
        if channels is not None and channels < 1:
            raise ValueError(f"channels must be >= 1, got {channels}")
        if pad_to_multiple < 1:
            raise ValueError(f"pad_to_multiple must be >= 1, got {pad_to_multiple}")
        self.channels = channels
        self.pad_to_multiple = pad_to_multiple
        self.antialias = antialias
        self.generator = generator
        self.pixels_field = pixels_field
        self.valid_field = valid_field

    def __repr__(self) -> str:
        return (
            f"SARCollate(mode={self.mode!r}, size={self.size!r}, channels={self.channels!r}, "
            f"pad_to_multiple={self.pad_to_multiple})"
        )

    def __call__(self, examples: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
        if not examples:
            raise ValueError("cannot collate an empty batch")
        pixels, valid = self._arrays(examples)
        sizes = torch.tensor([p.shape[-2:] for p in pixels], dtype=torch.long)
        if self.mode == "resize":
            pixels, valid = self._resize_all(pixels, valid)
        elif self.mode != "pad":
            pixels, valid = self._crop_all(pixels, valid)
        height, width = self._batch_size(pixels)
        # Assembled with numpy: one single-threaded copy per example into a zeroed batch, which also
        # pads (0 pixels, False mask); torch.stack's intra-op threads only contend with the loader.
        # Fewer bands than channels: the missing channels stay 0 and False, like the spatial padding.
        batch_pixels = np.zeros((len(pixels), self._channel_count(pixels), height, width), dtype=np.float32)
        batch_valid = np.zeros(batch_pixels.shape, dtype=bool)
        for index, (image, mask) in enumerate(zip(pixels, valid, strict=True)):
            bands, (rows, cols) = image.shape[0], image.shape[-2:]
            batch_pixels[index, :bands, :rows, :cols] = image
            batch_valid[index, :bands, :rows, :cols] = mask
        batch: dict[str, Any] = {
            self.pixels_field: torch.from_numpy(batch_pixels),
            self.valid_field: torch.from_numpy(batch_valid),
            SIZE_FIELD: sizes,
        }
        for key in examples[0]:
            if key not in (self.pixels_field, self.valid_field):
                batch[key] = [example.get(key) for example in examples]
        return batch

    def _arrays(self, examples: Sequence[Mapping[str, Any]]) -> tuple[list[np.ndarray], list[np.ndarray]]:
        pixels, valid = [], []
        for index, example in enumerate(examples):
            if self.pixels_field not in example:
                raise KeyError(f"example {index} has no {self.pixels_field!r} field: decode it with SARDecode first")
            image = _as_numpy(example[self.pixels_field]).astype(np.float32, copy=False)
            mask = example.get(self.valid_field)
            mask = np.ones(image.shape, dtype=bool) if mask is None else _as_numpy(mask).astype(bool, copy=False)
            if image.ndim != 3 or mask.shape != image.shape:
                raise ValueError(
                    f"example {index} ({example.get('image_id', '?')}): pixels must be (bands, H, W) with a mask of "
                    f"the same shape, got {tuple(image.shape)} and {tuple(mask.shape)}"
                )
            if self.channels is not None and image.shape[0] > self.channels:
                raise ValueError(
                    f"example {index} ({example.get('image_id', '?')}) has {image.shape[0]} bands, more than "
                    f"channels={self.channels}: raise channels or pick bands with SARDecode(bands=[...])"
                )
            pixels.append(image)
            valid.append(mask)
        return pixels, valid

    def _channel_count(self, pixels: list[np.ndarray]) -> int:
        """``channels``, or the most bands of any example in the batch."""
        return self.channels if self.channels is not None else max(p.shape[0] for p in pixels)

    @property
    def _window(self) -> tuple[int, int]:
        """``size``, which every mode but ``pad`` has (``__init__`` refuses them without it)."""
        if self.size is None:
            raise AssertionError(f"collate mode {self.mode!r} without a size")
        return self.size

    def _batch_size(self, pixels: list[np.ndarray]) -> tuple[int, int]:
        """(height, width) of the batch: ``size``, or for ``pad`` without it the largest image, rounded up."""
        if self.mode != "pad":
            return self._window
        if self.size is not None:
            height, width = self.size
            too_large = [p.shape[-2:] for p in pixels if p.shape[-2] > height or p.shape[-1] > width]
            if too_large:
                raise ValueError(f"images {too_large} exceed the pad size {self.size}: use a crop or resize mode")
        else:
            height, width = max(p.shape[-2] for p in pixels), max(p.shape[-1] for p in pixels)
        multiple = self.pad_to_multiple
        return -(-height // multiple) * multiple, -(-width // multiple) * multiple

    def _resize_all(self, pixels: list[np.ndarray], valid: list[np.ndarray]) -> tuple[list, list]:
        size = self._window
        resized, masks = [], []
        for image, mask in zip(pixels, valid, strict=True):
            if image.shape[-2:] == size:
                resized.append(image)
                masks.append(mask)
                continue
            shrinking = image.shape[-2] > size[0] or image.shape[-1] > size[1]
            tensor = torch.from_numpy(np.ascontiguousarray(image))[None]
            resized.append(
                F.interpolate(
                    tensor, size=size, mode="bilinear", align_corners=False, antialias=self.antialias and shrinking
                )[0].numpy()
            )
            mask_tensor = torch.from_numpy(np.ascontiguousarray(mask)).to(torch.uint8)[None]
            masks.append(F.interpolate(mask_tensor, size=size, mode="nearest")[0].numpy().astype(bool))
        return resized, masks

    def _crop_all(self, pixels: list[np.ndarray], valid: list[np.ndarray]) -> tuple[list, list]:
        """``size`` windows (views); smaller images keep their size and are padded when assembled."""
        height, width = self._window
        cropped, masks = [], []
        for image, mask in zip(pixels, valid, strict=True):
            top, left = self._crop_origin(image.shape[-2], image.shape[-1])
            window = (slice(None), slice(top, top + height), slice(left, left + width))
            cropped.append(image[window])
            masks.append(mask[window])
        return cropped, masks

    def _crop_origin(self, image_height: int, image_width: int) -> tuple[int, int]:
        height, width = self._window
        spare_rows, spare_cols = max(image_height - height, 0), max(image_width - width, 0)
        if self.mode == "center_crop":
            return spare_rows // 2, spare_cols // 2
        top = int(torch.randint(spare_rows + 1, (1,), generator=self.generator))
        left = int(torch.randint(spare_cols + 1, (1,), generator=self.generator))
        return top, left


def _as_numpy(value: Any) -> np.ndarray:
    """A CPU tensor or array-like as a numpy array, without copying when possible."""
    if isinstance(value, torch.Tensor):
        return value.detach().cpu().numpy()
    return np.asarray(value)


def sar_collate(examples: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """`SARCollate` with its defaults (pad to the largest image of the batch)."""
    return SARCollate()(examples)
