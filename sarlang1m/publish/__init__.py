"""4. From a release folder to the Hub, and checking what is there: MANIFEST, push, verify, recorded commits.

`manifest` says what a release holds and checks a copy against it; `hub` pushes (chained commits, verify,
then tag) and verifies a revision; `remote` turns Hub and network failures into one-line errors with
bounded retries; `releases` records the commit each published version tag must point to.
"""

from .hub import push_release, verify

__all__ = ["push_release", "verify"]
