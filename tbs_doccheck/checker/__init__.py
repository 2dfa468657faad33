"""The checker: one spaCy ``Language`` that finds the five elements in a report, with evidence, and a verdict."""

from tbs_doccheck.checker.core import Checker, check_text, get_checker

__all__ = ["Checker", "check_text", "get_checker"]
