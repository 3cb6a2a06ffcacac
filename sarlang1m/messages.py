"""How a message names what the user gave: an option in both its spellings, and a path as the user gave it.

The same functions run from the CLI and from Python, so a hint names an option both ways
(``--overwrite (overwrite=True in Python)``). Commands write into hidden paths beside their output (a
build's ``.NAME.building-PID``, an atomic write's ``.NAME.partial-PID``) and move the result into place;
an operating-system error met there would name a path the user never typed. `naming` re-raises such an
error naming the user's path instead: every command that works in a hidden path writes inside it.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

from .errors import SarlangError


def option_hint(argument: str, value: str | None = None) -> str:
    """An option as the CLI and Python spell it: a flag, ``--allow-missing (allow_missing=True in Python)``,
    or one with a value, ``--sardet-root DIR (sardet_root=DIR in Python)``."""
    option = f"--{argument.replace('_', '-')}"
    if value is None:
        return f"{option} ({argument}=True in Python)"
    return f"{option} {value} ({argument}={value} in Python)"


@contextlib.contextmanager
def naming(shown: str | os.PathLike, *hidden: str | os.PathLike) -> Iterator[None]:
    """Inside the block, an OSError on a path in one of the `hidden` paths is raised naming `shown` instead.

    A hidden path itself becomes `shown`, a file inside it the same file inside `shown` (the first hidden
    path that holds it decides), so a full disk reads ``OUT/data/vqa/...parquet: No space left on device``.
    """
    try:
        yield
    except OSError as error:
        if isinstance(error, SarlangError) or error.errno is None:
            raise
        roots = [Path(h) for h in hidden]
        filenames = [_as_shown(name, Path(shown), roots) for name in (error.filename, error.filename2)]
        if filenames == [error.filename, error.filename2]:
            raise
        # OSError(errno, ...) gives the subclass of that errno (PermissionError, FileExistsError, ...)
        raise OSError(error.errno, error.strerror, filenames[0], None, filenames[1]) from error


def _as_shown(name: object, shown: Path, hidden: list[Path]) -> object:
    if not isinstance(name, (str, os.PathLike)) or isinstance(os.fspath(name), bytes):
        return name
    path = Path(os.fspath(name))
    for root in hidden:
        if path == root:
            return str(shown)
        if path.is_relative_to(root):
            return str(shown / path.relative_to(root))
    return name
