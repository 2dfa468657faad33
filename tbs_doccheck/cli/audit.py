"""The ``audit`` command: a folder audit with evidence outputs."""

from __future__ import annotations

import logging
from concurrent.futures.process import BrokenProcessPool
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from tbs_doccheck.audit import AuditError, AuditSummary, run_audit
from tbs_doccheck.cli.common import require_existing, require_fresh_out, require_reports
from tbs_doccheck.cli.exit_codes import EXIT_ERROR, EXIT_INTERRUPTED, EXIT_PASS, fail, for_counts
from tbs_doccheck.readers import DEFAULT_MAX_BYTES, discover_sources

if TYPE_CHECKING:
    pass


class Engine(StrEnum):
    """Where ``audit`` runs the checker."""

    local = "local"
    spark = "spark"


def _summary_line(summary: AuditSummary) -> str:
    rate = f"{100 * summary.pass_rate:.1f}%" if summary.pass_rate is not None else "–"
    missing = ", ".join(f"{e} {n}" for e, n in summary.missing_by_element.items() if n) or "none"
    lines = [
        (
            f"{summary.reports} report(s) in {summary.files} file(s): {summary.passed} pass, "
            f"{summary.failed} fail, {summary.errors} error (pass rate {rate})"
        ),
        f"missing: {missing}",
        *([f"needs review: {summary.needs_review} report(s) (passes among them are not to be released unseen)"]
          if summary.needs_review else []),
    ]
    if summary.errors_by_code:
        lines.append("unreadable: " + ", ".join(f"{code} {n}" for code, n in summary.errors_by_code.items()))
    if summary.skipped:
        lines.append(f"skipped: {len(summary.skipped)} file(s) of other types")
    lines.append(f"outputs: {Path(summary.out_dir) / 'report.html'} (+ results.jsonl, results.csv, summary.json)")
    lines.append(f"took {summary.elapsed_seconds:.1f} s with {summary.workers} worker(s)")
    return "\n".join(lines)


def audit_command(
    ctx: typer.Context,
    out: Annotated[
        Path,
        typer.Option("--out", "-o", help="Output folder: results.jsonl, results.csv, summary.json, report.html."),
    ],
    # Optional only for ``--engine spark --table``: a local audit without PATHS stops as before (_local_audit).
    paths: Annotated[
        list[Path] | None, typer.Argument(help="Report files or folders (searched recursively).", show_default=False)
    ] = None,
    workers: Annotated[int, typer.Option("--workers", "-w", min=1, help="Processes checking reports.")] = 1,
    resume: Annotated[
        bool, typer.Option("--resume", help="Finish an interrupted audit into the same --out without redoing files.")
    ] = False,
    force: Annotated[
        bool, typer.Option("--force", help="Replace an audit already in --out (without it: refused, exit 2).")
    ] = False,
    exit_zero: Annotated[
        bool, typer.Option("--exit-zero", help="Exit 0 even when reports fail or cannot be read.")
    ] = False,
    max_bytes: Annotated[
        int, typer.Option("--max-bytes", min=1, help="Files larger than this are reported as E004, not read.")
    ] = DEFAULT_MAX_BYTES,
    queries: Annotated[
        bool, typer.Option("--queries", help="Also write OUTDIR/queries/: a query letter per signer, worklist.csv.")
    ] = False,
    engine: Annotated[
        Engine, typer.Option("--engine", help="local: worker processes on this machine; spark: an Apache Spark job.")
    ] = Engine.local,
    master: Annotated[
        str | None,
        typer.Option("--master", help="With --engine spark: local[N] or a cluster URL.  [default: local[2]]",
                     show_default=False),
    ] = None,
    table: Annotated[
        Path | None, typer.Option("--table", help="With --engine spark: a Parquet table of notes instead of PATHS.")
    ] = None,
    text_col: Annotated[
        str | None, typer.Option("--text-col", help="With --table: the report text column.  [default: text]",
                                 show_default=False)
    ] = None,
    id_col: Annotated[
        str | None, typer.Option("--id-col", help="With --table: the column naming each note.  [default: id]",
                                 show_default=False)
    ] = None,
) -> None:
    """Audit a folder of reports: evidence outputs in OUTDIR; exit 0 all pass, 1 some fail, 2 some unreadable."""
    # Usage errors before anything is written: a mistyped path, an --out holding an earlier audit.
    require_existing(paths or [])
    require_fresh_out(out, resume=resume, force=force)
    if engine is Engine.spark:
        summary = _spark_audit(paths, out, table, master or "local[2]", text_col or "text", id_col or "id",
                               workers=workers, resume=resume, max_bytes=max_bytes)
    else:
        if table is not None or master is not None or text_col is not None or id_col is not None:
            fail("--master, --table, --text-col and --id-col go with --engine spark")
        summary = _local_audit(ctx, paths, out, workers=workers, resume=resume, max_bytes=max_bytes)
    typer.echo(_summary_line(summary))
    if engine is Engine.spark:
        typer.echo(f"table: {out / 'results.parquet'} (Parquet, one row per report)")
    if queries:
        from tbs_doccheck.cli.queries import write_queries_or_exit

        typer.echo(write_queries_or_exit(out))
    code = for_counts(reports=summary.reports, failed=summary.failed, errors=summary.errors)
    raise typer.Exit(EXIT_PASS if exit_zero else code)


