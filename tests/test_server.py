"""The HTTP service: API key, body limits, clear 4xx answers, time limits, quiet logs, and a real uvicorn run."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from paths import DATA, ROOT

from tbs_doccheck.checker.core import Checker
from tbs_doccheck.server import PIPELINE_LOCK, ConfigError, app_from_env, create_app

KEY = "test-key-4d1f"
MARKER = "Quixotebrook"
REPORT = (DATA / "claims" / "reports" / "C-RELEASE.txt").read_text()
CLAIM: dict[str, Any] = {
    "claim_id": "C01",
    "patient_id": "P1",
    "date_of_service": "2025-03-10",
    "lines": [{"code": "77092", "units": 1, "modifiers": []}],
    "rendering_provider": {"name": "Harold Smith", "credential": "MD", "npi": "1245319599"},
    "report": {"text": REPORT},
}
AUTH = {"X-API-Key": KEY}


@pytest.fixture(scope="module")
def client(checker: Checker) -> Iterator[TestClient]:
    with TestClient(create_app(KEY, max_body_bytes=20_000, checker=checker)) as c:
        yield c


# --------------------------------------------------------------------------------------------
# In process
# --------------------------------------------------------------------------------------------


def test_healthz_answers_without_a_key(client: TestClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["status"] == "ok" and response.json()["checker_loaded"] is True


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({}, 401),
        ({"X-API-Key": "wrong"}, 401),
        ({"X-API-Key": KEY + "x"}, 401),
        ({"X-API-Key": "é".encode()}, 401),
        (AUTH, 200),
    ],
)
def test_every_v1_call_needs_the_right_api_key(client: TestClient, headers: dict[str, Any], status: int) -> None:
    for path, body in (("/v1/prebill", CLAIM), ("/v1/check", {"text": REPORT, "id": "r1"})):
        assert client.post(path, json=body, headers=headers).status_code == status


def test_a_missing_key_is_refused_before_the_body_is_parsed(client: TestClient) -> None:
    response = client.post("/v1/prebill", content=b"{not json", headers={"content-type": "application/json"})
    assert response.status_code == 401


def test_prebill_returns_the_decision(client: TestClient) -> None:
    response = client.post("/v1/prebill", json=CLAIM, headers=AUTH)
    assert response.status_code == 200
    body = response.json()
    assert (body["claim_id"], body["decision"]) == ("C01", "release")
    assert body["check"]["verdict"] == "pass" and body["versions"]["prebill_rules"]


def test_check_returns_the_checker_result(client: TestClient) -> None:
    response = client.post("/v1/check", json={"text": REPORT, "id": "r9"}, headers=AUTH)
    assert response.status_code == 200
    assert (response.json()["id"], response.json()["verdict"]) == ("r9", "pass")


@pytest.mark.parametrize(
    ("path", "body", "status", "says"),
    [
        ("/v1/prebill", b"{not json", 400, "not valid JSON"),
        ("/v1/prebill", b"", 422, "Field required"),
        ("/v1/prebill", json.dumps({**CLAIM, "lines": [{"code": "77092", "units": "1"}]}).encode(), 422, "integer"),
        ("/v1/prebill", json.dumps({**CLAIM, "report": {"text": REPORT, "path": "x"}}).encode(), 422, "exactly one"),
        ("/v1/prebill", json.dumps({**CLAIM, "report": {"path": "/etc/passwd"}}).encode(), 422, "not accepted"),
        ("/v1/check", json.dumps({"text": REPORT, "extra": 1}).encode(), 422, "Extra inputs"),
        ("/v1/check", json.dumps({"text": 5}).encode(), 422, "string"),
        ("/v1/check", b"[1, 2", 400, "not valid JSON"),
    ],
)
def test_malformed_requests_get_a_clear_4xx_that_echoes_no_report_text(
    client: TestClient, path: str, body: bytes, status: int, says: str
) -> None:
    response = client.post(path, content=body, headers={**AUTH, "content-type": "application/json"})
    assert response.status_code == status
    assert set(response.json()) == {"error"}
    assert says in response.json()["error"]["message"]
    assert MARKER not in response.text


def assert_error(response: httpx.Response, status: int, code: str, field: str | None = None) -> dict[str, Any]:
    """The service's one error shape: ``{"error": {"code", "message", "field"}}``, as JSON."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    error = response.json()["error"]
    assert set(error) == {"code", "message", "field"}
    assert (error["code"], error["field"]) == (code, field)
    assert error["message"]
    return error


