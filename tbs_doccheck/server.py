"""The HTTP service billing systems call: app factory, API-key guard, time limits and log redaction."""

from __future__ import annotations

import asyncio
import copy
import hmac
import inspect
import ipaddress
import logging
import os
import sys
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import date
from pathlib import Path
from typing import Any, TypeVar

import anyio.to_thread
from fastapi import APIRouter, FastAPI, HTTPException, Request, Security
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.security import APIKeyHeader
from fastapi_offline import FastAPIOffline
from pydantic import BaseModel, ConfigDict, Field, StrictStr
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tbs_doccheck.checker.core import Checker, __version__, get_checker
from tbs_doccheck.models import CheckResult
from tbs_doccheck.prebill.contract import Claim, Decision, ReportRef, error_message, field_path
from tbs_doccheck.prebill.data import PrebillRules, load_prebill_rules
from tbs_doccheck.prebill.engine import prebill
from tbs_doccheck.readers import DEFAULT_MAX_BYTES

API_KEY_ENV = "TBS_DOCCHECK_API_KEY"
MAX_BODY_ENV = "TBS_DOCCHECK_MAX_BODY_BYTES"
TIMEOUT_ENV = "TBS_DOCCHECK_TIMEOUT_S"
REPORTS_DIR_ENV = "TBS_DOCCHECK_REPORTS_DIR"
TODAY_ENV = "TBS_DOCCHECK_TODAY"
INSECURE_ENV = "TBS_DOCCHECK_INSECURE_NO_AUTH"

#: The same limit, in the same unit, as the one ``check`` and ``audit`` put on a report file: 5 MiB.
DEFAULT_MAX_BODY_BYTES = DEFAULT_MAX_BYTES
DEFAULT_TIMEOUT_S = 30.0
WORKER_STARTUP_S = 120

log = logging.getLogger("tbs_doccheck.server")

#: One pipeline per process (``get_checker``), and one call in it at a time: spaCy does not
#: promise that a Language object is safe to share between threads.
PIPELINE_LOCK = threading.Lock()

T = TypeVar("T")


class ConfigError(RuntimeError):
    """The service was asked to start with settings it refuses (no API key, bad numbers)."""


class CheckRequest(BaseModel):
    """Body of ``POST /v1/check``."""

    model_config = ConfigDict(strict=True, extra="forbid")

    text: StrictStr = Field(min_length=1, description="The whole report text")
    id: StrictStr = Field(default="report", min_length=1, description="Echoed as the result's id")


class ErrorDetail(BaseModel):
    """What went wrong with a request: a stable code to branch on, words for a person, the field at fault."""

    code: str = Field(description="Stable: unauthorized, not_found, method_not_allowed, invalid_json, "
                      "unsupported_media_type, body_too_large, invalid_request, timeout, internal_error")
    message: str = Field(description="What went wrong and what to send instead; never echoes the request's text")
    field: str | None = Field(default=None, description="The request field at fault (list positions count from 1), "
                              "e.g. lines.1.units; null when the problem is not one field's")


class ErrorResponse(BaseModel):
    """The body of every error answer (4xx and 5xx)."""

    error: ErrorDetail


#: The ``error.code`` of each status the service answers with.
ERROR_CODES = {
    400: "invalid_json",
    401: "unauthorized",
    404: "not_found",
    405: "method_not_allowed",
    413: "body_too_large",
    415: "unsupported_media_type",
    422: "invalid_request",
    500: "internal_error",
    503: "timeout",
}


