"""The README's pre-bill exit codes and body-size limit are the ones the code uses."""

from __future__ import annotations

import re

from paths import ROOT

from tbs_doccheck.cli import exit_codes
from tbs_doccheck.readers import DEFAULT_MAX_BYTES
from tbs_doccheck.server import DEFAULT_MAX_BODY_BYTES

README = (ROOT / "README.md").read_text(encoding="utf-8")
_START = README.index("## Pre-bill review hook")
PREBILL = README[_START : README.index("\n## ", _START + 1)]


def test_the_readme_lists_every_prebill_exit_code_the_command_uses() -> None:
    table = dict(re.findall(r"^\| (\d) \| (.+) \|$", PREBILL, re.M))
    assert set(table) == {
        str(code)
        for code in (exit_codes.EXIT_PASS, exit_codes.EXIT_FAIL, exit_codes.EXIT_ERROR, exit_codes.EXIT_INTERNAL)
    }
    assert "PB090-claim-invalid" in table[str(exit_codes.EXIT_ERROR)]
    assert "no decision" in table[str(exit_codes.EXIT_INTERNAL)]


def test_the_service_and_the_audit_share_one_body_size_limit_in_one_unit() -> None:
    assert DEFAULT_MAX_BODY_BYTES == DEFAULT_MAX_BYTES == 5 * 2**20
    assert f"{DEFAULT_MAX_BYTES:,} bytes" in PREBILL and "5 MiB" in PREBILL
    assert "5,000,000" not in PREBILL
