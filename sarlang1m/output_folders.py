"""Where a command may write the folder it makes, and how the finished folder takes its place at once.

`build`, `synth` and `demo` share one rule, checked before any work (`check_output_folder`): the output is
a new path or an empty folder, or, when the caller allows it, an earlier output of this package that its
marker proves (a release's MANIFEST.json, the demo's marker file). It is never one of the command's
inputs, a folder that holds one or a folder inside one, never a file, a symbolic link or someone's folder
of files. Every refusal names the path as the user gave it.

The command then writes into a hidden sibling work folder (`work_folder`) and renames it into place at
the end (`swap_into_place`): an interrupted command leaves nothing that looks complete, and an earlier
output is replaced only by a complete one. Work folders of processes that were killed are found by
their process id and removed by the next run.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from . import schema
from .errors import InputError, OutputExistsError
from .messages import naming, option_hint


@dataclass(frozen=True)
class Replaceable:
    """An earlier output a command may replace: its name in a refusal, how to recognise it, and the
    argument that asks for it (None: replaced without asking, as the demo replaces its own output)."""

    name: str
    test: Callable[[Path], bool]
    option: str | None = "overwrite"


def is_release_folder(folder: Path) -> bool:
    """Whether `folder` holds the MANIFEST.json of a release `build` wrote (any format version)."""
    manifest = folder / schema.MANIFEST_FILE
    if manifest.is_symlink() or not manifest.is_file():
        return False
    try:
        content = json.loads(manifest.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(content, dict) and content.get("dataset") == schema.PRETTY_NAME and "files" in content


#: What `build --overwrite` may replace.
RELEASE_FOLDER = Replaceable("a release folder written by sarlang1m build", is_release_folder)


def check_output_folder(
    out: str | os.PathLike,
    *,
    inputs: Iterable[str | os.PathLike] = (),
    replaceable: Replaceable | None = None,
    overwrite: bool = False,
) -> bool:
    """Refuse an output folder the command must not write (see the module docstring).

    Returns True when `out` holds an earlier output that the finished one will replace.
    """
    out = Path(out)
    check_can_create(out)
    if out.is_symlink():
        raise OutputExistsError(f"{out} is a symbolic link: it is never replaced; give another output folder")
    if out.exists() and not out.is_dir():
        raise OutputExistsError(f"{out} is a file, not a folder: it is never replaced; give another output folder")
    _check_apart_from_inputs(out, inputs)
    if not out.exists() or not any(out.iterdir()):
        return False
    if replaceable is None:
        raise OutputExistsError(f"{out} is not empty: give a new or empty folder")
    if not replaceable.test(out):
        raise OutputExistsError(
            f"{out} is not empty and is not {replaceable.name}: it is never replaced; "
            "give another output folder, or empty this one yourself"
        )
    if replaceable.option is not None and not overwrite:
        hint = option_hint(replaceable.option)
        raise OutputExistsError(f"{out} exists and is {replaceable.name}; pass {hint} to replace it")
    return True


def check_can_create(out: Path) -> None:
    """The nearest existing folder above `out` must be a folder this process may write in (a file or a folder
    to be made there could never be created: say so before any work, naming the path the user gave)."""
    for above in out.parents:
        if not (above.exists() or above.is_symlink()):
            continue
        if not above.is_dir():
            raise InputError(f"{out}: cannot be created: {above} is a file, not a folder")
        if not os.access(above, os.W_OK | os.X_OK):
            raise InputError(f"{out}: cannot be created: {above} is not writable; give a folder you can write in")
        return


def _check_apart_from_inputs(out: Path, inputs: Iterable[str | os.PathLike]) -> None:
    """Refuse an output that is an input, holds one, or lies inside one (the swap would delete or nest it)."""
    target = out.resolve()
    for given in inputs:
        source = Path(given).resolve()
        if target == source:
            relation = "is"
        elif target in source.parents:
            relation = "holds"
        elif source in target.parents:
            relation = "is inside"
        else:
            continue
        raise InputError(f"{out} {relation} the input {given}: give an output folder outside the input")


def work_folder(out: Path, kind: str) -> Path:
    """A new hidden sibling of `out`, ``.NAME.KIND-PID``, to write in; those of killed runs are removed first."""
    remove_stale(out, kind)
    work = out.parent / f".{out.name}.{kind}-{os.getpid()}"
    shutil.rmtree(work, ignore_errors=True)
    with naming(out, work):
        work.mkdir(parents=True)
    return work


def swap_into_place(finished: Path, out: Path) -> None:
    """Rename the finished folder onto `out`; an earlier output (a folder) is moved aside first, then deleted."""
    old = out.parent / f".{out.name}.old-{os.getpid()}"
    with naming(out, finished, old):
        if out.exists():
            out.rename(old)
        finished.rename(out)
    shutil.rmtree(old, ignore_errors=True)


def remove_stale(out: Path, kind: str) -> None:
    """Delete the work folders (and set-aside earlier outputs) of runs for `out` whose process is gone."""
    for pattern in (f".{out.name}.{kind}-*", f".{out.name}.old-*"):
        for stale in out.parent.glob(pattern):
            pid = stale.name.rsplit("-", 1)[-1]
            if pid.isdigit() and not _alive(int(pid)) and stale.is_dir() and not stale.is_symlink():
                shutil.rmtree(stale, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
