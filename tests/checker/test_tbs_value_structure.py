"""The TBS value is read by the structure it sits in: table columns, report parts, dictation, markup, OCR.

Each case is a whole report whose other four elements are met, so only the TBS reading varies.
"""

from __future__ import annotations

import pytest

from tbs_doccheck import Checker

HEAD = (
    "BONE DENSITOMETRY REPORT\n"
    "Patient: Example, Person    DOB 1949-07-21\n"
    "Exam date: 03/04/2025\n"
    "Exam: DXA lumbar spine and left hip with trabecular bone score.\n\n"
)
HEAD_UNDATED = "BONE DENSITOMETRY REPORT\nExam: DXA lumbar spine with trabecular bone score.\n\n"
TAIL = (
    "\nImpression: low bone mass; her 10-year fracture risk is moderate.\n"
    "Recommendation: calcium and vitamin D; repeat DXA in 2 years.\n\n"
    "Electronically signed by Ada Quill, MD 03/05/2025\n"
)


def _report(body: str, head: str = HEAD) -> str:
    return head + body + TAIL


# (case id, report body, the current TBS) — the study's own value, wherever the layout puts it.
CURRENT_VALUE = [
    ("a comparison table's current column on the left, headed by words",
     "                 Today        Last visit (2022)\nTBS              1.244        1.301\n", 1.244),
    ("a comparison table's current column in the middle, between baseline and change",
     "              Baseline    This exam    Change\nTBS           1.300       1.262        -2.9%\n", 1.262),
    ("a follow-up column on the right of a baseline column",
     "                 Baseline    Follow-up\nTBS L1-L4        1.330       1.262\n", 1.262),
    ("a markdown table with dated columns, the exam's date on the right",
     "| Parameter | 2021-03-02 | 2025-03-04 | Δ |\n|---|---|---|---|\n| TBS (L1-L4) | 1.300 | 1.262 | -0.038 |\n",
     1.262),
    ("a dated table whose column dated on the exam day is on the left",
     "Site          03/04/2025   03/02/2021\nL1-L4 BMD     0.880        0.900\nTBS           1.262        1.300\n",
     1.262),
    ("a result column beside a previous-result column",
     "Test            Result      Previous result\nTBS L1-L4       1.262       1.301\n", 1.262),
    ("a column of changes beside the current year",
     "              2025     vs 2023\nTBS L1-L4     1.262    -0.04\n", 1.262),
    ("a table with one row per study date and a TBS column",
     "Date         BMD     T-score   TBS\n2021-01-05   0.812   -2.1      1.311\n2025-03-04   0.801   -2.3      1.262\n",
     1.262),
    ("a table with rows for this study and a prior study",
     "Study                  TBS      BMD\nThis study             1.262    0.80\nPrior study (2022)     1.301    "
     "0.82\n",
     1.262),
    ("a per-level tab-separated table, taking the current column's L1-L4 row",
     "Level\tPrior TBS\tCurrent TBS\nL1\t1.201\t1.190\nL2\t1.230\t1.222\nL1-L4\t1.244\t1.236\n", 1.236),
    ("an HTML table with prior and current header cells",
     "<table><tr><th></th><th>Prior</th><th>Current</th></tr><tr><td>TBS</td><td>1.30</td><td>1.25</td></tr></table>\n",
     1.25),
    ("a four-decimal value behind dotted leaders with a threshold on the next line",
     "Trabecular Bone Score (L1-L4) ..... 1.2537\n  Reference: normal > 1.310\n", 1.2537),
    ("a prior label and a current label written as dotted-leader lines",
     "Previous TBS ........ 1.301\nTBS ................. 1.262\n", 1.262),
    ("a prior value then the current one after 'today'",
     "The TBS was 1.31 at baseline in 2021; today it is 1.262, partially degraded.\n", 1.262),
    ("a change written 'from … to …'",
     "TBS fell from 1.301 to 1.255 since the last scan.\n", 1.255),
    ("a change written 'went down from … to …'",
     "Her TBS went down from 1.301 to 1.255 over two years.\n", 1.255),
    ("a change written with an arrow",
     "The texture index has worsened: TBS 1.31 -> 1.262.\n", 1.262),
    ("a dictated correction with 'sorry'",
     "TBS is 1.19, sorry, 1.29, partially degraded.\n", 1.29),
    ("a correction that states the right value before the wrong one",
     "Trabecular bone score correction: 1.356, not 1.365.\n", 1.356),
    ("a correction dictated after the wrong value",
     "TBS 1.365 - correction - 1.356 (normal).\n", 1.356),
    ("a signed amendment that corrects the value",
     "TBS L1-L4: 1.424.\n\nElectronically signed by Ada Quill, MD 03/04/2025\n\nAMENDMENT 1 (03/06/2025)\n"
     "The trabecular bone score should read 1.244 (not 1.424).\nSigned electronically by Ada Quill, MD 03/06/2025\n",
     1.244),
    ("a signed addendum that corrects the value from one number to another",
     "TBS L1-L4: 1.321.\n\nElectronically signed by Ada Quill, MD 03/04/2025\n\n"
     "ADDENDUM: TBS corrected from 1.321 to 1.231.\nElectronically signed by Ada Quill, MD 03/06/2025\n", 1.231),
    ("a withdrawal in an addendum that is not signed",
     "TBS L1-L4: 1.244.\n\nElectronically signed by Ada Quill, MD 03/04/2025\n\n"
     "Addendum (pending signature): the TBS above is invalid.\n", 1.244),
    ("an HL7 OBX segment with a numeric TBS and its reference range",
     "OBX|5|NM|TBS^Trabecular Bone Score||1.238|{index}|1.310-2.000|L|||F\n", 1.238),
    ("a TBS inside an OBX text value",
     "OBX|6|FT|IMP^Impression||TBS L1-L4 1.233 (partially degraded).~Osteopenia.||||||F\n", 1.233),
    ("HTML entities around a value",
     "&lt;p&gt;TBS L1-L4 = 1.247 &amp;ndash; partially degraded&lt;/p&gt;\n", 1.247),
    ("OCR digits for letters in the TBS word and letters for digits in the number",
     "T8S L1-L4: 1.2O4 (degraded)\n", 1.204),
    ("dotted TBS letters, an OCR region and an OCR digit",
     "T.B.S. (Ll-L4) 1.2l8\n", 1.218),
    ("a misspelt trabecular bone score",
     "trabeculr bone score L1-L4 1.272 partially degraded\n", 1.272),
    ("the region written before the TBS word, under a per-level line",
     "TBS per level: L1 1.20, L2 1.22\nL1-L4 TBS 1.255\n", 1.255),
    ("a guideline's year beside the value",
     "TBS L1-L4 (computed per ISCD 2019 guidance): 1.262\n", 1.262),
    ("a prior-only table followed by today's value in text",
     "           Prior (2022)\nTBS        1.300\nTBS today: 1.262\n", 1.262),
    ("a trend table with a two-line header and the exam's date in the first row",
     "Measured    Age    TBS      Change vs\nDate                         Baseline\n"
     "03/04/2025  75.3   1.254    -2.1%\n01/02/2023  73.1   1.281    --\n", 1.254),
    ("German column words and a decimal comma",
     "                  Aktuell      Vorbefund\nTBS L1-L4         1,254        1,281\n", 1.254),
    ("a table whose rows list the current study first and earlier years below",
     "Exam      TBS     BMD\nCurrent   1.262   0.80\n2022      1.301   0.82\n2020      1.330   0.84\n", 1.262),
    ("visit columns dated in parentheses",
     "               Visit 1 (2021)    Visit 2 (2025)\nTBS L1-L4      1.311             1.262\n", 1.262),
    ("an arrow between a dated earlier value and the current one",
     "TBS 1.301 (2022) → 1.262 (2025), partially degraded.\n", 1.262),
    ("a FHIR observation on one line, with a reference range after the value",
     '{"resourceType": "Observation", "code": {"text": "Trabecular bone score L1-L4"}, '
     '"valueQuantity": {"value": 1.254, "unit": "{score}"}, "referenceRange": [{"low": {"value": 1.31}}]}\n', 1.254),
    ("a pretty-printed FHIR observation",
     '{\n  "code": {\n    "text": "Trabecular bone score (L1-L4)"\n  },\n  "valueQuantity": {\n    "value": 1.254\n  '
     '},\n'
     '  "referenceRange": [\n    {"low": {"value": 1.310}}\n  ]\n}\n', 1.254),
    ("a dictated number in words",
     "Trabecular bone score L1 through L4 is one point two five four, partially degraded.\n", 1.254),
    ("a dictated number in words corrected in the dictation",
     "TBS is one point one nine eight scratch that one point two nine eight.\n", 1.298),
    ("a single-study table of levels with an L1-L4 row",
     "Region   TBS\nL1       1.201\nL2       1.222\nL3       1.290\nL4       1.310\nL1-L4    1.256\n", 1.256),
    ("an HL7 structured numeric OBX",
     "OBX|1|SN|TBS^Trabecular bone score||^1.254||>1.310|L|||F\n", 1.254),
    ("a signed addendum calling the old value incorrect and giving the correct one in the same sentence",
     "TBS L1-L4: 1.321.\n\nElectronically signed by Ada Quill, MD 03/04/2025\n\nADDENDUM 03/06/2025: The TBS of 1.321 "
     "above was incorrect; the correct TBS is 1.231.\nElectronically signed by Ada Quill, MD 03/06/2025\n", 1.231),
    ("'as expected' before a measured value",
     "As expected, the TBS is 1.254 (partially degraded).\n", 1.254),
    ("an OCR letter l for the leading one",
     "TBS L1-L4: l.254 (partially degraded)\n", 1.254),
    ("a dictated value restated in digits",
     "TBS one point two five four.\nConclusion: TBS 1.254.\n", 1.254),
    ("a dated series of values ending with this year's",
     "TBS values: 2021 – 1.311; 2023 – 1.290; 2025 – 1.262.\n", 1.262),
    ("region columns with one row per study year",
     "            L1-L4    L1-L2    L2-L3\nTBS 2025    1.262    1.250    1.270\nTBS 2023    1.290    1.280    "
     "1.300\n", 1.262),
    ("a change since a past year ending in today's value",
     "Since 2022 the TBS went down from 1.301 to 1.255.\n", 1.255),
    ("a FHIR bundle holding an earlier and a current observation",
     '{"resourceType": "Bundle", "entry": [{"resource": {"resourceType": "Observation", "effectiveDateTime": '
     '"2021-05-02", '
     '"code": {"text": "Trabecular bone score"}, "valueQuantity": {"value": 1.311}}}, {"resource": {"resourceType": '
     '"Observation", "effectiveDateTime": "2025-03-04", "code": {"text": "Trabecular bone score"}, '
     '"valueQuantity": {"value": 1.262}}}]}\n', 1.262),
    ("a form line with a date field above the value line",
     "Exam: DXA spine      Date: 03/04/2025\nTBS L1-L4:   1.254      Category:  partially degraded\n", 1.254),
    ("a value with the comparison's year and value in parentheses after it",
     "TBS L1-L4 1.251 (from 2022 baseline 1.302).\n", 1.251),
    ("a dictated correction that repeats the region and the TBS word",
     "L1-L4 TBS 1.197 -- correction: L1-L4 TBS 1.179, degraded.\n", 1.179),
    ("a sentence hard-wrapped inside the region between the TBS word and its value",
     "The trabecular bone score of L1 to\nL4 is 1.233, partially degraded.\n", 1.233),
    ("a current report followed by a previous report pasted for reference",
     "TBS L1-L4: 1.214.\n\nPREVIOUS REPORT (for reference) - 05/02/2022 ------------------------\n"
     "TBS L1-L4 1.288. Impression: normal.\nElectronically signed by Ada Quill, MD 05/02/2022\n\n"
     "CURRENT REPORT continues:\n", 1.214),
    ("a key=value export", "EXAM_DESC=DXA lumbar spine + hips\nTBS_L1_L4=1.187\nTBS_CATEGORY=DEGRADED\n", 1.187),
    ("a markdown label in bold", "**TBS (L1-L4):** 1.196 -- degraded\n", 1.196),
    ("a dumped text field with literal line breaks",
     'REPORT_TEXT: "TECHNIQUE: DXA, AP spine.\\nRESULTS:\\n  T-score -2.3\\n  TBS L1-L4 1.241\\n"\n', 1.241),
]

