"""The ``serve`` command: the pre-bill hook and checker as an HTTP service."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from tbs_doccheck.cli.exit_codes import fail
from tbs_doccheck.readers import DEFAULT_MAX_BYTES


def serve_command(
    host: Annotated[str, typer.Option(help="Address to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to bind.")] = 8077,
    insecure_no_auth: Annotated[
        bool,
        typer.Option(
            "--insecure-no-auth",
            help="Start even without TBS_DOCCHECK_API_KEY; /v1 is then open to anyone who can reach it.",
        ),
    ] = False,
    max_body_bytes: Annotated[
        int,
        typer.Option(
            envvar="TBS_DOCCHECK_MAX_BODY_BYTES",
            help="Larger request bodies get 413. Default 5 MiB, the limit check and audit put on a report file.",
            min=1,
        ),
    ] = DEFAULT_MAX_BYTES,
    timeout: Annotated[
        float, typer.Option(envvar="TBS_DOCCHECK_TIMEOUT_S", help="Seconds before a request gets 503.", min=0.001)
    ] = 30.0,
    workers: Annotated[int, typer.Option(help="Worker processes; each loads its own pipeline.", min=1)] = 1,
    reports_dir: Annotated[
        Path | None,
        typer.Option(
            "--reports-dir",
            help="Folder report.path may point into (and where reports are looked up by claim id).",
            exists=True,
            file_okay=False,
        ),
    ] = None,
    today: Annotated[
        str | None,
        typer.Option(
            envvar="TBS_DOCCHECK_TODAY",
            help="YYYY-MM-DD: the date pre-bill decisions judge dates of service against (reproducible runs).",
        ),
    ] = None,
) -> None:
    """Serve POST /v1/prebill, POST /v1/check, GET /healthz and the OpenAPI docs (/docs).

    Every /v1 call needs the header X-API-Key equal to TBS_DOCCHECK_API_KEY.
    """
    from tbs_doccheck.server import TODAY_ENV, ConfigError, run

    if today is not None:
        try:
            date.fromisoformat(today)
        except ValueError:
            fail(f"--today: expected a date as YYYY-MM-DD, got {today!r}")
        # Each uvicorn worker builds its app from the environment, so the date travels there.
        os.environ[TODAY_ENV] = today
    try:
        run(
            host,
            port,
            insecure_no_auth,
            max_body_bytes=max_body_bytes,
            timeout_s=timeout,
            workers=workers,
            reports_dir=reports_dir,
        )
    except ConfigError as exc:
        fail(str(exc))
