"""The ``explain`` command: what an element or a rule means."""

from __future__ import annotations

from typing import Annotated

import typer

from tbs_doccheck.cli.exit_codes import EXIT_ERROR
from tbs_doccheck.models import ELEMENT_IDS


def explain(
    what: Annotated[str, typer.Argument(help="An element id (e.g. tbs_value) or a rule id (e.g. C-NEG-NO).")],
) -> None:
    """Say what an element or a rule checks, and why."""
    from tbs_doccheck.checker.patterns import load_patterns
    from tbs_doccheck.resources import element_catalogue

    if what in ELEMENT_IDS:
        catalogue = element_catalogue()
        reqs = [f"{r.id} ({r.title})" for r in catalogue.requirements if what in r.elements]
        typer.echo(f"{what}\n\n{catalogue.entry(what).definition}\n\nFeeds requirement(s): {', '.join(reqs)}")
        return
    pset = load_patterns()
    index = pset.rule_index()
    if what not in index:
        typer.echo(f"error: unknown element or rule id {what!r}; expected one of {', '.join(ELEMENT_IDS)} or a rule id "
                   f"such as {', '.join(sorted(index)[:4])}…", err=True)
        raise typer.Exit(EXIT_ERROR)
    typer.echo(f"{what}: {index[what]}")
    for group, rules in (
        ("section rule", pset.sections),
        ("target rule", pset.targets),
        ("ConText rule", pset.context),
    ):
        for rule in rules:
            if rule.metadata.id == what:
                typer.echo(f"kind: {group}; category: {rule.category}")
                if rule.metadata.reason:
                    typer.echo(f"why it counts: {rule.metadata.reason}")
                if isinstance(rule.pattern, str):
                    typer.echo(f"pattern: {rule.pattern}")