# (case id, report body) — no TBS measured on this study.
NO_CURRENT_VALUE = [
    ("a markdown table whose current cell is empty",
     "| Parameter | 2021-03-02 | 2025-03-04 | Δ |\n|---|---|---|---|\n| TBS (L1-L4) | 1.300 |  | -- |\n"
     "| BMD L1-L4 | 0.900 | 0.880 | -2% |\n"),
    ("an aligned table whose current cell is blank",
     "              2022-05-01     2025-03-04\nL1-L4 BMD     0.901          0.877\nTBS L1-L4     1.301\n"),
    ("a table whose current cell says the TBS was not repeated",
     "              2022-05-01     2025-03-04\nTBS           1.301          not repeated\n"),
    ("a table of earlier years only, before the exam year",
     "Site          2019     2021      2023\nTBS L1-L4     1.330    1.300     1.262\n"),
    ("a table with a current row reading n/a",
     "Scan          BMD      TBS\nBaseline      0.81     1.311\nCurrent       0.80     n/a\n"),
    ("a table with a dated current row and no TBS in it",
     "Date        BMD    TBS\n03/2021     0.81   1.301\n03/2025     0.79\n"),
    ("a prior dotted-leader value and a current line with no number",
     "Previous TBS ........ 1.301\nTBS ................. (not obtained)\n"),
    ("an anticipated value that was never measured",
     "One would anticipate a TBS near 1.25 in this setting, but TBS was not performed.\n"),
    ("an estimated value",
     "I would estimate her TBS at roughly 1.2; it was not measured.\n"),
    ("TBS T- and Z-scores only",
     "TBS T-score -1.2; TBS Z-score 0.3.\n"),
    ("a signed addendum asking to disregard the TBS",
     "TBS L1-L4: 1.244.\n\nElectronically signed by Ada Quill, MD 03/04/2025\n\n"
     "Addendum: Please disregard the TBS given above; the scan was not suitable for texture analysis.\n"
     "E-signed: Ada Quill, MD 03/06/2025\n"),
    ("a signed addendum disregarding the value it quotes",
     "TBS L1-L4: 1.189.\n\nElectronically signed by Ada Quill, MD 03/04/2025\n\nAddendum: disregard the TBS of 1.189 "
     "(metal artefact); no valid TBS can be given.\nElectronically signed by Ada Quill, MD 03/06/2025\n"),
    ("a change over a period wholly in the past",
     "Between 2019 and 2021 TBS fell from 1.33 to 1.31; today's TBS was not obtained.\n"),
    ("a FHIR bundle whose only TBS observation is an earlier one",
     '{"resourceType": "Bundle", "entry": [{"resource": {"resourceType": "Observation", "effectiveDateTime": '
     '"2021-05-02", '
     '"code": {"text": "Trabecular bone score"}, "valueQuantity": {"value": 1.311}}}, {"resource": {"resourceType": '
     '"DiagnosticReport", "effectiveDateTime": "2025-03-04", "conclusion": "TBS not performed."}}]}\n'),
    ("an OBX result posted as wrong",
     "OBX|5|NM|TBS^Trabecular Bone Score||1.238||1.310-2.000|L|||W\n"),
    ("an OBX with no result and only a reference range",
     "OBX|5|NM|TBSL14^TBS L1-L4||||>1.310|||X\n"),
    ("a year written before the TBS word of a prior study",
     "Findings: 2022 L1-L4 TBS 1.244 (partially degraded). Today's TBS could not be calculated.\n"),
    ("a FHIR observation with no value and a reference range",
     '{"resourceType": "Observation", "status": "cancelled", "code": {"text": "Trabecular bone score"}, '
     '"dataAbsentReason": {"text": "not performed"}, "referenceRange": [{"low": {"value": 1.31}}]}\n'),
    ("a value declared invalid right after it",
     "TBS L1-L4: 1.189 - invalid (motion artefact), not used for FRAX.\n"),
    ("age-matched and young-adult reference values only",
     "Age-matched TBS 1.285; young-adult TBS 1.400. The patient's TBS could not be computed.\n"),
    ("a double-spaced 'not performed' line beside a prior value",
     "TBS  was not performed on this study.\nPrior TBS 1.301 (2022).\n"),
    ("a signed addendum placed first, withdrawing the value of the original reproduced below it",
     "ADDENDUM 03/06/2025:\nThe TBS of 1.402 in the original report is WITHDRAWN (spinal fusion hardware).\n"
     "Electronically signed by Ada Quill, MD 03/06/2025\n\nORIGINAL REPORT:\nTBS L1-L4: 1.402.\n"),
    ("a previous report pasted below a current report that gives no TBS",
     "TBS: not calculated (BMI above the validated range).\n\nPRIOR REPORT (for reference):\n"
     "Exam: DXA with TBS   Date: 02/10/2021\nL1-L4 TBS 1.276 (partially degraded).\n"),
    ("an HL7 note segment with a signed addendum retracting the OBX value",
     "OBX|3|NM|TBS^Trabecular bone score L1-L4^L||1.262||||||C\n"
     "NTE|1||ADDENDUM 03/06/2025: the TBS value reported above is RETRACTED as invalid.\n"
     "NTE|2||Electronically signed by Ada Quill, MD 03/06/2025\n"),
    ("an OBX whose identifier names the prior study, the current one empty",
     "OBX|3|NM|TBS^TBS L1-L4^L||||||||X\nOBX|4|NM|TBS^TBS L1-L4 (prior)^L||1.284||||||F\n"),
    ("a previous report pasted under a dashed heading with its date and source",
     "TBS: not reportable on this study (hardware).\n\n--- Prior report (2021-10-02), copied by records ---\n"
     "DXA spine. TBS L1-L4 1.288.\n"),
    ("a key=value dump with an empty current field and a prior one",
     "res.TBS_L1_L4=\nres.TBS_L1_L4.prior=1.301\nres.TBS_L1_L4.prior_date=05/10/2021\n"),
    ("an outside record quoted under a lead-in dated years before",
     'Outside records (Lakeside Imaging, DXA 06/2021): "L1-L4 TBS 1.270, partially degraded."\n'
     "TBS: not reportable on this study (BMI outside the validated range).\n"),
]

