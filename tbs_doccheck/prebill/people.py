"""Who may report a TBS interpretation: credentials, NUCC taxonomy codes, and whether two names are one person."""

from __future__ import annotations

import re
import unicodedata
from typing import Literal

from tbs_doccheck.prebill.data import PrebillRules, load_prebill_rules, norm_cred

# --------------------------------------------------------------------------------------------
# Who may report: credentials, taxonomy codes, names
# --------------------------------------------------------------------------------------------

Qualification = Literal["qualified", "unqualified", "unknown"]


def classify_credential(credential: str | None, rules: PrebillRules) -> Qualification:
    """Judge a credential string such as ``"MD"``, ``"R.T.(R)(BD), CBDT"`` or ``"Scribe"``.

    Any qualified credential wins: a physician who also holds a technologist's
    registry is still a physician.

    Args:
        credential: The credential text, possibly several separated by commas or slashes.
        rules: The rule data.

    Returns:
        ``qualified``, ``unqualified``, or ``unknown`` when nothing is recognised.
    """
    if not credential:
        return "unknown"
    tokens: set[str] = set()
    for part in re.split(r"[,;/&]", credential):
        tokens.add(norm_cred(part))
        tokens.update(norm_cred(word) for word in part.split())
    if tokens & rules._qualified:
        return "qualified"
    if tokens & rules._unqualified:
        return "unqualified"
    return "unknown"


def classify_taxonomy(taxonomy: str | None, rules: PrebillRules) -> Qualification:
    """Judge a NUCC taxonomy code by its prefix (``20…`` physicians, ``2471…`` radiologic technologists…).

    Args:
        taxonomy: The 10-character NUCC code, or None.
        rules: The rule data.

    Returns:
        ``qualified``, ``unqualified`` or ``unknown``.
    """
    if not taxonomy:
        return "unknown"
    code = taxonomy.upper()
    if any(code.startswith(p) for p in rules.unqualified_taxonomy_prefixes):
        return "unqualified"
    if any(code.startswith(p) for p in rules.qualified_taxonomy_prefixes):
        return "qualified"
    return "unknown"


def _fold(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c)).casefold()


def name_tokens(name: str, rules: PrebillRules | None = None) -> tuple[str, ...]:
    """Reduce a person's name to comparable tokens in first…last order.

    Handles case, accents, punctuation, ``Last, First`` order, honorifics,
    credentials and suffixes (``Smith, Harold J., M.D.`` -> ``("harold", "j", "smith")``).
    A trailing token is only stripped as a credential while two tokens remain,
    so surnames such as *Do* or *Ma* survive.

    Args:
        name: The name as written on the claim or in the signing statement.
        rules: The rule data (credential and honorific lists); the packaged rules when None.

    Returns:
        The name's tokens, lower-cased, without punctuation.
    """
    rules = rules or load_prebill_rules()
    noise, honorifics = rules._name_noise, rules._honorifics

    def is_noise(part: str) -> bool:
        return norm_cred(part) in noise or all(norm_cred(w) in noise for w in part.split())

    parts = [p for p in (p.strip() for p in name.split(",")) if p]
    if not parts:
        return ()
    # Parts after the first that hold only credentials or suffixes ("Smith, Harold, MD, PhD") are not names.
    kept = [parts[0]] + [p for p in parts[1:] if not is_noise(p)]
    if len(kept) >= 2:  # "Last, First Middle" -> "First Middle Last"
        kept = kept[1:] + kept[:1]
    # Credentials are judged on whole words ("M.D.", "PA-C") before punctuation splits them.
    words = [w for part in kept for w in part.split()]
    while words and norm_cred(words[0]) in honorifics:
        words.pop(0)
    while len(words) > 2 and norm_cred(words[-1]) in noise:
        words.pop()
    tokens = [t for w in words for t in re.split(r"[-.]+", _fold(w).replace("'", "")) if t]
    return tuple(tokens)


def same_person(a: str, b: str, rules: PrebillRules | None = None) -> bool:
    """Whether two written names plausibly name the same person.

    Last names must agree; first names must agree or one must be the other's
    initial. Middle names and initials are ignored. A name without its comma
    may still be in ``Last First`` order (``Smith Harold J``), so that reading
    is tried too. A one-word name cannot be confirmed and never matches.

    Args:
        a: One name (e.g. the report's signer).
        b: The other (e.g. the claim's rendering provider).
        rules: The rule data; the packaged rules when None.

    Returns:
        True when the names match under these rules.
    """
    ta, tb = name_tokens(a, rules), name_tokens(b, rules)
    if len(ta) < 2 or len(tb) < 2:
        return False

    def readings(t: tuple[str, ...]) -> set[tuple[str, str]]:  # (first, last)
        return {(t[0], t[-1]), (t[1], t[0])}

    def firsts_agree(x: str, y: str) -> bool:
        return x == y or ((len(x) == 1 or len(y) == 1) and x[0] == y[0])

    return any(
        la == lb and firsts_agree(fa, fb) for fa, la in readings(ta) for fb, lb in readings(tb)
    )
