"""Catastrophic backtracking: every regex the checker runs, against long adversarial runs.

The inventory is gathered so that a new rule or a new helper regex is picked up without
editing this file:

* every pattern in ``patterns/*.json`` (medspaCy section/target/ConText rules with string
  patterns, and every :class:`~tbs_doccheck.checker.patterns.RegexRule` in the tbs_value, signature and
  elements files, found by walking the validated models);
* every string literal handed to ``re.compile/search/match/...`` in ``tbs_doccheck/nlp/*.py``,
  ``tbs_doccheck/elements.py`` and ``tbs_doccheck/read.py`` (read from the source with ``ast``),
  and every compiled pattern kept at module level there;
* every compiled pattern held by the pipeline's own components (rule pieces glued together
  when the component is built, with the flags actually used);
* every pattern compiled while the real pipeline checks a few reports (``re._compile`` is
  wrapped for the duration), which catches patterns assembled on the fly.

Each pattern is run (``finditer`` to the end, as the checker does, plus ``match``) over runs
of the characters such patterns loop over, each also followed by a character that makes a
match fail late. Every run is screened at 10,000 characters; the ones that are not clearly
linear there are re-run at 50,000, where one search must finish in under :data:`BUDGET_S`
seconds. Patterns the code only ever applies to a short slice are tested at a few times that
slice. The work for one pattern happens in a forked child with a hard timeout, so that an
exponential pattern fails its test instead of hanging the run.
"""

from __future__ import annotations

import ast
import multiprocessing
import os
import re
import sys
import time
from collections.abc import Iterator
from typing import Any

import pytest
from paths import PACKAGE
from pydantic import BaseModel

from tbs_doccheck.checker.patterns import RegexRule, load_patterns

#: The modules that hold the checker's and the readers' regexes, wherever the packages split them.
SOURCE_FILES = sorted((PACKAGE / "checker").rglob("*.py")) + sorted((PACKAGE / "readers").rglob("*.py"))

#: Length of the adversarial runs a search must get through within BUDGET_S.
LENGTH = 50_000
#: Every run is first tried at this length; only runs that take over SCREEN_S there are
#: tried at LENGTH (a pattern at most quadratic that needs under SCREEN_S on 10k characters
#: needs under 25 * SCREEN_S on 50k, and a worse one is already slow at 10k).
SCREEN_LENGTH = 10_000
SCREEN_S = 0.02
#: Longest one search (``finditer`` to the end, plus ``match``) may take on a LENGTH run.
BUDGET_S = 1.0
#: Hard limit for all the runs of one pattern together (the forked child is killed after it).
HARD_TIMEOUT_S = 20.0

#: Short units repeated to the run length: what the rules loop over (spaces, letters,
#: dashes, underscores, stars, digits, region lists, dots, brackets, blank lines, the words
#: the rules key on...).
UNITS: tuple[str, ...] = (
    " ", "\t", "\n", " \n", "-\n", "\r\n", "\u00a0", "a", "A", "a ", "A. ", "a.", "-", "_", "*", "1", "12",
    "1.", "1.2 ", "1,2 ", "12.5% ", ".", ",", ":", "|", " | ", "/", "(", "[", "<", "{", "?", "'", "X", "L",
    "L1,", "L1-", "L1 to ", "(L1) ", "- ", "__ ", "** ", "[ ] ", "no ", "not ", "TBS ", "tbs:", "DXA ", "risk of ",
    "signed ", "by ", "Dr ", "MD, ", "e-", "2024 ", "01/", "Jan ", "in ", "\\", "#", "• ",
)
#: Characters appended to each run so that a match, if any, must fail at the very end.
TAILS: tuple[str, ...] = ("", "!")
#: Mixed runs: alternating units that several rules treat as separators.
MIXES: tuple[str, ...] = (" -", " _", "a-", "L1, ", "1.1.", " \t", "a\u00a0", ". ", "__ **", "no no\n", " \n\n")


