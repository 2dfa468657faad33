"""The ``bench`` command: throughput and audit-scaling measurements."""

from __future__ import annotations

import json
import platform
import sys
from dataclasses import asdict
from typing import Annotated

import typer

from tbs_doccheck.bench import build_corpus, render, render_audit, run_audit_scaling, run_bench, summary


def bench_command(
    n: Annotated[int, typer.Option(
        "--n", min=1, help="Reports in the corpus (base reports cycled and varied).")] = 2000,
    rounds: Annotated[int, typer.Option("--rounds", min=1, help="Timed rounds per pipeline (medians shown).")] = 3,
    n_default_pipeline: Annotated[int, typer.Option(
        "--n-default-pipeline", min=1, help="Time medspaCy's default pipeline on at most this many reports.")] = 200,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the corpus variation.")] = 77092,
    as_json: Annotated[bool, typer.Option("--json", help="Print the results as JSON.")] = False,
    audit: Annotated[bool, typer.Option(
        "--audit", help="Instead: time `audit` on 2,000 and 20,000 report files with 1 and 2 workers "
        "(files/s, peak memory).")] = False,
    audit_sizes: Annotated[str, typer.Option(
        "--audit-sizes", help="With --audit: comma-separated corpus sizes.")] = "2000,20000",
    audit_rounds: Annotated[int, typer.Option(
        "--audit-rounds", min=1, help="With --audit: rounds per (size, workers); medians shown.")] = 1,
    spark: Annotated[bool, typer.Option(
        "--spark", help="Instead: time `audit --engine spark` on local[1] and local[2] against `audit --workers 1/2` "
        "on one folder, in interleaved rounds (needs the spark extra and Java 17+).")] = False,
    spark_reports: Annotated[int, typer.Option(
        "--spark-reports", min=1, help="With --spark: reports in the folder.")] = 20_000,
    spark_rounds: Annotated[int, typer.Option(
        "--spark-rounds", min=1, help="With --spark: rounds; medians shown.")] = 3,
) -> None:
    """Measure reports/s and MB/s of the bare tokenizer, medspaCy's default pipeline and the checker."""
    if spark:
        from tbs_doccheck.bench.spark import render_spark, run_spark_bench

        spark_runs = run_spark_bench(spark_reports, spark_rounds, seed, progress=lambda s: typer.echo(s, err=True))
        if as_json:
            typer.echo(json.dumps([{**asdict(r), "label": r.label, "reports_per_s": r.reports_per_s,
                                    "checking_reports_per_s": r.checking_reports_per_s} for r in spark_runs], indent=2))
        else:
            typer.echo(f"audit of {spark_reports:,} .txt reports made from the bench corpus (seed {seed}); "
                       f"{platform.platform()}")
            typer.echo(render_spark(spark_runs))
        sys.stdout.flush()
        return
    if audit:
        try:
            sizes = [int(x) for x in audit_sizes.split(",") if x.strip()]
        except ValueError:
            raise typer.BadParameter(f"expected comma-separated whole numbers, got {audit_sizes!r}",
                                     param_hint="--audit-sizes") from None
        if not sizes or min(sizes) < 1:
            raise typer.BadParameter(f"expected sizes of at least 1, got {audit_sizes!r}", param_hint="--audit-sizes")
        runs = run_audit_scaling(sizes, (1, 2), seed, progress=lambda s: typer.echo(s, err=True), rounds=audit_rounds)
        if as_json:
            typer.echo(json.dumps([{**asdict(r), "files_per_s": r.files_per_s} for r in runs], indent=2))
        else:
            typer.echo(f"audit of .txt reports made from the bench corpus (seed {seed}); {platform.platform()}")
            typer.echo(render_audit(runs))
        sys.stdout.flush()
        return
    corpus = build_corpus(n, seed)
    typer.echo(f"building pipelines; corpus {len(corpus.texts):,} reports, mean {corpus.mean_kb:.2f} KB", err=True)
    results = run_bench(corpus, rounds, n_default_pipeline, progress=lambda s: typer.echo(s, err=True))
    data = summary(corpus, results, rounds)
    typer.echo(json.dumps(data, indent=2) if as_json else render(data))
    sys.stdout.flush()
