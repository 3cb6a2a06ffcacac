"""SARLANG-1M as a first-class Hugging Face dataset: build, publish, load, decode SAR, evaluate.

The user side (load -> decode -> views -> evaluate) is importable from here; the maintainer side
lives in its modules (`sarlang1m.build.release.build_release`, `sarlang1m.publish.hub.push_release`, `sarlang1m.synth`).
torch is optional: only `sarlang1m.collate` needs it.
"""

__version__ = "0.1.0"

from .build.builder import SARLANG1M
from .decode import SARDecode, decode_sar
from .load import load
from .sar import SARDecodeError, preprocess_for_vlm
from .schema import DEFAULT_REPO_ID, RELEASE_REVISION, RELEASE_VERSION
from .views import pairs

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
