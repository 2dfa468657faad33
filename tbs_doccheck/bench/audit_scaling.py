"""Times the ``audit`` command on generated folders with 1 and 2 workers.

Measures files/s and peak RSS/PSS of the process tree.
"""

from __future__ import annotations

import shutil
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from tbs_doccheck.bench.corpus import build_corpus


@dataclass
class AuditRun:
    """One timed ``audit`` of a folder of reports, run as its own process.

    Attributes:
        reports: Report files in the folder.
        workers: ``--workers``.
        seconds: Wall-clock time of the whole command (start-up and output files included).
        peak_rss_mb: Peak resident memory (MiB): the audit process, its fork server and its workers together,
            sampled every 0.25 s (pages the workers share with the fork server are counted in each).
        exit_code: The command's exit code (0, 1 and 2 all mean it finished).
        peak_pss_mb: Peak proportional memory (MiB) of the same processes: each shared page is split among
            the processes sharing it, so the sum is what the tree really occupies. None where the system
            does not report it (``/proc/<pid>/smaps_rollup``).
        round: Which round of the measurement this run belongs to (1, 2, ...).
    """

    reports: int
    workers: int
    seconds: float
    peak_rss_mb: float
    exit_code: int
    peak_pss_mb: float | None = None
    round: int = 1

    @property
    def files_per_s(self) -> float:
        """Files audited per second of wall-clock time."""
        return self.reports / max(self.seconds, 1e-9)


class _TreeMemory:
    """Samples the summed resident (RSS) and proportional (PSS) memory of a process and all its descendants.

    Linux only: reads ``/proc``.
    """

    def __init__(self, root: int, interval: float = 0.25) -> None:
        import threading

        self.root, self.interval, self.peak_mb = root, interval, 0.0
        self.peak_pss_mb: float | None = None
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._done.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._done.wait(self.interval):
            sample = self._sample()
            if sample is None:
                continue
            rss, pss = sample
            self.peak_mb = max(self.peak_mb, rss)
            if pss is not None:
                self.peak_pss_mb = max(self.peak_pss_mb or 0.0, pss)

    def _sample(self) -> tuple[float, float | None] | None:
        """The tree's summed RSS and PSS in MiB; None when a process started or ended while it was read.

        The processes are read one after another. When workers exit and others are forked meanwhile
        (the audit replaces its workers every few thousand files), pages some readings counted as
        shared are private by the next reading, and the PSS sum overshoots what the tree ever held.
        """
        tree = self._tree()
        rss_kb, pss_kb, pss_known = 0, 0, True
        for pid in sorted(tree):
            rss = _proc_field(f"/proc/{pid}/status", "VmRSS:")
            if rss is None:
                return None
            rss_kb += rss
            pss = _proc_field(f"/proc/{pid}/smaps_rollup", "Pss:")
            pss_known = pss_known and pss is not None
            pss_kb += pss or 0
        if self._tree() != tree:
            return None
        return rss_kb / 1024, (pss_kb / 1024 if pss_known else None)

    def _tree(self) -> set[int]:
        """The root's process id and those of all its living descendants."""
        children: dict[int, list[int]] = {}
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    state, parent = (entry / "stat").read_text().rsplit(")", 1)[1].split()[:2]
                except (OSError, ValueError, IndexError):
                    continue
                # A process that has exited but not been reaped yet (Z) has already given its pages back:
                # leaving it out makes its exit change the tree.
                if state not in ("Z", "X"):
                    children.setdefault(int(parent), []).append(int(entry.name))
        tree, frontier = {self.root}, [self.root]
        while frontier:
            for pid in children.get(frontier.pop(), ()):
                if pid not in tree:
                    tree.add(pid)
                    frontier.append(pid)
        return tree


def _proc_field(path: str, key: str) -> int | None:
    """A ``key: <n> kB`` field of a ``/proc`` file, or None when the file or the field is missing."""
    try:
        for line in Path(path).read_text().splitlines():
            if line.startswith(key):
                return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return None


