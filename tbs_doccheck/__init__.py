"""tbs-doccheck: does a TBS interpretation report document what CPT 77092 requires, and why."""

from typing import TYPE_CHECKING, Any

from tbs_doccheck._version import __version__
from tbs_doccheck.models import CheckResult, ElementResult, Evidence, ReportInput, Requirement, Signer

if TYPE_CHECKING:
    from tbs_doccheck.checker.core import Checker, check_text, get_checker
    from tbs_doccheck.prebill.engine import Decision, prebill

# The checker's names load spaCy on first use, not on ``import tbs_doccheck``: a command that only
# hands files to worker processes (``audit --workers 2``) starts in a fraction of a second.
_LAZY = {
    "Checker": "checker", "check_text": "checker", "get_checker": "checker", "Decision": "prebill", "prebill": "prebill"
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        from importlib import import_module

        module = import_module(f".{_LAZY[name]}", __name__)
        # ``prebill`` names both the package and its function: the package is callable (see there), and
        # binding the function here instead would hide the package's submodules behind it.
        value = module if name == _LAZY[name] else getattr(module, name)
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
