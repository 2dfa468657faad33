"""The ``bench`` command: interleaved throughput of the bare tokenizer, medspaCy's default pipeline and the checker."""

from __future__ import annotations

import gc
import json
import platform
import random
import re
import shutil
import statistics
import sys
import time
import warnings
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Annotated, Any

import typer



def _default_roots() -> tuple[Path, ...]:
    """Where the base reports may live: the working directory first, then the checkout this module sits in."""
    return (Path.cwd(), Path(__file__).resolve().parent.parent)


#: Stand-ins used only when neither ``sample_reports/*.txt`` nor ``tests/data/varied.jsonl`` exists.
BUILTIN_REPORTS: tuple[str, ...] = (
    # A radiology-style report that passes.
    "NORTHGATE IMAGING\nPatient: HALVORSEN, Marit   MRN 0042117   DOB 1951-04-02   Exam date: 2025-03-04\n"
    "Exam: DXA bone density, lumbar spine and left hip, with trabecular bone score.\n\n"
    "HISTORY: Postmenopausal woman on long-term prednisone.\n\n"
    "FINDINGS:\nL1-L4 BMD 0.861 g/cm2, T-score -1.8.\nLeft femoral neck T-score -2.1.\nTBS L1-L4: 1.226 (degraded).\n\n"
    "FRAX adjusted for TBS: major osteoporotic fracture 17.2%, hip 3.4%.\n\n"
    "IMPRESSION: Osteopenia with degraded microarchitecture; high fracture risk.\n\n"
    "RECOMMENDATIONS: Start an oral bisphosphonate. Calcium and vitamin D. Repeat DXA with TBS in 2 years.\n\n"
    "Electronically signed by Tobias Renwick-Amadi, MD on 2025-03-04 at 15:10\n",
    # A clinic letter, value on the next line, qualified by an NP.
    "Dear Dr Okonkwo,\n\nThank you for referring Mrs Ines Castellanos (DOB 12/09/1948) for bone densitometry.\n"
    "Her DXA scan of 02/18/2025 showed a lumbar spine T-score of -2.6 and a total hip T-score of -2.0.\n"
    "Trabecular bone score (L1-L4)\n1.188\nwhich indicates degraded bone microarchitecture.\n\n"
    "Her 10-year probability of a major osteoporotic fracture is 21% (TBS-adjusted FRAX), which is high.\n\n"
    "Plan: denosumab every 6 months; dental review first; recheck bone density in 2 years.\n\n"
    "Yours sincerely,\nSigned by Aurelie Fontaine-Webb, NP\n",
    # A template with placeholders that fails.
    "BONE DENSITY REPORT\nPatient: [name]   Date: 01/22/2025\nExam: ***\n\n"
    "Trabecular bone score: ___\nFRAX: [select]\n\n"
    "Impression: TBS is a texture measure used to estimate fracture risk.\n\n"
    "Recommendations: N/A\n\nPRELIMINARY REPORT - NOT SIGNED\n",
    # A region list and a prior value that must not count.
    "Bone Health Clinic - Densitometry\nName: Dufresne, Colette   DOS 2025-01-09\n"
    "Study: dual-energy X-ray absorptiometry (DEXA) with TBS.\n\nTBS by region:\n  L1-L2  1.241\n  L1-L4  1.262\n"
    "Comparison: DXA 2022, TBS 1.301 at that time.\n\nAssessment: osteopenia; moderate 10-year fracture risk "
    "(FRAX MOF 11.8%, hip 1.6%).\n\nRecommendations:\n1. Calcium 1,200 mg/day and vitamin D 800 IU/day.\n"
    "2. Weight-bearing exercise.\n3. Follow-up DXA in 2 years.\n\n/s/ Rajesh Venkataraman, MBBS, FRCP 2025-01-10\n",
    # A short note with a trainee signature and a pending attending.
    "Orthopaedic fracture liaison note, 03/30/2025\nPatient: Lindqvist, Johanna\n"
    "A DXA with trabecular bone score was performed today; TBS 1.312 (normal).\n"
    "Fracture risk is low (FRAX MOF 6.4%, hip 0.8%).\nRecommend calcium, vitamin D and a repeat scan in 3 years.\n"
    "Electronically signed by Mateo Quiroga, MD (resident)\nAttending signature pending.\n",
)

