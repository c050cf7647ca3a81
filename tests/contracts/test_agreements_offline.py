"""Agreements (合约) built from an offer, signed by both parties and verified offline.

No database: an agreement file must verify on a machine that has never seen the platform,
with `shuchang contracts verify` (exit 0 when both signatures hold, 1 otherwise — never a
traceback, whatever the file holds).
"""

from __future__ import annotations

import base64
import copy
import dataclasses
import json
import stat
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from contracts_support import schema_errors
from hypothesis import given, settings
from hypothesis import strategies as st
from two_connectors import OFFER, PURPOSE

from shuchang.canonical import canonical_json
from shuchang.cli import cli
from shuchang.domains.contracts import agreements
from shuchang.domains.contracts.agreements import AgreementInvalid, Terms
from shuchang.ports import Ed25519Signer, fingerprint

PROVIDER, CONSUMER = Ed25519Signer(), Ed25519Signer()
ASSIGNER, ASSIGNEE = "urn:uscc:11330300MB0000001X", "urn:uscc:91330300MA0000002Y"
NOW = datetime(2025, 3, 1, 8, 30, 15, 123456, tzinfo=UTC)
TERMS = Terms(
    dataset_id="urn:uuid:3dd1add8-4d2d-469e-9634-8394a8836a88",
    provider_urn=ASSIGNER,
    consumer_urn=ASSIGNEE,
    price_model="one_off",
    price_fen=100000,
    price_period=None,
    days=30,
)
RICH_OFFER: dict[str, Any] = {
    "@type": "Offer",
    "permission": [
        {
            "action": "read",
            "constraint": [
                {"leftOperand": "purpose", "operator": "eq", "rightOperand": PURPOSE},
                {"leftOperand": "count", "operator": "lteq", "rightOperand": "100"},
            ],
            "duty": [{"action": "attribute"}],
        }
    ],
    "prohibition": [{"action": "distribute"}],
    "obligation": [{"action": "delete"}],
}


def signed_document(offer: dict[str, Any] | None = None) -> dict[str, Any]:
    agreement = agreements.build(offer or OFFER, TERMS, NOW)
    return agreements.document(
        agreement,
        [
            agreements.sign(agreement, "assigner", ASSIGNER, PROVIDER),
            agreements.sign(agreement, "assignee", ASSIGNEE, CONSUMER),
        ],
    )


def refused(code: str, doc: Any, trusted: dict[str, bytes] | None = None) -> None:
    with pytest.raises(AgreementInvalid) as caught:
        agreements.verify_document(doc, trusted)
    assert caught.value.code == code
    assert caught.value.en and caught.value.zh


# ---- build ---------------------------------------------------------------------------------------


def test_build_fixes_parties_target_and_timestamp() -> None:
    agreement = agreements.build(OFFER, TERMS, NOW)
    assert agreement["@type"] == "Agreement"
    assert agreement["@id"].startswith("urn:uuid:")
    assert (agreement["assigner"], agreement["assignee"]) == (ASSIGNER, ASSIGNEE)
    assert agreement["target"] == TERMS.dataset_id
    assert agreement["timestamp"] == "2025-03-01T08:30:15Z"  # whole seconds, UTC


def test_build_adds_the_window_to_every_permission_and_keeps_the_offer_constraints() -> None:
    agreement = agreements.build(RICH_OFFER, TERMS, NOW)
    (rule,) = agreement["permission"]
    assert rule["constraint"] == [
        *RICH_OFFER["permission"][0]["constraint"],
        {"leftOperand": "dateTime", "operator": "gteq", "rightOperand": "2025-03-01T08:30:15Z"},
        {"leftOperand": "dateTime", "operator": "lt", "rightOperand": "2025-03-31T08:30:15Z"},
    ]
    start, end = agreements.window(agreement)
    assert (start, end) == (
        datetime(2025, 3, 1, 8, 30, 15, tzinfo=UTC),
        datetime(2025, 3, 31, 8, 30, 15, tzinfo=UTC),
    )
    assert agreements.purpose(agreement) == PURPOSE