def test_every_error_is_answered_as_json_with_a_code_a_message_and_a_field(client: TestClient) -> None:
    as_json = {**AUTH, "content-type": "application/json"}
    assert_error(client.post("/v1/check", json={"text": REPORT}), 401, "unauthorized")
    assert_error(client.get("/v1/nothing-here", headers=AUTH), 404, "not_found")
    error = assert_error(client.get("/v1/check", headers=AUTH), 405, "method_not_allowed")
    assert "POST" in error["message"]
    assert_error(client.post("/v1/check", content=b"{oops", headers=as_json), 400, "invalid_json")
    big = json.dumps({"text": "x" * 30_000}).encode()
    assert_error(client.post("/v1/check", content=big, headers=as_json), 413, "body_too_large")
    bad_units = {**CLAIM, "lines": [{"code": "77092", "units": 0}]}
    error = assert_error(client.post("/v1/prebill", json=bad_units, headers=AUTH), 422, "invalid_request",
                         "lines.1.units")
    assert error["message"] == "lines.1.units: Input should be greater than or equal to 1"


def test_a_413_says_the_limit_in_bytes_and_mib(client: TestClient) -> None:
    big = json.dumps({"text": "x" * 30_000}).encode()
    error = assert_error(
        client.post("/v1/check", content=big, headers={**AUTH, "content-type": "application/json"}),
        413,
        "body_too_large",
    )
    assert "20,000 bytes" in error["message"] and "MiB" in error["message"]


@pytest.mark.parametrize("content_type", [None, "text/plain", "application/x-www-form-urlencoded"])
def test_a_body_not_sent_as_json_is_told_which_content_type_to_send(
    client: TestClient, content_type: str | None
) -> None:
    headers = {**AUTH, **({"content-type": content_type} if content_type else {})}
    response = client.post("/v1/check", content=json.dumps({"text": REPORT}).encode(), headers=headers)
    error = assert_error(response, 415, "unsupported_media_type", "Content-Type")
    assert "Content-Type: application/json" in error["message"]
    assert "valid dictionary" not in error["message"]


def test_validation_messages_carry_no_pydantic_prefix(client: TestClient) -> None:
    bad_date = {**CLAIM, "date_of_service": "03/10/2025"}
    error = assert_error(client.post("/v1/prebill", json=bad_date, headers=AUTH), 422, "invalid_request",
                         "date_of_service")
    assert error["message"] == "date_of_service: date must be written YYYY-MM-DD"


