"""check_dataframe on a real local Spark: the checker's own results, one row per input row, hostile rows as errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tbs_doccheck.audit.journal import _json_text
from tbs_doccheck.models import ELEMENT_IDS, CheckResult, ReportInput
from tbs_doccheck.spark import RESULT_COLUMNS, check_dataframe

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "sample_reports"
SHARED_EVAL = ROOT.parent / "shared" / "eval"
MARKER = "ZZQX-PATIENT-SECRET-7731"


def _labelled(path: Path) -> list[tuple[str, str]]:
    if not path.is_file():
        pytest.skip(f"{path} not found beside the checkout")
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [(row["id"], row["text"]) for row in rows]


def _samples() -> list[tuple[str, str]]:
    return [(p.stem, p.read_text(encoding="utf-8")) for p in sorted(SAMPLES.glob("*.txt"))]


def _by_id(spark, pairs: list[tuple[str, str | None]], partitions: int = 3) -> dict[str, dict]:
    df = spark.createDataFrame(pairs, "id string, text string").repartition(partitions)
    rows = [row.asDict() for row in check_dataframe(df).collect()]
    assert len(rows) == len(pairs)
    return {row["id"]: row for row in rows}


def _assert_same_as_check_many(checker, spark, pairs: list[tuple[str, str]]) -> None:
    got = _by_id(spark, pairs)
    expected = checker.check_many([ReportInput(id=rid, text=text) for rid, text in pairs])
    for result in expected:
        row = got[result.id]
        # The whole result, as `check --format jsonl` writes it...
        assert json.loads(row["result_json"]) == result.model_dump(mode="json"), result.id
        assert row["result_json"] == _json_text(result.model_dump(mode="json"))
        # ...and the flat columns a data team queries.
        assert row["verdict"] == result.verdict
        assert row["missing"] == list(result.missing)
        assert row["tbs_value"] == result.tbs_value
        assert row["tbs_region"] == result.tbs_region
        assert row["signer_name"] == (result.signer.name if result.signer else None)
        assert row["signer_credential"] == (result.signer.credential if result.signer else None)
        assert row["signature_status"] == result.signature_status
        assert row["needs_review"] == result.needs_review
        assert row["review_reasons"] == result.review_reasons
        for element in ELEMENT_IDS:
            assert row[f"{element}_satisfied"] == result.elements[element].satisfied
            assert row[f"{element}_reason"] == result.elements[element].reason
        evidence = json.loads(row["evidence"])
        assert [e["text"] for e in evidence["tbs_value"]["evidence"]] == [
            e.text for e in result.elements["tbs_value"].evidence
        ]
        assert row["error_code"] is None and row["error_message"] is None


def test_the_schema_is_the_documented_flat_one(spark) -> None:
    df = spark.createDataFrame([("a", "TBS 1.300")], "id string, text string")

    out = check_dataframe(df)

    assert [(f.name, f.dataType.simpleString()) for f in out.schema.fields] == [
        (name, kind) for name, kind, _ in RESULT_COLUMNS
    ]


def test_sample_reports_give_what_check_many_gives(checker, spark) -> None:
    _assert_same_as_check_many(checker, spark, _samples())


def test_the_dev_set_gives_what_check_many_gives(checker, spark) -> None:
    _assert_same_as_check_many(checker, spark, _labelled(SHARED_EVAL / "dev.jsonl"))


def test_the_extra_set_gives_what_check_many_gives(checker, spark) -> None:
    _assert_same_as_check_many(checker, spark, _labelled(SHARED_EVAL / "extra.jsonl"))


def test_null_blank_oversized_and_hostile_texts_are_error_rows_not_failed_tasks(spark) -> None:
    good = (SAMPLES / "s01_pass_radiology.txt").read_text(encoding="utf-8")
    pairs = [
        ("null", None),
        ("empty", ""),
        ("blank", " \n\t "),
        ("huge", MARKER * 2_000),
        ("nul", MARKER + "\x00" * 50 + good),
        ("controls", MARKER + "".join(chr(c) for c in range(1, 32)) * 40),
        ("good", good),
    ]
    df = spark.createDataFrame(pairs, "id string, text string")

    rows = {row["id"]: row.asDict() for row in check_dataframe(df, max_chars=10_000).collect()}

    assert set(rows) == {rid for rid, _ in pairs}
    assert rows["null"]["error_code"] == rows["empty"]["error_code"] == rows["blank"]["error_code"] == "E003-empty"
    assert rows["huge"]["error_code"] == "E004-too-large"
    for rid in ("null", "empty", "blank", "huge"):
        assert rows[rid]["verdict"] == "error"
        assert rows[rid]["imaging_source_satisfied"] is None and rows[rid]["evidence"] is None
        assert MARKER not in rows[rid]["error_message"] and MARKER not in rows[rid]["result_json"]
    assert rows["nul"]["verdict"] in ("pass", "fail")  # checked like any text: the checker's own business
    assert rows["controls"]["verdict"] in ("fail", "error")
    assert rows["good"]["verdict"] == "pass"


def test_a_string_that_is_not_valid_utf8_is_checked_not_a_failed_task(spark) -> None:
    # Spark keeps any bytes in a string cast from binary; Arrow would refuse them on the way to pandas.
    df = spark.sql("SELECT 'bad' AS id, CAST(unhex('5442532031FF2E3330') AS STRING) AS text")

    (row,) = check_dataframe(df).collect()

    assert row["id"] == "bad" and row["verdict"] == "fail"


def test_ids_of_any_type_are_strings_and_a_null_id_stays_null(spark) -> None:
    df = spark.createDataFrame([(7, "TBS 1.300"), (None, "TBS 1.300")], "note_id bigint, body string")

    rows = check_dataframe(df, text_col="body", id_col="note_id").collect()

    assert sorted(row["id"] or "-" for row in rows) == ["-", "7"]
    assert {row["verdict"] for row in rows} == {"fail"}


def test_column_names_with_dots_are_taken_as_names(spark) -> None:
    df = spark.createDataFrame([("x", "TBS 1.300")], "`note.id` string, `note.text` string")

    (row,) = check_dataframe(df, text_col="note.text", id_col="note.id").collect()

    assert row["id"] == "x"


def test_a_missing_or_non_string_column_is_refused_by_name(spark) -> None:
    df = spark.createDataFrame([(1, 2)], "id int, text int")

    with pytest.raises(ValueError, match="'body'"):
        check_dataframe(df, text_col="body")
    with pytest.raises(ValueError, match="'text' is int, expected string"):
        check_dataframe(df)


def test_each_python_worker_builds_one_checker_and_reuses_it(spark) -> None:
    def probe(batches):  # runs in the workers: which process, and which checker object it holds
        import os

        import pandas as pd

        from tbs_doccheck import get_checker

        for batch in batches:
            yield pd.DataFrame({"pid": [os.getpid()] * len(batch), "checker": [id(get_checker())] * len(batch)})

    df = spark.createDataFrame([(str(n), "TBS 1.300") for n in range(32)], "id string, text string").repartition(8)
    check_dataframe(df).count()  # every worker has checked reports by now
    seen = df.mapInPandas(probe, "pid long, checker long").distinct().collect()

    pids = {row["pid"] for row in seen}
    assert len(seen) == len(pids) <= 2  # local[2]: two reused workers, one checker each


def test_a_result_row_reads_back_as_the_checkers_result(spark) -> None:
    text = (SAMPLES / "s01_pass_radiology.txt").read_text(encoding="utf-8")
    df = spark.createDataFrame([("s01", text)], "id string, text string")

    (row,) = check_dataframe(df).collect()

    result = CheckResult.model_validate_json(row["result_json"])
    assert result.verdict == "pass" and result.signer is not None
    assert row["signer_name"] == result.signer.name
