"""A drop-in for medspaCy's ``RegexMatcher`` that reads the document text once per call."""

import re
import re._constants as _sre  # the stdlib parser behind ``re``; Python is pinned to 3.11
import re._parser as _sre_parse
from bisect import bisect_left
from collections import deque
from collections.abc import Iterator

from medspacy.common.medspacy_matcher import MedspacyMatcher
from medspacy.common.regex_matcher import RegexMatcher
from medspacy.common.util import overlaps
from spacy.tokens import Doc

from tbs_doccheck.checker.speedups.offsets import fold_case, fold_char, token_offsets


class FastRegexMatcher(RegexMatcher):
    """Same matches as medspaCy 1.3.1's ``RegexMatcher``, in the same order.

    The original rebuilds ``doc.text_with_ws`` (a join over every token) for every pattern and
    resolves unaligned offsets with a linear scan over the tokens; with dozens of regex rules that
    was over half of the checker's time. Here the text and the token offsets are computed once
    per document and offsets are resolved by bisection.
    """

    def fold(self) -> None:
        """Recompile every pattern case-sensitively for case-folded text (about twice as fast).

        medspaCy compiles with ``re.IGNORECASE``; matching the lower-cased pattern against the
        lower-cased text finds the same matches at the same offsets. Patterns ``re`` cannot skip
        through quickly by itself are compiled in the form :func:`charset_scan` gives.
        """
        #: Patterns compiled in a scan form (:func:`line_scan`, :func:`charset_scan`), by ``id`` (hashing a
        #: compiled pattern hashes its whole program, on every document), each with what :func:`_scan_spans`
        #: needs besides: the pattern itself for position 0 (line form) or None. ``_patterns`` holds them,
        #: so the ids stay theirs.
        self.scan_forms: dict[int, re.Pattern[str] | None] = {}
        for key, patterns in self._patterns.items():
            self._patterns[key] = [
                p if p.flags & re.IGNORECASE == 0 else self._compile(fold_pattern(p.pattern), p.flags & ~re.IGNORECASE)
                for p in patterns
            ]
        self.folded = True

    def _compile(self, pattern: str, flags: int) -> re.Pattern[str]:
        compiled, head = scan_form(pattern, flags)
        if compiled is None:
            return re.compile(pattern, flags)
        self.scan_forms[id(compiled)] = head
        return compiled

    def __call__(self, doc: Doc) -> list[tuple[int, int, int]]:
        raw, starts, ends, start_index, folded = token_offsets(doc)
        text = folded if getattr(self, "folded", False) else raw
        scan_forms = getattr(self, "scan_forms", {})
        n = len(starts)
        matches: list[tuple[int, int, int]] = []
        for match_id, patterns in self._patterns.items():
            on_match = self._callbacks[match_id]
            for pattern in patterns:
                head = scan_forms.get(id(pattern), _PLAIN)
                for s, e in (_spans(pattern, text) if head is _PLAIN else _scan_spans(pattern, text, head)):
                    if s in start_index and e in ends and ends[e] >= start_index[s]:
                        first, stop = start_index[s], ends[e] + 1
                    else:
                        first = self._resolve(starts, n, s, self.resolve_start)
                        end_tok = self._resolve(starts, n, e, self.resolve_end)
                        stop = n if end_tok is None else end_tok
                    if stop - first > 0:
                        matches.append((match_id, first, stop))
                    if on_match is not None:
                        on_match(self, doc, len(matches) - 1, matches)
        return matches

    @staticmethod
    def _resolve(starts: list[int], n: int, char_idx: int, resolve: str) -> int | None:
        """Token index for ``char_idx`` exactly as ``medspacy.common.util.get_token_for_char``."""
        i = bisect_left(starts, char_idx)
        if i < n and starts[i] == char_idx:
            return i
        if i == n:
            return n - 1 if resolve == "left" else None
        return (i - 1) % n if resolve == "left" else i


#: Marks a pattern used as it is, in :attr:`FastRegexMatcher.scan_forms` lookups.
_PLAIN: object = object()


