"""Wrapped recipient keys: they open with the passphrase only, only on the key record they were made for, and a stored
record cannot make a reader derive with limits outside libsodium's INTERACTIVE..SENSITIVE levels."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from nacl import pwhash

from tnrwatch.crypto import envelope, keywrap
from tnrwatch.crypto.envelope import EnvelopeError
from tnrwatch.crypto.keywrap import PassphraseError, WrappedKey

PASSPHRASE = "correct horse battery staple"
KEY_ID = uuid.UUID("8d1f3a0e-2b0c-4f4e-9a5d-1c2b3a4d5e6f")


@pytest.fixture(scope="module")
def pair() -> tuple[bytes, bytes]:
    return envelope.new_key_pair()


@pytest.fixture(scope="module")
def stored(pair: tuple[bytes, bytes]) -> dict[str, Any]:
    """A wrapped key as the server stores it (JSON), made at the cheapest strength."""
    public, private = pair
    wrapped = keywrap.wrap(private, PASSPHRASE, KEY_ID, public, "interactive")
    record: dict[str, Any] = json.loads(json.dumps(wrapped.to_json()))
    return record


def test_the_stored_form_follows_the_specification(stored: dict[str, Any]) -> None:
    assert set(stored) == {"v", "kdf", "opslimit", "memlimit", "salt", "nonce", "ciphertext"}
    assert (stored["v"], stored["kdf"]) == (1, "argon2id13")
    assert (stored["opslimit"], stored["memlimit"]) == (
        pwhash.argon2id.OPSLIMIT_INTERACTIVE,
        pwhash.argon2id.MEMLIMIT_INTERACTIVE,
    )
    assert [len(envelope.b64decode(stored[name])) for name in ("salt", "nonce", "ciphertext")] == [16, 24, 48]


def test_the_passphrase_unwraps_the_key(stored: dict[str, Any], pair: tuple[bytes, bytes]) -> None:
    public, private = pair
    assert keywrap.unwrap(WrappedKey.from_json(stored), PASSPHRASE, KEY_ID, public) == private


def test_a_wrong_passphrase_is_refused(stored: dict[str, Any], pair: tuple[bytes, bytes]) -> None:
    with pytest.raises(PassphraseError, match="does not unlock"):
        keywrap.unwrap(WrappedKey.from_json(stored), PASSPHRASE + "!", KEY_ID, pair[0])


def test_a_wrapped_key_does_not_open_on_another_key_record(stored: dict[str, Any], pair: tuple[bytes, bytes]) -> None:
    """The associated data names the key id and public key: swapping wrapped keys between records fails."""
    wrapped = WrappedKey.from_json(stored)
    with pytest.raises(PassphraseError):
        keywrap.unwrap(wrapped, PASSPHRASE, uuid.uuid4(), pair[0])
    with pytest.raises(PassphraseError):
        keywrap.unwrap(wrapped, PASSPHRASE, KEY_ID, envelope.new_key_pair()[0])
    assert keywrap.wrap_context(KEY_ID, pair[0]) == (
        f"tnrwatch/1/recipient-key/{KEY_ID}/{envelope.b64encode(pair[0])}".encode()
    )


def test_a_private_key_that_does_not_match_its_public_key_is_refused(pair: tuple[bytes, bytes]) -> None:
    public, _ = pair
    _, stranger = envelope.new_key_pair()
    wrapped = keywrap.wrap(stranger, PASSPHRASE, KEY_ID, public, "interactive")
    with pytest.raises(PassphraseError, match="does not match"):
        keywrap.unwrap(wrapped, PASSPHRASE, KEY_ID, public)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("opslimit", pwhash.argon2id.OPSLIMIT_INTERACTIVE - 1),
        ("opslimit", pwhash.argon2id.OPSLIMIT_SENSITIVE + 1),
        ("memlimit", pwhash.argon2id.MEMLIMIT_INTERACTIVE - 1),
        ("memlimit", pwhash.argon2id.MEMLIMIT_SENSITIVE + 1),
        ("memlimit", 8192),
    ],
)
def test_limits_outside_the_named_levels_are_refused(stored: dict[str, Any], field: str, value: int) -> None:
    with pytest.raises(EnvelopeError, match="outside libsodium's named levels"):
        WrappedKey.from_json({**stored, field: value})


@pytest.mark.parametrize(
    "change",
    [
        {"v": 2},
        {"kdf": "scrypt"},
        {"salt": "not base64!"},
        {"salt": envelope.b64encode(bytes(15))},
        {"nonce": envelope.b64encode(bytes(12))},
        {"ciphertext": envelope.b64encode(bytes(47))},
        {"ciphertext": envelope.b64encode(bytes(10))},
        {"opslimit": "many"},
    ],
)
def test_malformed_records_are_refused(stored: dict[str, Any], change: dict[str, Any]) -> None:
    with pytest.raises(EnvelopeError):
        WrappedKey.from_json({**stored, **change})


def test_incomplete_records_are_refused(stored: dict[str, Any]) -> None:
    for field in stored:
        with pytest.raises(EnvelopeError):
            WrappedKey.from_json({name: value for name, value in stored.items() if name != field})
    with pytest.raises(EnvelopeError):
        WrappedKey.from_json([stored])


def test_an_altered_ciphertext_is_refused(stored: dict[str, Any], pair: tuple[bytes, bytes]) -> None:
    ciphertext = bytearray(envelope.b64decode(stored["ciphertext"]))
    ciphertext[0] ^= 1
    altered = WrappedKey.from_json({**stored, "ciphertext": envelope.b64encode(bytes(ciphertext))})
    with pytest.raises(PassphraseError):
        keywrap.unwrap(altered, PASSPHRASE, KEY_ID, pair[0])


def test_short_passphrases_and_keys_are_not_wrapped(pair: tuple[bytes, bytes]) -> None:
    public, private = pair
    with pytest.raises(ValueError, match="at least 12"):
        keywrap.wrap(private, "short", KEY_ID, public, "interactive")
    with pytest.raises(ValueError, match="32 bytes"):
        keywrap.wrap(private[:31], PASSPHRASE, KEY_ID, public, "interactive")
