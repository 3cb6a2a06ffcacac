"""`sarlang1m`: thin commands over the package's functions (each one is callable from Python too).

`parser` reads the command line, `commands` runs each command (the package's functions, results printed);
`main` runs a command and turns an expected failure into one line and its exit status.
"""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from collections.abc import Callable, Sequence

from ..errors import DEBUG_ENVIRONMENT_VARIABLE, EXIT_INPUT, EXIT_INTERRUPTED, SarlangError, printable
from .parser import build_parser

__all__ = ["EXIT_BROKEN_PIPE", "build_parser", "main"]

#: Exit status after stdout was closed by the reader (`sarlang1m ... | head`): 128 + SIGPIPE, as a shell reports.
EXIT_BROKEN_PIPE = 141


def main(argv: Sequence[str] | None = None) -> None:
    """Run a command; expected failures end in one line on stderr and their exit status (see `errors`).

    Only `SarlangError`s and operating-system errors on a named file (a path that does not exist, cannot be
    read or written, a full disk) are expected; anything else is a bug and keeps its traceback. `--debug`
    or SARLANG1M_DEBUG=1 shows the traceback of expected failures too.
    """
    args = build_parser().parse_args(argv)
    run: Callable[[argparse.Namespace], None] = args.run
    debug = args.debug or os.environ.get(DEBUG_ENVIRONMENT_VARIABLE, "") not in ("", "0")
    try:
        run(args)
    except BrokenPipeError:
        # The reader went away (`| head`): say nothing more, and keep Python from failing to flush at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        raise SystemExit(EXIT_BROKEN_PIPE) from None
    except KeyboardInterrupt:
        print(f"sarlang1m {args.command}: interrupted", file=sys.stderr)
        raise SystemExit(EXIT_INTERRUPTED) from None
    except (SarlangError, OSError) as error:
        expected = isinstance(error, SarlangError) or error.filename is not None
        if not expected:
            raise
        if debug:
            traceback.print_exc()
        status = error.exit_code if isinstance(error, SarlangError) else EXIT_INPUT
        print(f"sarlang1m {args.command}: error: {_message(error)}", file=sys.stderr)
        raise SystemExit(status) from None


def _message(error: BaseException) -> str:
    """The error as text; an OSError on a file as "PATH: reason" (its str() repeats errno and quotes).

    Control characters are escaped: a message may quote a path or value from someone else's release.
    """
    if isinstance(error, OSError) and not isinstance(error, SarlangError) and error.filename is not None:
        return printable(f"{error.filename}: {error.strerror or error}")
    return printable(str(error), keep_newlines=True)