def _spans(pattern: re.Pattern[str], text: str) -> Iterator[tuple[int, int]]:
    for m in pattern.finditer(text):
        yield m.span()


def scan_form(pattern: str, flags: int) -> tuple[re.Pattern[str] | None, re.Pattern[str] | None]:
    """``pattern`` compiled in its :func:`line_scan` or :func:`charset_scan` form, if either applies.

    Returns:
        ``(scan, head)`` for :func:`_scan_spans`: ``head`` is ``pattern`` itself for the line form (the
        first line has no line break before it) and None for the charset form; ``(None, None)`` when
        neither form applies.
    """
    try:
        line = line_scan(pattern, flags)
        if line is not None:
            return re.compile(line, flags), re.compile(pattern, flags)
        charset = charset_scan(pattern, flags)
        return (re.compile(charset, flags), None) if charset is not None else (None, None)
    except re.error:  # e.g. a second leading flag group, which may not move inside a group
        return None, None


def _scan_spans(scan: re.Pattern[str], text: str, head: re.Pattern[str] | None = None) -> Iterator[tuple[int, int]]:
    """The spans ``finditer`` of the original pattern gives, from its scan form (see :func:`scan_form`)."""
    pos = 0
    if head is not None and (m := head.match(text)) is not None:
        pos = m.end()
        yield 0, pos
    while (m := scan.search(text, pos - 1 if head is not None and pos else pos)) is not None:
        # (The line form finds the line break before a match: it may sit just before ``pos``.)
        start, end = m.span(1)
        yield start, end
        pos = end  # the original cannot match empty, so this always moves on, as finditer does


def line_scan(pattern: str, flags: int = 0) -> str | None:
    """``pattern`` rewritten to look for line breaks when every match starts a line, or None.

    A multi-line pattern opening with ``^`` matches only at the start of the text and after a
    ``"\\n"``. ``\\n(?=(P))`` opens with a literal, which ``re`` finds at C speed, and tries ``P`` only
    just after it, capturing its match as group 1; the start of the text is tried with ``P`` itself
    (:func:`_scan_spans`). Only the spans are kept: ``P``'s own groups move up by one.

    Args:
        pattern: A regular expression.
        flags: The flags it will be compiled with.

    Returns:
        The rewritten pattern, or None where it does not apply (not multi-line, not opening with ``^``,
        able to match the empty string, verbose, or referring back to its own groups).
    """
    try:
        parsed = _sre_parse.parse(pattern, flags)
        items = list(parsed)
        if (not parsed.state.flags & re.MULTILINE or parsed.state.flags & re.VERBOSE
                or not items or items[0] != (_sre.AT, _sre.AT_BEGINNING)
                or parsed.getwidth()[0] == 0 or _has_backreference(items)):
            return None
    except (re.error, RecursionError):
        return None
    head = _GLOBAL_FLAGS.match(pattern)
    cut = head.end() if head else 0
    return f"{pattern[:cut]}\\n(?=({pattern[cut:]}))"


def charset_scan(pattern: str, flags: int = 0) -> str | None:
    """``pattern`` rewritten to open with the class of characters a match can start with, or None.

    ``re`` skips through text quickly only for a pattern that opens with a literal or a character
    class; one opening with ``\\b``, a lookbehind or a lookahead is tried at every position, alternative
    by alternative. ``[C](?<=(?=(P))(?s:.))`` opens with the class ``C``, so ``re`` jumps from one
    character of ``C`` to the next; there it steps back over that character and tries ``P`` in a
    lookahead, capturing its match as group 1. Each search finds the leftmost position where ``P``
    matches, and the match ``P`` itself finds there, so searching on from the end of group 1 gives the
    matches ``P.finditer`` gives (:func:`_scan_spans`). Only the spans are kept: ``P``'s own groups
    move up by one.

    Args:
        pattern: A case-sensitive regular expression.
        flags: The flags it will be compiled with.

    Returns:
        The rewritten pattern, or None where it would not help (``pattern`` already opens with a literal
        or a class, can start with too many characters or match the empty string) or could change the
        result (it refers back to its own groups).
    """
    try:
        parsed = _sre_parse.parse(pattern, flags)
        if parsed.state.flags & (re.IGNORECASE | re.VERBOSE) or _has_backreference(list(parsed)):
            return None
        if _scanned_fast(list(parsed)):
            return None
        chars = _first_chars(list(parsed))
    except (re.error, _Unsupported, RecursionError):
        return None
    if chars is None:
        return None
    head = _GLOBAL_FLAGS.match(pattern)
    cut = head.end() if head else 0
    charset = "".join(_class_item(item) for item in sorted(chars))
    return f"{pattern[:cut]}[{charset}](?<=(?=({pattern[cut:]}))(?s:.))"


