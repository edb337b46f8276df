"""The proof of work: a solution verifies once found, and nothing else does (a forged, altered, expired or too easy
challenge, or a counter that does not solve it)."""

from __future__ import annotations

import base64
import hashlib

import pytest

from tnrwatch.crypto import pow as proof
from tnrwatch.crypto.pow import ProofOfWorkError

KEY = b"k" * 32
NOW = 1_800_000_000


def _raw(token: str) -> bytearray:
    return bytearray(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))


def _digest(raw: bytes, counter: int) -> bytes:
    """BLAKE2b-256(challenge bytes || counter as 8 bytes big-endian), as the specification states it."""
    return hashlib.blake2b(raw + counter.to_bytes(8, "big"), digest_size=32).digest()


def _token(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def test_a_solution_verifies_and_names_the_nonce_to_spend() -> None:
    challenge = proof.issue(KEY, bits=8, now=NOW)
    assert len(_raw(challenge.token)) == proof.CHALLENGE_BYTES == 42
    assert "=" not in challenge.token
    counter = proof.solve(challenge.token)
    verified = proof.verify(KEY, challenge.token, counter, min_bits=8, now=NOW + 1)
    assert (verified.nonce, verified.bits, verified.expires) == (challenge.nonce, 8, NOW + 600)
    assert proof.leading_zero_bits(_digest(bytes(_raw(challenge.token)), counter)) >= 8


def test_a_forged_or_altered_challenge_is_refused() -> None:
    challenge = proof.issue(KEY, bits=8, now=NOW)
    counter = proof.solve(challenge.token)
    with pytest.raises(ProofOfWorkError, match="not issued by this node"):
        proof.verify(b"another node's key", challenge.token, counter, min_bits=8, now=NOW)
    for position in (1, 5, 20, 41):  # difficulty, expiry, nonce, MAC
        raw = _raw(challenge.token)
        raw[position] ^= 1
        with pytest.raises(ProofOfWorkError, match="not issued by this node"):
            proof.verify(KEY, _token(bytes(raw)), counter, min_bits=0, now=NOW)


def test_an_expired_challenge_is_refused() -> None:
    challenge = proof.issue(KEY, bits=4, ttl_seconds=60, now=NOW)
    counter = proof.solve(challenge.token)
    proof.verify(KEY, challenge.token, counter, min_bits=4, now=NOW + 60)
    with pytest.raises(ProofOfWorkError, match="expired"):
        proof.verify(KEY, challenge.token, counter, min_bits=4, now=NOW + 61)


def test_now_zero_is_a_time_not_a_missing_value() -> None:
    assert proof.issue(KEY, bits=1, ttl_seconds=10, now=0).expires == 10


def test_a_challenge_easier_than_required_is_refused() -> None:
    challenge = proof.issue(KEY, bits=4, now=NOW)
    with pytest.raises(ProofOfWorkError, match="too easy"):
        proof.verify(KEY, challenge.token, proof.solve(challenge.token), min_bits=8, now=NOW)


def test_a_counter_that_does_not_solve_is_refused() -> None:
    challenge = proof.issue(KEY, bits=12, now=NOW)
    raw = bytes(_raw(challenge.token))
    wrong = next(n for n in range(10_000) if proof.leading_zero_bits(_digest(raw, n)) < 12)
    for counter in (wrong, -1, proof.MAX_COUNTER):
        with pytest.raises(ProofOfWorkError, match="does not solve"):
            proof.verify(KEY, challenge.token, counter, min_bits=12, now=NOW)


@pytest.mark.parametrize("token", ["", "AAAA", "*" * 56, _token(bytes(41)), _token(bytes(43))])
def test_malformed_tokens_are_refused(token: str) -> None:
    with pytest.raises(ProofOfWorkError):
        proof.verify(KEY, token, 0, min_bits=0, now=NOW)


@pytest.mark.parametrize(
    ("digest", "bits"), [(b"\x80", 0), (b"\x01", 7), (b"\x00\x40", 9), (b"\x00\x00\x00\x01", 31), (bytes(32), 256)]
)
def test_leading_zero_bits(digest: bytes, bits: int) -> None:
    assert proof.leading_zero_bits(digest) == bits
