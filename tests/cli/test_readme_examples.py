"""Every ``tbs-doccheck …`` line in the README's ```bash blocks runs, as typed, in a copy of a fresh clone.

Each block gets its own workspace holding what a fresh clone holds (``sample_reports/``, ``tests/data/x12/``)
plus the few files the README names without shipping: ``claim.json`` (the README's own example claim) and
``exports/`` (a folder of exported reports). A block's commands run in order, so ``recheck`` finds the
audit the line before it wrote. The examples that cannot run in a test are skipped, each with its reason.
"""

from __future__ import annotations

import json
import re
import shlex
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest
from paths import ROOT, SAMPLES, SHARED_EVAL
from typer.testing import CliRunner

from tbs_doccheck.cli.app import app

README = ROOT / "README.md"
_BASH_BLOCK = re.compile(r"^```bash\n(.*?)^```", re.M | re.S)
_JSON_BLOCK = re.compile(r"^```json\n(.*?)^```", re.M | re.S)
_HEADING = re.compile(r"^## (.+)$", re.M)

#: Examples that cannot run inside a test, by the words that mark them, with the reason.
SKIPPED = {
    "serve": "starts a server that runs until stopped (tests/test_server.py runs `serve` in a subprocess)",
    "bench": "a long measurement (tests/bench runs a tiny one)",
    "--engine spark": "starts a Spark job on a JVM (tests/spark covers the Spark engine)",
}


@dataclass(frozen=True)
class Example:
    """One ``tbs-doccheck`` command line of the README."""

    section: str
    block: int
    index: int  # its place among the block's tbs-doccheck lines
    line: str

    @property
    def label(self) -> str:
        return f"{self.section} #{self.block}: {' '.join(shlex.split(self.line, comments=True))}"


def _is_tbs_doccheck(words: list[str]) -> bool:
    return bool(words) and (words[0] == "tbs-doccheck" or words[0].endswith("/tbs-doccheck"))


def readme_examples(text: str | None = None) -> list[Example]:
    """The README's ``tbs-doccheck`` lines, in order, with their section and block."""
    text = README.read_text(encoding="utf-8") if text is None else text
    examples = []
    for block, match in enumerate(_BASH_BLOCK.finditer(text)):
        headings = [h.group(1).strip() for h in _HEADING.finditer(text, 0, match.start())]
        section = headings[-1] if headings else "top"
        lines = match.group(1).replace("\\\n", " ").splitlines()
        ours = [line.strip() for line in lines if _is_tbs_doccheck(shlex.split(line, comments=True))]
        examples += [Example(section, block, i, line) for i, line in enumerate(ours)]
    return examples


def readme_claim() -> dict:
    """The example claim the README shows under "Pre-bill review hook" (saved as ``claim.json``)."""
    text = README.read_text(encoding="utf-8")
    section = text[text.index("## Pre-bill review hook") :]
    return json.loads(_JSON_BLOCK.search(section).group(1))


def make_workspace(root: Path) -> Path:
    """What a fresh clone holds that the examples use, plus the files the README names without shipping."""
    shutil.copytree(SAMPLES, root / "sample_reports")
    shutil.copytree(ROOT / "tests" / "data" / "x12", root / "tests" / "data" / "x12")
    (root / "claim.json").write_text(json.dumps(readme_claim(), indent=2), encoding="utf-8")
    exports = root / "exports"
    exports.mkdir()
    for report in sorted(SAMPLES.glob("s0*.txt")):
        shutil.copy(report, exports / report.name)
    return root


def skip_reason(example: Example) -> str | None:
    """Why ``example`` is not run here, or None."""
    for words, reason in SKIPPED.items():
        if f" {words}" in f" {example.line} ":
            return reason
    if "../shared/" in example.line and not SHARED_EVAL.is_dir():
        return f"the shared labelled sets are not beside this checkout ({SHARED_EVAL})"
    return None


def run(example: Example, workspace: Path) -> tuple[int, str]:
    """Runs the example's command with CliRunner in ``workspace``: (exit code, output)."""
    words = shlex.split(example.line, comments=True)[1:]
    stdin = None
    if "<" in words:
        at = words.index("<")
        stdin = (workspace / words[at + 1]).read_bytes()
        words = words[:at] + words[at + 2 :]
    # ../shared/ is beside the checkout, not beside the workspace.
    words = [str(SHARED_EVAL.parent / w.removeprefix("../shared/")) if w.startswith("../shared/") else w for w in words]
    result = CliRunner().invoke(app, words, input=stdin)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.output


EXAMPLES = readme_examples()
_workspaces: dict[int, tuple[Path, int]] = {}  # block -> (workspace, how many of its commands have run)


@pytest.fixture
def in_block_workspace(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """Runs an example in its block's workspace after the block's earlier commands (whichever tests were selected)."""

    def go(example: Example) -> tuple[int, str]:
        if example.block not in _workspaces:
            _workspaces[example.block] = (make_workspace(tmp_path_factory.mktemp(f"readme-block-{example.block}")), 0)
        workspace, done = _workspaces[example.block]
        monkeypatch.chdir(workspace)
        for earlier in [e for e in EXAMPLES if e.block == example.block][done : example.index]:
            if skip_reason(earlier) is None:
                run(earlier, workspace)
        _workspaces[example.block] = (workspace, example.index + 1)
        return run(example, workspace)

    return go


def test_the_readme_has_command_examples_in_every_section_that_shows_commands() -> None:
    sections = {e.section for e in EXAMPLES}
    assert {"Command line", "Pre-bill review hook (billing systems)", "Development"} <= sections
    assert any("eval sample_reports/labels.jsonl" in e.line for e in EXAMPLES if e.section == "Development")


@pytest.mark.parametrize("example", EXAMPLES, ids=[e.label for e in EXAMPLES])
def test_every_readme_command_example_runs_from_a_fresh_clone(example: Example, in_block_workspace) -> None:  # type: ignore[no-untyped-def]
    reason = skip_reason(example)
    if reason:
        pytest.skip(reason)
    code, output = in_block_workspace(example)
    # 0 and 1 are answers (pass/fail, release/hold); 2 would be a usage error or unreadable input, 3 a crash.
    assert code in (0, 1), f"{example.line!r} exited {code}:\n{output[-2000:]}"


def test_the_readme_example_claim_follows_the_claim_contract() -> None:
    from tbs_doccheck.prebill.contract import Claim

    assert Claim.model_validate(readme_claim()).claim_id == "C01"


def test_examples_are_found_in_bash_blocks_with_comments_redirections_and_continuations() -> None:
    text = (
        "## A\n\n```bash\nexport X=1\ntbs-doccheck check - < a.txt   # stdin\n"
        ".venv/bin/tbs-doccheck explain \\\n  signature\n```\n"
    )
    assert [(e.section, e.line) for e in readme_examples(text)] == [
        ("A", "tbs-doccheck check - < a.txt   # stdin"),
        ("A", ".venv/bin/tbs-doccheck explain    signature"),
    ]
