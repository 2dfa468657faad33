"""``bench --spark``: a tiny real run of each engine, and the table's medians and ratios (nothing here is timed)."""

from __future__ import annotations

from tbs_doccheck.bench.spark import EngineRun, render_spark, run_spark_bench


def test_a_tiny_run_times_both_engines_to_completion() -> None:
    lines: list[str] = []

    runs = run_spark_bench(reports=12, rounds=1, configs=(("audit", 1), ("spark", 1)), progress=lines.append)

    assert [(r.engine, r.cores, r.exit_code) for r in runs] == [("audit", 1, 0), ("spark", 1, 0)]
    for run in runs:
        assert 0 < run.startup_seconds < run.seconds  # the start line was seen before the end
        assert run.peak_rss_mb > 0
    assert len(lines) == 2 and "spark local[1]" in lines[1]


def test_rounds_are_interleaved_and_the_table_shows_medians_and_ratios() -> None:
    def run(engine: str, cores: int, seconds: float, k: int) -> EngineRun:
        return EngineRun(engine, cores, 1000, seconds, 1.0 if engine == "audit" else 5.0, 100.0, 0, k)

    runs = [run("audit", 1, s, k) for k, s in enumerate((10.0, 12.0, 30.0), start=1)]
    runs += [run("audit", 2, 6.0, 1), run("spark", 1, 11.0, 1), run("spark", 2, 7.0, 1)]

    table = render_spark(runs)

    assert "audit --workers 1" in table and "12.0" in table  # the median of 10, 12 and 30 s
    assert "1 core(s): Spark = 1.09x the local audit's reports/s" in table  # (1000/11) / (1000/12)
    assert "spark: 2 cores = 1.57x the reports/s of 1" in table
