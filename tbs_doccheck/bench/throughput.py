"""Throughput: interleaved throughput of the bare tokenizer, medspaCy's default pipeline and the checker."""

from __future__ import annotations

import gc
import platform
import statistics
import time
import warnings
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from tbs_doccheck.bench.corpus import Corpus


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

    from tbs_doccheck.checker.core import get_checker

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

