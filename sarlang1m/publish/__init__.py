"""4. From a release folder to the Hub, and checking what is there: MANIFEST, push, verify, recorded commits.

`manifest` says what a release holds and checks a copy against it. A push takes, in order:
`push_checks` (what it refuses before changing anything), `push_plan` (what differs from the branch,
cut into commits), `hub` (chained commits, verify, then tag). `verify` checks a folder or a Hub
revision against its MANIFEST; `remote` turns Hub and network failures into one-line errors with
bounded retries; `releases` records the commit each published version tag must point to.
"""

from .hub import push_release
from .verify import verify, verify_hub

__all__ = ["push_release", "verify", "verify_hub"]