class ApiError(HTTPException):
    """An HTTP error with the ``error.code`` and ``error.field`` of its JSON body."""

    def __init__(
        self, status: int, message: str, *, field: str | None = None, code: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(status, message, headers=headers)
        self.code = code or ERROR_CODES.get(status, "error")
        self.field = field


def error_response(
    status: int, message: str, *, field: str | None = None, code: str | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    """``{"error": {"code", "message", "field"}}`` with ``status``."""
    detail = ErrorDetail(code=code or ERROR_CODES.get(status, "error"), message=message, field=field)
    return JSONResponse({"error": detail.model_dump()}, status_code=status, headers=headers)


def _key_matches(provided: str | None, expected: str) -> bool:
    # compare_digest on bytes: constant time, and no TypeError on non-ASCII header values.
    return provided is not None and hmac.compare_digest(provided.encode(), expected.encode())


class _ApiKeyGuard:
    """Refuse every ``/v1`` request without the right ``X-API-Key`` before its body is read."""

    def __init__(self, app: ASGIApp, api_key: str | None) -> None:
        self.app = app
        self.api_key = api_key

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if (
            scope["type"] == "http"
            and self.api_key is not None
            and (path == "/v1" or path.startswith("/v1/"))
            and not _key_matches(Headers(scope=scope).get("x-api-key"), self.api_key)
        ):
            response = error_response(
                401,
                "missing or wrong X-API-Key header: send the key the service was started with "
                f"({API_KEY_ENV})",
                headers={"WWW-Authenticate": "ApiKey"},
            )
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)


class _BodyTooLarge(HTTPException):
    """Raised while the body streams in, once it is over the limit (an HTTPException, so FastAPI passes it on)."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, _too_large_message(limit))


def _too_large_message(limit: int) -> str:
    return f"the request body is over the service's limit of {limit:,} bytes ({limit / 2**20:.2f} MiB)"


def _is_json(content_type: str | None) -> bool:
    media = (content_type or "").split(";", 1)[0].strip().lower()
    return media == "application/json" or (media.startswith("application/") and media.endswith("+json"))


class _BodyGuard:
    """Every request body within ``max_body_bytes`` (413, by Content-Length and by bytes counted while it
    streams), and every ``/v1`` POST sent as JSON (415), each answered in the service's JSON error shape."""

    def __init__(self, app: ASGIApp, max_body_bytes: int) -> None:
        self.app = app
        self.limit = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        length = headers.get("content-length")
        if length is not None and length.isdigit() and int(length) > self.limit:
            await error_response(413, _too_large_message(self.limit))(scope, receive, send)
            return
        path = scope.get("path", "")
        if scope.get("method") == "POST" and path.startswith("/v1/") and not _is_json(headers.get("content-type")):
            sent = headers.get("content-type") or "no Content-Type"
            message = f"send the request body as JSON with the header Content-Type: application/json (got {sent})"
            await error_response(415, message, field="Content-Type")(scope, receive, send)
            return
        received = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    raise _BodyTooLarge(self.limit)
            return message

        async def tracked_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited_receive, tracked_send)
        except* _BodyTooLarge:
            if started:
                raise
            await error_response(413, _too_large_message(self.limit))(scope, receive, send)


def _validation_response(exc: RequestValidationError) -> JSONResponse:
    errors = exc.errors()
    bad_json = [e for e in errors if e.get("type") == "json_invalid"]
    if bad_json:
        err = bad_json[0]
        where = err["loc"][-1] if err.get("loc") else "?"
        why = (err.get("ctx") or {}).get("error", "not JSON")
        return error_response(400, f"the request body is not valid JSON: {why} (at character {where})")
    # Where and what only: pydantic's "input" would echo report text back (and into any proxy's logs).
    problems = []
    for e in errors:
        loc = tuple(e.get("loc", ()))
        where = field_path(loc[1:] if loc[:1] == ("body",) else loc)
        problems.append((where if loc[1:] else None, f"{'body' if loc == ('body',) else where}: {error_message(e)}"))
    return error_response(422, "; ".join(m for _, m in problems), field=problems[0][0] if problems else None)