_SURNAMES: tuple[str, ...] = (
    "Abernathy", "Bellweather", "Castellano", "Dravid", "Eriksen", "Fairbanks", "Gallagher", "Haddad",
    "Ibarra", "Jablonski", "Kowalczyk", "Lindgren", "Mbeki", "Nakamura", "Okafor", "Pellegrini",
    "Quintero", "Rasmussen", "Szabo", "Thorvaldsen", "Umarov", "Vasquez", "Whitcombe", "Yilmaz", "Zielinski",
)
_GIVEN: tuple[str, ...] = (
    "Agnes", "Beatriz", "Carmen", "Delphine", "Esther", "Fiona", "Greta", "Hana", "Imelda", "Judith",
    "Kiran", "Leonie", "Marisol", "Nadia", "Odile", "Priya", "Rosalind", "Sigrid", "Tamsin", "Wilhelmina",
)
# Title-case words right before a credential ("Renwick-Amadi, MD") or after a patient label are names.
_NAME_BEFORE_CRED = re.compile(
    r"\b([A-Z][a-z]{2,}(?:-[A-Z][a-z]{2,})?)(?=,?\s+(?:MD|DO|NP|PA-C|MBBS|FRCR|FRCP|FRACP|RN)\b)"
)
_NAME_AFTER_LABEL = re.compile(
    r"(?:Patient|Name|Mrs|Mr|Ms|Referring|Ordering)\b[:.]?\s+([A-Z][A-Za-z]{2,}(?:-[A-Z][a-z]{2,})?)"
)
_NUMBER = re.compile(r"\d+")
_YEARISH = re.compile(r"(?:19|20)\d\d")


@dataclass
class Corpus:
    """The benchmark's texts and where they came from.

    Attributes:
        texts: The expanded reports, ``n`` of them.
        source: Where the base reports came from (a path, or ``built-in``).
        base_count: How many distinct base reports were cycled.
    """

    texts: list[str]
    source: str
    base_count: int

    @property
    def total_bytes(self) -> int:
        """UTF-8 size of all texts."""
        return sum(len(t.encode("utf-8")) for t in self.texts)

    @property
    def mean_kb(self) -> float:
        """Mean report size in KB (1 KB = 1,000 bytes of UTF-8)."""
        return self.total_bytes / len(self.texts) / 1000 if self.texts else 0.0