# (case id, report body) — ambiguous structure: a value is reported, and a person should look.
NEEDS_REVIEW = [
    ("two study columns that no header tells apart",
     "               Study A     Study B\nTBS L1-L4      1.300       1.262\n"),
    ("two different values for the same study in findings and impression",
     "Findings: TBS L1-L4 1.241.\nConclusion: TBS 1.214, degraded.\n"),
    ("a value beside a statement that no TBS was obtained on this study",
     "TBS_L1_L4: 1.262\nNarrative: TBS was not performed on today's study.\n"),
]


@pytest.mark.parametrize(("body", "tbs"), [c[1:] for c in CURRENT_VALUE], ids=[c[0] for c in CURRENT_VALUE])
def test_the_current_studys_tbs_is_read_from_where_it_sits(checker: Checker, body: str, tbs: float) -> None:
    r = checker.check_text(_report(body))
    assert r.elements["tbs_value"].satisfied
    assert r.tbs_value == tbs
    assert not r.elements["tbs_value"].needs_review


@pytest.mark.parametrize("body", [c[1] for c in NO_CURRENT_VALUE], ids=[c[0] for c in NO_CURRENT_VALUE])
def test_no_tbs_is_taken_when_none_was_measured_on_this_study(checker: Checker, body: str) -> None:
    r = checker.check_text(_report(body))
    assert not r.elements["tbs_value"].satisfied
    assert r.tbs_value is None
    assert r.verdict == "fail"


