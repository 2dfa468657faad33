"""Times ``audit --engine spark`` on local[1] and local[2] against ``audit --workers 1/2``, in interleaved rounds."""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from tbs_doccheck.bench.audit_scaling import _TreeMemory
from tbs_doccheck.bench.corpus import build_corpus

__all__ = ["CONFIGS", "EngineRun", "render_spark", "run_spark_bench"]

#: What is timed: (engine, cores). ``audit`` is the local audit with that many worker processes, ``spark``
#: the Spark audit on ``local[cores]``.
CONFIGS: tuple[tuple[str, int], ...] = (("audit", 1), ("audit", 2), ("spark", 1), ("spark", 2))
# Both audits log this once the run is set up (files listed; for Spark, the session started), before
# the first report is checked: what comes before is start-up.
_STARTED = "auditing "


@dataclass
class EngineRun:
    """One timed audit of the bench folder, run as its own process.

    Attributes:
        engine: ``audit`` (local worker processes) or ``spark`` (Spark on ``local[cores]``).
        cores: Worker processes, or Spark's local cores.
        reports: Reports in the folder (one ``.txt`` file each).
        seconds: Wall-clock time of the whole command.
        startup_seconds: Time until the audit logged its start: interpreter, imports and the file listing,
            and for Spark the JVM and the session (paid once per cluster job, not per report).
        peak_rss_mb: Peak resident memory of the process tree (MiB): for Spark the JVM and its Python workers.
        exit_code: The command's exit code (0: it ran with ``--exit-zero``).
        round: Which round this run belongs to (1, 2, ...).
    """

    engine: str
    cores: int
    reports: int
    seconds: float
    startup_seconds: float
    peak_rss_mb: float
    exit_code: int
    round: int = 1

    @property
    def label(self) -> str:
        """How the run was started, in the command's own terms."""
        return f"audit --workers {self.cores}" if self.engine == "audit" else f"spark local[{self.cores}]"

    @property
    def reports_per_s(self) -> float:
        """Reports per second of the whole command."""
        return self.reports / max(self.seconds, 1e-9)

    @property
    def checking_reports_per_s(self) -> float:
        """Reports per second once started: checking and writing the outputs, start-up left out."""
        return self.reports / max(self.seconds - self.startup_seconds, 1e-9)


def _command(folder: Path, out: Path, engine: str, cores: int) -> list[str]:
    # -v: the audits log their start at INFO, which is how start-up is told apart from checking.
    base = [sys.executable, "-m", "tbs_doccheck", "-v", "audit", str(folder), "--out", str(out), "--exit-zero"]
    if engine == "audit":
        return [*base, "--workers", str(cores)]
    return [*base, "--engine", "spark", "--master", f"local[{cores}]"]


