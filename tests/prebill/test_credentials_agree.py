"""The signature reader and the pre-bill provider rules judge credentials alike (one vocabulary, kept in agreement)."""

from __future__ import annotations

import json

from paths import ROOT


def _norm(credential: str) -> str:
    return credential.replace(".", "").replace(" ", "").upper()


def _lists() -> tuple[dict, dict]:
    signature = json.loads((ROOT / "patterns" / "signature.json").read_text(encoding="utf-8"))
    prebill = json.loads((ROOT / "patterns" / "prebill_rules.json").read_text(encoding="utf-8"))
    return signature, prebill


def test_the_qualified_credentials_are_the_same_for_the_signer_and_the_rendering_provider() -> None:
    signature, prebill = _lists()
    signer = {_norm(c) for c in signature["credentials_qualified"]}
    assert signer == {_norm(c) for c in prebill["qualified_credentials"]}


def test_every_credential_the_pre_bill_rules_call_clinical_staff_is_not_qualified_to_sign() -> None:
    signature, prebill = _lists()
    not_qualified = {_norm(c) for c in signature["credentials_staff"] + signature["credentials_unqualified"]}
    assert {_norm(c) for c in prebill["unqualified_credentials"]} <= not_qualified


def test_a_dnp_alone_qualifies_neither_as_signer_nor_as_rendering_provider() -> None:
    signature, prebill = _lists()
    assert "DNP" not in {_norm(c) for c in signature["credentials_qualified"]}
    assert "DNP" not in {_norm(c) for c in prebill["qualified_credentials"]}
