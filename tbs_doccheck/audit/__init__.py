"""The folder audit: discover, check in worker processes, journal for ``--resume``, write the outputs."""

from tbs_doccheck.audit.run import AuditError, AuditSummary, SignerStats, run_audit

__all__ = ["AuditError", "AuditSummary", "SignerStats", "run_audit"]