def test_build_adds_the_price_as_a_compensate_duty_in_fen() -> None:
    agreement = agreements.build(RICH_OFFER, TERMS, NOW)
    assert agreement["permission"][0]["duty"] == [
        {"action": "attribute"},
        {
            "action": "compensate",
            "constraint": [
                {"leftOperand": "payAmount", "operator": "eq", "rightOperand": "100000"}
            ],
        },
    ]
    assert agreement["shuchang:price"] == {
        "model": "one_off",
        "amountFen": "100000",
        "period": None,
    }


def test_a_free_agreement_has_no_compensate_duty() -> None:
    free = dataclasses.replace(TERMS, price_model="free", price_fen=0)
    agreement = agreements.build(OFFER, free, NOW)
    assert "duty" not in agreement["permission"][0]
    assert agreement["shuchang:price"]["amountFen"] == "0"


def test_build_carries_prohibitions_and_obligations_and_leaves_the_offer_alone() -> None:
    before = copy.deepcopy(RICH_OFFER)
    agreement = agreements.build(RICH_OFFER, TERMS, NOW)
    assert agreement["prohibition"] == RICH_OFFER["prohibition"]
    assert agreement["obligation"] == RICH_OFFER["obligation"]
    assert before == RICH_OFFER


@pytest.mark.parametrize("offer", [OFFER, RICH_OFFER], ids=["plain", "rich"])
def test_a_built_agreement_is_a_dsp_agreement(offer: dict[str, Any]) -> None:
    assert schema_errors(agreements.build(offer, TERMS, NOW), "contract") == []


# ---- sign and verify -------------------------------------------------------------------------


def test_both_signatures_verify_with_the_keys_in_the_file() -> None:
    lines = agreements.verify_document(signed_document())
    assert lines == [
        f"assigner {ASSIGNER} key {fingerprint(PROVIDER.public_key())} (unpinned key): OK",
        f"assignee {ASSIGNEE} key {fingerprint(CONSUMER.public_key())} (unpinned key): OK",
    ]


def test_both_signatures_verify_against_pinned_keys() -> None:
    pins = {ASSIGNER: PROVIDER.public_key(), ASSIGNEE: CONSUMER.public_key()}
    assert all(
        "(pinned key)" in line for line in agreements.verify_document(signed_document(), pins)
    )


def test_a_signature_entry_names_its_key() -> None:
    agreement = agreements.build(OFFER, TERMS, NOW)
    entry = agreements.sign(agreement, "assigner", ASSIGNER, PROVIDER)
    assert entry["keyid"] == fingerprint(PROVIDER.public_key())
    assert base64.b64decode(entry["publicKey"]) == PROVIDER.public_key()
    assert entry["algorithm"] == "ed25519"


@pytest.mark.parametrize("role", agreements.ROLES)
def test_a_document_missing_one_party_signature_is_refused(role: str) -> None:
    doc = signed_document()
    doc["signatures"] = [s for s in doc["signatures"] if s["role"] != role]
    refused("agreement.unsigned", doc)


def test_a_signature_by_another_key_than_the_pinned_one_is_refused() -> None:
    refused("agreement.key_untrusted", signed_document(), {ASSIGNER: Ed25519Signer().public_key()})


def test_a_document_re_signed_by_an_impostor_verifies_only_without_pins() -> None:
    # Keys travel in the file: without --trust, verification shows integrity, not identity.
    doc = signed_document()
    impostor = Ed25519Signer()
    doc["signatures"][0] = agreements.sign(doc["agreement"], "assigner", ASSIGNER, impostor)
    assert agreements.verify_document(doc)
    refused("agreement.key_untrusted", doc, {ASSIGNER: PROVIDER.public_key()})


