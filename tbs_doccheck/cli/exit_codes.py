"""The command line's exit codes, defined once, and the one way a command stops on an error."""

from collections.abc import Iterable
from typing import NoReturn

import typer

#: Every report passed / every claim released.
EXIT_PASS = 0
#: Some report failed / some claim held or sent to review.
EXIT_FAIL = 1
#: Usage error, or an input that could not be read (the other inputs are still reported).
EXIT_ERROR = 2
#: ``prebill`` only: an internal error, no decision was made.
EXIT_INTERNAL = 3
#: Interrupted (Ctrl-C); an audit keeps its finished files for ``--resume``.
EXIT_INTERRUPTED = 130


def for_verdicts(verdicts: Iterable[str]) -> int:
    """0 all pass, 1 some fail, 2 any input could not be read."""
    code = EXIT_PASS
    for v in verdicts:
        if v == "error":
            return EXIT_ERROR
        if v == "fail":
            code = EXIT_FAIL
    return code


def for_counts(*, reports: int, failed: int, errors: int) -> int:
    """The same codes from totals: 2 when anything was unreadable or nothing was found."""
    if errors or not reports:
        return EXIT_ERROR
    return EXIT_FAIL if failed else EXIT_PASS


def fail(message: str, code: int = EXIT_ERROR) -> NoReturn:
    """Say what went wrong on stderr (never report text) and exit with ``code``."""
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)
