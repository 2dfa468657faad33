"""The Typer app: global options and the wiring of one module per command."""

from __future__ import annotations

from typing import Annotated

import typer

from tbs_doccheck.cli.audit import audit_command
from tbs_doccheck.cli.bench import bench_command
from tbs_doccheck.cli.check import check
from tbs_doccheck.cli.common import VerboseOption, set_root_verbosity, version_callback, with_verbose_option
from tbs_doccheck.cli.evaluate import eval_command
from tbs_doccheck.cli.explain import explain
from tbs_doccheck.cli.prebill import prebill_command
from tbs_doccheck.cli.queries import queries_command, recheck_command
from tbs_doccheck.cli.serve import serve_command

app = typer.Typer(
    name="tbs-doccheck",
    help="Check TBS interpretation reports against the CPT 77092 documentation requirements.",
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
    # Plain click-style help and errors, as linters print them: no "<bool>" beside every flag.
    rich_markup_mode=None,
)


@app.callback()
def _main(
    verbose: VerboseOption = 0,
    version: Annotated[bool, typer.Option(
        "--version", callback=version_callback, is_eager=True, help="Print the version and exit.")] = False,
) -> None:
    set_root_verbosity(verbose)


app.command()(check)
app.command("eval")(eval_command)
app.command()(explain)
app.command("audit")(audit_command)
app.command("prebill")(prebill_command)
app.command("serve")(serve_command)
app.command("bench")(bench_command)
app.command("queries")(queries_command)
app.command("recheck")(recheck_command)

# -v/--verbose after the command too (`tbs-doccheck check -v …`), feeding the same logging set-up.
for _info in app.registered_commands:
    _info.callback = with_verbose_option(_info.callback)


def main() -> None:
    """Console entry point."""
    app()