@pytest.mark.parametrize(
    "change",
    [
        lambda a: a.update(assignee="urn:uscc:91330300MA0000003Z"),
        lambda a: a["permission"][0]["constraint"][0].update(rightOperand="营销"),
        lambda a: a["permission"][0]["constraint"].pop(),
        lambda a: a["shuchang:price"].update(amountFen="1"),
        lambda a: a.update(timestamp="2025-03-01T08:30:16Z"),
        lambda a: a.update(extra="added"),
    ],
    ids=["assignee", "purpose", "window", "price", "timestamp", "added-member"],
)
def test_an_altered_agreement_is_refused(change: Any) -> None:
    doc = signed_document()
    change(doc["agreement"])
    with pytest.raises(AgreementInvalid) as caught:
        agreements.verify_document(doc)
    # The assigner's signature is checked first and no longer covers the agreement.
    assert caught.value.code == "agreement.signature_invalid"


def test_swapped_roles_are_refused() -> None:
    doc = signed_document()
    first, second = doc["signatures"]
    first["role"], second["role"] = second["role"], first["role"]
    refused("agreement.signer_mismatch", doc)


def test_roles_and_participants_swapped_together_do_not_verify_against_pins() -> None:
    doc = signed_document()
    for sig in doc["signatures"]:
        sig["role"] = "assignee" if sig["role"] == "assigner" else "assigner"
        sig["participant"] = ASSIGNEE if sig["participant"] == ASSIGNER else ASSIGNER
    refused("agreement.key_untrusted", doc, {ASSIGNER: PROVIDER.public_key()})


@pytest.mark.parametrize(
    ("name", "value"),
    [("signature", "not base64!"), ("publicKey", "AAAA=A=="), ("signature", "")],
)
def test_malformed_base64_is_refused(name: str, value: str) -> None:
    doc = signed_document()
    doc["signatures"][0][name] = value
    with pytest.raises(AgreementInvalid) as caught:
        agreements.verify_document(doc)
    assert caught.value.code in {"agreement.signature_malformed", "agreement.signature_invalid"}


def test_a_public_key_of_the_wrong_length_does_not_verify() -> None:
    doc = signed_document()
    doc["signatures"][0]["publicKey"] = base64.b64encode(b"short").decode()
    refused("agreement.signature_invalid", doc)


@pytest.mark.parametrize(
    "doc",
    [
        None,
        [],
        "agreement",
        {"type": "Agreement", "agreement": {}, "signatures": []},
        {"type": agreements.DOCUMENT_TYPE, "agreement": "x", "signatures": []},
    ],
    ids=["null", "list", "string", "other-type", "agreement-not-object"],
)
def test_what_is_not_a_signed_agreement_is_refused(doc: Any) -> None:
    refused("agreement.malformed", doc)


@pytest.mark.parametrize("signatures", [None, "both", {}, [], [{"role": "assigner"}]])
def test_signature_lists_without_both_roles_are_refused(signatures: Any) -> None:
    doc = signed_document()
    doc["signatures"] = signatures
    refused("agreement.unsigned", doc)


def test_an_unknown_algorithm_is_refused() -> None:
    doc = signed_document()
    doc["signatures"][1]["algorithm"] = "sm2"
    refused("agreement.signature_malformed", doc)


@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_any_single_character_change_of_the_canonical_agreement_breaks_verification(
    data: st.DataObject,
) -> None:
    doc = signed_document(RICH_OFFER)
    text = canonical_json(doc["agreement"]).decode()
    at = data.draw(st.integers(0, len(text) - 1), label="position")
    # Lone surrogates are left out: JSON text cannot carry them (they fail to encode, not verify).
    alphabet = st.sampled_from(list('"{}[],:0123456789 aAzZ-_./\\费用途數据')) | st.characters(
        exclude_categories=("Cs",)
    )
    new = data.draw(alphabet.filter(lambda c: c != text[at]), label="replacement")
    changed = text[:at] + new + text[at + 1 :]
    try:
        altered = json.loads(changed)
    except ValueError:
        return  # not JSON any more: no verifier would accept it
    with pytest.raises(AgreementInvalid):
        agreements.verify_document({**doc, "agreement": altered})


# ---- the command -------------------------------------------------------------------------------


def verify(tmp_path: Path, content: bytes | dict[str, Any] | list[Any], *trust: str) -> Result:
    path = tmp_path / "agreement.json"
    raw = (
        content if isinstance(content, bytes) else json.dumps(content, ensure_ascii=False).encode()
    )
    path.write_bytes(raw)
    pins = [arg for pin in trust for arg in ("--trust", pin)]
    return CliRunner().invoke(cli, ["contracts", "verify", str(path), *pins])