@dataclass
class PipelineResult:
    """Timings of one pipeline over the rounds.

    Attributes:
        key: ``a``, ``b`` or ``c``.
        name: What ran.
        reports: Reports processed per round.
        bytes: UTF-8 bytes processed per round.
        seconds: Wall-clock seconds of each round.
        cpu_seconds: CPU seconds of this process in each round (less disturbed by a busy machine).
    """

    key: str
    name: str
    reports: int
    bytes: int
    seconds: list[float] = field(default_factory=list)
    cpu_seconds: list[float] = field(default_factory=list)

    @property
    def median_seconds(self) -> float:
        """Median wall time of one round."""
        return max(statistics.median(self.seconds), 1e-9)

    @property
    def reports_per_s(self) -> float:
        """Median throughput in reports per second."""
        return self.reports / self.median_seconds

    @property
    def mb_per_s(self) -> float:
        """Median throughput in MB (10^6 bytes of UTF-8 text) per second."""
        return self.bytes / 1e6 / self.median_seconds

    @property
    def cpu_reports_per_s(self) -> float:
        """Median throughput in reports per CPU second."""
        return self.reports / max(statistics.median(self.cpu_seconds), 1e-9)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready view, with the derived rates."""
        d = asdict(self)
        d.update(median_seconds=self.median_seconds, reports_per_s=self.reports_per_s, mb_per_s=self.mb_per_s,
                 cpu_reports_per_s=self.cpu_reports_per_s)
        return d


# --------------------------------------------------------------------------- corpus
def load_base_reports(roots: Sequence[Path] | None = None) -> tuple[list[str], str]:
    """The distinct reports the corpus is grown from.

    Looks for ``sample_reports/*.txt``, then ``tests/data/varied.jsonl`` (its ``text`` fields) under each of
    ``roots``, and falls back to :data:`BUILTIN_REPORTS`.

    Args:
        roots: Folders to look in, in order (the working directory, then this checkout, when None).

    Returns:
        The report texts (non-empty, newlines normalised) and a label for where they came from.
    """
    roots = _default_roots() if roots is None else roots
    for root in roots:
        folder = root / "sample_reports"
        files = sorted(folder.glob("*.txt")) if folder.is_dir() else []
        texts = [_normalise(p.read_text(encoding="utf-8", errors="replace")) for p in files]
        texts = [t for t in texts if t.strip()]
        if texts:
            return texts, str(folder)
    for root in roots:
        jsonl = root / "tests" / "data" / "varied.jsonl"
        if jsonl.is_file():
            texts = []
            for line in jsonl.read_text(encoding="utf-8", errors="replace").splitlines():
                try:
                    row = json.loads(line) if line.strip() else None
                except json.JSONDecodeError:
                    continue
                if isinstance(row, dict) and isinstance(row.get("text"), str) and row["text"].strip():
                    texts.append(_normalise(row["text"]))
            if texts:
                return texts, str(jsonl)
    return list(BUILTIN_REPORTS), "built-in"


def _normalise(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


def mutate(text: str, rng: random.Random) -> str:
    """A light, behaviour-preserving variation of ``text``: other names, other digits.

    Surnames before a credential or after a patient label are swapped for others (everywhere they occur),
    and about a third of the numbers get a new last digit. Years are left alone, so "prior" and "current"
    studies stay in the same order; magnitudes, layout and wording do not change.

    Args:
        text: A report.
        rng: The seeded random source (the caller's sequence makes the corpus deterministic).

    Returns:
        The varied report.
    """
    names = {m.group(1) for rx in (_NAME_BEFORE_CRED, _NAME_AFTER_LABEL) for m in rx.finditer(text)}
    for old in sorted(names):
        pool = _SURNAMES if rng.random() < 0.7 else _GIVEN
        new = rng.choice(pool)
        text = re.sub(rf"\b{re.escape(old)}\b", new.upper() if old.isupper() else new, text)

    def digits(m: re.Match[str]) -> str:
        s = m.group(0)
        if _YEARISH.fullmatch(s) or rng.random() >= 0.35:
            return s
        return s[:-1] + str(rng.randrange(10))

    return _NUMBER.sub(digits, text)


def build_corpus(n: int, seed: int = 77092, roots: Sequence[Path] | None = None) -> Corpus:
    """``n`` reports: the base reports cycled, each copy varied by :func:`mutate`.

    The first copy of each base report is kept as written; every later copy is a seeded variation,
    re-drawn (a few times at most) when it would repeat an earlier text.

    Args:
        n: How many reports to make.
        seed: Seed of the variation; the same seed gives the same corpus.
        roots: Folders to look for base reports in (see :func:`load_base_reports`).

    Returns:
        The corpus.
    """
    base, source = load_base_reports(roots)
    rng = random.Random(seed)
    seen: set[str] = set()
    texts: list[str] = []
    for i in range(n):
        original = base[i % len(base)]
        text = original
        for _ in range(8):
            if i >= len(base) or text in seen:
                text = mutate(original, rng)
            if text not in seen:
                break
        seen.add(text)
        texts.append(text)
    return Corpus(texts, source, len(base))


# --------------------------------------------------------------------------- pipelines
def _silence_medspacy_logging() -> None:
    # PyRuSH logs through loguru at DEBUG (sentence text included): report text must never be printed.
    # Removing loguru's handlers (not just disabling the modules) also makes every PyRuSH log call return at
    # once, so (b) is timed at its fastest; nothing else in this process logs through loguru.
    try:
        from loguru import logger

        logger.remove()
        logger.disable("PyRuSH")
        logger.disable("medspacy")
    except ImportError:  # pragma: no cover - loguru comes with medspaCy
        pass


def _consume(items: Iterable[object]) -> None:
    deque(items, maxlen=0)


def make_runners(batch_size: int = 32) -> dict[str, tuple[str, Callable[[Sequence[str]], None]]]:
    """Build the three pipelines, each as ``key -> (description, run(texts))``.

    Args:
        batch_size: ``nlp.pipe`` batch size for (b); (c) uses the checker's own.

    Returns:
        ``a`` the bare tokenizer, ``b`` medspaCy's default pipeline, ``c`` the checker end to end.
    """
    import medspacy
    import spacy

    from .api import get_checker

    _silence_medspacy_logging()
    tokenizer = spacy.blank("en")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        default = medspacy.load()
    checker = get_checker()

    def run_a(texts: Sequence[str]) -> None:
        make_doc = tokenizer.make_doc
        for t in texts:
            make_doc(t)

    def run_b(texts: Sequence[str]) -> None:
        with warnings.catch_warnings():  # its rule-less token Matcher warns (W036) on every document
            warnings.simplefilter("ignore")
            _consume(default.pipe(texts, batch_size=batch_size))

    def run_c(texts: Sequence[str]) -> None:
        _consume(checker.check_many(texts))

    return {
        "a": ("spaCy bare tokenizer (blank('en').make_doc)", run_a),
        "b": ("medspaCy default: " + " + ".join(n.removeprefix("medspacy_") for n in default.pipe_names), run_b),
        "c": ("tbs-doccheck Checker.check_many (end to end)", run_c),
    }


def run_bench(
    corpus: Corpus,
    rounds: int = 3,
    n_default_pipeline: int = 200,
    runners: dict[str, tuple[str, Callable[[Sequence[str]], None]]] | None = None,
    progress: Callable[[str], None] | None = None,
) -> dict[str, PipelineResult]:
    """Time the three pipelines on the same texts, rounds interleaved (a, b, c, a, b, c, …).

    Each pipeline is warmed up once (on up to 64 reports) before any timing. (b) runs on the first
    ``min(n, n_default_pipeline)`` reports only; its rate is per report, so it compares directly.

    Args:
        corpus: The reports.
        rounds: Timed rounds per pipeline; the table shows medians.
        n_default_pipeline: Cap on the reports medspaCy's default pipeline is timed on.
        runners: The pipelines (built by :func:`make_runners` when None).
        progress: Called with a short status line (no report text) as rounds finish.

    Returns:
        ``key -> PipelineResult``, keys ``a``, ``b``, ``c``.
    """
    runners = runners or make_runners()
    texts = corpus.texts
    subsets = {"a": texts, "b": texts[: max(1, min(len(texts), n_default_pipeline))], "c": texts}
    results = {
        key: PipelineResult(key, name, len(subsets[key]), sum(len(t.encode("utf-8")) for t in subsets[key]))
        for key, (name, _) in runners.items()
    }
    for _name, run in runners.values():
        run(texts[:64])
    for r in range(rounds):
        for key, (_, run) in runners.items():
            gc.collect()
            c0, t0 = time.process_time(), time.perf_counter()
            run(subsets[key])
            results[key].seconds.append(time.perf_counter() - t0)
            results[key].cpu_seconds.append(time.process_time() - c0)
        if progress:
            progress(f"round {r + 1}/{rounds}: " + ", ".join(
                f"{k} {results[k].reports / results[k].seconds[-1]:,.0f}/s" for k in results))
    return results


# --------------------------------------------------------------------------- report
TARGET_C_OVER_B = 25.0
TARGET_A_OVER_C = 3.0


def summary(corpus: Corpus, results: dict[str, PipelineResult], rounds: int) -> dict[str, Any]:
    """Everything the command prints, as a JSON-ready dict."""
    import medspacy
    import spacy

    a, b, c = results["a"], results["b"], results["c"]
    return {
        "corpus": {"source": corpus.source, "base_reports": corpus.base_count, "reports": len(corpus.texts),
                   "mean_report_kb": corpus.mean_kb, "total_mb": corpus.total_bytes / 1e6},
        "rounds": rounds,
        "pipelines": {k: v.as_dict() for k, v in results.items()},
        "ratios": {
            "c_over_b": c.reports_per_s / b.reports_per_s,
            "a_over_c": a.reports_per_s / c.reports_per_s,
            "cpu_c_over_b": c.cpu_reports_per_s / b.cpu_reports_per_s,
            "cpu_a_over_c": a.cpu_reports_per_s / c.cpu_reports_per_s,
        },
        "cpu_share": sum(sum(p.cpu_seconds) for p in results.values())
        / max(sum(sum(p.seconds) for p in results.values()), 1e-9),
        "targets": {"c_over_b_min": TARGET_C_OVER_B, "a_over_c_max": TARGET_A_OVER_C},
        "environment": {"python": platform.python_version(), "spacy": spacy.__version__,
                        "medspacy": getattr(medspacy, "__version__", "?"), "platform": platform.platform()},
    }


def render(data: dict[str, Any]) -> str:
    """The human-readable table of :func:`summary`'s dict."""
    corpus, pipes, ratios = data["corpus"], data["pipelines"], data["ratios"]
    width = max(len(p["name"]) for p in pipes.values()) + 2
    lines = [
        f"corpus: {corpus['reports']:,} reports from {corpus['base_reports']} base reports ({corpus['source']}), "
        f"mean {corpus['mean_report_kb']:.2f} KB, total {corpus['total_mb']:.2f} MB",
        f"medians over {data['rounds']} interleaved round(s), each pipeline warmed up once; "
        "1 KB = 10^3, 1 MB = 10^6 bytes of UTF-8",
        "",
        f"{'':4}{'pipeline':<{width}}{'reports':>8}{'s/round':>10}{'reports/s':>12}{'MB/s':>9}{'CPU rep/s':>12}",
    ]
    for key in ("a", "b", "c"):
        p = pipes[key]
        lines.append(f"({key}) {p['name']:<{width}}{p['reports']:>8,}{p['median_seconds']:>10.3f}"
                     f"{p['reports_per_s']:>12,.1f}{p['mb_per_s']:>9.3f}{p['cpu_reports_per_s']:>12,.1f}")
    b = pipes["b"]
    if b["reports"] < corpus["reports"]:
        lines.append(f"    (b) timed on the first {b['reports']:,} of {corpus['reports']:,} reports "
                     "(--n-default-pipeline); its rate is per report, so it compares directly.")
    cb, ac = ratios["c_over_b"], ratios["a_over_c"]
    tgt = data["targets"]
    lines += [
        "",
        f"c/b = {cb:.1f}x  checker vs medspaCy default (times faster; target >= {tgt['c_over_b_min']:g}: "
        f"{'met' if cb >= tgt['c_over_b_min'] else 'MISSED'})",
        f"a/c = {ac:.1f}x  bare tokenizer vs checker (times slower; target <= {tgt['a_over_c_max']:g}: "
        f"{'met' if ac <= tgt['a_over_c_max'] else 'MISSED'})",
        f"    on CPU time: c/b = {ratios['cpu_c_over_b']:.1f}x, a/c = {ratios['cpu_a_over_c']:.1f}x",
    ]
    if data["cpu_share"] < 0.85:
        lines.append(f"    note: this process got only {100 * data['cpu_share']:.0f}% of a CPU while timed "
                     "(a busy machine); wall-clock rates are low, the CPU-time columns are steadier.")
    return "\n".join(lines)


# --------------------------------------------------------------------------- audit scaling
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
    """Samples the summed resident (RSS) and proportional (PSS) memory of a process and all its descendants (Linux ``/proc``)."""

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
) -> None:
    """Measure reports/s and MB/s of the bare tokenizer, medspaCy's default pipeline and the checker."""
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
