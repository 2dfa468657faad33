"""The bytes reader the Spark audit uses gives exactly what read_path gives, on every format and broken file."""

from __future__ import annotations

from pathlib import Path

import pytest
from spark_helpers import load_tests_module

from tbs_doccheck.models import ErrorCode
from tbs_doccheck.readers import SUPPORTED_SUFFIXES, read_path
from tbs_doccheck.spark.reading import CONTENT_SUFFIXES, read_content

_formats = load_tests_module("readers/test_formats.py")
_broken = load_tests_module("readers/test_broken_files.py")
FILES = [(name, build) for name, build in _formats.GOOD_FILES] + [
    (name, build) for name, build, _code in _broken.BROKEN_FILES
]
MARKER = _broken.MARKER


@pytest.mark.parametrize(("name", "build"), FILES, ids=[name for name, _ in FILES])
def test_bytes_read_by_spark_give_what_read_path_gives(tmp_path: Path, name: str, build) -> None:
    path = tmp_path / "in" / name
    path.parent.mkdir()
    data = build()
    path.write_bytes(data)

    assert read_content(str(path), data, max_bytes=10_000_000) == read_path(path, max_bytes=10_000_000)


def test_every_supported_suffix_is_parsed_from_bytes() -> None:
    # A suffix the readers learn later must be added to CONTENT_SUFFIXES (and tested above) to use binaryFile.
    assert CONTENT_SUFFIXES == SUPPORTED_SUFFIXES


def test_bytes_over_the_limit_are_too_large_without_being_parsed(tmp_path: Path) -> None:
    (report,) = read_content(str(tmp_path / "big.txt"), MARKER.encode() * 100, max_bytes=50)

    assert report.error is not None and report.error.code == ErrorCode.TOO_LARGE
    assert MARKER not in report.error.message


def test_a_suffix_it_does_not_parse_is_named_never_parsed(tmp_path: Path) -> None:
    (report,) = read_content(str(tmp_path / "notes.md"), MARKER.encode(), max_bytes=1000)

    assert report.error is not None and report.error.code == ErrorCode.UNSUPPORTED
    assert MARKER not in report.error.message
