"""The benchmark corpus: sample reports cycled and varied (names, numbers, dates) to any size."""

from __future__ import annotations

import json
import random
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path


def _default_roots() -> tuple[Path, ...]:
    """Where the base reports may live: the working directory first, then the checkout this module sits in."""
    return (Path.cwd(), Path(__file__).resolve().parents[2])


#: Stand-ins used only when neither ``sample_reports/*.txt`` nor ``tests/data/varied.jsonl`` exists.
BUILTIN_REPORTS: tuple[str, ...] = (
    # A radiology-style report that passes.
    "NORTHGATE IMAGING\nPatient: HALVORSEN, Marit   MRN 0042117   DOB 1951-04-02   Exam date: 2025-03-04\n"
    "Exam: DXA bone density, lumbar spine and left hip, with trabecular bone score.\n\n"
    "HISTORY: Postmenopausal woman on long-term prednisone.\n\n"
    "FINDINGS:\nL1-L4 BMD 0.861 g/cm2, T-score -1.8.\nLeft femoral neck T-score -2.1.\nTBS L1-L4: 1.226 (degraded).\n\n"
    "FRAX adjusted for TBS: major osteoporotic fracture 17.2%, hip 3.4%.\n\n"
    "IMPRESSION: Osteopenia with degraded microarchitecture; high fracture risk.\n\n"
    "RECOMMENDATIONS: Start an oral bisphosphonate. Calcium and vitamin D. Repeat DXA with TBS in 2 years.\n\n"
    "Electronically signed by Tobias Renwick-Amadi, MD on 2025-03-04 at 15:10\n",
    # A clinic letter, value on the next line, qualified by an NP.
    "Dear Dr Okonkwo,\n\nThank you for referring Mrs Ines Castellanos (DOB 12/09/1948) for bone densitometry.\n"
    "Her DXA scan of 02/18/2025 showed a lumbar spine T-score of -2.6 and a total hip T-score of -2.0.\n"
    "Trabecular bone score (L1-L4)\n1.188\nwhich indicates degraded bone microarchitecture.\n\n"
    "Her 10-year probability of a major osteoporotic fracture is 21% (TBS-adjusted FRAX), which is high.\n\n"
    "Plan: denosumab every 6 months; dental review first; recheck bone density in 2 years.\n\n"
    "Yours sincerely,\nSigned by Aurelie Fontaine-Webb, NP\n",
    # A template with placeholders that fails.
    "BONE DENSITY REPORT\nPatient: [name]   Date: 01/22/2025\nExam: ***\n\n"
    "Trabecular bone score: ___\nFRAX: [select]\n\n"
    "Impression: TBS is a texture measure used to estimate fracture risk.\n\n"
    "Recommendations: N/A\n\nPRELIMINARY REPORT - NOT SIGNED\n",
    # A region list and a prior value that must not count.
    "Bone Health Clinic - Densitometry\nName: Dufresne, Colette   DOS 2025-01-09\n"
    "Study: dual-energy X-ray absorptiometry (DEXA) with TBS.\n\nTBS by region:\n  L1-L2  1.241\n  L1-L4  1.262\n"
    "Comparison: DXA 2022, TBS 1.301 at that time.\n\nAssessment: osteopenia; moderate 10-year fracture risk "
    "(FRAX MOF 11.8%, hip 1.6%).\n\nRecommendations:\n1. Calcium 1,200 mg/day and vitamin D 800 IU/day.\n"
    "2. Weight-bearing exercise.\n3. Follow-up DXA in 2 years.\n\n/s/ Rajesh Venkataraman, MBBS, FRCP 2025-01-10\n",
    # A short note with a trainee signature and a pending attending.
    "Orthopaedic fracture liaison note, 03/30/2025\nPatient: Lindqvist, Johanna\n"
    "A DXA with trabecular bone score was performed today; TBS 1.312 (normal).\n"
    "Fracture risk is low (FRAX MOF 6.4%, hip 0.8%).\nRecommend calcium, vitamin D and a repeat scan in 3 years.\n"
    "Electronically signed by Mateo Quiroga, MD (resident)\nAttending signature pending.\n",
)


_SURNAMES: tuple[str, ...] = (
    "Abernathy", "Bellweather", "Castellano", "Dravid", "Eriksen", "Fairbanks", "Gallagher", "Haddad",
    "Ibarra", "Jablonski", "Kowalczyk", "Lindgren", "Mbeki", "Nakamura", "Okafor", "Pellegrini",
    "Quintero", "Rasmussen", "Szabo", "Thorvaldsen", "Umarov", "Vasquez", "Whitcombe", "Yilmaz", "Zielinski",
)


_GIVEN: tuple[str, ...] = (
    "Agnes", "Beatriz", "Carmen", "Delphine", "Esther", "Fiona", "Greta", "Hana", "Imelda", "Judith",
    "Kiran", "Leonie", "Marisol", "Nadia", "Odile", "Priya", "Rosalind", "Sigrid", "Tamsin", "Wilhelmina",
)


