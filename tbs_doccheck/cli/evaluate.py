"""The ``eval`` command: score the checker on a labelled set."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from tbs_doccheck.cli.exit_codes import EXIT_ERROR


def eval_command(
    labelled: Annotated[Path, typer.Argument(help="A labelled JSON Lines set (elements.md format).")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the metrics as JSON.")] = False,
) -> None:
    """Score the checker on a labelled set: per-element P/R/F1, verdict accuracy, false passes, misses."""
    from tbs_doccheck.checker.core import get_checker
    from tbs_doccheck.evaluate import LabelledSetError, evaluate, load_labelled, render_eval

    try:
        labels = load_labelled(labelled)
    except (OSError, LabelledSetError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(EXIT_ERROR) from None
    checker = get_checker()
    from tbs_doccheck.models import ReportInput

    results = list(checker.check_many(ReportInput(id=lab.id, text=lab.text) for lab in labels))
    rep = evaluate(labels, results)
    typer.echo(rep.model_dump_json(indent=2) if as_json else render_eval(rep), nl=not as_json)
