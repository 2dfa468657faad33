"""What every command shares: logging verbosity (``-v`` before or after the command), ``--version``, path checks."""

from __future__ import annotations

import functools
import inspect
import logging
import os
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Annotated, Any

import typer

from tbs_doccheck.cli.exit_codes import fail

LOG_FORMAT = "%(levelname)s %(name)s: %(message)s"

#: ``-v`` counted on the root command (``tbs-doccheck -v check …``); a command's own ``-v`` adds to it.
_root_verbosity = 0

VerboseOption = Annotated[
    int,
    typer.Option("--verbose", "-v", count=True, show_default=False, help="More log output on stderr (-vv: debug)."),
]


def setup_logging(verbose: int) -> None:
    """Log to stderr at WARNING, INFO (``-v``) or DEBUG (``-vv``); a later call only ever makes it more verbose."""
    level = logging.WARNING - 10 * min(verbose, 2)
    root = logging.getLogger()
    if not root.handlers:
        logging.basicConfig(stream=sys.stderr, level=level, format=LOG_FORMAT)
    elif verbose and (root.level == logging.NOTSET or root.level > level):
        root.setLevel(level)


def set_root_verbosity(verbose: int) -> None:
    """The root callback's ``-v`` count: logging is set up with it, and a command's ``-v`` adds to it."""
    global _root_verbosity
    _root_verbosity = verbose
    setup_logging(verbose)


def with_verbose_option(command: Callable[..., Any]) -> Callable[..., Any]:
    """``command`` with a ``-v/--verbose`` option of its own, so ``tbs-doccheck check -v …`` works like ``-v check``.

    The option is added to the signature Typer reads; the command itself never sees it.
    """
    signature = inspect.signature(command, eval_str=True)
    if "verbose" in signature.parameters:
        return command  # the command handles -v itself

    @functools.wraps(command)
    def wrapper(*args: Any, verbose: int = 0, **kwargs: Any) -> Any:
        if verbose:
            setup_logging(_root_verbosity + verbose)
        return command(*args, **kwargs)

    param = inspect.Parameter("verbose", inspect.Parameter.KEYWORD_ONLY, default=0, annotation=VerboseOption)
    params = list(signature.parameters.values())
    # A **kwargs parameter must stay last.
    at = next((i for i, p in enumerate(params) if p.kind is inspect.Parameter.VAR_KEYWORD), len(params))
    params.insert(at, param)
    wrapper.__signature__ = signature.replace(parameters=params)  # type: ignore[attr-defined]
    wrapper.__annotations__ = {**getattr(command, "__annotations__", {}), "verbose": VerboseOption}
    return wrapper


def version_callback(value: bool) -> None:
    """``--version``: print the tool's version and exit 0."""
    if value:
        from tbs_doccheck._version import __version__

        typer.echo(f"tbs-doccheck {__version__}")
        raise typer.Exit(0)


def supported_types() -> str:
    """The report file types the readers know, as ``.docx, .hl7, …``."""
    from tbs_doccheck.readers import SUPPORTED_SUFFIXES

    return ", ".join(sorted(SUPPORTED_SUFFIXES))


def require_existing(paths: Iterable[Path]) -> None:
    """A usage error (exit 2), before anything is read or written, for each given path that does not exist.

    A symlink counts as existing even when it dangles: the readers report it (E001) with the other files.
    """
    missing = [str(p) for p in paths if str(p) != "-" and not os.path.lexists(p)]
    if missing:
        names = ", ".join(missing)
        fail(f"no such file or folder: {names}" if len(missing) == 1 else f"no such files or folders: {names}")


def require_reports(paths: Iterable[Path], supported: list[Any], skipped: list[Any]) -> None:
    """A usage error (exit 2) when ``paths`` hold no report file: names the paths and the supported types."""
    if supported:
        return
    given = ", ".join(str(p) for p in paths)
    other = f"; {len(skipped)} file(s) of other types skipped" if skipped else ""
    fail(f"no supported report files found in {given} (supported types: {supported_types()}){other}")


def require_fresh_out(out: Path, *, resume: bool, force: bool) -> None:
    """A usage error (exit 2) when ``out`` already holds an audit, unless the user said what to do with it.

    An audit there (``summary.json``) or an interrupted one (its journal) is kept unless ``--force``
    replaces it; ``--resume`` continues (or redoes) it.
    """
    from tbs_doccheck.audit.journal import JOURNAL_NAME

    if resume or force:
        return
    if (out / JOURNAL_NAME).exists():
        fail(f"{out} holds an interrupted audit: --resume finishes it, --force starts over in it")
    if (out / "summary.json").exists():
        fail(f"{out} already holds an audit (summary.json): choose another --out, or --force to replace it")
