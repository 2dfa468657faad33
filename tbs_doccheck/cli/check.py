"""The ``check`` command: check report files and print results like a linter."""

from __future__ import annotations

import logging
import os
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import IO, Annotated

import typer

from tbs_doccheck.cli.exit_codes import EXIT_ERROR, for_verdicts
from tbs_doccheck.models import CheckResult

log = logging.getLogger("tbs_doccheck")


class OutputFormat(StrEnum):
    """Output formats of ``check``."""

    text = "text"
    json = "json"
    jsonl = "jsonl"
    csv = "csv"


@contextmanager
def open_output(path: Path | None) -> Iterator[IO[str]]:
    """stdout, or a file written atomically (a temp file renamed into place on success)."""
    if path is None:
        yield sys.stdout
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    try:
        # backslashreplace: a file name that is not UTF-8 must not abort the write.
        with os.fdopen(fd, "w", encoding="utf-8", newline="", errors="backslashreplace") as fh:
            yield fh
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise



def check(
    paths: Annotated[list[Path], typer.Argument(help="Report files or folders (searched recursively).")],
    fmt: Annotated[OutputFormat, typer.Option("--format", "-f", help="Output format.")] = OutputFormat.text,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write results here instead of stdout.")] = None,
) -> None:
    """Check reports; exit 0 when all pass, 1 when some fail, 2 when an input could not be read."""
    from tbs_doccheck.checker.core import get_checker
    from tbs_doccheck.readers import discover, iter_inputs
    from tbs_doccheck.render.tabular import RENDERERS

    if hasattr(sys.stdout, "reconfigure"):
        sys.stdout.reconfigure(errors="backslashreplace")  # keep stdout valid UTF-8 whatever the file names
    _, skipped = discover(paths)
    for p in skipped:
        log.warning("skipped %s: not a supported report type", p)
    checker = get_checker()
    verdicts: list[str] = []

    def results() -> Iterator[CheckResult]:
        for r in checker.check_many(iter_inputs(paths)):
            verdicts.append(r.verdict)
            yield r

    with open_output(output) as out:
        for chunk in RENDERERS[fmt.value](results()):
            out.write(chunk)
    if not verdicts:
        typer.echo("error: no supported report files found in the given paths", err=True)
        raise typer.Exit(EXIT_ERROR)
    raise typer.Exit(for_verdicts(verdicts))
