"""tifffile's log messages about one file, collected instead of printed.

tifffile reports damage it works around (a tag whose value lies past the end of a truncated file, a page
without data offsets) as log messages and goes on: a damaged file then prints a screen of them, twice,
and may still "read". Inside `captured_tifffile_log`, what tifffile logs on this thread is collected
for the caller, which turns it into its own error naming the file, and nothing is printed. Other
threads (decoding workers) are not affected.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Iterator


class _ThreadCapture(logging.Filter):
    """A filter on tifffile's logger: records of a capturing thread are kept for it and not printed."""

    def __init__(self) -> None:
        super().__init__()
        self.local = threading.local()

    def filter(self, record: logging.LogRecord) -> bool:
        captured: list[logging.LogRecord] | None = getattr(self.local, "records", None)
        if captured is None:
            return True
        captured.append(record)
        return False


_CAPTURE = _ThreadCapture()
logging.getLogger("tifffile").addFilter(_CAPTURE)  # tifffile logs through this one logger


@contextlib.contextmanager
def captured_tifffile_log() -> Iterator[list[logging.LogRecord]]:
    """The records tifffile logs on this thread inside the block (none of them printed)."""
    previous = getattr(_CAPTURE.local, "records", None)
    records: list[logging.LogRecord] = []
    _CAPTURE.local.records = records
    try:
        yield records
    finally:
        _CAPTURE.local.records = previous


def first_error(records: list[logging.LogRecord]) -> str | None:
    """The first message logged at ERROR or above (tifffile's word for damage), if any."""
    return next((r.getMessage() for r in records if r.levelno >= logging.ERROR), None)
