"""Short waits in huggingface_hub's retry loop, for client processes started with ``fast_backoff(env)``. TEST ONLY.

Mirrors no endpoint. huggingface_hub retries dropped connections and 429/5xx answers in
``utils/_http.py`` (waits of 1 s doubling up to 8 s, or ``Retry-After`` + 1 s): a test of a failure that
outlasts every retry would sleep about half a minute per call. Python imports this module at start-up
when its folder is on ``PYTHONPATH``; it makes that loop's one ``time.sleep`` wait
``HUB_TEST_BACKOFF_SCALE`` of each wait. The retries themselves are all still made, in the same order.
"""

from __future__ import annotations

import os
import time
import types

from huggingface_hub.utils import _http

_SCALE = float(os.environ["HUB_TEST_BACKOFF_SCALE"])
_clock = types.SimpleNamespace(**{name: getattr(time, name) for name in dir(time) if not name.startswith("_")})
_clock.sleep = lambda seconds: time.sleep(seconds * _SCALE)
_http.time = _clock  # type: ignore[assignment]  # the module's only use of time is that sleep