def _rule_patterns() -> Iterator[tuple[str, str, int]]:
    """(label, pattern, flags) for every string pattern in the shipped rule files."""
    pset = load_patterns()
    for group in ("sections", "targets", "context"):
        for rule in getattr(pset, group):
            if isinstance(rule.pattern, str):
                # medspaCy compiles with IGNORECASE (the fast matcher runs the lower-cased
                # equivalent, which backtracks the same way).
                yield f"{group}:{rule.metadata.id}", rule.pattern, re.IGNORECASE

    def walk(value: Any, where: str) -> Iterator[tuple[str, RegexRule]]:
        if isinstance(value, RegexRule):
            yield where, value
        elif isinstance(value, BaseModel):
            for name in type(value).model_fields:
                yield from walk(getattr(value, name), f"{where}.{name}")
        elif isinstance(value, (list, tuple)):
            for i, item in enumerate(value):
                yield from walk(item, f"{where}[{i}]")
        elif isinstance(value, dict):
            for key, item in value.items():
                yield from walk(item, f"{where}[{key}]")

    for group in ("tbs_value", "signature", "elements"):
        for where, rule in walk(getattr(pset, group), group):
            # RegexRule.compile()'s default; components compiling with other flags are
            # picked up with their real flags by _component_patterns.
            yield f"{where}:{rule.id}", rule.pattern, re.IGNORECASE


_RE_FUNCS = {"compile", "search", "match", "fullmatch", "finditer", "findall", "sub", "subn", "split"}


def _flags_of(call: ast.Call, skip_first: int) -> int:
    flags = 0
    rest = [ast.unparse(a) for a in call.args[skip_first:]] + [ast.unparse(k.value) for k in call.keywords]
    for source in rest:
        if re.search(r"\b(?:IGNORECASE|re\.I)\b", source):
            flags |= re.IGNORECASE
        if re.search(r"\b(?:MULTILINE|re\.M)\b", source):
            flags |= re.MULTILINE
        if re.search(r"\b(?:DOTALL|re\.S)\b", source):
            flags |= re.DOTALL
    return flags


def _source_patterns() -> Iterator[tuple[str, str, int]]:
    """(label, pattern, flags) for every literal regex in the package's own regex-using modules."""
    for path in SOURCE_FILES:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
                continue
            owner = node.func.value
            if not (isinstance(owner, ast.Name) and owner.id == "re" and node.func.attr in _RE_FUNCS):
                continue
            if node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str):
                # re.sub(pattern, repl, string, count, flags): flags may sit further right.
                skip = {"sub": 3, "subn": 3, "split": 2}.get(node.func.attr, 2 if node.func.attr != "compile" else 1)
                yield f"{path.name}:{node.lineno}", node.args[0].value, _flags_of(node, skip)


def _module_patterns() -> Iterator[tuple[str, str, int]]:
    """Compiled patterns kept at module level in the regex-using modules."""
    import importlib

    for path in SOURCE_FILES:
        rel = path.relative_to(PACKAGE.parent).with_suffix("")
        parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
        module = importlib.import_module(".".join(parts))
        for name, value in vars(module).items():
            if isinstance(value, re.Pattern) and isinstance(value.pattern, str):
                yield f"{path.name}:{name}", value.pattern, value.flags & ~re.UNICODE


def _component_patterns(checker: Any) -> Iterator[tuple[str, str, int]]:
    """Patterns the pipeline's own components compiled when they were built (rule pieces glued together)."""

    def walk(value: Any, depth: int = 0) -> Iterator[re.Pattern[str]]:
        if isinstance(value, re.Pattern):
            yield value
        elif depth < 2 and isinstance(value, (list, tuple, set, frozenset)):
            for item in value:
                yield from walk(item, depth + 1)
        elif depth < 2 and isinstance(value, dict):
            for item in value.values():
                yield from walk(item, depth + 1)

    for name, component in checker.nlp.pipeline:
        if not type(component).__module__.startswith("tbs_doccheck"):
            continue  # medspaCy's components: their rules are listed above, their defaults unused
        for attr, value in vars(component).items() if hasattr(component, "__dict__") else ():
            if attr == "newline_pattern" and not (
                getattr(component, "require_start_line", False) or getattr(component, "require_end_line", False)
            ):
                continue  # medspaCy's Sectionizer only uses it to require headers on their own line
            for rx in walk(value):
                if isinstance(rx.pattern, str):
                    yield f"{name}.{attr}", rx.pattern, rx.flags & ~re.UNICODE


