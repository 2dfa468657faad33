"""The pre-bill review hook: a claim carrying 77089-77092 in, release / hold / review with reasons out."""

import sys
import types
from typing import Any

from tbs_doccheck.prebill.contract import (
    Claim,
    ClaimLine,
    Decision,
    Payer,
    Provider,
    ReasonItem,
    ReportRef,
    Versions,
)
from tbs_doccheck.prebill.data import PrebillRules, load_prebill_rules
from tbs_doccheck.prebill.engine import invalid_claim_decision, prebill, prebill_many

__all__ = [
    "Claim",
    "ClaimLine",
    "Decision",
    "Payer",
    "PrebillRules",
    "Provider",
    "ReasonItem",
    "ReportRef",
    "Versions",
    "invalid_claim_decision",
    "load_prebill_rules",
    "prebill",
    "prebill_many",
]


class _CallableModule(types.ModuleType):
    """Lets ``from tbs_doccheck import prebill; prebill(claim)`` keep working now that ``prebill`` is a package.

    Importing a subpackage binds its module object to the parent's attribute of the same name, which
    would shadow the documented function; the module itself forwards calls to it instead.
    """

    def __call__(self, *args: Any, **kwargs: Any) -> Decision:
        return prebill(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
