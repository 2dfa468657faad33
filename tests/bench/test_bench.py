"""Smoke test of ``tbs-doccheck bench``: it runs, prints three rows and both ratios. Nothing here is timed."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tbs_doccheck.bench import BUILTIN_REPORTS, AuditRun, build_corpus, combine_rounds, render_audit
from tbs_doccheck.bench.audit_scaling import _TreeMemory
from tbs_doccheck.cli.app import app

_NUM = r"([0-9][0-9,]*\.[0-9]+)"
_RATE = r"[0-9][0-9,]*\.[0-9]+"


def test_bench_prints_three_rows_and_both_ratios() -> None:
    result = CliRunner().invoke(app, ["bench", "--n", "20", "--rounds", "1"])
    assert result.exit_code == 0, result.output
    out = result.stdout
    for key in ("a", "b", "c"):
        # reports, then s/round, reports/s, MB/s and reports per CPU second
        row = re.search(rf"^\({key}\) .+?\s+20((?:\s+{_RATE}){{4}})\s*$", out, re.MULTILINE)
        assert row, f"no row ({key}) in:\n{out}"
        assert all(float(g.replace(",", "")) > 0 for g in row.group(1).split())
    for ratio in ("c/b", "a/c"):
        m = re.search(rf"^{ratio} = {_NUM}x", out, re.MULTILINE)
        assert m and float(m.group(1)) > 0, out
    assert re.search(r"mean [0-9.]+ KB", out)


def test_bench_json_has_rates_and_ratios() -> None:
    result = CliRunner().invoke(app, ["bench", "--n", "6", "--rounds", "1", "--n-default-pipeline", "3", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["pipelines"]["b"]["reports"] == 3 and data["pipelines"]["c"]["reports"] == 6
    assert all(data["pipelines"][k]["reports_per_s"] > 0 for k in "abc")
    assert data["ratios"]["c_over_b"] > 0 and data["ratios"]["a_over_c"] > 0


def test_corpus_is_deterministic_varied_and_falls_back_to_built_in(tmp_path: Path) -> None:
    one = build_corpus(12, seed=1, roots=[tmp_path])
    assert one.source == "built-in" and one.base_count == len(BUILTIN_REPORTS)
    assert one.texts == build_corpus(12, seed=1, roots=[tmp_path]).texts
    assert len(set(one.texts)) == 12
    assert one.texts[: len(BUILTIN_REPORTS)] == list(BUILTIN_REPORTS)
    assert one.mean_kb > 0


def test_bench_audit_times_each_corpus_size_with_one_and_two_workers() -> None:
    result = CliRunner().invoke(app, ["bench", "--audit", "--audit-sizes", "4,8", "--audit-rounds", "2", "--json"])
    assert result.exit_code == 0, result.output
    runs = json.loads(result.stdout)
    assert [(r["round"], r["reports"], r["workers"]) for r in runs] == [
        (k, n, w) for k in (1, 2) for n in (4, 8) for w in (1, 2)]
    assert all(r["exit_code"] == 0 and r["files_per_s"] > 0 and r["peak_rss_mb"] > 0 for r in runs)
    assert all(r["peak_pss_mb"] is None or 0 < r["peak_pss_mb"] <= r["peak_rss_mb"] for r in runs)


def test_the_audit_table_gives_worker_speed_up_and_growth_of_both_memory_measures() -> None:
    runs = [AuditRun(2000, 1, 20.0, 100.0, 0, 90.0), AuditRun(2000, 2, 10.0, 300.0, 0, 200.0),
            AuditRun(20000, 1, 180.0, 105.0, 0, 99.0), AuditRun(20000, 2, 100.0, 360.0, 0, 210.0)]

    text = render_audit(runs)

    assert "2,000 reports: 2 workers = 2.00x the files/s of 1" in text
    assert "20,000 reports: 2 workers = 1.80x the files/s of 1" in text
    assert "1 worker(s): peak memory at 20,000 reports against 2,000: RSS +5.0%, PSS +10.0%" in text
    assert "2 worker(s): peak memory at 20,000 reports against 2,000: RSS +20.0%, PSS +5.0%" in text


def test_rounds_are_combined_by_median_time_and_highest_memory() -> None:
    runs = [AuditRun(2000, 1, seconds, rss, 0, rss - 10, k) for k, (seconds, rss) in enumerate(
        [(20.0, 100.0), (40.0, 104.0), (22.0, 101.0)], start=1)]
    runs += [AuditRun(2000, 2, seconds, 300.0, code, None, k) for k, (seconds, code) in enumerate(
        [(10.0, 0), (11.0, 2), (30.0, 0)], start=1)]

    one, two = combine_rounds(runs)

    assert (one.seconds, one.peak_rss_mb, one.peak_pss_mb, one.round, one.exit_code) == (22.0, 104.0, 94.0, 3, 0)
    assert (two.seconds, two.peak_pss_mb, two.exit_code) == (11.0, None, 2)
    assert "median of 3 rounds" in render_audit(runs)
    assert "2,000 reports: 2 workers = 2.00x the files/s of 1" in render_audit(runs)


def test_bench_audit_rejects_sizes_that_are_not_numbers() -> None:
    result = CliRunner().invoke(app, ["bench", "--audit", "--audit-sizes", "2000,lots"])
    assert result.exit_code == 2
    assert "--audit-sizes" in result.output and "'2000,lots'" in result.output


def test_a_memory_sample_of_this_process_tree_counts_this_process() -> None:
    memory = _TreeMemory(os.getpid())
    # A sample is dropped if a child process (a fork server left by an audit test) happens to change.
    samples = [s for s in (memory._sample() for _ in range(5)) if s is not None]
    rss, pss = samples[0]
    assert rss > 10 and (pss is None or 0 < pss <= rss)


def test_a_memory_sample_is_dropped_when_a_process_starts_or_ends_while_it_is_read(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Reading processes one by one while workers are replaced makes the PSS sum overshoot.
    memory = _TreeMemory(os.getpid())
    trees = iter([{os.getpid()}, {os.getpid(), 2**22 + 1}])
    monkeypatch.setattr(memory, "_tree", lambda: next(trees))
    assert memory._sample() is None
