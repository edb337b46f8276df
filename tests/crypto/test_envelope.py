"""The envelope's promises, checked as properties: what goes in comes out, and nothing altered, cut short or moved
to another context opens. The browser side is held to the same bytes in tests/web/test_crypto_interop.py."""

from __future__ import annotations

import hashlib
import io
import itertools
import json
import random
import uuid
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tnrwatch.crypto import envelope
from tnrwatch.crypto.envelope import CHUNK_BYTES, STREAM_ABYTES, STREAM_HEADER_BYTES, EnvelopeError

REPORT = uuid.UUID("6f1c1c54-4c53-4b8a-9a52-3d0b7e0e2f11")
ATTACHMENT = uuid.UUID("0b8f2a36-1f0e-4d8e-8f53-2b7b7f1f4c9a")
KEY = bytes(range(32))

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=10), children, max_size=5),
    max_leaves=20,
)
documents = st.dictionaries(st.text(max_size=20), json_values, max_size=8)


def _split(data: bytes, cuts: list[int]) -> list[bytes]:
    """`data` cut at the given offsets (sorted, duplicates allowed: empty pieces are legal too)."""
    bounds = [0, *sorted(cut % (len(data) + 1) for cut in cuts), len(data)]
    return [data[start:end] for start, end in itertools.pairwise(bounds)]


def _seal(plaintext: bytes, feeds: list[bytes] | None = None) -> tuple[bytes, envelope.FileSealer]:
    sealer = envelope.FileSealer(KEY, envelope.attachment_context(REPORT, ATTACHMENT))
    out = b"".join(sealer.feed(piece) for piece in (feeds if feeds is not None else [plaintext]))
    return out + sealer.finish(), sealer


def _open(pieces: list[bytes], ad: bytes | None = None) -> bytes:
    return b"".join(envelope.decrypt_file(pieces, KEY, ad or envelope.attachment_context(REPORT, ATTACHMENT)))


# -- documents ---------------------------------------------------------------------------------------------------------


@settings(deadline=None)
@given(documents)
def test_documents_round_trip_padded_to_whole_blocks(document: dict[str, Any]) -> None:
    ad = envelope.answers_context(REPORT)
    ciphertext = envelope.encrypt_document(document, KEY, ad)
    assert envelope.decrypt_document(ciphertext, KEY, ad) == document
    text = json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    assert len(ciphertext) == envelope.padded_size(len(text))
    assert (len(ciphertext) - envelope.NONCE_BYTES - envelope.AEAD_ABYTES) % envelope.PAD_BLOCK == 0


@settings(deadline=None)
@given(documents, st.data())
def test_any_flipped_byte_fails(document: dict[str, Any], data: st.DataObject) -> None:
    ad = envelope.answers_context(REPORT)
    ciphertext = bytearray(envelope.encrypt_document(document, KEY, ad))
    position = data.draw(st.integers(0, len(ciphertext) - 1), label="position")
    ciphertext[position] ^= data.draw(st.integers(1, 255), label="mask")
    with pytest.raises(EnvelopeError):
        envelope.decrypt_document(bytes(ciphertext), KEY, ad)


def test_a_document_opens_only_in_its_own_context_with_its_own_key() -> None:
    message = uuid.uuid4()
    ciphertext = envelope.encrypt_document(
        {"v": 1, "kind": "message", "text": "سلام"}, KEY, envelope.message_context(REPORT, message)
    )
    assert envelope.decrypt_document(ciphertext, KEY, envelope.message_context(REPORT, message))["text"] == "سلام"
    for moved in (
        envelope.message_context(uuid.uuid4(), message),  # another report
        envelope.message_context(REPORT, uuid.uuid4()),  # another message
        envelope.answers_context(REPORT),  # another field
    ):
        with pytest.raises(EnvelopeError):
            envelope.decrypt_document(ciphertext, KEY, moved)
    with pytest.raises(EnvelopeError):
        envelope.decrypt_document(ciphertext, envelope.new_key(), envelope.message_context(REPORT, message))
    with pytest.raises(EnvelopeError, match="too short"):
        envelope.decrypt_document(ciphertext[:39], KEY, envelope.message_context(REPORT, message))


def test_not_a_number_is_refused_rather_than_written_as_invalid_json() -> None:
    with pytest.raises(ValueError, match="JSON compliant"):
        envelope.encrypt_document({"x": float("nan")}, KEY, envelope.answers_context(REPORT))


def test_contexts_follow_the_specification() -> None:
    item = uuid.UUID(int=1)
    assert envelope.answers_context(REPORT) == f"tnrwatch/1/answers/{REPORT}".encode()
    assert envelope.message_context(REPORT, item) == f"tnrwatch/1/message/{REPORT}/{item}".encode()
    assert envelope.attachment_context(REPORT, item) == f"tnrwatch/1/attachment/{REPORT}/{item}".encode()
    assert envelope.report_key_context(REPORT, "reporter") == f"tnrwatch/1/report-key/{REPORT}/reporter".encode()


# -- report keys -------------------------------------------------------------------------------------------------------


