"""The stand-in's endpoint handlers, one module per family of Hub endpoints. TEST ONLY.

Each module holds a mixin of ``HubCore`` whose ``handle_{route}`` methods answer the routes of
``server.ROUTE_TABLE``; ``server.HubServer`` combines them. The Hub documents its HTTP API at
https://huggingface.co/docs/hub/api; what it leaves out (preupload, the ndjson commit, LFS uploads) is
specified by the client we test against, huggingface_hub (``HfApi``, ``_commit_api.py``, ``lfs.py``).
"""

from .browse import BrowseEndpoints
from .commit import CommitEndpoints
from .download import DownloadEndpoints
from .lfs import LfsEndpoints
from .misc import MiscEndpoints
from .refs import RefEndpoints
from .repos import RepoEndpoints

__all__ = [
    "BrowseEndpoints",
    "CommitEndpoints",
    "DownloadEndpoints",
    "LfsEndpoints",
    "MiscEndpoints",
    "RefEndpoints",
    "RepoEndpoints",
]
