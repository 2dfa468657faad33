"""tbs-doccheck: does a TBS interpretation report document what CPT 77092 requires, and why."""

from .api import Checker, __version__, check_text, get_checker
from .prebill import Decision, prebill
from .models import CheckResult, ElementResult, Evidence, ReportInput, Requirement, Signer

__all__ = [
    "Checker",
    "Decision",
    "CheckResult",
    "ElementResult",
    "Evidence",
    "ReportInput",
    "Requirement",
    "Signer",
    "__version__",
    "check_text",
    "get_checker",
    "prebill",
]
