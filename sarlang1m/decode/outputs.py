"""What a decode gives back: the fields `SARDecode` adds to each example, as numpy arrays or torch tensors."""

from __future__ import annotations

from typing import Any, Literal, get_args

from ..sar.pixels import DecodedSAR

#: Fields `SARDecode` adds to each example.
PIXELS_FIELD = "pixels"
"""float32 (bands, H, W): normalised pixels, in [0, 1] unless standardised."""
VALID_FIELD = "pixels_valid"
"""bool (bands, H, W): False where a pixel is nodata, non-finite or has no dB value (and is 0 in pixels)."""
RADIOMETRY_FIELD = "pixels_radiometry"
"""The radiometry actually used to decode: amplitude, intensity, db, complex or display."""
SOURCE_FIELD = "pixels_source"
"""``sar`` when the pixels come from the original GeoTIFF, ``image`` when from the 8-bit image (display)."""
OUTPUT_FIELDS = (PIXELS_FIELD, VALID_FIELD, RADIOMETRY_FIELD, SOURCE_FIELD)
#: What `decode_sar` and `SARDecode` return pixels as (``out=``).
Output = Literal["numpy", "torch"]
OUTPUTS: tuple[Output, ...] = get_args(Output)


def check_out(out: str) -> Output:
    """``out`` itself if it is one of `OUTPUTS`, else a ValueError."""
    for known in OUTPUTS:
        if out == known:
            return known
    raise ValueError(f"out must be 'numpy' or 'torch', got {out!r}")


def as_output(decoded: DecodedSAR, out: Output) -> tuple[Any, Any]:
    """Pixels and mask as numpy arrays, or as torch tensors sharing their memory."""
    if out == "torch":
        import torch

        return torch.from_numpy(decoded.pixels), torch.from_numpy(decoded.valid)
    return decoded.pixels, decoded.valid


def copy_output(value: Any) -> Any:
    """An independent copy of an array or tensor (so that augmenting one example leaves the others intact)."""
    if hasattr(value, "clone"):  # torch
        return value.clone()
    return value.copy() if hasattr(value, "copy") else value
