"""SARLANG-1M as a first-class Hugging Face dataset: build, publish, load, decode SAR, evaluate."""

from .schema import DEFAULT_REPO_ID, RELEASE_REVISION, RELEASE_VERSION

__version__ = "0.1.0"

__all__ = ["DEFAULT_REPO_ID", "RELEASE_REVISION", "RELEASE_VERSION", "__version__"]