def run_audit_scaling(sizes: Sequence[int], workers: Sequence[int], seed: int = 77092,
                      progress: Callable[[str], None] | None = None, rounds: int = 1) -> list[AuditRun]:
    """Write corpora of ``sizes`` reports (one ``.txt`` each) and time ``audit`` on them per worker count.

    The folders live in a temporary directory that is removed afterwards, whatever happens.

    Args:
        sizes: Corpus sizes, e.g. ``(2000, 20000)``.
        workers: Worker counts, e.g. ``(1, 2)``.
        seed: Seed of the corpus variation.
        progress: Called with a short status line (no report text) after each run.
        rounds: How many times to time every (size, workers) pair; rounds run one after the other, each
            going through every pair, so a slow spell on a shared machine touches all pairs alike.

    Returns:
        One :class:`AuditRun` per round and (size, workers), in that order.
    """
    import os
    import subprocess
    import tempfile

    runs: list[AuditRun] = []
    with tempfile.TemporaryDirectory(prefix="tbs-bench-") as tmp:
        folders = {}
        for n in sizes:
            folders[n] = folder = Path(tmp) / f"reports-{n}"
            folder.mkdir()
            for i, text in enumerate(build_corpus(n, seed).texts):
                (folder / f"report-{i:06d}.txt").write_text(text, encoding="utf-8")
        for k, n, w in ((k, n, w) for k in range(1, rounds + 1) for n in sizes for w in workers):
            folder = folders[n]
            out = Path(tmp) / f"audit-{n}-{w}-{k}"
            cmd = [sys.executable, "-m", "tbs_doccheck", "audit", str(folder), "--out", str(out),
                   "--workers", str(w), "--exit-zero"]
            t0 = time.perf_counter()
            proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            peak = _TreeMemory(proc.pid)
            peak.start()
            _, status, usage = os.wait4(proc.pid, 0)
            seconds = time.perf_counter() - t0
            peak.stop()
            # ru_maxrss (KiB on Linux) is the audit process's own peak; the sampled figure adds its
            # workers (and the fork server they come from), which it does not wait for.
            run = AuditRun(n, w, seconds, max(usage.ru_maxrss / 1024, peak.peak_mb), os.waitstatus_to_exitcode(status),
                           peak.peak_pss_mb, k)
            runs.append(run)
            shutil.rmtree(out, ignore_errors=True)
            if progress:
                progress(f"round {k}: audit {n:,} reports, {w} worker(s): {run.files_per_s:,.0f} files/s, "
                         f"peak {run.peak_rss_mb:,.0f} MiB RSS" + (
                             f", {run.peak_pss_mb:,.0f} MiB PSS" if run.peak_pss_mb is not None else ""))
    return runs


def combine_rounds(runs: Sequence[AuditRun]) -> list[AuditRun]:
    """One run per (size, workers): the median time of its rounds and the highest peak memory of any.

    Args:
        runs: Runs from :func:`run_audit_scaling`, any number of rounds.

    Returns:
        The combined runs, in the order their pairs first appear; ``round`` holds how many were combined,
        and ``exit_code`` the first non-zero one (0 when all finished alike).
    """
    groups: dict[tuple[int, int], list[AuditRun]] = {}
    for r in runs:
        groups.setdefault((r.reports, r.workers), []).append(r)
    combined = []
    for (reports, workers), group in groups.items():
        pss = [r.peak_pss_mb for r in group]
        combined.append(AuditRun(
            reports, workers, statistics.median(r.seconds for r in group), max(r.peak_rss_mb for r in group),
            next((r.exit_code for r in group if r.exit_code), 0),
            None if None in pss else max(pss),  # type: ignore[type-var]
            len(group),
        ))
    return combined


def render_audit(runs: Sequence[AuditRun]) -> str:
    """The audit-scaling table, with worker speed-up and memory growth against the smallest corpus.

    Rounds are combined first (:func:`combine_rounds`): median files/s, highest peak memory.
    """
    runs = combine_rounds(runs)
    rounds = max((r.round for r in runs), default=1)
    lines = ["", f"{'reports':>9}{'workers':>9}{'seconds':>10}{'files/s':>10}{'RSS MiB':>10}{'PSS MiB':>10}{'exit':>6}"]
    for r in runs:
        pss = "-" if r.peak_pss_mb is None else f"{r.peak_pss_mb:.0f}"
        lines.append(f"{r.reports:>9,}{r.workers:>9}{r.seconds:>10.1f}{r.files_per_s:>10.1f}"
                     f"{r.peak_rss_mb:>10.0f}{pss:>10}{r.exit_code:>6}")
    if rounds > 1:
        lines.append(f"seconds and files/s: median of {rounds} rounds; memory: the highest peak of any round.")
    lines.append("RSS counts pages a worker shares with the fork server once per process; PSS splits them.")
    by = {(r.reports, r.workers): r for r in runs}
    sizes = sorted({r.reports for r in runs})
    counts = sorted({r.workers for r in runs})
    for n in sizes:
        if 1 in counts and len(counts) > 1:
            top = counts[-1]
            lines.append(f"{n:,} reports: {top} workers = {by[n, top].files_per_s / by[n, 1].files_per_s:.2f}x "
                         f"the files/s of 1 (target >= 1.7 with 2 on 2 cores)")
    if len(sizes) > 1:
        for w in counts:
            small, large = by[sizes[0], w], by[sizes[-1], w]
            growth = f"RSS {100 * (large.peak_rss_mb / small.peak_rss_mb - 1):+.1f}%"
            if small.peak_pss_mb and large.peak_pss_mb is not None:
                growth += f", PSS {100 * (large.peak_pss_mb / small.peak_pss_mb - 1):+.1f}%"
            lines.append(f"{w} worker(s): peak memory at {sizes[-1]:,} reports against {sizes[0]:,}: {growth} "
                         f"(target within 10%)")
    return "\n".join(lines)
