"""The package's expected failures: one base class, a few kinds, each with its exit status.

A failure a user can cause or meet (bad input, a damaged release, the network, the Hub) is raised as a
`SarlangError`: the CLI prints it as one line that says what failed and what to do next, and exits with
the kind's status. Anything else is a bug in this package and keeps its traceback. Each class also
derives from the built-in type callers caught before it existed (`ValueError`, `OSError`, ...), so
``except ValueError`` in user code keeps working.

Exit statuses (documented in docs/robustness.md):

=====  =======================================================================================
0      success
1      a check ran and found problems (`verify`, the verification step of `push`)
2      bad input or usage: arguments, files, a release that is not what it claims to be
3      the Hub, a judge endpoint or the network failed, or refused (authentication, permission, limits)
4      a needed optional dependency is not installed
130    interrupted (Ctrl-C)
=====  =======================================================================================
"""

from __future__ import annotations

import re

EXIT_OK = 0
EXIT_CHECK_FAILED = 1
EXIT_INPUT = 2
EXIT_REMOTE = 3
EXIT_MISSING_EXTRA = 4
EXIT_INTERRUPTED = 130

#: Set to 1 to get the traceback of an expected failure too (the CLI's --debug does the same).
DEBUG_ENVIRONMENT_VARIABLE = "SARLANG1M_DEBUG"


class SarlangError(Exception):
    """Base of every failure the package expects; `exit_code` is what the CLI exits with."""

    exit_code = EXIT_INPUT


class InputError(SarlangError, ValueError):
    """Bad input a user gave: an argument, a file, a row, a field. The message names which."""


class OutputExistsError(InputError, FileExistsError):
    """The output path exists and the command would not replace it; the message names the flag that does."""


class NotFoundError(InputError, FileNotFoundError):
    """A file, folder, Hub repo or revision the user named does not exist."""


class ReleaseError(InputError):
    """A release folder or Hub revision is not a release this package can use (missing, malformed)."""


class VerificationError(SarlangError):
    """Files do not match the MANIFEST, or a tag does not point where it was published."""

    exit_code = EXIT_CHECK_FAILED


class RemoteError(SarlangError, OSError):
    """The Hub, a judge endpoint or the network failed or refused; the message says what state was left
    and what to run next."""

    exit_code = EXIT_REMOTE


class MissingExtraError(SarlangError, ImportError):
    """An optional dependency is needed for this feature; the message gives the pip command."""

    exit_code = EXIT_MISSING_EXTRA


def missing_extra(package: str, feature: str, extra: str | None = None) -> MissingExtraError:
    """The error for a feature whose optional package is not installed."""
    install = f"pip install 'sarlang1m[{extra}]'" if extra else f"pip install {package}"
    return MissingExtraError(f"{feature}: needs {package}; install it with: {install}")


#: Characters that can drive a terminal or reorder what it shows: C0 and C1 controls, DEL, and the
#: Unicode marks that change the direction of text.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def has_control_characters(text: str) -> bool:
    """Whether `text` holds a character `printable` would escape."""
    return _CONTROL.search(text) is not None


def printable(text: str, *, keep_newlines: bool = False) -> str:
    """`text` with every control character escaped as Python writes it (``\\x1b``, ``\\u202e``), so that a
    path or value read from someone's files cannot move the cursor, recolour or reorder a message.
    ``keep_newlines`` leaves line breaks of a message of several lines as they are."""

    def escape(match: re.Match[str]) -> str:
        char = match.group()
        return char if keep_newlines and char == "\n" else char.encode("unicode_escape").decode("ascii")

    return _CONTROL.sub(escape, text)
