"""tbs-doccheck: does a TBS interpretation report document what CPT 77092 requires, and why."""

from typing import TYPE_CHECKING, Any

from ._version import __version__
from .models import CheckResult, ElementResult, Evidence, ReportInput, Requirement, Signer

if TYPE_CHECKING:
    from .api import Checker, check_text, get_checker
    from .prebill import Decision, prebill

# The checker's names load spaCy on first use, not on ``import tbs_doccheck``: a command that only
# hands files to worker processes (``audit --workers 2``) starts in a fraction of a second.
_LAZY = {"Checker": "api", "check_text": "api", "get_checker": "api", "Decision": "prebill", "prebill": "prebill"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        from importlib import import_module

        value = getattr(import_module(f".{_LAZY[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

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
