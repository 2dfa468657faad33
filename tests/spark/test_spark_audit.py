"""``audit --engine spark`` on a real local Spark: the local audit's outputs, byte for byte, and a Parquet table."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from spark_helpers import load_tests_module
from typer.testing import CliRunner

from tbs_doccheck.audit import AuditError, run_audit
from tbs_doccheck.cli.app import app
from tbs_doccheck.models import ReportInput
from tbs_doccheck.spark import AUDIT_COLUMNS, RESULT_COLUMNS
from tbs_doccheck.spark import files as spark_files
from tbs_doccheck.spark.audit import run_spark_audit, run_table_audit

_audit_tests = load_tests_module("audit/test_audit.py")
F = _audit_tests.F
MARKER = F.MARKER
MAX_BYTES = _audit_tests.MAX_BYTES
SAMPLES = Path(__file__).resolve().parents[2] / "sample_reports"
# What differs between two runs of the same audit: when, how long, where and on how many cores.
VOLATILE = {"out_dir", "workers", "started_at", "finished_at", "elapsed_seconds", "files_per_second"}


def build_odd_folder(root: Path) -> None:
    """Names Spark's file source reads differently from the local audit, and files only read_path can name."""
    good = F.txt_bytes()
    for name in ("_under.txt", "br[1].txt", "col:on.txt", "sp ace %41.txt", "UPPER.TXT", "dot-text.text"):
        _write(root / "odd" / name, good)
    _write(root / "odd" / os.fsdecode(b"caf\xe9.txt"), good)  # not UTF-8
    _write(root / "odd" / "zero.docx", b"")
    (root / "odd" / "link.txt").symlink_to(root / "a" / "report.txt")
    (root / "odd" / "dangling.txt").symlink_to(root / "odd" / "nowhere.txt")
    (root / "odd" / "loop.txt").symlink_to(root / "odd" / "loop.txt")
    os.mkfifo(root / "odd" / "fifo.txt")


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