def _runtime_patterns(checker: Any, texts: list[str]) -> Iterator[tuple[str, str, int]]:
    """Patterns compiled (or fetched from re's cache) while the pipeline checks ``texts``."""
    seen: list[tuple[str, int]] = []
    original = re._compile  # type: ignore[attr-defined]

    def recording(pattern: Any, flags: Any) -> Any:
        if isinstance(pattern, str):
            seen.append((pattern, int(flags)))
        return original(pattern, flags)

    re._compile = recording  # type: ignore[attr-defined]
    try:
        for text in texts:
            checker.check_text(text)
    finally:
        re._compile = original  # type: ignore[attr-defined]
    for pattern, flags in seen:
        yield "runtime", pattern, flags & ~re.UNICODE


def _inventory() -> list[tuple[str, str, int]]:
    from tbs_doccheck import Checker

    try:
        from tests import formats as F
    except ImportError:  # pragma: no cover - depends on how pytest was started
        import formats as F  # type: ignore[no-redef]

    texts = [
        F.REPORT_TEXT,
        "TBS\nL1 1.201\nL2 1.222\nL1-L4 1.250\n",
        "Region  BMD  T-score  TBS\nL1-L4  0.901  -1.9  1.233\nL1  0.8  -2.0  1.200\n",
        "TBS L1-L2 1.18, L1-L4 1.22, L3 1.30 (L1 to L4)\nFRAX MOF 12% hip 2%\nsigned: ____\n",
    ]
    sample_dir = PACKAGE.parent / "sample_reports"
    texts += [p.read_text(encoding="utf-8", errors="replace") for p in sorted(sample_dir.glob("*.txt"))[:10]]
    checker = Checker()
    found: dict[tuple[str, int], str] = {}
    sources = (
        _rule_patterns(),
        _source_patterns(),
        _module_patterns(),
        _component_patterns(checker),
        _runtime_patterns(checker, texts),
    )
    for source in sources:
        for label, pattern, flags in source:
            found.setdefault((pattern, flags), label)
    return sorted(((label, pattern, flags) for (pattern, flags), label in found.items()), key=lambda t: t[0])


INVENTORY = _inventory()

_TBS = load_patterns().tbs_value
_REGION = _TBS.region.pattern


#: Rules known to backtrack badly: rule id -> what was measured. Kept as xfail(strict=True):
#: once the rule is fixed its test XPASSes, which fails the run as a reminder to drop the
#: entry. (Found and since fixed: V-REGION, the TBS region-row and region-list patterns,
#: E-DATED-VALUE, G-STATUS-DRAFT's '^\\W*draft\\W*$' and '\\*+\\s*draft', the table-cell splitter.)
KNOWN_SLOW: dict[str, str] = {}


def _known_slow(label: str) -> str | None:
    return next((why for rule_id, why in KNOWN_SLOW.items() if label.endswith(f":{rule_id}")), None)


#: Patterns only ever run on a short slice of the text: tested at this many characters
#: (three times the slice) instead of LENGTH, since long runs never reach them.
def _bounded_length(pattern: str) -> int | None:
    if pattern == _TBS.not_a_value_mention.pattern:
        return 120  # tbs_value.find: software.match(text[me : me + 40]); cubic on spaces beyond that
    if pattern == r"[\s:\-]*(?:by\s+)?(?:Dr|Doctor)\b":
        return 36  # signature.find: re.match(..., text[m.end() : m.end() + 12])
    if pattern.startswith(r"\s*\(?\s*(") and _REGION in pattern:
        return 60  # tbs_value._after_value_region: text[value_end : value_end + 20]; quartic beyond
    return None


