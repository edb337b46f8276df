"""Receipts: every typo a reporter can make is caught, the forgiving reading stays forgiving, and the derived values
match the specification as written by independent code (BIP-173's reference checksum, hashlib's BLAKE2b)."""

from __future__ import annotations

import contextlib
import hashlib
import random
import string

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from nacl import bindings

from tnrwatch.crypto import receipts
from tnrwatch.crypto.receipts import ALPHABET, ReceiptError

secrets_16 = st.binary(min_size=16, max_size=16)


# BIP-173's reference code (sipa/bech32, python/segwit_addr.py), restated here as the yardstick for receipts.py.
def _bip173_polymod(values: list[int]) -> int:
    generator = [0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3]
    chk = 1
    for value in values:
        top = chk >> 25
        chk = (chk & 0x1FFFFFF) << 5 ^ value
        for i in range(5):
            chk ^= generator[i] if ((top >> i) & 1) else 0
    return chk


def _bip173_checksum(hrp: str, data: list[int]) -> list[int]:
    expanded = [ord(x) >> 5 for x in hrp] + [0] + [ord(x) & 31 for x in hrp]
    polymod = _bip173_polymod(expanded + data + [0] * 6) ^ 1
    return [(polymod >> 5 * (5 - i)) & 31 for i in range(6)]


def _convertbits(data: bytes, frombits: int, tobits: int) -> list[int]:
    acc, bits, out = 0, 0, []
    for value in data:
        acc = (acc << frombits) | value
        bits += frombits
        while bits >= tobits:
            bits -= tobits
            out.append((acc >> bits) & ((1 << tobits) - 1))
    if bits:
        out.append((acc << (tobits - bits)) & ((1 << tobits) - 1))
    return out


def _symbols(text: str) -> str:
    return text.replace("-", "")


def _grouped(symbols: str) -> str:
    return "-".join(symbols[i : i + 4] for i in range(0, len(symbols), 4))


@given(secrets_16)
def test_the_text_is_crockford_base32_with_bech32s_checksum(secret: bytes) -> None:
    data = _convertbits(secret, 8, 5)
    assert len(data) == 26
    expected = "".join(ALPHABET[v] for v in data + _bip173_checksum("tnr", data))
    text = receipts.encode(secret)
    assert text == _grouped(expected)
    assert len(text) == 32 + 7
    assert receipts.decode(text) == secret


def test_known_receipts() -> None:
    assert receipts.encode(bytes(16)) == "0000-0000-0000-0000-0000-0000-00ZS-C2GD"
    assert receipts.encode(bytes(range(16))) == "000G-40R4-0M30-E209-185G-R38E-1W50-JXET"


@settings(max_examples=25, deadline=None)
@given(secrets_16)
def test_every_single_substitution_is_caught(secret: bytes) -> None:
    symbols = _symbols(receipts.encode(secret))
    for position, original in enumerate(symbols):
        for replacement in ALPHABET:
            if replacement != original:
                typo = symbols[:position] + replacement + symbols[position + 1 :]
                with pytest.raises(ReceiptError, match="typing error"):
                    receipts.decode(typo)


@settings(max_examples=50, deadline=None)
@given(secrets_16)
def test_every_adjacent_transposition_is_caught(secret: bytes) -> None:
    symbols = _symbols(receipts.encode(secret))
    for position in range(len(symbols) - 1):
        a, b = symbols[position], symbols[position + 1]
        if a != b:
            swapped = symbols[:position] + b + a + symbols[position + 2 :]
            with pytest.raises(ReceiptError, match="typing error"):
                receipts.decode(_grouped(swapped))


@given(secrets_16, st.randoms(use_true_random=False))
def test_case_spaces_hyphens_and_look_alike_letters_do_not_matter(secret: bytes, rng: random.Random) -> None:
    text = receipts.encode(secret)
    look_alikes = {"0": "Oo", "1": "IiLl"}
    mangled = []
    for ch in _symbols(text):
        ch = rng.choice(look_alikes.get(ch, ch))
        mangled.append(ch.lower() if rng.random() < 0.5 else ch)
        if rng.random() < 0.2:
            mangled.append(rng.choice([" ", "-", "\t", "  "]))
    assert receipts.decode("".join(mangled)) == secret
    assert receipts.decode(f"  {text.lower()}\n") == secret
    assert receipts.normalise("o0-iIlL 1\t") == "0011111"


def test_wrong_length_and_alphabet_are_named() -> None:
    text = receipts.encode(bytes(range(16)))
    with pytest.raises(ReceiptError, match=r"^a receipt has 32 letters and digits; this one has 31$"):
        receipts.decode(text[:-1])
    with pytest.raises(ReceiptError, match=r"^a receipt has 32 letters and digits; this one has 33$"):
        receipts.decode(text + "0")
    with pytest.raises(ReceiptError, match=r"this one has 0$"):
        receipts.decode(" - ")
    with pytest.raises(ReceiptError, match=r"^a receipt does not contain U$"):
        receipts.decode("U" + text[1:])
    with pytest.raises(ReceiptError, match=r"^a receipt does not contain \*, U$"):
        receipts.decode("U*" + text[2:])
    assert set(string.ascii_uppercase) - set(ALPHABET) == set("ILOU")  # I, L, O read as digits; U is refused


def test_the_padding_bits_must_be_zero() -> None:
    data = [ALPHABET.index(ch) for ch in _symbols(receipts.encode(bytes(16)))[:26]]
    data[-1] |= 0b01  # a well-checksummed text whose two spare bits are not zero
    forged = "".join(ALPHABET[v] for v in data + _bip173_checksum("tnr", data))
    with pytest.raises(ReceiptError, match="typing error"):
        receipts.decode(forged)


@given(secrets_16)
def test_lookup_token_and_reporter_key_follow_the_specification(secret: bytes) -> None:
    token = hashlib.blake2b(b"tnrwatch/1/receipt-lookup", digest_size=32, key=secret).digest()
    assert receipts.lookup_token(secret) == token
    seed = hashlib.blake2b(b"tnrwatch/1/reporter-key", digest_size=32, key=secret).digest()
    public, private = receipts.reporter_key_pair(secret)
    assert private == hashlib.sha512(seed).digest()[:32]  # crypto_box_seed_keypair
    assert public == bindings.crypto_scalarmult_base(private)
    assert token not in (public, private)


def test_new_receipts_are_fresh_and_valid() -> None:
    made = [receipts.new_receipt() for _ in range(20)]
    assert len({secret for _, secret in made}) == 20
    for text, secret in made:
        assert receipts.decode(text) == secret


def test_the_server_keeps_a_peppered_hash_of_the_token() -> None:
    token = receipts.lookup_token(bytes(16))
    assert receipts.lookup_hash(b"pepper-1", token) != receipts.lookup_hash(b"pepper-2", token)
    assert len(receipts.lookup_hash(b"pepper-1", token)) == 64


@given(st.text(max_size=60))
def test_any_text_is_a_secret_or_a_receipt_error(text: str) -> None:
    with contextlib.suppress(ReceiptError):
        assert len(receipts.decode(text)) == 16
