"""Reading what the file system hands over: size limits, missing files, symlinks, permissions, folders, pipes."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tbs_doccheck.models import ErrorCode
from tbs_doccheck.readers import DEFAULT_MAX_BYTES, SUPPORTED_SUFFIXES, files, read_path

try:  # the helpers sit beside these files; tests/ may or may not become a package
    from tests import formats as F
    from tests.readers.read_helpers import MARKER, MARKER_BYTES, assert_single_error, write
except ImportError:  # pragma: no cover - depends on how pytest was started
    import formats as F  # type: ignore[no-redef]
    from read_helpers import MARKER, MARKER_BYTES, assert_single_error, write  # type: ignore[no-redef]


# --------------------------------------------------------------------------- file system


@pytest.mark.parametrize("suffix", sorted(SUPPORTED_SUFFIXES))
def test_a_file_over_the_size_limit_is_refused_before_it_is_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, suffix: str
) -> None:
    path = write(tmp_path, f"big{suffix}", MARKER_BYTES * 100)

    def no_open(*args: object, **kwargs: object) -> None:
        raise AssertionError("the file was opened")

    monkeypatch.setattr(files, "open", no_open, raising=False)

    results = read_path(path, max_bytes=1000)

    assert_single_error(results, path, ErrorCode.TOO_LARGE)
    assert "1,000" in results[0].error.message


def test_the_default_size_limit_is_five_megabytes() -> None:
    assert DEFAULT_MAX_BYTES == 5 * 1024 * 1024


def test_a_missing_file_is_not_found(tmp_path: Path) -> None:
    path = tmp_path / "gone.txt"

    assert_single_error(read_path(path), path, ErrorCode.NOT_FOUND)


def test_a_dangling_symlink_is_not_found(tmp_path: Path) -> None:
    path = tmp_path / "link.txt"
    path.symlink_to(tmp_path / "target.txt")

    results = read_path(path)

    assert_single_error(results, path, ErrorCode.NOT_FOUND)
    assert "symlink" in results[0].error.message


def test_a_symlink_pointing_at_itself_is_a_symlink_loop(tmp_path: Path) -> None:
    path = tmp_path / "self.txt"
    path.symlink_to(path)

    assert_single_error(read_path(path), path, ErrorCode.SYMLINK_LOOP)


def test_a_file_that_cannot_be_opened_is_permission_denied(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write(tmp_path, "locked.txt", F.txt_bytes())

    def denied(*args: object, **kwargs: object) -> None:
        raise PermissionError(13, "Permission denied")

    # Root ignores file modes, so the refusal is simulated where open() is called.
    monkeypatch.setattr(files, "open", denied, raising=False)

    assert_single_error(read_path(path), path, ErrorCode.PERMISSION)


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root reads any file")
def test_a_file_without_read_permission_is_permission_denied(tmp_path: Path) -> None:
    path = write(tmp_path, "locked.txt", F.txt_bytes())
    path.chmod(0)

    assert_single_error(read_path(path), path, ErrorCode.PERMISSION)


def test_a_folder_is_not_a_report_file(tmp_path: Path) -> None:
    path = tmp_path / "folder.txt"
    path.mkdir()

    assert_single_error(read_path(path), path, ErrorCode.UNSUPPORTED)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_a_named_pipe_is_refused_without_blocking(tmp_path: Path) -> None:
    path = tmp_path / "pipe.txt"
    os.mkfifo(path)

    assert_single_error(read_path(path), path, ErrorCode.UNSUPPORTED)


@pytest.mark.parametrize("name", ["notes.doc", "scan.png", "README"])
def test_a_file_of_an_unsupported_type_is_unsupported(tmp_path: Path, name: str) -> None:
    path = write(tmp_path, name, MARKER_BYTES)

    assert_single_error(read_path(path), path, ErrorCode.UNSUPPORTED)


def test_an_unexpected_failure_is_an_internal_error_that_quotes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def explode(data: bytes) -> str:
        raise ValueError(f"parser choked on {MARKER}")

    monkeypatch.setattr(files, "_read_docx", explode)
    path = write(tmp_path, "boom.docx", F.docx_bytes())

    results = read_path(path)

    assert_single_error(results, path, ErrorCode.INTERNAL)
    assert "ValueError" in results[0].error.message


def test_read_path_accepts_a_string_and_keeps_it_as_the_source(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path, "reports/abc.txt", F.txt_bytes())
    monkeypatch.chdir(tmp_path)

    (result,) = read_path("./reports/abc.txt")

    assert (result.id, result.source) == ("abc", "./reports/abc.txt")