def _adversarial_inputs(length: int) -> list[tuple[str, str]]:
    inputs = []
    for unit in UNITS:
        run = (unit * (length // len(unit) + 1))[:length]
        inputs += [(f"{unit!r}*{length}+{tail!r}", run + tail) for tail in TAILS]
    inputs += [(f"{mix!r}*~{length}", (mix * (length // len(mix) + 1))[:length]) for mix in MIXES]
    return inputs


#: Built once in the parent; forked children share them.
SCREEN_INPUTS = _adversarial_inputs(SCREEN_LENGTH)
INPUTS = _adversarial_inputs(LENGTH)


def _search_time(rx: re.Pattern[str], text: str) -> float:
    started = time.perf_counter()
    for n, _ in enumerate(rx.finditer(text)):
        if n > len(text):  # pragma: no cover - finditer cannot yield more than len + 1
            break
    rx.match(text)
    return time.perf_counter() - started


def _time_pattern(pattern: str, flags: int, length: int, out: Any) -> None:
    """Runs in the forked child: screens every run short, times the suspicious ones long."""
    rx = re.compile(pattern, flags)
    worst = ("", 0.0)
    full = INPUTS if length == LENGTH else _adversarial_inputs(length)
    screen = SCREEN_INPUTS if length == LENGTH else full
    for (short_label, short), (label, text) in zip(screen, full, strict=True):
        out.send(("start", short_label))
        # The machine is shared: a run counts as slow only when it is slow twice.
        if length == LENGTH and (_search_time(rx, short) <= SCREEN_S or _search_time(rx, short) <= SCREEN_S):
            continue
        out.send(("start", label))
        elapsed = _search_time(rx, text)
        if BUDGET_S < elapsed < 5 * BUDGET_S:
            elapsed = min(elapsed, _search_time(rx, text))
        if elapsed > worst[1]:
            worst = (label, elapsed)
        if elapsed > BUDGET_S:
            out.send(("slow", label, elapsed))
            break
    out.send(("done", *worst))
    out.close()


def _measure(
    pattern: str, flags: int, length: int = LENGTH, timeout: float = HARD_TIMEOUT_S
) -> tuple[str, str, float]:
    """('done'|'slow'|'timeout', input label, seconds) for one pattern, in a forked child."""
    ctx = multiprocessing.get_context("fork")
    parent, child = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_time_pattern, args=(pattern, flags, length, child), daemon=True)
    proc.start()
    child.close()
    deadline = time.monotonic() + timeout
    current = ""
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0 or not parent.poll(left):
                return "timeout", current, timeout
            try:
                message = parent.recv()
            except EOFError:
                return "timeout", f"child died ({proc.exitcode}) on {current}", 0.0
            if message[0] == "start":
                current = message[1]
            elif message[0] in ("slow", "done"):
                return message[0], message[1], message[2]
    finally:
        if proc.is_alive():
            proc.kill()
        proc.join(5)
        parent.close()


def _params() -> list[Any]:
    params = []
    for label, pattern, flags in INVENTORY:
        reason = _known_slow(label)
        marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
        params.append(pytest.param(pattern, flags, bool(reason), id=label, marks=marks))
    return params


def test_the_inventory_holds_every_kind_of_pattern() -> None:
    labels = [label for label, _, _ in INVENTORY]
    for expected in ("sections:", "targets:", "context:", "tbs_value.", "signature.", "elements."):
        assert any(label.startswith(expected) for label in labels), expected
    for module in ("sentences.py", "signature.py", "tbs_value.py", "elements.py"):
        assert any(label.startswith(module) for label in labels), module
    # Patterns only assembled at run time (rule pieces glued together) are caught too.
    region = load_patterns().tbs_value.region.pattern
    assert sum(region in pattern and region != pattern for _, pattern, _ in INVENTORY) >= 1
    assert len(INVENTORY) >= 80, len(INVENTORY)


@pytest.mark.skipif(sys.platform == "win32" or not hasattr(os, "fork"), reason="needs fork")
@pytest.mark.parametrize(("pattern", "flags", "known_slow"), _params())
def test_no_pattern_backtracks_catastrophically_on_long_runs(pattern: str, flags: int, known_slow: bool) -> None:
    # A known-slow pattern only has to fail: no need to wait the full hard timeout for it.
    timeout = 3.0 if known_slow else HARD_TIMEOUT_S
    status, where, seconds = _measure(pattern, flags, _bounded_length(pattern) or LENGTH, timeout)
    print(f"{status:8} {seconds:6.3f}s  {where}")
    assert status == "done", (
        f"{status}: searching {pattern!r} took {seconds:.2f}s on {where} (budget {BUDGET_S}s per search)"
    )