def _has_backreference(seq: list) -> bool:
    for op, av in seq:
        if op in (_sre.GROUPREF, _sre.GROUPREF_EXISTS):
            return True
        for value in av if isinstance(av, (list, tuple)) else (av,):
            if isinstance(value, _sre_parse.SubPattern) and _has_backreference(list(value)):
                return True
            if isinstance(value, (list, tuple)) and any(
                isinstance(v, _sre_parse.SubPattern) and _has_backreference(list(v)) for v in value
            ):
                return True
    return False


def prune_longest(matches: list[tuple[int, int, int]]) -> list[tuple[int, int, int]]:
    """``medspacy.common.util.prune_overlapping_matches`` with the same result, in linear passes.

    The original pops from the front of a list (quadratic) and recurses once per pass (a report
    with 300,000 short lines hit both).
    """
    while True:
        count = len(matches)
        if count == 0:
            return matches
        pending = deque(sorted(matches, key=lambda m: (m[1], m[2])))
        pruned: list[tuple[int, int, int]] = []
        current = pending.popleft()
        while True:
            if not pending:
                pruned.append(current)
                break
            following = pending.popleft()
            if overlaps(current, following):
                pruned.append(max(current, following, key=lambda m: m[2] - m[1]))
                if not pending:
                    break
                current = pending.popleft()
            else:
                pruned.append(current)
                current = following
        if len(pruned) == count:
            return pruned
        matches = pruned


class FastMedspacyMatcher(MedspacyMatcher):
    """``MedspacyMatcher`` whose pruning is :func:`prune_longest`, and which skips its empty matchers.

    Our rules are all regular expressions; spaCy's token ``Matcher`` with no patterns returns nothing
    and raises a (filtered) warning on every document.
    """

    def __call__(self, doc: Doc) -> list[tuple[int, int, int]]:
        token_matcher = self._MedspacyMatcher__matcher
        phrase_matcher = self._MedspacyMatcher__phrase_matcher
        matches = token_matcher(doc) if len(token_matcher) else []
        if len(phrase_matcher):
            matches += phrase_matcher(doc)
        matches += self._MedspacyMatcher__regex_matcher(doc)
        if self._prune:
            matches = prune_longest(matches)
        return matches


def fold_pattern(pattern: str) -> str:
    """Case-fold a regular expression's literals (as :func:`fold_case` folds text), leaving escapes intact.

    Escapes such as ``\\S``, ``\\B`` and ``\\x41`` keep their meaning.
    """
    out: list[str] = []
    i = 0
    while i < len(pattern):
        if pattern[i] == "\\" and i + 1 < len(pattern):
            out.append(pattern[i : i + 2])
            i += 2
            continue
        out.append(fold_char(pattern[i]))
        i += 1
    return "".join(out)


def speed_up(component: object) -> int:
    """Swap the regex matchers inside a medspaCy component for :class:`FastRegexMatcher`.

    Returns:
        How many matchers were swapped (0 when the component holds none).
    """
    swapped = 0
    for value in vars(component).values():
        if isinstance(value, MedspacyMatcher):
            inner = value._MedspacyMatcher__regex_matcher  # medspaCy keeps it private; pinned to 1.3.1
            if type(inner) is RegexMatcher:
                inner.__class__ = FastRegexMatcher
                inner.fold()
                swapped += 1
            if type(value) is MedspacyMatcher:
                value.__class__ = FastMedspacyMatcher
    return swapped


