"""SARLANG-1M as a first-class Hugging Face dataset: build, publish, load, decode SAR, evaluate.

The user side (load -> decode -> views -> evaluate) is importable from here; the maintainer side
lives in its modules (`sarlang1m.build.release.build_release`, `sarlang1m.publish.hub.push_release`, `sarlang1m.synth`).
torch is optional: only `sarlang1m.collate` needs it.

The names below are imported on first use: they need `datasets` (about 1 s to import), which the
`sarlang1m` command does not pay for before it knows which command runs.
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from .build.builder import SARLANG1M
    from .decode import SARDecode, decode_sar
    from .load import load
    from .sar import SARDecodeError, preprocess_for_vlm
    from .schema import DEFAULT_REPO_ID, RELEASE_REVISION, RELEASE_VERSION
    from .views import pairs

#: Each name this package exports -> the module that defines it.
_EXPORTS = {
    "DEFAULT_REPO_ID": "schema",
    "RELEASE_REVISION": "schema",
    "RELEASE_VERSION": "schema",
    "SARLANG1M": "build.builder",
    "SARDecode": "decode",
    "SARDecodeError": "sar",
    "decode_sar": "decode",
    "load": "load",
    "pairs": "views",
    "preprocess_for_vlm": "sar",
}

__all__ = [
    "DEFAULT_REPO_ID",
    "RELEASE_REVISION",
    "RELEASE_VERSION",
    "SARLANG1M",
    "SARDecode",
    "SARDecodeError",
    "__version__",
    "decode_sar",
    "load",
    "pairs",
    "preprocess_for_vlm",
]


class _Package(types.ModuleType):
    """This package's module: an exported name is imported from its module when first read."""

    def __getattr__(self, name: str) -> Any:
        if name not in _EXPORTS:
            raise AttributeError(f"module {self.__name__!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(f".{_EXPORTS[name]}", self.__name__), name)
        super().__setattr__(name, value)
        return value

    def __setattr__(self, name: str, value: Any) -> None:
        # Importing the module sarlang1m.load sets the package's `load` to that module: `sarlang1m.load`
        # stays the function, as when it was imported eagerly.
        if name == "load" and isinstance(value, types.ModuleType):
            return
        super().__setattr__(name, value)

    def __dir__(self) -> list[str]:
        return sorted({*super().__dir__(), *_EXPORTS})


sys.modules[__name__].__class__ = _Package