# Title-case words right before a credential ("Renwick-Amadi, MD") or after a patient label are names.
_NAME_BEFORE_CRED = re.compile(
    r"\b([A-Z][a-z]{2,}(?:-[A-Z][a-z]{2,})?)(?=,?\s+(?:MD|DO|NP|PA-C|MBBS|FRCR|FRCP|FRACP|RN)\b)"
)


_NAME_AFTER_LABEL = re.compile(
    r"(?:Patient|Name|Mrs|Mr|Ms|Referring|Ordering)\b[:.]?\s+([A-Z][A-Za-z]{2,}(?:-[A-Z][a-z]{2,})?)"
)


_NUMBER = re.compile(r"\d+")


_YEARISH = re.compile(r"(?:19|20)\d\d")


@dataclass
class Corpus:
    """The benchmark's texts and where they came from.

    Attributes:
        texts: The expanded reports, ``n`` of them.
        source: Where the base reports came from (a path, or ``built-in``).
        base_count: How many distinct base reports were cycled.
    """

    texts: list[str]
    source: str
    base_count: int

    @property
    def total_bytes(self) -> int:
        """UTF-8 size of all texts."""
        return sum(len(t.encode("utf-8")) for t in self.texts)

    @property
    def mean_kb(self) -> float:
        """Mean report size in KB (1 KB = 1,000 bytes of UTF-8)."""
        return self.total_bytes / len(self.texts) / 1000 if self.texts else 0.0


def load_base_reports(roots: Sequence[Path] | None = None) -> tuple[list[str], str]:
    """The distinct reports the corpus is grown from.

    Looks for ``sample_reports/*.txt``, then ``tests/data/varied.jsonl`` (its ``text`` fields) under each of
    ``roots``, and falls back to :data:`BUILTIN_REPORTS`.

    Args:
        roots: Folders to look in, in order (the working directory, then this checkout, when None).

    Returns:
        The report texts (non-empty, newlines normalised) and a label for where they came from.
    """
    roots = _default_roots() if roots is None else roots
    for root in roots:
        folder = root / "sample_reports"
        files = sorted(folder.glob("*.txt")) if folder.is_dir() else []
        texts = [_normalise(p.read_text(encoding="utf-8", errors="replace")) for p in files]
        texts = [t for t in texts if t.strip()]
        if texts:
            return texts, str(folder)
    for root in roots:
        jsonl = root / "tests" / "data" / "varied.jsonl"
        if jsonl.is_file():
            texts = []
            for line in jsonl.read_text(encoding="utf-8", errors="replace").splitlines():
                try:
                    row = json.loads(line) if line.strip() else None
                except json.JSONDecodeError:
                    continue
                if isinstance(row, dict) and isinstance(row.get("text"), str) and row["text"].strip():
                    texts.append(_normalise(row["text"]))
            if texts:
                return texts, str(jsonl)
    return list(BUILTIN_REPORTS), "built-in"


def _normalise(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


def mutate(text: str, rng: random.Random) -> str:
    """A light, behaviour-preserving variation of ``text``: other names, other digits.

    Surnames before a credential or after a patient label are swapped for others (everywhere they occur),
    and about a third of the numbers get a new last digit. Years are left alone, so "prior" and "current"
    studies stay in the same order; magnitudes, layout and wording do not change.

    Args:
        text: A report.
        rng: The seeded random source (the caller's sequence makes the corpus deterministic).

    Returns:
        The varied report.
    """
    names = {m.group(1) for rx in (_NAME_BEFORE_CRED, _NAME_AFTER_LABEL) for m in rx.finditer(text)}
    for old in sorted(names):
        pool = _SURNAMES if rng.random() < 0.7 else _GIVEN
        new = rng.choice(pool)
        text = re.sub(rf"\b{re.escape(old)}\b", new.upper() if old.isupper() else new, text)

    def digits(m: re.Match[str]) -> str:
        s = m.group(0)
        if _YEARISH.fullmatch(s) or rng.random() >= 0.35:
            return s
        return s[:-1] + str(rng.randrange(10))

    return _NUMBER.sub(digits, text)


def build_corpus(n: int, seed: int = 77092, roots: Sequence[Path] | None = None) -> Corpus:
    """``n`` reports: the base reports cycled, each copy varied by :func:`mutate`.

    The first copy of each base report is kept as written; every later copy is a seeded variation,
    re-drawn (a few times at most) when it would repeat an earlier text.

    Args:
        n: How many reports to make.
        seed: Seed of the variation; the same seed gives the same corpus.
        roots: Folders to look for base reports in (see :func:`load_base_reports`).

    Returns:
        The corpus.
    """
    base, source = load_base_reports(roots)
    rng = random.Random(seed)
    seen: set[str] = set()
    texts: list[str] = []
    for i in range(n):
        original = base[i % len(base)]
        text = original
        for _ in range(8):
            if i >= len(base) or text in seen:
                text = mutate(original, rng)
            if text not in seen:
                break
        seen.add(text)
        texts.append(text)
    return Corpus(texts, source, len(base))