_GLOBAL_FLAGS = re.compile(r"\A\(\?[aiLmsux]+\)")
_ZERO_WIDTH = {_sre.AT, _sre.ASSERT, _sre.ASSERT_NOT}
_REPEATS = {_sre.MAX_REPEAT, _sre.MIN_REPEAT, _sre.POSSESSIVE_REPEAT}


def _scanned_fast(seq: list) -> bool:
    """Whether ``re`` already skips ahead by itself: the pattern opens with a literal or a character class."""
    if not seq:
        return False
    op, av = seq[0]
    if op in (_sre.LITERAL, _sre.IN):
        return True
    if op is _sre.SUBPATTERN and not av[1] and not av[2]:
        return _scanned_fast(list(av[3]))
    if op is _sre.BRANCH:
        return all(alternative and list(alternative)[0][0] is _sre.LITERAL for alternative in av[1])
    return False


class _Unsupported(Exception):
    """A construct whose first characters are not a small literal set."""


def _first_chars(seq: list) -> set[tuple[int, int]] | None:
    """First characters (``(lo, hi)`` code point ranges) of a parsed sequence; None when it can be empty."""
    found: set = set()
    for op, av in seq:
        if op in _ZERO_WIDTH:
            continue
        nullable = False
        if op is _sre.LITERAL:
            found.add((av, av))
        elif op is _sre.IN:
            for kind, value in av:
                if kind is _sre.LITERAL:
                    found.add((value, value))
                elif kind is _sre.RANGE:
                    found.add(tuple(value))
                else:  # a category or a negated class: too wide to help
                    raise _Unsupported
        elif op is _sre.BRANCH:
            for alternative in av[1]:
                sub = _first_chars(list(alternative))
                if sub is None:
                    nullable = True
                else:
                    found |= sub
        elif op is _sre.SUBPATTERN:
            if av[1] or av[2]:  # scoped flags such as (?i:...)
                raise _Unsupported
            sub = _first_chars(list(av[3]))
            nullable = sub is None
            found |= sub or set()
        elif op is _sre.ATOMIC_GROUP:
            sub = _first_chars(list(av))
            nullable = sub is None
            found |= sub or set()
        elif op in _REPEATS:
            sub = _first_chars(list(av[2]))
            nullable = sub is None or av[0] == 0
            found |= sub or set()
        else:
            raise _Unsupported
        if not nullable:
            return found
    return None


def _class_item(item: tuple[int, int]) -> str:
    lo, hi = item
    return _class_char(lo) if lo == hi else f"{_class_char(lo)}-{_class_char(hi)}"


def _class_char(code: int) -> str:
    char = chr(code)
    return char if char.isascii() and char.isalnum() else f"\\U{code:08x}"


class Scanner:
    """A case-insensitive rule regex for whole-text scans, matched against the case-folded text.

    Same matches at the same offsets as ``re.compile(pattern, flags)`` on the original text, found
    several times faster (folded text, and the :func:`charset_scan` form where it applies); match
    groups hold folded text, so callers slice the original text by offsets.
    """

    def __init__(self, pattern: str, flags: int = re.IGNORECASE) -> None:
        self.folded = bool(flags & re.IGNORECASE)
        flags &= ~re.IGNORECASE
        source = fold_pattern(pattern) if self.folded else pattern
        self.rx = re.compile(source, flags)
        self.scan, self.head = scan_form(source, flags)

    def finditer(self, text: str, folded: str | None = None) -> Iterator[re.Match[str]]:
        """Matches in ``text``; pass ``folded`` (``fold_case(text)``) when it is already at hand."""
        if self.folded:
            text = fold_case(text) if folded is None else folded
        if self.scan is None:
            return self.rx.finditer(text)
        return self._scanned(text)

    def _scanned(self, text: str) -> Iterator[re.Match[str]]:
        # The scan form finds where the next match starts; matching the pattern itself there gives the
        # very match finditer would give, groups included.
        for start, end in _scan_spans(self.scan, text, self.head):
            m = self.rx.match(text, start)
            assert m is not None and m.end() == end
            yield m