def _local_audit(
    ctx: typer.Context, paths: list[Path] | None, out: Path, *, workers: int, resume: bool, max_bytes: int
) -> AuditSummary:
    """The local engine: worker processes on this machine (``tbs_doccheck.audit.run_audit``)."""
    if not paths:
        # PATHS is optional for ``--engine spark --table``; without it a local audit stops as it always did,
        # with the parser's own "Missing argument" error (Typer 0.2x carries its own copy of click).
        try:
            from typer._click.exceptions import MissingParameter
        except ImportError:  # pragma: no cover - an older Typer uses click itself
            from click.exceptions import MissingParameter  # type: ignore[no-redef]
        raise MissingParameter(ctx=ctx, param=next(p for p in ctx.command.params if p.name == "paths"))
    require_reports(paths, *discover_sources(paths))
    try:
        summary = run_audit(paths, out, workers=workers, resume=resume, max_bytes=max_bytes)
    except AuditError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(EXIT_ERROR) from None
    except BrokenProcessPool:
        typer.echo("error: a worker process died; finished files are kept: run again with --resume", err=True)
        raise typer.Exit(EXIT_ERROR) from None
    except OSError as exc:
        # The OS's words and the path only: never anything read from a report.
        typer.echo(
            f"error: {exc.strerror or type(exc).__name__}: {exc.filename or out}; "
            "finished files are kept: run again with --resume",
            err=True,
        )
        raise typer.Exit(EXIT_ERROR) from None
    except KeyboardInterrupt:
        typer.echo("interrupted: finished files are kept: run again with --resume", err=True)
        raise typer.Exit(EXIT_INTERRUPTED) from None
    return summary


def _spark_audit(
    paths: list[Path] | None, out: Path, table: Path | None, master: str, text_col: str, id_col: str, *,
    workers: int, resume: bool, max_bytes: int,
) -> AuditSummary:
    """The Spark engine (``tbs_doccheck.spark``): a folder through ``binaryFile``, or a Parquet table."""
    if resume:
        fail("--resume is for the local engine: Spark reruns a failed task by itself")
    if workers != 1:
        fail("--workers is for the local engine: with --engine spark, --master local[N] sets the cores")
    if (table is None) == (not paths):
        fail("give either PATHS or --table with --engine spark")
    try:
        from tbs_doccheck.spark.audit import run_spark_audit, run_table_audit

        if table is not None:
            return run_table_audit(table, out, text_col=text_col, id_col=id_col, master=master, max_chars=max_bytes)
        return run_spark_audit(paths, out, master=master, max_bytes=max_bytes)
    except AuditError as exc:
        fail(str(exc))
    except ImportError:
        fail("the Spark engine needs the spark extra: pip install 'tbs-doccheck[spark]'")
    except KeyboardInterrupt:
        typer.echo("interrupted: run the audit again", err=True)
        raise typer.Exit(EXIT_INTERRUPTED) from None
    except Exception as exc:  # noqa: BLE001 - Spark's and Java's errors: named by type, details at -vv
        logging.getLogger(__name__).debug("the Spark job failed", exc_info=True)
        fail(f"the Spark job failed ({type(exc).__name__}); run with -vv for Spark's own message")