def _http_error_response(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    """Any HTTPException (ours, FastAPI's, Starlette's 404/405) in the JSON error shape."""
    if isinstance(exc, ApiError):
        return error_response(exc.status_code, exc.detail, field=exc.field, code=exc.code, headers=exc.headers)
    message = exc.detail if isinstance(exc.detail, str) else "request refused"
    if exc.status_code == 404:
        message = f"no such endpoint: {request.method} {request.url.path} (the endpoints are listed at /docs)"
    elif exc.status_code == 405:
        allowed = (exc.headers or {}).get("Allow", "")
        message = f"{request.method} is not allowed on {request.url.path}" + (f"; use {allowed}" if allowed else "")
    return error_response(exc.status_code, message, headers=exc.headers)


def create_app(
    api_key: str | None,
    *,
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    reports_dir: Path | None = None,
    checker: Checker | None = None,
    today: date | None = None,
) -> FastAPI:
    """Build the service.

    Args:
        api_key: The key every ``/v1`` request must send as ``X-API-Key``; None disables
            the check (only for ``--insecure-no-auth``).
        max_body_bytes: Larger request bodies get 413 (by Content-Length, and by bytes
            counted while streaming).
        timeout_s: A check or pre-bill decision running longer gets 503.
        reports_dir: The only folder ``report.path`` may point into; None refuses
            ``report.path`` over HTTP (a caller must not make the service read its files).
        checker: A checker already built; else the process-wide one is loaded at start-up.
        today: The date pre-bill decisions judge dates of service against (reproducible runs);
            each request's local date when None.

    Returns:
        The FastAPI app.
    """
    if max_body_bytes < 1 or timeout_s <= 0:
        raise ConfigError("max_body_bytes and timeout_s must be positive")
    rules = load_prebill_rules()
    reports_root = reports_dir.resolve() if reports_dir is not None else None
    # FastAPIOffline: /docs (Swagger UI) and /redoc from assets shipped in the fastapi-offline package, no CDN.
    app = FastAPIOffline(
        title="tbs-doccheck",
        summary="CPT 77092 documentation checks and 77089-77092 pre-bill review",
        version=__version__,
        lifespan=_lifespan(checker),
    )
    _add_middleware(app, api_key, max_body_bytes)
    _add_error_handlers(app)
    # /healthz before the /v1 routes: the order the app (and its OpenAPI document) has always listed them in.
    _add_health_route(app, rules)
    app.include_router(_v1_router(reports_root, timeout_s, today))
    return app


def _lifespan(checker: Checker | None) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    """The app's start-up: keeps ``checker``, or loads the process-wide one off the event loop."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if checker is not None:
            app.state.checker = checker
        else:
            app.state.checker = await anyio.to_thread.run_sync(get_checker)
        yield

    return lifespan


def _add_middleware(app: FastAPI, api_key: str | None, max_body_bytes: int) -> None:
    """Guards the ``/v1`` routes with the API key (``None``: no guard) before any body is read, then the body."""
    app.add_middleware(_BodyGuard, max_body_bytes=max_body_bytes)
    app.add_middleware(_ApiKeyGuard, api_key=api_key)  # added last: runs first


def _add_error_handlers(app: FastAPI) -> None:
    """Every error answered as ``{"error": {"code", "message", "field"}}``, no input echoed."""

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        return _validation_response(exc)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return _http_error_response(request, exc)

    @app.exception_handler(Exception)
    async def _crashed(request: Request, exc: Exception) -> JSONResponse:
        # The type only: an exception's text may quote the report.
        log.error("internal error: %s", type(exc).__name__)
        return error_response(500, "internal error; no decision was made")


async def _run_limited(fn: Callable[[], T], timeout_s: float) -> T:
    """Runs ``fn`` in a thread holding :data:`PIPELINE_LOCK`, within ``timeout_s``.

    Raises:
        HTTPException: 503 when the lock or the call takes longer than ``timeout_s``, 500 when
            ``fn`` fails (an ``HTTPException`` from ``fn`` passes through).
    """

    def locked() -> T:
        if not PIPELINE_LOCK.acquire(timeout=timeout_s):
            raise TimeoutError
        try:
            return fn()
        finally:
            PIPELINE_LOCK.release()

    try:
        # abandon_on_cancel: without it the cancelled await would wait for the thread anyway.
        return await asyncio.wait_for(anyio.to_thread.run_sync(locked, abandon_on_cancel=True), timeout_s)
    except TimeoutError:
        raise ApiError(
            503, f"the request took longer than {timeout_s:g} s; retry later", headers={"Retry-After": "5"}
        ) from None
    except HTTPException:
        raise
    except Exception as exc:
        # The type only: an exception's text may quote the report.
        log.error("internal error while checking: %s", type(exc).__name__)
        raise ApiError(500, "internal error; no decision was made") from None


def _v1_router(reports_root: Path | None, timeout_s: float, today: date | None = None) -> APIRouter:
    """The ``/v1`` routes: pre-bill decisions and report checks, each under the time limit."""
    # APIKeyHeader only documents the header in OpenAPI; _ApiKeyGuard enforces it before the body is read.
    v1 = APIRouter(
        prefix="/v1",
        dependencies=[Security(APIKeyHeader(name="X-API-Key", auto_error=False))],
        responses={
            status: {"model": ErrorResponse, "description": description}
            for status, description in (
                (400, "The body is not valid JSON"),
                (401, "Missing or wrong X-API-Key"),
                (413, "The body is over the size limit"),
                (415, "The body was not sent as application/json"),
                (422, "The body does not follow the contract (error.field names where)"),
                (503, "Over the time limit; retry after Retry-After seconds"),
            )
        },
    )

    @v1.post("/prebill", response_model=Decision, summary="Release, hold or review a claim carrying TBS codes")
    async def post_prebill(claim: Claim, request: Request) -> Decision:
        if claim.report is not None and claim.report.path is not None:
            inside = _report_path_inside(claim.report.path, reports_root)
            claim = claim.model_copy(update={"report": ReportRef(path=str(inside))})
        current: Checker = request.app.state.checker
        return await _run_limited(
            lambda: prebill(claim, checker=current, reports_dir=reports_root, today=today), timeout_s
        )

    @v1.post("/check", response_model=CheckResult, summary="Check one TBS report's documentation")
    async def post_check(body: CheckRequest, request: Request) -> CheckResult:
        current: Checker = request.app.state.checker
        return await _run_limited(lambda: current.check_text(body.text, report_id=body.id), timeout_s)

    return v1


def _add_health_route(app: FastAPI, rules: PrebillRules) -> None:
    """``GET /healthz``: liveness, whether the pipeline is loaded, and the versions in use."""

    @app.get("/healthz", summary="Liveness: the pipeline is loaded")
    async def healthz(request: Request) -> dict[str, Any]:
        return {
            "status": "ok",
            "checker_loaded": getattr(request.app.state, "checker", None) is not None,
            "versions": {"tool": __version__, "prebill_rules": rules.version},
        }


def _report_path_inside(path: str, root: Path | None) -> Path:
    """The linked report's real path, which must lie inside ``root`` (symlinks resolved)."""
    if root is None:
        raise ApiError(422, "report.path is not accepted by this service; send report.text", field="report.path")
    resolved = (root / path).resolve()  # an absolute path replaces root in the join
    if not resolved.is_relative_to(root):
        raise ApiError(422, "report.path must name a file inside the service's reports folder", field="report.path")
    return resolved


def _env_number(name: str, default: float, kind: type[int] | type[float]) -> Any:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return kind(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is not a number") from None


def _env_date(name: str) -> date | None:
    raw = os.environ.get(name)
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is not a date (YYYY-MM-DD)") from None


def app_from_env() -> FastAPI:
    """The app as configured by environment variables (the uvicorn factory each worker calls).

    Reads ``TBS_DOCCHECK_API_KEY`` (required unless ``TBS_DOCCHECK_INSECURE_NO_AUTH=1``),
    ``TBS_DOCCHECK_MAX_BODY_BYTES``, ``TBS_DOCCHECK_TIMEOUT_S``, ``TBS_DOCCHECK_REPORTS_DIR`` and
    ``TBS_DOCCHECK_TODAY`` (YYYY-MM-DD: the date pre-bill decisions judge dates of service against).

    Returns:
        The FastAPI app.

    Raises:
        ConfigError: No API key and no explicit permission to run without one, bad numbers or a bad date.
    """
    api_key = os.environ.get(API_KEY_ENV) or None
    if api_key is None and os.environ.get(INSECURE_ENV) != "1":
        raise ConfigError(f"{API_KEY_ENV} is not set: refusing to serve without an API key (see --insecure-no-auth)")
    reports = os.environ.get(REPORTS_DIR_ENV)
    return create_app(
        api_key,
        max_body_bytes=_env_number(MAX_BODY_ENV, DEFAULT_MAX_BODY_BYTES, int),
        timeout_s=_env_number(TIMEOUT_ENV, DEFAULT_TIMEOUT_S, float),
        reports_dir=Path(reports) if reports else None,
        today=_env_date(TODAY_ENV),
    )


class AccessLogFilter(logging.Filter):
    """Reduce uvicorn's access record to method, path (no query string) and status.

    Nothing a caller puts in a URL, and no client address, reaches the log.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) == 5:
            _client, method, full_path, _version, status = args
            record.msg, record.args = "%s %s %s", (method, str(full_path).split("?", 1)[0], status)
        return True


def log_config() -> dict[str, Any]:
    """uvicorn's logging config with the access log redacted by :class:`AccessLogFilter`."""
    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config.setdefault("filters", {})["redact_access"] = {"()": f"{__name__}.AccessLogFilter"}
    config["handlers"]["access"]["filters"] = ["redact_access"]
    # uvicorn's AccessFormatter rebuilds the line from the raw args; a plain formatter prints ours.
    config["formatters"]["access"] = {"()": "uvicorn.logging.DefaultFormatter", "fmt": "%(levelprefix)s %(message)s"}
    config["loggers"]["tbs_doccheck"] = {"handlers": ["default"], "level": "INFO", "propagate": False}
    return config


def run(
    host: str = "127.0.0.1",
    port: int = 8077,
    insecure_no_auth: bool = False,
    *,
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    workers: int = 1,
    reports_dir: Path | None = None,
) -> None:
    """Serve until interrupted; each uvicorn worker process loads its own pipeline at start-up.

    An API key in ``TBS_DOCCHECK_API_KEY`` is enforced even with ``insecure_no_auth``,
    which only permits starting without one.

    Args:
        host: Address to bind.
        port: Port to bind.
        insecure_no_auth: Start even when ``TBS_DOCCHECK_API_KEY`` is unset (no authentication).
        max_body_bytes: Request body limit.
        timeout_s: Per-request time limit.
        workers: uvicorn worker processes.
        reports_dir: Folder ``report.path`` may point into.

    Raises:
        ConfigError: No API key without ``insecure_no_auth``, or bad settings.
    """
    import uvicorn

    if not os.environ.get(API_KEY_ENV):
        if not insecure_no_auth:
            raise ConfigError(
                f"{API_KEY_ENV} is not set: refusing to serve without an API key (see --insecure-no-auth)"
            )
        print(f"warning: serving WITHOUT authentication on {host}:{port}", file=sys.stderr)
        if not _is_loopback(host):
            print("warning: and on a non-loopback address: anyone who can reach it can call it", file=sys.stderr)
    if max_body_bytes < 1 or timeout_s <= 0 or workers < 1:
        raise ConfigError("--max-body-bytes, --timeout and --workers must be positive")
    # Workers are separate processes that build the app from the environment.
    os.environ[MAX_BODY_ENV] = str(max_body_bytes)
    os.environ[TIMEOUT_ENV] = str(timeout_s)
    os.environ[INSECURE_ENV] = "1" if insecure_no_auth else "0"
    if reports_dir is not None:
        os.environ[REPORTS_DIR_ENV] = str(reports_dir)
    options: dict[str, Any] = {}
    if "timeout_worker_healthcheck" in inspect.signature(uvicorn.run).parameters:
        # Workers building the pipeline side by side miss uvicorn's default 5 s health ping
        # and get killed and restarted forever; give them the time a start-up takes.
        options["timeout_worker_healthcheck"] = WORKER_STARTUP_S
    uvicorn.run(
        f"{__name__}:app_from_env",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_config=log_config(),
        server_header=False,
        **options,
    )


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
