"""Generic text never satisfies an element: population statements, teaching paragraphs, courtesy, unticked options."""

from __future__ import annotations

import pytest

from tbs_doccheck import Checker

HEAD = (
    "DXA BONE DENSITOMETRY WITH TRABECULAR BONE SCORE\n"
    "Exam date: 2025-02-11\n"
    "TBS (L1-L4): 1.244\n"
)
RISK = "Her ten-year fracture risk is elevated (MOF 21 %, hip 3.4 %).\n"
PLAN = "Plan: start zoledronic acid yearly; calcium and vitamin D.\n"
SIGN = "Electronically signed by Ingrid Solberg-Amani, MD on 2025-02-12\n"


def _report(risk: str = RISK, plan: str = PLAN) -> str:
    return HEAD + risk + plan + SIGN


def test_the_base_report_passes(checker: Checker) -> None:
    assert checker.check_text(_report()).verdict == "pass"


@pytest.mark.parametrize(
    "risk",
    [
        "What does TBS mean?\nPeople with a lower TBS have a higher risk of breaking a bone.\n",
        "Note: adults with degraded microarchitecture carry an increased fracture risk.\n",
        "Fracture risk:  [ ] Low   [ ] Moderate   [ ] High\n",
        "Fracture risk: ☐ low ☐ intermediate ☐ high\n",
        "TBS-adjusted FRAX 10-year probability of major osteoporotic fracture: {{frax_major}}%\n",
    ],
    ids=["teaching-paragraph", "population-note", "unticked-boxes", "unticked-ballot-boxes", "unfilled-macro"],
)
def test_generic_or_unticked_risk_text_is_not_this_patients_assessment(checker: Checker, risk: str) -> None:
    result = checker.check_text(_report(risk=risk))
    assert not result.elements["fracture_risk"].satisfied
    assert result.verdict == "fail"


@pytest.mark.parametrize(
    "risk",
    [
        "Fracture risk:  [ ] Low   [x] Moderate   [ ] High\n",
        "Women with this profile are at risk; for her the fracture risk is high.\n",
    ],
    ids=["ticked-box", "population-words-about-her"],
)
def test_a_ticked_option_or_a_statement_about_her_counts(checker: Checker, risk: str) -> None:
    assert checker.check_text(_report(risk=risk)).elements["fracture_risk"].satisfied


@pytest.mark.parametrize(
    "plan",
    [
        "Thank you kindly for referring this patient.\n",
        "Many thanks for the consultation request.\n",
        "Thank you once again for this kind referral.\n",
        "Guidance note: the society recommends therapy for women whose hip probability is 3 % or more.\n",
        "Treatment should be considered in men over 70 with a T-score of -2.5 or lower.\n",
        "Referral: Dr. Knut Aas, general practitioner. Recommendations: none.\n",
    ],
    ids=["thanks-for-referring", "thanks-for-request", "thanks-again", "society-guideline", "population-should",
         "referrer-header"],
)
def test_courtesy_and_guideline_sentences_are_not_a_plan(checker: Checker, plan: str) -> None:
    result = checker.check_text(_report(plan=plan))
    assert not result.elements["recommendations"].satisfied


@pytest.mark.parametrize(
    "plan",
    [
        "Management deferred to the treating endocrinologist's team? No: defer to the referring physician for "
        "management.\n",
        "Further management left to the primary care physician.\n",
        "We recommend she continue denosumab every six months.\n",
        "Recommendation: management deferred to the referring clinician.\n",
        "Plan: we will see her in the bone clinic in six months.\n",
        "To be reviewed in the metabolic bone clinic.\n",
        "Continue per protocol; repeat acquisition at Month 24.\n",
        "Kindly correlate c1inically.\n",
    ],
    ids=["defer-to-referring", "left-to-primary-care", "continue-therapy", "deferred-management", "clinic-visit",
         "clinic-review", "trial-visit", "ocr-digit-in-word"],
)
def test_handing_management_over_or_continuing_therapy_is_a_plan(checker: Checker, plan: str) -> None:
    assert checker.check_text(_report(plan=plan)).elements["recommendations"].satisfied


@pytest.mark.parametrize(
    ("line", "counts"),
    [
        ("Born 03/04/1951. Bone densitometry (DXA) of the lumbar spine today.\n", True),
        ("Per the ISCD 2023 official positions, the DXA lumbar spine study today is valid.\n", True),
        ("Her DXA in 2019 showed osteopenia.\n", False),
        ("Her DXA from 2019 showed osteopenia.\n", False),
        ("DOB     : 26 Aug 1951              Exam: DXA L-spine, 11 Feb 2025\n", True),
        ("Thank you for referring her. She had a DEXA scan here on 11 February 2025, from which I derived the "
         "TBS.\n", True),
        ("She had a DEXA scan on 3 March 2019 that showed osteopenia.\n", False),
    ],
    ids=["birth-year", "guideline-year", "past-study-year", "past-study-from-year", "birth-date-with-month",
         "letter-past-tense-this-exam", "letter-past-tense-earlier-exam"],
)
def test_a_birth_or_guideline_year_does_not_make_the_current_study_history(
    checker: Checker, line: str, counts: bool
) -> None:
    text = "BONE HEALTH NOTE\nExam date: 2025-02-11\n" + line + "TBS (L1-L4): 1.244\n" + RISK + PLAN + SIGN
    assert checker.check_text(text).elements["imaging_source"].satisfied is counts


@pytest.mark.parametrize(
    "plan",
    [
        "Empfehlung / Recommendation: Vitamin D3 1000 IE taeglich, Sturzprophylaxe.\n",
        "Recommandations / Recommendations : vitamin D supplement, calcium.\n",
        "Recomendación / Plan: calcium and vitamin D.\n",
    ],
    ids=["german-english", "french-english", "spanish-english"],
)
def test_a_bilingual_plan_heading_opens_the_plan_section(checker: Checker, plan: str) -> None:
    assert checker.check_text(_report(plan=plan)).elements["recommendations"].satisfied


@pytest.mark.parametrize(
    ("risk", "counts"),
    [
        ("Her TBS-adjusted probabilities are 24 % for major osteoporotic\nfracture and 4.2 % for hip "
         "fracture.\n", True),
        ("Treatment is advised when the probability is ≥ 20 % for major osteoporotic fracture.\n", False),
    ],
    ids=["number-before-type", "threshold"],
)
def test_a_probability_written_before_its_fracture_type_is_an_assessment(
    checker: Checker, risk: str, counts: bool
) -> None:
    assert checker.check_text(_report(risk=risk)).elements["fracture_risk"].satisfied is counts
