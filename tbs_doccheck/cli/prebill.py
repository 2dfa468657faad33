"""The ``prebill`` and ``serve`` sub-commands (registered on the main typer app by ``cli.py``)."""

from __future__ import annotations

import json
import sys
from datetime import date, datetime
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError

# A billing system branches on these without reading the output: 0 release, 1 hold or review,
# 2 unreadable input or a claim in error (PB090), 3 internal error.
from tbs_doccheck.cli.exit_codes import EXIT_ERROR, EXIT_FAIL, EXIT_INTERNAL, EXIT_PASS, fail
from tbs_doccheck.prebill.contract import Claim, Decision, ReportRef, describe_validation_error, invalid_lines
from tbs_doccheck.prebill.engine import invalid_claim_decision, prebill, prebill_many
from tbs_doccheck.prebill.x12 import X12Error, looks_like_x12, parse_837p


def _exit_for(decisions: list[Decision]) -> int:
    """2 when a claim could not be read (decision ``error``), else 0 all released, 1 any held or sent to review."""
    if any(d.decision == "error" for d in decisions):
        return EXIT_ERROR
    return EXIT_PASS if all(d.decision == "release" for d in decisions) else EXIT_FAIL


def _decide_837(data: bytes, reports: Path | None, today: date | None) -> list[Decision]:
    try:
        parsed = parse_837p(data)
    except X12Error as exc:
        fail(f"not a readable 837P file: {exc}")
    if not parsed:
        fail("the 837 file holds no claim (CLM segment)")
    claims = [p.claim for p in parsed if p.claim is not None]
    decided = iter(prebill_many(claims, reports_dir=reports, today=today))
    return [
        next(decided)
        if p.claim is not None
        else invalid_claim_decision(p.claim_id or f"segment {p.segment}", p.error or "")
        for p in parsed
    ]


def _decide_json(data: bytes, source: Path | None, reports: Path | None, today: date | None) -> Decision:
    try:
        payload = json.loads(data)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        where = f" (line {exc.lineno}, column {exc.colno})" if isinstance(exc, json.JSONDecodeError) else ""
        fail(f"the claim is neither an 837 file nor valid JSON{where}")
    if not isinstance(payload, dict):
        fail("the claim JSON must be an object")
    try:
        claim = Claim.model_validate(payload)
    except ValidationError as exc:
        problem = describe_validation_error(exc)
        # Still a decision on stdout, for a billing system that reads only that: decision "error", PB090.
        typer.echo(f"error: the claim does not follow the claim contract: {problem}", err=True)
        claim_id = payload.get("claim_id")
        return invalid_claim_decision(
            claim_id.strip() if isinstance(claim_id, str) else "", problem, lines=invalid_lines(exc)
        )
    ref = claim.report
    if ref is not None and ref.path is not None and source is not None and not Path(ref.path).is_absolute():
        # A relative report path is written relative to the claim file, wherever the command runs.
        claim = claim.model_copy(update={"report": ReportRef(path=str(source.parent / ref.path))})
    return prebill(claim, reports_dir=reports, today=today)


def prebill_command(
    claim: Annotated[
        str,
        typer.Argument(help="A claim JSON file, an X12 837P file (detected by its ISA header), or - for stdin."),
    ],
    reports: Annotated[
        Path | None,
        typer.Option(
            "--reports",
            help="Folder of reports named by claim id (any format the audit reads), for claims that link none.",
            exists=True,
            file_okay=False,
            dir_okay=True,
        ),
    ] = None,
    today: Annotated[
        datetime | None,
        typer.Option(
            "--today",
            formats=["%Y-%m-%d"],
            help="Judge dates of service against this date (YYYY-MM-DD), not the machine's: reproducible runs.",
        ),
    ] = None,
) -> None:
    """Pre-bill review: release, hold or review claims carrying TBS codes (77089-77092).

    A JSON claim prints one decision; an 837P file prints one per claim (JSON Lines).

    \b
    Exit codes: 0 every claim released; 1 any held or sent to review;
    2 unreadable input, or a claim that does not follow the claim contract
      (its decision is "error", reason PB090-claim-invalid);
    3 internal error (no decision made).
    """
    source = None if claim == "-" else Path(claim)
    try:
        data = sys.stdin.buffer.read() if source is None else source.read_bytes()
    except OSError as exc:
        fail(f"cannot read {claim}: {exc.strerror or type(exc).__name__}")
    try:
        if looks_like_x12(data):
            decisions = _decide_837(data, reports, today.date() if today else None)
            for decision in decisions:
                typer.echo(decision.model_dump_json())
        else:
            decisions = [_decide_json(data, source, reports, today.date() if today else None)]
            typer.echo(decisions[0].model_dump_json(indent=2))
    except typer.Exit:
        raise
    except Exception as exc:  # noqa: BLE001 - an exit code of 1 would read as "hold"
        # The type only: an exception's text may quote the report.
        fail(f"internal error ({type(exc).__name__}); no decision was made", EXIT_INTERNAL)
    raise typer.Exit(_exit_for(decisions))


