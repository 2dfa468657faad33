"""The Typer app: global options and the wiring of one module per command."""

from __future__ import annotations

import logging
import sys
from typing import Annotated

import typer

from tbs_doccheck.cli.audit import audit_command
from tbs_doccheck.cli.bench import bench_command
from tbs_doccheck.cli.check import check
from tbs_doccheck.cli.evaluate import eval_command
from tbs_doccheck.cli.explain import explain
from tbs_doccheck.cli.prebill import prebill_command
from tbs_doccheck.cli.serve import serve_command

app = typer.Typer(
    name="tbs-doccheck",
    help="Check TBS interpretation reports against the CPT 77092 documentation requirements.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _setup_logging(verbose: int) -> None:
    level = logging.WARNING - 10 * min(verbose, 2)
    logging.basicConfig(stream=sys.stderr, level=level, format="%(levelname)s %(name)s: %(message)s")


@app.callback()
def _main(
    verbose: Annotated[int, typer.Option("--verbose", "-v", count=True, help="More log output on stderr.")] = 0,
) -> None:
    _setup_logging(verbose)


app.command()(check)
app.command("eval")(eval_command)
app.command()(explain)
app.command("audit")(audit_command)
app.command("prebill")(prebill_command)
app.command("serve")(serve_command)
app.command("bench")(bench_command)


def main() -> None:
    """Console entry point."""
    app()
