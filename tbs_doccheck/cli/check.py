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

from tbs_doccheck.cli.common import require_existing, require_reports
from tbs_doccheck.cli.exit_codes import fail, for_verdicts
from tbs_doccheck.models import CheckResult, ErrorCode, ReadError, ReportInput
from tbs_doccheck.readers import DEFAULT_MAX_BYTES

log = logging.getLogger("tbs_doccheck")

#: How a report read from stdin is named in the results.
STDIN_ID, STDIN_SOURCE = "stdin", "<stdin>"


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


def _stdout_is_terminal() -> bool:
    return sys.stdout.isatty()


def use_colour(output: Path | None) -> bool:
    """Colour the text output only on a terminal, and never when ``NO_COLOR`` is set (https://no-color.org)."""
    return output is None and not os.environ.get("NO_COLOR") and _stdout_is_terminal()


def read_stdin_report(max_bytes: int = DEFAULT_MAX_BYTES) -> ReportInput:
    """One plain-text report read from stdin (``check -``), decoded as a ``.txt`` file is; never raises."""
    from tbs_doccheck.readers.base import _Unreadable
    from tbs_doccheck.readers.files import _require_text, _too_large
    from tbs_doccheck.readers.text import _decode_text

    data = sys.stdin.buffer.read(max_bytes + 1)
    try:
        if len(data) > max_bytes:
            raise _Unreadable(ErrorCode.TOO_LARGE, _too_large(len(data), max_bytes, at_least=True))
        if not data.strip():
            raise _Unreadable(ErrorCode.EMPTY, "is empty (expected report text)")
        text = _require_text(_decode_text(data))
    except _Unreadable as exc:
        return ReportInput(id=STDIN_ID, source=STDIN_SOURCE,
                           error=ReadError(code=exc.code, message=f"{STDIN_SOURCE}: {exc.problem}"))
    return ReportInput(id=STDIN_ID, text=text, source=STDIN_SOURCE)


def check(
    paths: Annotated[list[Path], typer.Argument(
        metavar="PATH", show_default=False,
        help="Report files or folders (searched recursively), or - to read one plain-text report from stdin.")],
    fmt: Annotated[OutputFormat, typer.Option("--format", "-f", help="Output format.")] = OutputFormat.text,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write results here instead of stdout.")] = None,
    quiet: Annotated[bool, typer.Option(
        "--quiet", "-q", help="Text format: print only failing and unreadable reports, and the summary line.")] = False,
) -> None:
    """Check reports; exit 0 when all pass, 1 when some fail, 2 when an input could not be read."""
    from tbs_doccheck.checker.core import get_checker
    from tbs_doccheck.readers import discover, iter_inputs
    from tbs_doccheck.render.tabular import RENDERERS, render_text

    if hasattr(sys.stdout, "reconfigure"):
        sys.stdout.reconfigure(errors="backslashreplace")  # keep stdout valid UTF-8 whatever the file names
    from_stdin = [str(p) for p in paths] == ["-"]
    if not from_stdin:
        if any(str(p) == "-" for p in paths):
            fail("- (a report on stdin) cannot be combined with other paths")
        require_existing(paths)
        supported, skipped = discover(paths)
        for p in skipped:
            log.warning("skipped %s: not a supported report type", p)
        require_reports(paths, supported, skipped)
    inputs = iter([read_stdin_report()]) if from_stdin else iter_inputs(paths)
    checker = get_checker()
    verdicts: list[str] = []

    def results() -> Iterator[CheckResult]:
        for r in checker.check_many(inputs):
            verdicts.append(r.verdict)
            yield r

    if fmt is OutputFormat.text:
        chunks = render_text(results(), quiet=quiet, colour=use_colour(output))
    else:
        chunks = RENDERERS[fmt.value](results())
    with open_output(output) as out:
        for chunk in chunks:
            out.write(chunk)
    raise typer.Exit(for_verdicts(verdicts))