@pytest.mark.parametrize("body", [c[1] for c in NEEDS_REVIEW], ids=[c[0] for c in NEEDS_REVIEW])
def test_an_ambiguous_tbs_is_flagged_for_review_not_passed_silently(checker: Checker, body: str) -> None:
    r = checker.check_text(_report(body))
    assert r.elements["tbs_value"].needs_review
    assert r.needs_review
    assert any(reason.startswith("tbs_value:") for reason in r.review_reasons)


ALL_BODIES = [c[1] for c in CURRENT_VALUE] + [c[1] for c in NO_CURRENT_VALUE] + [c[1] for c in NEEDS_REVIEW]


@pytest.mark.parametrize("body", ALL_BODIES, ids=[c[0] for c in CURRENT_VALUE + NO_CURRENT_VALUE + NEEDS_REVIEW])
def test_tbs_evidence_quotes_the_original_text_at_its_offsets(checker: Checker, body: str) -> None:
    text = _report(body)
    finding = checker.check_text(text).elements["tbs_value"]
    for ev in finding.evidence + finding.rejected:
        assert text[ev.start : ev.end] == ev.text


def test_an_undated_reports_table_takes_its_latest_year_as_the_current_study(checker: Checker) -> None:
    body = "Site          2019     2021      2023\nTBS L1-L4     1.330    1.300     1.262\n"
    r = checker.check_text(_report(body, HEAD_UNDATED))
    assert r.tbs_value == 1.262 and not r.needs_review


def test_a_dated_table_alone_does_not_hide_the_value_written_in_the_impression(checker: Checker) -> None:
    body = "              2022-05-01     2025-03-04\nTBS           1.301          --\n\nConclusion: TBS 1.262 today.\n"
    r = checker.check_text(_report(body))
    assert r.tbs_value == 1.262 and not r.needs_review