def assert_failed_cleanly(result: Result) -> None:
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    assert result.stderr.startswith("FAILED: ")


def test_the_command_verifies_a_signed_file(tmp_path: Path) -> None:
    doc = signed_document()
    result = verify(tmp_path, doc)
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[-1] == (
        f"agreement {doc['agreement']['@id']} between {ASSIGNER} and {ASSIGNEE}: OK"
    )


def test_the_command_verifies_against_pinned_keys(tmp_path: Path) -> None:
    pin = f"{ASSIGNER}={base64.b64encode(PROVIDER.public_key()).decode()}"
    result = verify(tmp_path, signed_document(), pin)
    assert result.exit_code == 0, result.output
    assert "(pinned key): OK" in result.stdout


def test_the_command_fails_on_a_key_other_than_the_pinned_one(tmp_path: Path) -> None:
    pin = f"{ASSIGNER}={base64.b64encode(CONSUMER.public_key()).decode()}"
    result = verify(tmp_path, signed_document(), pin)
    assert_failed_cleanly(result)
    assert "agreement.key_untrusted" in result.stderr


def test_the_command_refuses_a_pin_that_is_not_base64(tmp_path: Path) -> None:
    result = verify(tmp_path, signed_document(), f"{ASSIGNER}=not-base64!")
    assert result.exit_code == 2
    assert "not base64" in result.output


def test_the_command_fails_when_one_character_of_the_file_changes(tmp_path: Path) -> None:
    text = json.dumps(signed_document(), ensure_ascii=False)
    at = text.index(PURPOSE) + 1
    changed = text[:at] + ("用" if text[at] != "用" else "费") + text[at + 1 :]
    assert_failed_cleanly(verify(tmp_path, changed.encode()))


@pytest.mark.parametrize(
    "content",
    [b"", b"not json", b"\xff\xfe\x00binary", b"[1, 2", b"[]", b"null", b'"text"'],
    ids=["empty", "text", "binary", "truncated", "list", "null", "string"],
)
def test_the_command_fails_cleanly_on_what_is_not_an_agreement_file(
    tmp_path: Path, content: bytes
) -> None:
    assert_failed_cleanly(verify(tmp_path, content))


def _signatures_plus(entry: Any) -> dict[str, Any]:
    doc = signed_document()
    doc["signatures"].append(entry)
    return doc


def _without_keyid() -> dict[str, Any]:
    doc = signed_document()
    for sig in doc["signatures"]:
        del sig["keyid"]
    return doc


def _with_float() -> dict[str, Any]:
    doc = signed_document()
    doc["agreement"]["shuchang:price"]["amountFen"] = 1000.5
    return doc


@pytest.mark.parametrize(
    "build",
    [lambda: _signatures_plus("not an object"), _without_keyid, _with_float],
    ids=["non-object-signature", "signature-without-keyid", "float-in-agreement"],
)
def test_the_command_fails_cleanly_on_malformed_signed_files(tmp_path: Path, build: Any) -> None:
    assert_failed_cleanly(verify(tmp_path, build()))


def test_keygen_writes_a_private_key_file_and_prints_the_public_key(tmp_path: Path) -> None:
    key_file = tmp_path / "connector.key"
    result = CliRunner().invoke(cli, ["contracts", "keygen", str(key_file)])
    assert result.exit_code == 0, result.output
    printed = json.loads(result.stdout)
    signer = Ed25519Signer.from_seed(base64.b64decode(key_file.read_text().strip()))
    assert base64.b64decode(printed["public_key"]) == signer.public_key()
    assert printed["keyid"] == fingerprint(signer.public_key())
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600


def test_keygen_never_overwrites_a_key(tmp_path: Path) -> None:
    key_file = tmp_path / "connector.key"
    key_file.write_text("existing\n")
    result = CliRunner().invoke(cli, ["contracts", "keygen", str(key_file)])
    assert result.exit_code == 1
    assert key_file.read_text() == "existing\n"
