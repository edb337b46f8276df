"""Detached signatures over exported bundles: what they catch, and that they never trust the key they carry."""

from __future__ import annotations

import base64
import datetime as dt
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from nacl.signing import SigningKey

from tnrwatch.crypto import audit_key
from tnrwatch.crypto.bundle_signature import FIELDS, SignatureError, sign_bundle, signed_message, verify_bundle

AT = dt.datetime(2025, 3, 4, 5, 6, 7, tzinfo=dt.timezone(dt.timedelta(hours=2)))
PAYLOAD = b'{"type": "bundle", "id": "bundle--1", "objects": []}'
KEY = SigningKey(bytes(range(32)))
OTHER = SigningKey(bytes(range(1, 33)))


def public(key: SigningKey) -> bytes:
    return audit_key.public_key(key)


def signed(payload: bytes = PAYLOAD, node: str = "Safe Haven") -> dict[str, str]:
    return sign_bundle(KEY, payload, node_name=node, signed_at=AT)


def failure(payload: bytes, signature: object, trusted: bytes) -> SignatureError:
    with pytest.raises(SignatureError) as caught:
        verify_bundle(payload, signature, trusted)
    return caught.value


def messages(exc: SignatureError) -> dict[str, str]:
    return {error.where(): error.msg for error in exc.errors}


def test_round_trip_and_the_fields() -> None:
    signature = signed()
    assert json.loads(json.dumps(signature)) == signature
    assert set(signature) == set(FIELDS)
    assert signature["format"] == "tnrwatch-bundle-signature/1"
    assert signature["algorithm"] == "Ed25519"
    assert signature["signed_at"] == "2025-03-04T03:06:07Z"  # in UTC
    assert signature["public_key"] == base64.b64encode(public(KEY)).decode()
    assert signature["fingerprint"] == audit_key.fingerprint(public(KEY))
    fields = verify_bundle(PAYLOAD, signature, public(KEY))
    assert fields["node"] == "Safe Haven"


def test_what_is_signed_is_the_documented_message() -> None:
    signature = signed()
    message = signed_message(signature["sha256"], "Safe Haven", "2025-03-04T03:06:07Z")
    assert message == (
        b'["tnrwatch-bundle-signature/1","' + signature["sha256"].encode() + b'","Safe Haven","2025-03-04T03:06:07Z"]'
    )
    assert audit_key.is_valid(public(KEY), message, base64.b64decode(signature["signature"]))


def test_naive_time_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone"):
        sign_bundle(KEY, PAYLOAD, node_name="n", signed_at=dt.datetime(2025, 1, 1))


@settings(max_examples=60, deadline=None)
@given(payload=st.binary(max_size=2048), index=st.integers(min_value=0), flip=st.integers(min_value=1, max_value=255))
def test_any_changed_byte_fails_with_digest(payload: bytes, index: int, flip: int) -> None:
    signature = signed(payload)
    verify_bundle(payload, signature, public(KEY))
    changed = bytearray(payload)
    if changed:
        changed[index % len(changed)] ^= flip
    else:
        changed.append(flip)
    exc = failure(bytes(changed), signature, public(KEY))
    assert "sha256" in messages(exc)
    assert "digest mismatch" in messages(exc)["sha256"]


def test_appended_or_truncated_file_fails() -> None:
    signature = signed()
    assert "sha256" in messages(failure(PAYLOAD + b"\n", signature, public(KEY)))
    assert "sha256" in messages(failure(PAYLOAD[:-1], signature, public(KEY)))


def test_another_trusted_key_fails_naming_both_fingerprints() -> None:
    exc = failure(PAYLOAD, signed(), public(OTHER))
    assert exc.message == "the file was not signed by the trusted key"
    text = messages(exc)["public_key"]
    assert audit_key.fingerprint(public(KEY)) in text
    assert audit_key.fingerprint(public(OTHER)) in text


def test_a_forger_who_swaps_in_their_own_key_is_caught() -> None:
    """Re-signing with another key yields a self-consistent file, but not one by the pinned key."""
    forged = sign_bundle(OTHER, PAYLOAD + b" ", node_name="Safe Haven", signed_at=AT)
    verify_bundle(PAYLOAD + b" ", forged, public(OTHER))  # consistent on its own
    exc = failure(PAYLOAD + b" ", forged, public(KEY))
    assert "public_key" in messages(exc)


@pytest.mark.parametrize(
    ("field", "value"),
    [("node", "Evil Twin"), ("signed_at", "2030-01-01T00:00:00Z"), ("signature", None)],
)
def test_tampered_signature_fails(field: str, value: str | None) -> None:
    signature = signed()
    if value is None:
        raw = bytearray(base64.b64decode(signature["signature"]))
        raw[0] ^= 1
        value = base64.b64encode(bytes(raw)).decode()
    signature[field] = value
    exc = failure(PAYLOAD, signature, public(KEY))
    assert exc.message == "the signature does not verify"
    assert "bad signature" in messages(exc)["signature"]


def test_a_changed_digest_with_a_matching_file_fails_as_bad_signature() -> None:
    """Someone who edits the file and its sha256 together is still caught, by the signature."""
    other = PAYLOAD + b" "
    signature = signed() | {"sha256": signed(other)["sha256"]}
    assert "signature" in messages(failure(other, signature, public(KEY)))


def test_malformed_fields_are_all_named() -> None:
    signature: dict[str, object] = dict(signed())
    signature.update(
        format="tnrwatch-bundle-signature/2",
        algorithm="RSA",
        sha256="XYZ",
        public_key="not base64!",
        signature=base64.b64encode(b"short").decode(),
        signed_at="yesterday",
    )
    exc = failure(PAYLOAD, signature, public(KEY))
    assert exc.message == "the signature file is malformed"
    assert set(messages(exc)) == {"format", "algorithm", "sha256", "public_key", "signature", "signed_at"}


def test_missing_and_mistyped_fields_are_named() -> None:
    signature: dict[str, object] = dict(signed())
    del signature["node"]
    signature["sha256"] = 12
    exc = failure(PAYLOAD, signature, public(KEY))
    assert messages(exc) == {"node": "missing", "sha256": "must be a string"}


def test_fingerprint_must_match_the_key_it_names() -> None:
    signature = signed() | {"fingerprint": audit_key.fingerprint(public(OTHER))}
    assert messages(failure(PAYLOAD, signature, public(KEY))) == {"fingerprint": "does not match public_key"}


@pytest.mark.parametrize("body", [[], "sig", None, 3])
def test_not_an_object(body: object) -> None:
    assert failure(PAYLOAD, body, public(KEY)).message == "the signature is not a JSON object"


def test_a_malformed_trusted_key_is_refused() -> None:
    exc = failure(PAYLOAD, signed(), b"short")
    assert "trusted_public_key" in messages(exc)


def test_the_sharing_key_is_its_own_file(tmp_path: Path) -> None:
    sharing = audit_key.open_signing_key(tmp_path, name=audit_key.SHARING_KEY_FILE)
    audit = audit_key.open_signing_key(tmp_path)
    assert (tmp_path / "sharing-signing.key").stat().st_mode & 0o777 == 0o600
    assert (tmp_path / "audit-signing.key").exists()
    assert public(sharing) != public(audit)
    again = audit_key.open_signing_key(tmp_path, create=False, name=audit_key.SHARING_KEY_FILE)
    assert public(again) == public(sharing)