def _timed(cmd: list[str]) -> tuple[float, float, float, int]:
    """Runs ``cmd``: (wall seconds, seconds until its start line, peak RSS MiB, exit code)."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, errors="replace")
    started: list[float] = []

    def watch() -> None:
        assert proc.stderr is not None
        for line in proc.stderr:  # read to the end, or a full pipe would stall the audit
            if not started and _STARTED in line:
                started.append(time.perf_counter() - t0)

    reader = threading.Thread(target=watch, daemon=True)
    reader.start()
    memory = _TreeMemory(proc.pid)
    memory.start()
    code = proc.wait()
    seconds = time.perf_counter() - t0
    memory.stop()
    reader.join()
    return seconds, started[0] if started else 0.0, memory.peak_mb, code


def run_spark_bench(
    reports: int = 20_000,
    rounds: int = 3,
    seed: int = 77092,
    progress: Callable[[str], None] | None = None,
    configs: Sequence[tuple[str, int]] = CONFIGS,
) -> list[EngineRun]:
    """Writes a folder of ``reports`` reports (one ``.txt`` each) and times every config on it, round by round.

    Each round runs every config once, starting one config later than the round before, so a slow spell
    on a shared machine (or a warm page cache) falls on every config alike. The folder and the outputs
    live in a temporary directory removed afterwards.

    Args:
        reports: Reports in the folder.
        rounds: Rounds; medians are what :func:`render_spark` shows.
        seed: Seed of the corpus variation.
        progress: Called with a short status line (no report text) after each run.
        configs: ``(engine, cores)`` pairs to time.

    Returns:
        One :class:`EngineRun` per round and config, in the order they ran.
    """
    runs: list[EngineRun] = []
    with tempfile.TemporaryDirectory(prefix="tbs-bench-spark-") as tmp:
        folder = Path(tmp) / "reports"
        folder.mkdir()
        for i, text in enumerate(build_corpus(reports, seed).texts):
            (folder / f"report-{i:06d}.txt").write_text(text, encoding="utf-8")
        for k in range(1, rounds + 1):
            shift = (k - 1) % len(configs)
            for engine, cores in [*configs[shift:], *configs[:shift]]:
                out = Path(tmp) / f"out-{engine}-{cores}-{k}"
                seconds, startup, rss, code = _timed(_command(folder, out, engine, cores))
                run = EngineRun(engine, cores, reports, seconds, startup, rss, code, k)
                runs.append(run)
                if progress:
                    progress(f"round {k}: {run.label}: {seconds:.1f} s ({startup:.1f} s start-up), "
                             f"{run.reports_per_s:,.0f} reports/s, peak {rss:,.0f} MiB RSS, exit {code}")
    return runs


def _median(runs: Sequence[EngineRun]) -> EngineRun:
    """One run per config: median seconds and start-up, highest peak memory, the first non-zero exit code."""
    first = runs[0]
    return EngineRun(
        first.engine, first.cores, first.reports, statistics.median(r.seconds for r in runs),
        statistics.median(r.startup_seconds for r in runs), max(r.peak_rss_mb for r in runs),
        next((r.exit_code for r in runs if r.exit_code), 0), len(runs),
    )


def render_spark(runs: Sequence[EngineRun]) -> str:
    """The comparison table (medians over rounds) with Spark's ratio to the local audit and the 1 -> 2 core scaling."""
    groups: dict[tuple[str, int], list[EngineRun]] = {}
    for run in runs:
        groups.setdefault((run.engine, run.cores), []).append(run)
    by = {key: _median(group) for key, group in groups.items()}
    rounds = max(len(group) for group in groups.values())
    lines = ["", f"{'':<20}{'seconds':>9}{'start-up':>10}{'reports/s':>11}{'once started':>14}{'RSS MiB':>9}"
                 f"{'exit':>6}"]
    for run in by.values():
        lines.append(f"{run.label:<20}{run.seconds:>9.1f}{run.startup_seconds:>10.1f}{run.reports_per_s:>11.1f}"
                     f"{run.checking_reports_per_s:>14.1f}{run.peak_rss_mb:>9.0f}{run.exit_code:>6}")
    lines.append(f"median of {rounds} interleaved round(s); 'once started' leaves out start-up "
                 "(interpreter, file listing, and Spark's JVM and session)")
    for cores in sorted({c for _e, c in by}):
        if ("audit", cores) in by and ("spark", cores) in by:
            spark, local = by["spark", cores], by["audit", cores]
            lines.append(
                f"{cores} core(s): Spark = {spark.reports_per_s / local.reports_per_s:.2f}x the local audit's "
                f"reports/s ({spark.checking_reports_per_s / local.checking_reports_per_s:.2f}x once started; "
                "target >= 0.8)"
            )
    for engine in ("audit", "spark"):
        if (engine, 1) in by and (engine, 2) in by:
            one, two = by[engine, 1], by[engine, 2]
            lines.append(
                f"{one.label.split()[0]}: 2 cores = {two.reports_per_s / one.reports_per_s:.2f}x the reports/s of 1 "
                f"({two.checking_reports_per_s / one.checking_reports_per_s:.2f}x once started; target >= 1.7)"
            )
    return "\n".join(lines)
