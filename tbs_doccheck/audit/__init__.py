"""The folder audit: discover, check in worker processes, journal for ``--resume``, write the outputs."""

from tbs_doccheck.audit.errors import AuditError
from tbs_doccheck.audit.run import run_audit
from tbs_doccheck.models import AuditSummary, SignerStats

__all__ = ["AuditError", "AuditSummary", "SignerStats", "run_audit"]
