"""Benchmarks (``tbs-doccheck bench``): checker throughput against spaCy and medspaCy, and audit scaling."""

from tbs_doccheck.bench.audit_scaling import AuditRun, combine_rounds, render_audit, run_audit_scaling
from tbs_doccheck.bench.corpus import BUILTIN_REPORTS, Corpus, build_corpus, load_base_reports
from tbs_doccheck.bench.throughput import PipelineResult, render, run_bench, summary

__all__ = [
    "BUILTIN_REPORTS",
    "AuditRun",
    "Corpus",
    "PipelineResult",
    "build_corpus",
    "combine_rounds",
    "load_base_reports",
    "render",
    "render_audit",
    "run_audit_scaling",
    "run_bench",
    "summary",
]