def test_the_openapi_document_describes_the_error_shape(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    responses = spec["paths"]["/v1/check"]["post"]["responses"]
    assert {"400", "401", "413", "415", "422", "503"} <= set(responses)
    assert responses["422"]["content"]["application/json"]["schema"]["$ref"].endswith("/ErrorResponse")


def test_a_body_over_the_limit_by_content_length_gets_413(client: TestClient) -> None:
    big = json.dumps({"text": "x" * 30_000}).encode()
    headers = {**AUTH, "content-type": "application/json"}
    assert_error(client.post("/v1/check", content=big, headers=headers), 413, "body_too_large")


def test_a_streamed_body_over_the_limit_gets_413(client: TestClient) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"text": "'
        for _ in range(30):
            yield b"x" * 1000
        yield b'"}'

    response = client.post("/v1/check", content=chunks(), headers={**AUTH, "content-type": "application/json"})
    assert_error(response, 413, "body_too_large")


def test_a_request_that_takes_too_long_gets_503(checker: Checker) -> None:
    with TestClient(create_app(KEY, timeout_s=0.001, checker=checker)) as slow:
        started = time.monotonic()
        response = slow.post("/v1/check", json={"text": REPORT * 20}, headers=AUTH)
    assert_error(response, 503, "timeout")
    assert response.headers["retry-after"]
    assert time.monotonic() - started < 5
    # The abandoned check may still run: wait for it, then hold the lock long enough that a
    # thread not yet started gives up (its own wait is 1 ms), so no later test shares the pipeline.
    assert PIPELINE_LOCK.acquire(timeout=60)
    time.sleep(0.5)
    PIPELINE_LOCK.release()


def test_report_paths_must_stay_inside_the_configured_reports_folder(checker: Checker, tmp_path: Path) -> None:
    (tmp_path / "C01.txt").write_text(REPORT)
    (tmp_path.parent / "outside.txt").write_text(REPORT)
    with TestClient(create_app(KEY, reports_dir=tmp_path, checker=checker)) as c:
        inside = c.post("/v1/prebill", json={**CLAIM, "report": {"path": "C01.txt"}}, headers=AUTH)
        outside = c.post("/v1/prebill", json={**CLAIM, "report": {"path": "../outside.txt"}}, headers=AUTH)
        by_id = c.post("/v1/prebill", json={k: v for k, v in CLAIM.items() if k != "report"}, headers=AUTH)
    assert (inside.status_code, inside.json()["decision"]) == (200, "release")
    assert_error(outside, 422, "invalid_request", "report.path")
    assert (by_id.status_code, by_id.json()["decision"]) == (200, "release")


def test_the_openapi_document_lists_the_endpoints_and_the_api_key(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    assert {"/v1/prebill", "/v1/check", "/healthz"} <= set(spec["paths"])
    schemes = spec["components"]["securitySchemes"]
    assert any(s.get("name") == "X-API-Key" and s.get("in") == "header" for s in schemes.values())
    assert client.get("/docs").status_code == 200


def test_without_a_key_the_app_is_open_only_when_built_so(checker: Checker) -> None:
    with TestClient(create_app(None, checker=checker)) as open_client:
        assert open_client.post("/v1/check", json={"text": REPORT}).status_code == 200


def test_the_environment_factory_refuses_to_build_without_a_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TBS_DOCCHECK_API_KEY", raising=False)
    monkeypatch.delenv("TBS_DOCCHECK_INSECURE_NO_AUTH", raising=False)
    with pytest.raises(ConfigError, match="TBS_DOCCHECK_API_KEY is not set"):
        app_from_env()


# --------------------------------------------------------------------------------------------
# A real server on a loopback port
# --------------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """``tbs-doccheck serve`` in a subprocess on 127.0.0.1; yields its base URL and its log file."""
    port = free_port()
    log_path = tmp_path_factory.mktemp("server") / "server.log"
    env = {**os.environ, "TBS_DOCCHECK_API_KEY": KEY, "TBS_DOCCHECK_MAX_BODY_BYTES": "50000"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-c", "from tbs_doccheck.cli.app import main; main()", "serve", "--port", str(port)],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            if proc.poll() is not None:
                pytest.fail(f"server exited with {proc.returncode}: {log_path.read_text()[-2000:]}")
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("server did not answer /healthz within 90 s")
            time.sleep(0.25)
        yield base, log_path
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def test_the_real_server_answers_over_http_and_logs_no_report_text(server: tuple[str, Path]) -> None:
    base, log_path = server
    with httpx.Client(base_url=base, timeout=60) as http:
        assert http.post("/v1/prebill", json=CLAIM).status_code == 401
        decision = http.post("/v1/prebill?note=" + MARKER, json=CLAIM, headers=AUTH)
        assert (decision.status_code, decision.json()["decision"]) == (200, "release")
        technologist = {"name": "Jo Tech", "credential": "RT"}
        held = http.post("/v1/prebill", json={**CLAIM, "rendering_provider": technologist}, headers=AUTH)
        assert held.json()["decision"] == "hold"
        checked = http.post("/v1/check", json={"text": REPORT, "id": "r1"}, headers=AUTH)
        assert (checked.status_code, checked.json()["verdict"]) == (200, "pass")
        as_json = {**AUTH, "content-type": "application/json"}
        bad = http.post("/v1/check", content=b'{"text": "' + MARKER.encode(), headers=as_json)
        assert bad.status_code == 400
        too_big = http.post("/v1/check", json={"text": MARKER * 10_000}, headers=AUTH)
        assert too_big.status_code == 413

        def chunks() -> Iterator[bytes]:
            yield b'{"text": "'
            for _ in range(100):
                yield MARKER.encode() * 100
            yield b'"}'

        streamed = http.post("/v1/check", content=chunks(), headers=as_json)
        assert streamed.status_code == 413
    time.sleep(0.5)  # let the access log flush
    log = log_path.read_text()
    assert "POST /v1/prebill 200" in log and "POST /v1/prebill 401" in log and "POST /v1/check 413" in log
    assert MARKER not in log
    assert "127.0.0.1:" not in log.split("(Press CTRL+C to quit)")[-1]  # no client addresses in access lines


def test_the_server_holds_a_bounded_concurrent_load_with_no_errors(server: tuple[str, Path]) -> None:
    """2,000 requests, 8 at a time, over loopback: every one answered 200; p50/p99 are printed."""
    import asyncio
    import statistics

    base, log_path = server
    total, concurrency = 2_000, 8
    latencies: list[float] = []
    statuses: list[int] = []

    async def worker(http: httpx.AsyncClient, jobs: asyncio.Queue[int]) -> None:
        while True:
            try:
                n = jobs.get_nowait()
            except asyncio.QueueEmpty:
                return
            body = {"id": f"load-{n}", "text": REPORT} if n % 2 else CLAIM
            path = "/v1/check" if n % 2 else "/v1/prebill"
            started = time.perf_counter()
            response = await http.post(path, json=body, headers=AUTH)
            latencies.append(time.perf_counter() - started)
            statuses.append(response.status_code)

    async def run() -> None:
        jobs: asyncio.Queue[int] = asyncio.Queue()
        for n in range(total):
            jobs.put_nowait(n)
        async with httpx.AsyncClient(base_url=base, timeout=60) as http:
            await asyncio.wait_for(asyncio.gather(*(worker(http, jobs) for _ in range(concurrency))), timeout=600)

    asyncio.run(run())
    assert len(statuses) == total and set(statuses) == {200}
    q = statistics.quantiles(latencies, n=100)
    print(f"\nload: {total} requests x{concurrency} concurrent, p50 {q[49] * 1000:.0f} ms, p99 {q[98] * 1000:.0f} ms")
    assert MARKER not in log_path.read_text()


# --------------------------------------------------------------------------------------------
# The OpenAPI docs in a real browser, with the network off
# --------------------------------------------------------------------------------------------

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.mark.browser
@pytest.mark.parametrize(
    ("page_path", "operation_selector"),
    [("/docs", ".opblock-summary-path"), ("/redoc", "[data-section-id^='tag/'], [data-section-id^='operation/']")],
)
def test_the_docs_pages_render_every_operation_with_the_network_off(
    server: tuple[str, Path], page_path: str, operation_selector: str
) -> None:
    """Swagger UI and ReDoc come from the installed package: a hospital network without internet still shows them."""
    if not CHROMIUM.exists():
        pytest.skip(f"no Chromium at {CHROMIUM} (scripts/install-browser.sh installs it)")
    from urllib.parse import urlsplit

    from playwright.sync_api import sync_playwright  # a dev dependency: missing it is a failure

    base, _log = server
    blocked: list[str] = []
    requested: list[str] = []

    def only_loopback(route: Any) -> None:
        url = route.request.url
        if urlsplit(url).hostname == "127.0.0.1":
            requested.append(url)
            route.continue_()
        else:
            blocked.append(url)
            route.abort()

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            context = browser.new_context()
            context.route("**/*", only_loopback)
            page = context.new_page()
            page.goto(base + page_path)
            page.wait_for_selector(operation_selector, timeout=60_000)
            text = page.inner_text("body")
        finally:
            browser.close()
    # ReDoc's "API docs by Redocly" footer asks for its logo; the page renders without it.
    assert [url for url in blocked if url != "https://cdn.redoc.ly/redoc/logo-mini.svg"] == []
    for operation in ("/v1/prebill", "/v1/check", "/healthz"):
        assert operation in text, f"{operation} not shown on {page_path}"
    assert any(url.endswith("/openapi.json") for url in requested)
