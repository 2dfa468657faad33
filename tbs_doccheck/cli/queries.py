"""The ``queries`` and ``recheck`` commands: physician queries for an audit's failing reports, and the re-check
after the reports are amended. Nothing read from a report is printed: counts and paths only."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from tbs_doccheck.cli.exit_codes import EXIT_ERROR, EXIT_FAIL, EXIT_PASS

if TYPE_CHECKING:
    from tbs_doccheck.queries import QueriesReport

AuditDir = Annotated[Path, typer.Argument(help="The --out folder of an audit.", file_okay=False)]


def queries_line(report: QueriesReport) -> str:
    """What ``write_queries`` wrote, in a line or two (no names: counts per signer are in queries/summary.json)."""
    lines = [
        f"queries: {report.queried} failing report(s) in {len(report.letters)} letter(s) "
        f"({report.passed} passing and {report.unreadable} unreadable report(s) not queried)",
        f"written to {report.folder} (worklist.csv; counts per signer in summary.json)",
    ]
    if report.changed:
        lines.append(f"{report.changed} file(s) changed since the audit: `tbs-doccheck recheck` checks them again")
    return "\n".join(lines)


def write_queries_or_exit(audit_dir: Path) -> str:
    """Write the queries of an audit folder; on a problem say so and exit 2."""
    from tbs_doccheck.queries import QueryError, write_queries
    from tbs_doccheck.resources import PatternError

    try:
        return queries_line(write_queries(audit_dir))
    except (QueryError, PatternError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(EXIT_ERROR) from None
    except OSError as exc:
        typer.echo(f"error: {exc.strerror or type(exc).__name__}: {exc.filename or audit_dir}", err=True)
        raise typer.Exit(EXIT_ERROR) from None


def queries_command(audit_dir: AuditDir) -> None:
    """Write AUDIT_DIR/queries/: one .docx query letter per signer for the failing reports, worklist.csv."""
    typer.echo(write_queries_or_exit(audit_dir))


def recheck_command(
    audit_dir: AuditDir,
    exit_zero: Annotated[bool, typer.Option("--exit-zero", help="Exit 0 even when queries stay open.")] = False,
) -> None:
    """Check again the reports whose files changed since the queries; close the queries they answer.

    Exit 0 when no query is left open, 1 when some are, 2 on an error.
    """
    from tbs_doccheck.queries import QueryError
    from tbs_doccheck.recheck import recheck
    from tbs_doccheck.resources import PatternError

    try:
        report = recheck(audit_dir)
    except (QueryError, PatternError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(EXIT_ERROR) from None
    except OSError as exc:
        typer.echo(f"error: {exc.strerror or type(exc).__name__}: {exc.filename or audit_dir}", err=True)
        raise typer.Exit(EXIT_ERROR) from None
    typer.echo(
        f"re-checked {report.checked_files} changed or new file(s) ({report.unchanged_files} unchanged"
        + (f", {report.removed_files} gone" if report.removed_files else "")
        + ")"
    )
    typer.echo(
        f"{len(report.resolved)} resolved, {report.still_failing} still failing "
        f"({report.amended_still_failing} of them amended), {report.new} new"
        + (f", {report.file_missing} with their file gone" if report.file_missing else "")
    )
    if report.new:
        typer.echo("new failing reports are in worklist.csv without a letter: `tbs-doccheck queries` writes them")
    if report.stale_versions:
        typer.echo("note: unchanged files keep results from another checker version; a full audit re-checks them")
    open_left = report.still_failing + report.new
    raise typer.Exit(EXIT_PASS if exit_zero or not open_left else EXIT_FAIL)
