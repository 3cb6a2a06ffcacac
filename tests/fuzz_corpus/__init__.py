"""Inputs that fuzzing found bugs with (kept as regression tests), and what the fuzz tests share.

`tests/test_fuzz_texts.py` and `tests/test_fuzz_decode.py` run in the regular suite with a small
example budget; `benchmarks/fuzz.py` runs the same properties with ``SARLANG1M_FUZZ_SCALE`` times
more examples. A hang cannot be caught by Hypothesis' deadline (it only measures examples that end),
so every call under test runs inside `time_limit`.
"""

from __future__ import annotations

import contextlib
import os
import signal
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

from hypothesis import HealthCheck, settings

CORPUS = Path(__file__).parent
#: Multiplies the example budget of every fuzz property (the long run sets it).
SCALE = float(os.environ.get("SARLANG1M_FUZZ_SCALE", "1"))
#: Seconds one call under test may take before it counts as a hang.
HANG_SECONDS = float(os.environ.get("SARLANG1M_FUZZ_HANG_SECONDS", "10"))


def fuzz_settings(examples: int) -> settings:
    """``examples`` times the scale, a deadline that flags slow inputs, no health check on slow data."""
    return settings(
        max_examples=max(1, round(examples * SCALE)),
        deadline=timedelta(seconds=3),
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
    )


def corpus_files(suffix: str) -> list[Path]:
    """The stored regression inputs ending in ``suffix`` (e.g. ``.tif``), sorted."""
    return sorted(p for p in CORPUS.iterdir() if p.name.endswith(suffix))


class _Hang(BaseException):
    """Raised by the timer; a BaseException so that no ``except Exception`` under test can swallow it."""


@contextlib.contextmanager
def time_limit(seconds: float = HANG_SECONDS) -> Iterator[None]:
    """Fail (AssertionError) if the block runs longer than ``seconds``: a hang becomes a test failure.

    Uses SIGALRM, so only where the platform has it and in the main thread; elsewhere it only runs the block.
    """
    if not hasattr(signal, "setitimer"):
        yield
        return

    def interrupt(signum: int, frame: object) -> None:
        raise _Hang

    previous = signal.signal(signal.SIGALRM, interrupt)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    except _Hang:
        raise AssertionError(f"no result within {seconds} s: a hang") from None
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
