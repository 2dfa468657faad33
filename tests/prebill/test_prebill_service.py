"""The claim edits of issue 17 through the HTTP service: each fires and does not fire, ``today`` is a setting."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tbs_doccheck.checker.core import Checker
from tbs_doccheck.server import TODAY_ENV, ConfigError, app_from_env, create_app

KEY = "test-key-17"
AUTH = {"X-API-Key": KEY}
REPORT = (Path(__file__).resolve().parent.parent / "data" / "claims" / "reports" / "C-RELEASE.txt").read_text()
NOT_COVERING = {"id": "SAMPLE-TBS-NONCOVERED", "name": "Sample TBS Non-Covering Plan"}


def line(code: str, *modifiers: str, **extra: Any) -> dict[str, Any]:
    return {"code": code, "units": 1, "modifiers": list(modifiers), **extra}


DXA = line("77080")


def claim(*lines: dict[str, Any], **overrides: Any) -> dict[str, Any]:
    return {
        "claim_id": "S17",
        "patient_id": "P1",
        "date_of_service": "2025-03-10",
        "lines": list(lines),
        "rendering_provider": {"name": "Harold Smith", "credential": "MD", "npi": "1245319599"},
        **overrides,
    }


@pytest.fixture(scope="module")
def client(checker: Checker) -> Iterator[TestClient]:
    with TestClient(create_app(KEY, checker=checker, today=date(2025, 6, 30))) as c:
        yield c


@pytest.mark.parametrize(
    ("story", "body", "decision", "ids"),
    [
        ("TC on 77091", claim(DXA, line("77091", "TC")), "hold", ["PB013-modifier-invalid"]),
        ("26 on 77092", claim(line("77092", "26"), report={"text": REPORT}), "hold", ["PB013-modifier-invalid"]),
        ("26 on 77089 splits it", claim(DXA, line("77089", "26"), report={"text": REPORT}), "release",
         ["PB002-rules-passed"]),
        ("after the service's today", claim(DXA, line("77091"), date_of_service="2025-07-01"), "hold",
         ["PB014-dos-in-future"]),
        ("on the service's today", claim(DXA, line("77091"), date_of_service="2025-06-30"), "release",
         ["PB002-rules-passed"]),
        ("77090 with 77091", claim(DXA, line("77090"), line("77091")), "review", ["PB015-77090-with-77091"]),
        ("77091 without DXA", claim(line("77091")), "review", ["PB016-calculation-without-dxa"]),
        ("77089 without DXA", claim(line("77089"), report={"text": REPORT}), "review",
         ["PB016-calculation-without-dxa"]),
        ("77091 with DXA", claim(line("77085"), line("77091")), "release", ["PB002-rules-passed"]),
        ("non-covering payer", claim(DXA, line("77091"), payer=NOT_COVERING), "hold", ["PB050-payer-not-covered"]),
        ("payer acknowledged", claim(DXA, line("77091", "GZ"), payer=NOT_COVERING), "release",
         ["PB002-rules-passed"]),
        ("an unlisted payer", claim(DXA, line("77091"), payer={"name": "Example Health Plan"}), "release",
         ["PB002-rules-passed"]),
    ],
)
def test_the_service_applies_each_claim_edit(
    client: TestClient, story: str, body: dict[str, Any], decision: str, ids: list[str]
) -> None:
    response = client.post("/v1/prebill", json=body, headers=AUTH)
    assert response.status_code == 200, response.text
    got = response.json()
    assert (got["decision"], [r["rule_id"] for r in got["reasons"]]) == (decision, ids), story


@pytest.mark.parametrize("payer", [{}, {"id": ""}, {"id": 7}, "Acme"])
def test_a_malformed_payer_is_a_422_naming_the_field(client: TestClient, payer: Any) -> None:
    response = client.post("/v1/prebill", json=claim(DXA, line("77091"), payer=payer), headers=AUTH)
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "invalid_request" and error["field"].startswith("payer")


def test_the_openapi_contract_documents_the_payer(client: TestClient) -> None:
    schemas = client.get("/openapi.json").json()["components"]["schemas"]
    assert "payer" in schemas["Claim"]["properties"]
    assert set(schemas["Payer"]["properties"]) == {"id", "name"}


def test_without_a_today_setting_the_service_uses_the_local_date(checker: Checker) -> None:
    tomorrow = date.fromordinal(date.today().toordinal() + 1).isoformat()
    with TestClient(create_app(KEY, checker=checker)) as c:
        future = c.post("/v1/prebill", json=claim(DXA, line("77091"), date_of_service=tomorrow), headers=AUTH)
        past = c.post("/v1/prebill", json=claim(DXA, line("77091"), date_of_service="2025-07-01"), headers=AUTH)
    assert [r["rule_id"] for r in future.json()["reasons"]] == ["PB014-dos-in-future"]
    assert past.json()["decision"] == "release"


def test_today_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch, checker: Checker) -> None:
    monkeypatch.setenv("TBS_DOCCHECK_API_KEY", KEY)
    monkeypatch.setenv(TODAY_ENV, "2025-03-09")
    monkeypatch.setattr("tbs_doccheck.server.get_checker", lambda: checker)
    with TestClient(app_from_env()) as c:
        response = c.post("/v1/prebill", json=claim(DXA, line("77091")), headers=AUTH)
    assert [r["rule_id"] for r in response.json()["reasons"]] == ["PB014-dos-in-future"]


@pytest.mark.parametrize("bad", ["2025-13-01", "03/09/2025", "today"])
def test_a_bad_today_in_the_environment_refuses_to_start(monkeypatch: pytest.MonkeyPatch, bad: str) -> None:
    monkeypatch.setenv("TBS_DOCCHECK_API_KEY", KEY)
    monkeypatch.setenv(TODAY_ENV, bad)
    with pytest.raises(ConfigError, match=TODAY_ENV):
        app_from_env()