def test_a_sealed_report_key_opens_only_for_its_report_and_recipient() -> None:
    public, private = envelope.new_key_pair()
    assert envelope.public_key_of(private) == public
    recipient = str(uuid.uuid4())
    report_key = envelope.new_key()
    sealed = envelope.seal_report_key(report_key, public, REPORT, recipient)
    assert len(sealed) == envelope.SEAL_BYTES + len(report_key) + len(envelope.report_key_context(REPORT, recipient))
    assert envelope.open_report_key(sealed, private, REPORT, recipient) == report_key
    with pytest.raises(EnvelopeError, match="another report or recipient"):
        envelope.open_report_key(sealed, private, uuid.uuid4(), recipient)
    with pytest.raises(EnvelopeError, match="another report or recipient"):
        envelope.open_report_key(sealed, private, REPORT, envelope.REPORTER)
    with pytest.raises(EnvelopeError, match="does not open"):
        envelope.open_report_key(sealed, envelope.new_key_pair()[1], REPORT, recipient)


# -- files -------------------------------------------------------------------------------------------------------------


@settings(deadline=None)
@given(st.binary(max_size=3000), st.lists(st.integers(0, 3000), max_size=6), st.lists(st.integers(0, 4000), max_size=8))
def test_small_files_round_trip_whatever_the_pieces(plaintext: bytes, feed_cuts: list[int], cuts: list[int]) -> None:
    ciphertext, sealer = _seal(plaintext, _split(plaintext, feed_cuts))
    assert len(ciphertext) == envelope.encrypted_size(len(plaintext)) == STREAM_HEADER_BYTES + len(plaintext) + 17
    assert sealer.size == len(plaintext)
    assert sealer.sha256 == hashlib.sha256(plaintext).hexdigest()
    assert _open(_split(ciphertext, cuts)) == plaintext


@settings(deadline=None, max_examples=40)
@given(st.binary(min_size=0, max_size=200), st.data())
def test_a_small_file_with_any_flipped_byte_fails(plaintext: bytes, data: st.DataObject) -> None:
    ciphertext = bytearray(_seal(plaintext)[0])
    position = data.draw(st.integers(0, len(ciphertext) - 1), label="position")
    ciphertext[position] ^= data.draw(st.integers(1, 255), label="mask")
    with pytest.raises(EnvelopeError):
        _open([bytes(ciphertext)])


@pytest.mark.parametrize(
    "size", [0, 1, CHUNK_BYTES - 1, CHUNK_BYTES, CHUNK_BYTES + 1, 2 * CHUNK_BYTES, int(2.2 * CHUNK_BYTES)]
)
def test_files_around_chunk_boundaries_round_trip(size: int) -> None:
    rng = random.Random(size)
    plaintext = rng.randbytes(size)
    # Fed in odd blocks, as an upload arrives, and read back in other odd pieces.
    ciphertext, sealer = _seal(plaintext, _split(plaintext, [rng.randrange(size + 1) for _ in range(5)]))
    chunks = max(1, -(-size // CHUNK_BYTES))
    assert len(ciphertext) == envelope.encrypted_size(size) == STREAM_HEADER_BYTES + size + chunks * STREAM_ABYTES
    assert sealer.sha256 == hashlib.sha256(plaintext).hexdigest()
    assert _open(_split(ciphertext, [rng.randrange(len(ciphertext) + 1) for _ in range(7)])) == plaintext
    streamed = list(envelope.encrypt_file(io.BytesIO(plaintext), KEY, envelope.attachment_context(REPORT, ATTACHMENT)))
    assert streamed[0][:STREAM_HEADER_BYTES] != ciphertext[:STREAM_HEADER_BYTES]  # a fresh header every time
    assert _open(streamed) == plaintext


def test_a_file_cut_short_or_extended_does_not_open() -> None:
    plaintext = random.Random(7).randbytes(2 * CHUNK_BYTES + 100)
    ciphertext, _ = _seal(plaintext)
    first_chunk_end = STREAM_HEADER_BYTES + CHUNK_BYTES + STREAM_ABYTES
    two_chunks_end = first_chunk_end + CHUNK_BYTES + STREAM_ABYTES
    for cut in (
        ciphertext[:first_chunk_end],  # only whole MESSAGE chunks: no FINAL tag
        ciphertext[:two_chunks_end],
        ciphertext[:-1],
        ciphertext[: STREAM_HEADER_BYTES + 5],
        ciphertext[:STREAM_HEADER_BYTES],
        ciphertext[:10],
        b"",
        ciphertext + b"\0",
        ciphertext + ciphertext[STREAM_HEADER_BYTES:],
    ):
        with pytest.raises(EnvelopeError):
            _open([cut])


def test_a_full_final_chunk_followed_by_bytes_does_not_open() -> None:
    ciphertext, _ = _seal(bytes(CHUNK_BYTES))  # one chunk of exactly 1 MiB, tagged FINAL
    assert _open([ciphertext]) == bytes(CHUNK_BYTES)
    with pytest.raises(EnvelopeError, match="bytes after its end"):
        _open([ciphertext + bytes(STREAM_ABYTES + 1)])


def test_chunks_cannot_be_reordered_dropped_or_moved_to_another_attachment() -> None:
    plaintext = random.Random(3).randbytes(3 * CHUNK_BYTES)
    ciphertext, _ = _seal(plaintext)
    header, body = ciphertext[:STREAM_HEADER_BYTES], ciphertext[STREAM_HEADER_BYTES:]
    size = CHUNK_BYTES + STREAM_ABYTES
    chunks = [body[i : i + size] for i in range(0, len(body), size)]
    for altered in ([chunks[1], chunks[0], chunks[2]], [chunks[0], chunks[2]], [chunks[0], chunks[0], chunks[2]]):
        with pytest.raises(EnvelopeError):
            _open([header, *altered])
    with pytest.raises(EnvelopeError):
        _open([ciphertext], envelope.attachment_context(REPORT, uuid.uuid4()))