@pytest.fixture(scope="module")
def both(spark, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    """The mixed folder of the audit tests plus odd names, audited locally and on Spark."""
    root = _audit_tests.build_mixed_folder(tmp_path_factory.mktemp("reports"))
    build_odd_folder(root)
    local, on_spark = tmp_path_factory.mktemp("local") / "out", tmp_path_factory.mktemp("spark") / "out"
    run_audit([root], local, max_bytes=MAX_BYTES, progress=False)
    run_spark_audit([root], on_spark, max_bytes=MAX_BYTES, progress=False, session=spark)
    return root, local, on_spark


def _summary(out: Path) -> dict:
    return json.loads((out / "summary.json").read_text(encoding="utf-8"))


def test_results_jsonl_and_csv_are_byte_identical_to_the_local_audit(both) -> None:
    _root, local, on_spark = both

    assert (on_spark / "results.jsonl").read_bytes() == (local / "results.jsonl").read_bytes()
    assert (on_spark / "results.csv").read_bytes() == (local / "results.csv").read_bytes()


def test_every_file_gives_its_rows_exactly_once_with_the_local_codes(both) -> None:
    root, _local, on_spark = both
    rows = [json.loads(line) for line in (on_spark / "results.jsonl").read_text(encoding="utf-8").splitlines()]
    by_name = {Path(r["source"]).relative_to(root).as_posix(): r for r in rows if r["position"] is None}

    assert len({(r["source"], r["position"]) for r in rows}) == len(rows)
    for name, (_make, code) in _audit_tests.BROKEN.items():
        assert by_name[name]["error_code"] == code.value
    assert by_name["odd/_under.txt"]["verdict"] == by_name["odd/br[1].txt"]["verdict"] == "pass"
    assert by_name["odd/link.txt"]["verdict"] == "pass"
    assert by_name["odd/zero.docx"]["error_code"] == "E003-empty"
    assert by_name["odd/dangling.txt"]["error_code"] == "E001-not-found"
    assert by_name["odd/loop.txt"]["error_code"] == "E040-symlink-loop"
    assert MARKER not in (on_spark / "results.jsonl").read_text(encoding="utf-8")


def test_the_summary_is_the_local_one_but_for_time_place_and_cores(both) -> None:
    _root, local, on_spark = both
    mine, theirs = _summary(on_spark), _summary(local)

    assert {k: v for k, v in mine.items() if k not in VOLATILE} == {
        k: v for k, v in theirs.items() if k not in VOLATILE
    }
    assert mine["workers"] == 2 and mine["skipped"]  # local[2]; the .md, .png and FIFO files


def test_report_html_is_the_local_page_but_for_the_run_line(both) -> None:
    _root, local, on_spark = both

    def run_line(out: Path) -> str:
        s = _summary(out)
        return f"finished {s['finished_at']} · {s['elapsed_seconds']:.1f} s with {s['workers']} worker(s)"

    mine = (on_spark / "report.html").read_text(encoding="utf-8")
    theirs = (local / "report.html").read_text(encoding="utf-8")
    assert run_line(on_spark) in mine
    assert mine.replace(run_line(on_spark), run_line(local)) == theirs


def test_the_parquet_table_holds_one_flat_row_per_result(spark, both) -> None:
    _root, _local, on_spark = both
    table = spark.read.parquet(str(on_spark / "results.parquet"))
    lines = [json.loads(line) for line in (on_spark / "results.jsonl").read_text(encoding="utf-8").splitlines()]

    assert table.columns == [name for name, _, _ in AUDIT_COLUMNS]
    rows = table.collect()
    assert len(rows) == len(lines)
    assert sorted(json.loads(r["result_json"])["source"] + str(r["position"]) + r["verdict"] for r in rows) == sorted(
        line["source"] + str(line["position"]) + line["verdict"] for line in lines
    )
    assert sorted(os.listdir(on_spark)) == ["report.html", "results.csv", "results.jsonl", "results.parquet",
                                            "summary.json"]


def test_files_spark_does_not_return_are_read_again_not_lost(spark, tmp_path: Path, monkeypatch) -> None:
    root = tmp_path / "in"
    _write(root / "good.txt", F.txt_bytes())
    _write(root / "empty.txt", b"")  # Spark plans no split for an empty file: binaryFile returns nothing
    real = spark_files._spark_readable
    monkeypatch.setattr(spark_files, "_spark_readable", lambda src, limit: real(src, limit) or os.path.abspath(src))

    summary = run_spark_audit([root], tmp_path / "out", progress=False, session=spark)

    rows = [json.loads(line) for line in (tmp_path / "out" / "results.jsonl").read_text().splitlines()]
    got = [(Path(r["source"]).name, r["error_code"]) for r in rows]
    assert got == [("empty.txt", "E003-empty"), ("good.txt", None)]
    assert summary.files == summary.reports == 2
    assert spark.read.parquet(str(tmp_path / "out" / "results.parquet")).count() == 2


# --------------------------------------------------------------------------- tables


def _notes(tmp_path: Path) -> tuple[Path, list[tuple[str | None, str | None]]]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    notes = [(p.stem, p.read_text(encoding="utf-8")) for p in sorted(SAMPLES.glob("*.txt"))[:8]]
    notes += [("null-text", None), ("blank", "  "), (None, F.REPORT_TEXT)]
    path = tmp_path / "notes.parquet"
    pq.write_table(pa.table({"note_id": [n for n, _ in notes], "body": [t for _, t in notes]}), path)
    return path, notes


def test_a_parquet_table_gives_check_many_results_in_table_order(checker, spark, tmp_path: Path) -> None:
    path, notes = _notes(tmp_path)

    summary = run_table_audit(path, tmp_path / "out", text_col="body", id_col="note_id", progress=False, session=spark)

    lines = (tmp_path / "out" / "results.jsonl").read_text(encoding="utf-8").splitlines()
    readable = [ReportInput(id=n, text=t) for n, t in notes[:8]] + [ReportInput(id="", text=F.REPORT_TEXT)]
    expected = [r.model_dump(mode="json") for r in checker.check_many(readable)]
    got = [json.loads(line) for line in lines]
    assert got[:8] == expected[:8] and got[10] == expected[8]
    assert [g["error_code"] for g in got[8:10]] == ["E003-empty", "E003-empty"]
    assert summary.files == summary.reports == len(notes) and summary.skipped == []
    table = spark.read.parquet(str(tmp_path / "out" / "results.parquet"))
    assert table.columns == [name for name, _, _ in RESULT_COLUMNS] and table.count() == len(notes)


def test_a_table_without_the_columns_or_a_delta_table_is_a_clear_error(spark, tmp_path: Path) -> None:
    path, _notes_ = _notes(tmp_path)
    with pytest.raises(AuditError, match="'text'"):
        run_table_audit(path, tmp_path / "out", progress=False, session=spark)
    (tmp_path / "delta" / "_delta_log").mkdir(parents=True)
    with pytest.raises(AuditError, match="Delta"):
        run_table_audit(tmp_path / "delta", tmp_path / "out2", progress=False, session=spark)


# --------------------------------------------------------------------------- command line


def test_the_audit_command_runs_on_spark_and_exits_like_the_local_one(spark, both, tmp_path: Path) -> None:
    root, local, _on_spark = both

    result = CliRunner().invoke(app, ["audit", str(root), "--out", str(tmp_path / "out"), "--engine", "spark",
                                      "--master", "local[2]", "--max-bytes", str(MAX_BYTES)])

    assert result.exit_code == 2, result.output  # broken files: exit 2, as the local audit
    assert "table: " in result.output and MARKER not in result.output
    assert (tmp_path / "out" / "results.jsonl").read_bytes() == (local / "results.jsonl").read_bytes()


def test_the_command_takes_a_table(spark, tmp_path: Path) -> None:
    path, notes = _notes(tmp_path)

    result = CliRunner().invoke(app, ["audit", "--out", str(tmp_path / "out"), "--engine", "spark", "--table",
                                      str(path), "--text-col", "body", "--id-col", "note_id"])

    assert result.exit_code == 2, result.output  # two empty notes
    assert f"{len(notes)} report(s)" in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--engine", "spark", "--workers", "2"], "--master local[N]"),
        (["--engine", "spark", "--resume"], "--resume is for the local engine"),
        (["--table", "notes.parquet"], "go with --engine spark"),
        (["--master", "local[1]"], "go with --engine spark"),
    ],
)
def test_options_of_the_other_engine_are_usage_errors(tmp_path: Path, args: list[str], message: str) -> None:
    shutil.copy(SAMPLES / "s01_pass_radiology.txt", tmp_path / "r.txt")

    result = CliRunner().invoke(app, ["audit", str(tmp_path / "r.txt"), "--out", str(tmp_path / "out"), *args])

    assert result.exit_code == 2
    assert message in result.output
