"""Clinical consistency flags: what a report says that contradicts itself or the tools it quotes.

Computed from a :class:`~tbs_doccheck.models.CheckResult` and the report text after checking; a flag never
changes the verdict. The rules, their thresholds and their sources are data (``patterns/flags.json``); a rule
whose source is not confirmed never fires.

Example:
    >>> flags_for(result, report_text)
    [Flag(id='QC-DATE-ORDER', severity='warning', message='The report is dated ...', evidence=[...])]
"""

from __future__ import annotations

from tbs_doccheck.flags.checks import run_checks
from tbs_doccheck.flags.rules import AnyRule, FlagRules, flag_rules, read_flag_rules
from tbs_doccheck.models import CheckResult, Flag

__all__ = ["Flag", "FlagRules", "all_flags", "describe", "flag_rules", "flags_for", "read_flag_rules"]


def flags_for(result: CheckResult, text: str | None, rules: FlagRules | None = None) -> list[Flag]:
    """The consistency flags of one checked report (none for an unreadable one).

    Args:
        result: The checker's result for ``text``.
        text: The report text the result's evidence offsets point into.
        rules: The rules to apply; the shipped ``patterns/flags.json`` when None.
    """
    if result.verdict == "error" or not text:
        return []
    return run_checks(result, text, rules if rules is not None else flag_rules())


def all_flags(rules: FlagRules | None = None) -> tuple[AnyRule, ...]:
    """Every flag rule (``id``, ``literal``, ``description``, ``severity``, ``source``, ``active``...), in order."""
    return (rules if rules is not None else flag_rules()).rules


def describe(flag_id: str, rules: FlagRules | None = None) -> str | None:
    """What a flag id checks, how sure its source is, and where it comes from; None for an unknown id."""
    rules = rules if rules is not None else flag_rules()
    try:
        rule = rules.rule(flag_id)
    except KeyError:
        return None
    lines = [
        f"{rule.id} ({rule.severity}): {rule.literal}",
        "",
        rule.description,
        "",
        f"Source: {rule.source}",
    ]
    if rule.id == "QC-TBS-CATEGORY-MISMATCH":
        lines += [f"  scheme {s.id}: {s.literal}. {s.source}" for s in rules.tbs_category_schemes]
    lines.append(
        "Applied: yes (source confirmed)."
        if rule.active
        else "Applied: no - its source is unconfirmed, so it never fires. Confirm it against your own source "
        "and set source_status to \"confirmed\" in patterns/flags.json to apply it."
    )
    lines.append("A flag never changes the 77092 verdict.")
    return "\n".join(lines)
