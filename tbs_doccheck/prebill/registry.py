"""The pre-bill rule registry: every reason id, declared once, where the code that emits it lives.

A rule is declared by decorating the function that produces its reasons::

    @rule("PB010-77089-bundled", outcome="hold", summary="77089 with 77090/77091/77092 on the claim …",
          source="CPT parenthetical: do not report 77089 with 77090, 77091 or 77092")
    def rule_bundled(ctx: RuleContext) -> list[ReasonItem]: ...

A function that emits several ids carries one decorator per id. The engine runs every
function declared with ``runs=True`` (the default) once per claim, in the order of the
lowest id each declares, which is the order reasons are listed in. Ids the engine emits
itself (out of scope, all passed, claim invalid) are declared with ``runs=False`` on the
function that builds them.

Ids are a contract billing systems branch on: never renumber or reuse one, only add.

The registry fills as ``tbs_doccheck.prebill.rules`` and ``tbs_doccheck.prebill.engine``
are imported, which importing anything from ``tbs_doccheck.prebill`` does (the package
imports its engine first).
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from tbs_doccheck.prebill.contract import Outcome

F = TypeVar("F", bound=Callable[..., Any])

_ID_SHAPE = re.compile(r"PB\d{3}-[a-z0-9]+(?:-[a-z0-9]+)*")
_OUTCOMES = ("release", "hold", "review")


@dataclass(frozen=True)
class RuleInfo:
    """One registered reason id: what decision it carries, what it means, and where it comes from."""

    rule_id: str
    outcome: Outcome
    summary: str  # one line: when the reason is given
    source: str  # the authority behind the rule (CPT, the fee schedule, the rule data, this tool)
    function: Callable[..., Any]  # the code that emits it
    runs: bool  # run by the engine for every claim in scope (False: the engine emits it itself)

    @property
    def number(self) -> int:
        """The id's number (``PB010-…`` -> 10), which orders the rules."""
        return int(self.rule_id[2:5])

    @property
    def emitted_by(self) -> str:
        """``module.function`` of the code that emits the reason."""
        return f"{self.function.__module__}.{self.function.__qualname__}"


_RULES: dict[str, RuleInfo] = {}


def rule(rule_id: str, *, outcome: Outcome, summary: str, source: str, runs: bool = True) -> Callable[[F], F]:
    """Declare the reason id ``rule_id``, produced by the decorated function.

    Args:
        rule_id: ``PBnnn-words-in-kebab-case``; the number is unique across the registry.
        outcome: The decision the reason carries.
        summary: One line saying when the reason is given.
        source: The authority behind the rule.
        runs: True when the function is a rule the engine calls with a ``RuleContext``;
            False when the engine emits the reason itself and the function only builds it.

    Returns:
        A decorator that registers the function and returns it unchanged.

    Raises:
        ValueError: A malformed or repeated id or number, an unknown outcome, or an empty summary.
    """

    def register(function: F) -> F:
        if not _ID_SHAPE.fullmatch(rule_id):
            raise ValueError(f"rule id {rule_id!r} is not shaped PBnnn-words")
        if outcome not in _OUTCOMES:
            raise ValueError(f"rule {rule_id}: outcome {outcome!r} is not one of {', '.join(_OUTCOMES)}")
        if not summary.strip() or "\n" in summary:
            raise ValueError(f"rule {rule_id}: the summary must be one non-empty line")
        taken = [r.rule_id for r in _RULES.values() if r.number == int(rule_id[2:5])]
        if taken:
            raise ValueError(f"rule {rule_id}: its number is taken by {taken[0]}")
        _RULES[rule_id] = RuleInfo(rule_id, outcome, summary, source, function, runs)
        return function

    return register


def all_rules() -> tuple[RuleInfo, ...]:
    """Every registered reason id, in id order."""
    return tuple(sorted(_RULES.values(), key=lambda r: r.rule_id))


def get(rule_id: str) -> RuleInfo:
    """The registered rule ``rule_id``.

    Raises:
        KeyError: No rule has that id.
    """
    return _RULES[rule_id]


def checks() -> tuple[Callable[..., Any], ...]:
    """The functions the engine runs for a claim in scope, each once, ordered by the lowest id each declares."""
    first: dict[Callable[..., Any], int] = {}
    for info in _RULES.values():
        if info.runs:
            first[info.function] = min(first.get(info.function, info.number), info.number)
    return tuple(sorted(first, key=first.__getitem__))


def describe(rule_id: str) -> str:
    """What ``rule_id`` means, for ``tbs-doccheck explain PBnnn-…``: outcome, summary, source and the rule's doc.

    Args:
        rule_id: A registered id, or just its ``PBnnn`` prefix.

    Returns:
        A few lines of plain text.

    Raises:
        KeyError: No registered rule has that id or prefix.
    """
    info = _RULES.get(rule_id) or next((r for r in _RULES.values() if r.rule_id[:5] == rule_id), None)
    if info is None:
        raise KeyError(rule_id)
    doc = inspect.getdoc(info.function) or ""
    lines = [
        f"{info.rule_id} ({info.outcome}): {info.summary}",
        f"source: {info.source}",
        f"emitted by: {info.emitted_by}",
    ]
    return "\n".join(lines + ["", doc] if doc else lines)
