"""The ``tbs-doccheck`` command line: a thin surface over the Python API that behaves like a linter."""

from __future__ import annotations

import logging
import os
import sys
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from enum import Enum
from pathlib import Path
from typing import IO, Annotated

import typer

from .models import ELEMENT_IDS, CheckResult

app = typer.Typer(
    name="tbs-doccheck",
    help="Check TBS interpretation reports against the CPT 77092 documentation requirements.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
log = logging.getLogger("tbs_doccheck")

EXIT_PASS, EXIT_FAIL, EXIT_ERROR = 0, 1, 2


class OutputFormat(str, Enum):
    """Output formats of ``check``."""

    text = "text"
    json = "json"
    jsonl = "jsonl"
    csv = "csv"


def _setup_logging(verbose: int) -> None:
    level = logging.WARNING - 10 * min(verbose, 2)
    logging.basicConfig(stream=sys.stderr, level=level, format="%(levelname)s %(name)s: %(message)s")


@app.callback()
def _main(verbose: Annotated[int, typer.Option("--verbose", "-v", count=True, help="More log output on stderr.")] = 0) -> None:
    _setup_logging(verbose)


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


def exit_code(verdicts: Iterable[str]) -> int:
    """0 all pass, 1 some fail, 2 any input could not be read."""
    code = EXIT_PASS
    for v in verdicts:
        if v == "error":
            return EXIT_ERROR
        if v == "fail":
            code = EXIT_FAIL
    return code


@app.command()
def check(
    paths: Annotated[list[Path], typer.Argument(help="Report files or folders (searched recursively).")],
    fmt: Annotated[OutputFormat, typer.Option("--format", "-f", help="Output format.")] = OutputFormat.text,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write results here instead of stdout.")] = None,
) -> None:
    """Check reports; exit 0 when all pass, 1 when some fail, 2 when an input could not be read."""
    from .api import get_checker
    from .read import discover, iter_inputs
    from .report import RENDERERS

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
    raise typer.Exit(exit_code(verdicts))


@app.command("eval")
def eval_command(
    labelled: Annotated[Path, typer.Argument(help="A labelled JSON Lines set (elements.md format).")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the metrics as JSON.")] = False,
) -> None:
    """Score the checker on a labelled set: per-element P/R/F1, verdict accuracy, false passes, misses."""
    from .api import get_checker
    from .evaluate import LabelledSetError, evaluate, load_labelled, render_eval

    try:
        labels = load_labelled(labelled)
    except (OSError, LabelledSetError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(EXIT_ERROR) from None
    checker = get_checker()
    from .models import ReportInput

    results = list(checker.check_many(ReportInput(id=lab.id, text=lab.text) for lab in labels))
    rep = evaluate(labels, results)
    typer.echo(rep.model_dump_json(indent=2) if as_json else render_eval(rep), nl=not as_json)


@app.command()
def explain(what: Annotated[str, typer.Argument(help="An element id (e.g. tbs_value) or a rule id (e.g. C-NEG-NO).")]) -> None:
    """Say what an element or a rule checks, and why."""
    from .rules import load_patterns
    from .score import ELEMENT_DOCS, REQUIREMENTS

    if what in ELEMENT_IDS:
        reqs = [f"{rid} ({title})" for rid, title, els in REQUIREMENTS if what in els]
        typer.echo(f"{what}\n\n{ELEMENT_DOCS[what]}\n\nFeeds requirement(s): {', '.join(reqs)}")
        return
    pset = load_patterns()
    index = pset.rule_index()
    if what not in index:
        typer.echo(f"error: unknown element or rule id {what!r}; expected one of {', '.join(ELEMENT_IDS)} or a rule id "
                   f"such as {', '.join(sorted(index)[:4])}…", err=True)
        raise typer.Exit(EXIT_ERROR)
    typer.echo(f"{what}: {index[what]}")
    for group, rules in (("section rule", pset.sections), ("target rule", pset.targets), ("ConText rule", pset.context)):
        for rule in rules:
            if rule.metadata.id == what:
                typer.echo(f"kind: {group}; category: {rule.category}")
                if rule.metadata.reason:
                    typer.echo(f"why it counts: {rule.metadata.reason}")
                if isinstance(rule.pattern, str):
                    typer.echo(f"pattern: {rule.pattern}")


def _register_subcommands() -> None:
    # The audit, benchmark, pre-bill hook and server live in their own modules; the CLI only wires them.
    from .audit import audit_command
    from .bench import bench_command
    from .prebill_cli import prebill_command, serve_command

    app.command("audit")(audit_command)
    app.command("prebill")(prebill_command)
    app.command("serve")(serve_command)
    app.command("bench")(bench_command)


_register_subcommands()


def main() -> None:
    """Console entry point."""
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
