"""Re-check after amendment: only the files whose content changed since the queries were written."""

from tbs_doccheck.recheck.run import RecheckReport, recheck

__all__ = ["RecheckReport", "recheck"]
