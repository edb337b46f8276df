"""static/tnr-crypto.js (libsodium.js in Chromium) and tnrwatch.crypto (PyNaCl) write and read the same bytes: every
primitive of docs/report-format.md is made on one side and opened on the other, in both directions, and what must not
open (moved, altered, cut short) fails on both.

The scripts are added to the live server's `/` page, so they run under the app's own origin and CSP. That CSP must
allow 'wasm-unsafe-eval': without it libsodium.js cannot compile its WebAssembly, and its fallback is unsafe (see the
tests at the end).
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import random
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from tnrwatch.crypto import envelope, keywrap, receipts
from tnrwatch.crypto import pow as proof
from tnrwatch.crypto.envelope import (
    CHUNK_BYTES,
    STREAM_ABYTES,
    STREAM_HEADER_BYTES,
    EnvelopeError,
    b64decode,
    b64encode,
)
from tnrwatch.crypto.keywrap import PassphraseError, WrappedKey

pytestmark = pytest.mark.browser

SCRIPTS = (
    "/static/vendor/libsodium-sumo/libsodium-sumo.js",
    "/static/vendor/libsodium-wrappers-sumo/libsodium-wrappers.js",
    "/static/tnr-crypto.js",
)
WASM_SOURCE = "'wasm-unsafe-eval'"
PASSPHRASE = "correct horse battery staple"

# Run in the page before any of its scripts: records whether libsodium's WebAssembly compiled, and every CSP report.
_WATCH = """
window.__wasm = [];
window.__csp = [];
const instantiate = WebAssembly.instantiate;
WebAssembly.instantiate = function (...args) {
  return instantiate.apply(this, args).then(
    (result) => { window.__wasm.push('ok'); return result; },
    (error) => { window.__wasm.push('refused'); throw error; });
};
document.addEventListener('securitypolicyviolation', (event) => window.__csp.push(event.violatedDirective));
"""
# Helpers for the tests, evaluated by the driver (not injected into the page, whose CSP forbids inline script).
_HELPERS = """() => {
  window.T = TnrCrypto;
  window.randomBytes = (size) => {
    const bytes = new Uint8Array(size);
    for (let offset = 0; offset < size; offset += 65536) crypto.getRandomValues(bytes.subarray(offset, offset + 65536));
    return bytes;
  };
  window.failure = (step) => {
    try { step(); return null; } catch (error) { return { code: error.code, message: error.message }; }
  };
}"""


def _without_wasm(route: Any) -> None:
    """Serve the page with 'wasm-unsafe-eval' taken out of its CSP."""
    response = route.fetch()
    csp = response.headers["content-security-policy"].replace(f" {WASM_SOURCE}", "")
    route.fulfill(response=response, headers={**response.headers, "content-security-policy": csp})


def _add_scripts_as_tags(page: Any, live_server: str) -> None:
    """As a page's three <script src> tags would: inserted at once, run in order."""
    page.evaluate(
        """(urls) => urls.forEach((url) => {
          const script = document.createElement('script');
          script.src = url;
          script.async = false;
          document.head.append(script);
        })""",
        [live_server + path for path in SCRIPTS],
    )
    page.wait_for_function("() => Boolean(window.TnrCrypto)")


@pytest.fixture(scope="module")
def page_errors() -> list[str]:
    """Uncaught errors and console errors (CSP violations among them) of the shared page."""
    return []


@pytest.fixture(scope="module")
def page(browser: Any, live_server: str, page_errors: list[str]) -> Iterator[Any]:
    """One page for the module: the functions under test keep no state between calls."""
    opened = browser.new_page()
    errors = page_errors
    opened.on("pageerror", lambda error: errors.append(str(error)))
    opened.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    opened.add_init_script(_WATCH)
    opened.goto(live_server + "/")
    for path in SCRIPTS:
        opened.add_script_tag(url=live_server + path)  # same origin: the CSP's script-src 'self' lets them run
    opened.evaluate("TnrCrypto.ready")
    opened.evaluate(_HELPERS)
    yield opened
    opened.close()


def test_libsodium_runs_as_webassembly_without_errors(page: Any, page_errors: list[str]) -> None:
    assert page.evaluate("window.__wasm") == ["ok"]
    assert page.evaluate("window.__csp") == []
    assert page_errors == []


# -- encodings and contexts --------------------------------------------------------------------------------------------


def test_base64_ids_and_contexts_agree(page: Any) -> None:
    every_byte = bytes(range(256))
    assert page.evaluate("(text) => T.b64(T.unb64(text))", b64encode(every_byte)) == b64encode(every_byte)
    assert page.evaluate("() => T.b64(new Uint8Array([0, 1, 254, 255]))") == b64encode(bytes([0, 1, 254, 255]))
    assert uuid.UUID(page.evaluate("() => T.newUuid()")).version == 4
    report, item = uuid.uuid4(), uuid.uuid4()
    public = envelope.new_key_pair()[0]
    made_in_js = page.evaluate(
        """([report, item, publicKey]) => [
          T.context('answers', report),
          T.context('message', report, item),
          T.context('attachment', report, item),
          T.context('report-key', report, 'reporter'),
          T.context('report-key', report, item),
          T.context('recipient-key', item, publicKey),
        ]""",
        [str(report), str(item), b64encode(public)],
    )
    assert made_in_js == [
        envelope.answers_context(report).decode(),
        envelope.message_context(report, item).decode(),
        envelope.attachment_context(report, item).decode(),
        envelope.report_key_context(report, envelope.REPORTER).decode(),
        envelope.report_key_context(report, str(item)).decode(),
        keywrap.wrap_context(item, public).decode(),
    ]


def test_contexts_that_no_one_could_open_again_are_refused(page: Any) -> None:
    refused = page.evaluate(
        """(report) => [
          failure(() => T.context('answers', report.toUpperCase())),
          failure(() => T.context('answers', report, 'extra')),
          failure(() => T.context('message', report)),
          failure(() => T.context('attachments', report, report)),
          failure(() => T.context('message', report, 'café')),
        ]""",
        str(uuid.uuid4()),
    )
    assert all(refused)


# -- receipts ----------------------------------------------------------------------------------------------------------


def _read_in_js(page: Any, texts: list[str]) -> list[dict[str, Any]]:
    results: list[dict[str, Any]] = page.evaluate(
        """(texts) => texts.map((text) => {
          try { return { secret: T.b64(T.parseReceipt(text)) }; }
          catch (error) { return { code: error.code, message: error.message }; }
        })""",
        texts,
    )
    return results


def _read_in_python(text: str) -> dict[str, Any]:
    try:
        return {"secret": b64encode(receipts.decode(text))}
    except receipts.ReceiptError as exc:
        return {"message": str(exc)}


def test_receipts_made_in_the_browser_read_here(page: Any) -> None:
    made = page.evaluate(
        """() => Array.from({ length: 20 }, () => {
          const { text, secret } = T.newReceipt();
          const pair = T.reporterKeyPair(secret);
          return { text, secret: T.b64(secret), lookup: T.b64(T.lookupToken(secret)),
                   publicKey: T.b64(pair.publicKey), privateKey: T.b64(pair.privateKey) };
        })"""
    )
    assert len({receipt["secret"] for receipt in made}) == 20
    for receipt in made:
        secret = receipts.decode(receipt["text"])
        assert b64encode(secret) == receipt["secret"]
        assert receipts.encode(secret) == receipt["text"]
        assert b64encode(receipts.lookup_token(secret)) == receipt["lookup"]
        public, private = receipts.reporter_key_pair(secret)
        assert (b64encode(public), b64encode(private)) == (receipt["publicKey"], receipt["privateKey"])


def test_receipts_made_here_read_in_the_browser(page: Any) -> None:
    made = [receipts.new_receipt() for _ in range(20)]
    derived = page.evaluate(
        """(texts) => texts.map((text) => {
          const secret = T.parseReceipt(text);
          return [T.b64(secret), T.b64(T.lookupToken(secret)), T.b64(T.reporterKeyPair(secret).publicKey)];
        })""",
        [text for text, _ in made],
    )
    for (_, secret), (js_secret, lookup, public) in zip(made, derived, strict=True):
        assert b64decode(js_secret) == secret
        assert b64decode(lookup) == receipts.lookup_token(secret)
        assert b64decode(public) == receipts.reporter_key_pair(secret)[0]


def test_both_sides_read_every_typo_and_every_odd_input_alike(page: Any) -> None:
    """A differential test: the browser accepts exactly what Python accepts, and names failures with the same text."""
    text, _ = receipts.new_receipt()
    symbols = text.replace("-", "")
    typos = [symbols[:i] + c + symbols[i + 1 :] for i in range(len(symbols)) for c in receipts.ALPHABET + "U*"]
    swaps = [symbols[:i] + symbols[i + 1] + symbols[i] + symbols[i + 2 :] for i in range(len(symbols) - 1)]
    odd = [
        text.lower(),
        " ".join(symbols),
        "\t" + text + "\r\n",
        symbols.replace("0", "o").replace("1", "l"),
        symbols.replace("1", "I"),
        text[:-1],
        text + "0",
        "",
        "😀" + symbols[1:],  # one code point, two UTF-16 units: a length the two languages count differently
        "ß" + symbols[2:],  # upper-cases to "SS"
        "\u0131" + symbols[1:],  # dotless i upper-cases to I, read as 1
        "\u00a0" + symbols,  # a non-breaking space is not dropped
        "A" * 32,
        "U*" + symbols[2:],
    ]
    inputs = typos + swaps + odd
    for typed, in_js in zip(inputs, _read_in_js(page, inputs), strict=True):
        in_python = _read_in_python(typed)
        if "secret" in in_python:
            assert in_js == in_python, typed
        else:
            assert in_js["message"] == in_python["message"], typed
            expected_code = {"a receipt has": "length", "a receipt does": "alphabet", "this receipt": "checksum"}
            assert in_js["code"] == next(c for p, c in expected_code.items() if in_python["message"].startswith(p))


# -- documents ---------------------------------------------------------------------------------------------------------

ANSWERS = {
    "v": 1,
    "kind": "report",
    "language": "ar",
    "jurisdiction": "DE",
    "what": {"tactic_families": ["intimidation"], "description": "رسائل تهديد إلى عائلتي 📵"},
    "where": {"host_country": "DE", "place": "Köln"},
    "when": {"date": "2026-10", "date_unknown": False, "approximately": ""},
    "targeted": {"who": "relative", "description": '"quoted" \\ back\nslash\u2028'},
    "responsible": {"origin_country": None, "description": ""},
    "wants": ["advice", "record"],
    "urgent": True,
    "contact": "",
    "attachments": [{"id": str(uuid.UUID(int=7)), "size": 1234, "sha256": "00" * 32, "key": b64encode(bytes(32))}],
}


def _json_size(document: Any) -> int:
    return len(json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))


def _documents() -> list[Any]:
    """The answers, plus texts whose JSON is 1 byte short of, exactly, and 1 byte over a padding block."""
    near_blocks = [{"text": "x" * (size - len('{"text":""}'))} for size in (1023, 1024, 1025, 2048)]
    assert [_json_size(document) for document in near_blocks] == [1023, 1024, 1025, 2048]
    return [ANSWERS, {}, *near_blocks]


def test_documents_encrypted_in_the_browser_open_here_in_their_context_only(page: Any) -> None:
    report, key = uuid.uuid4(), envelope.new_key()
    ciphertexts = page.evaluate(
        """([documents, key, report]) => documents.map(
          (document) => T.b64(T.encryptDocument(document, T.unb64(key), T.context('answers', report))))""",
        [_documents(), b64encode(key), str(report)],
    )
    for document, ciphertext in zip(_documents(), map(b64decode, ciphertexts), strict=True):
        assert envelope.decrypt_document(ciphertext, key, envelope.answers_context(report)) == document
        assert len(ciphertext) == envelope.padded_size(_json_size(document))
        for moved in (envelope.answers_context(uuid.uuid4()), envelope.message_context(report, uuid.uuid4())):
            with pytest.raises(EnvelopeError):
                envelope.decrypt_document(ciphertext, key, moved)


def test_documents_encrypted_here_open_in_the_browser_in_their_context_only(page: Any) -> None:
    report, message, key = uuid.uuid4(), uuid.uuid4(), envelope.new_key()
    ad = envelope.message_context(report, message)
    ciphertexts = [b64encode(envelope.encrypt_document(document, key, ad)) for document in _documents()]
    opened = page.evaluate(
        """([ciphertexts, key, report, message]) => ciphertexts.map((text) => {
          const ciphertext = T.unb64(text);
          return {
            document: T.decryptDocument(ciphertext, T.unb64(key), T.context('message', report, message)),
            moved: failure(() => T.decryptDocument(ciphertext, T.unb64(key), T.context('answers', report))),
            altered: failure(() => {
              ciphertext[ciphertext.length - 1] ^= 1;
              T.decryptDocument(ciphertext, T.unb64(key), T.context('message', report, message));
            }),
          };
        })""",
        [ciphertexts, b64encode(key), str(report), str(message)],
    )
    assert [result["document"] for result in opened] == _documents()
    assert {result["moved"]["code"] for result in opened} == {"open"}
    assert {result["altered"]["code"] for result in opened} == {"open"}


# -- report keys and key pairs -----------------------------------------------------------------------------------------


def test_report_keys_sealed_in_the_browser_open_here_for_their_report_and_recipient_only(page: Any) -> None:
    public, private = envelope.new_key_pair()
    report, recipient, report_key = uuid.uuid4(), str(uuid.uuid4()), envelope.new_key()
    sealed = b64decode(
        page.evaluate(
            "([key, pub, report, recipient]) => T.b64(T.sealReportKey(T.unb64(key), T.unb64(pub), report, recipient))",
            [b64encode(report_key), b64encode(public), str(report), recipient],
        )
    )
    assert envelope.open_report_key(sealed, private, report, recipient) == report_key
    for other_report, other_recipient in ((uuid.uuid4(), recipient), (report, str(uuid.uuid4())), (report, "reporter")):
        with pytest.raises(EnvelopeError, match="another report or recipient"):
            envelope.open_report_key(sealed, private, other_report, other_recipient)


def test_report_keys_sealed_here_open_in_the_browser_for_their_report_and_recipient_only(page: Any) -> None:
    public, private = envelope.new_key_pair()
    report, recipient, report_key = uuid.uuid4(), str(uuid.uuid4()), envelope.new_key()
    sealed = envelope.seal_report_key(report_key, public, report, recipient)
    result = page.evaluate(
        """([sealed, pub, priv, report, recipient, other]) => {
          const open = (r, who, keyPair) =>
            T.openReportKey(T.unb64(sealed), keyPair.publicKey, keyPair.privateKey, r, who);
          const pair = { publicKey: T.unb64(pub), privateKey: T.unb64(priv) };
          return {
            key: T.b64(open(report, recipient, pair)),
            otherReport: failure(() => open(other, recipient, pair)),
            otherRecipient: failure(() => open(report, other, pair)),
            reporter: failure(() => open(report, 'reporter', pair)),
            otherPair: failure(() => open(report, recipient, T.newKeyPair())),
          };
        }""",
        [b64encode(sealed), b64encode(public), b64encode(private), str(report), recipient, str(uuid.uuid4())],
    )
    assert b64decode(result["key"]) == report_key
    assert [result[name]["code"] for name in ("otherReport", "otherRecipient", "reporter", "otherPair")] == [
        "context",
        "context",
        "context",
        "open",
    ]


def test_the_reporter_reads_their_copy_with_the_receipt_alone(page: Any) -> None:
    """The server seals the report key to the receipt's key pair; the browser recomputes the pair from the receipt."""
    text, secret = receipts.new_receipt()
    report, report_key = uuid.uuid4(), envelope.new_key()
    sealed = envelope.seal_report_key(report_key, receipts.reporter_key_pair(secret)[0], report, envelope.REPORTER)
    opened = page.evaluate(
        """([text, sealed, report]) => {
          const pair = T.reporterKeyPair(T.parseReceipt(text.toLowerCase()));
          return T.b64(T.openReportKey(T.unb64(sealed), pair.publicKey, pair.privateKey, report, 'reporter'));
        }""",
        [text, b64encode(sealed), str(report)],
    )
    assert b64decode(opened) == report_key


def test_key_pairs_made_in_the_browser_are_x25519(page: Any) -> None:
    public, private = page.evaluate(
        "() => { const p = T.newKeyPair(); return [T.b64(p.publicKey), T.b64(p.privateKey)]; }"
    )
    assert envelope.public_key_of(b64decode(private)) == b64decode(public)


# -- wrapped private keys ----------------------------------------------------------------------------------------------


def test_keys_wrapped_in_the_browser_unwrap_here(page: Any) -> None:
    key_id = uuid.uuid4()
    made = page.evaluate(
        """([passphrase, keyId]) => {
          const pair = T.newKeyPair();
          return { wrapped: T.wrapPrivateKey(pair.privateKey, passphrase, keyId, pair.publicKey, 'interactive'),
                   publicKey: T.b64(pair.publicKey), privateKey: T.b64(pair.privateKey) };
        }""",
        [PASSPHRASE, str(key_id)],
    )
    public = b64decode(made["publicKey"])
    wrapped = WrappedKey.from_json(made["wrapped"])
    assert (wrapped.opslimit, wrapped.memlimit) == keywrap.STRENGTHS["interactive"]
    assert keywrap.unwrap(wrapped, PASSPHRASE, key_id, public) == b64decode(made["privateKey"])
    with pytest.raises(PassphraseError):
        keywrap.unwrap(wrapped, PASSPHRASE.upper(), key_id, public)
    with pytest.raises(PassphraseError):
        keywrap.unwrap(wrapped, PASSPHRASE, uuid.uuid4(), public)


def test_keys_wrapped_here_unwrap_in_the_browser(page: Any) -> None:
    key_id = uuid.uuid4()
    public, private = envelope.new_key_pair()
    stored = keywrap.wrap(private, PASSPHRASE, key_id, public, "interactive").to_json()
    sensitive = keywrap.STRENGTHS["sensitive"]
    result = page.evaluate(
        """([wrapped, passphrase, keyId, pub, otherId, sensitive]) => {
          const publicKey = T.unb64(pub);
          const unwrap = (record, words, id) => T.unwrapPrivateKey(record, words, id, publicKey);
          return {
            key: T.b64(unwrap(wrapped, passphrase, keyId)),
            wrongPassphrase: failure(() => unwrap(wrapped, passphrase + '!', keyId)),
            otherKeyRecord: failure(() => unwrap(wrapped, passphrase, otherId)),
            refused: [
              { ...wrapped, opslimit: 1 },
              { ...wrapped, opslimit: sensitive[0] + 1 },
              { ...wrapped, memlimit: 8192 },
              { ...wrapped, memlimit: sensitive[1] * 2 },
              { ...wrapped, opslimit: String(wrapped.opslimit) },
              { ...wrapped, v: 2 },
              { ...wrapped, ciphertext: wrapped.ciphertext.slice(0, -4) },
              { ...wrapped, salt: '***' },
            ].map((record) => failure(() => unwrap(record, passphrase, keyId)).code),
          };
        }""",
        [stored, PASSPHRASE, str(key_id), b64encode(public), str(uuid.uuid4()), list(sensitive)],
    )
    assert b64decode(result["key"]) == private
    assert result["wrongPassphrase"]["code"] == "passphrase"
    assert result["otherKeyRecord"]["code"] == "passphrase"
    assert result["refused"] == ["format"] * 8


def test_the_browser_refuses_to_wrap_with_a_short_passphrase_or_a_mismatched_pair(page: Any) -> None:
    codes = page.evaluate(
        """(keyId) => {
          const pair = T.newKeyPair();
          const wrap = (words, publicKey, strength) =>
            T.wrapPrivateKey(pair.privateKey, words, keyId, publicKey, strength);
          return [
            failure(() => wrap('short', pair.publicKey, 'interactive')),
            failure(() => wrap('long enough words', T.newKeyPair().publicKey, 'interactive')),
            failure(() => wrap('long enough words', pair.publicKey, 'extreme')),
          ].map((error) => error && (error.code || 'type'));
        }""",
        str(uuid.uuid4()),
    )
    assert codes == ["passphrase", "type", "type"]


# -- files -------------------------------------------------------------------------------------------------------------


def _pieces(data: bytes, sizes: list[int]) -> list[bytes]:
    """`data` in pieces of the given sizes, cycling through them."""
    out, offset, index = [], 0, 0
    while offset < len(data):
        out.append(data[offset : offset + sizes[index % len(sizes)]])
        offset += sizes[index % len(sizes)]
        index += 1
    return out


@pytest.mark.parametrize("size", [0, 1, CHUNK_BYTES, CHUNK_BYTES + 1, int(3.5 * CHUNK_BYTES)])
def test_files_encrypted_in_the_browser_open_here(page: Any, size: int) -> None:
    report, attachment = uuid.uuid4(), uuid.uuid4()
    made = page.evaluate(
        """async ([size, report, attachment]) => {
          const plain = randomBytes(size);
          const key = T.newKey();
          const pieces = [], indexes = [], progress = [];
          const result = await T.encryptFile(new Blob([plain]), key, T.context('attachment', report, attachment),
            async (piece, index) => { pieces.push(T.b64(piece)); indexes.push(index); },
            (done, total) => progress.push([done, total]));
          return { ...result, key: T.b64(key), plain: T.b64(plain), pieces, indexes, progress };
        }""",
        [size, str(report), str(attachment)],
    )
    plaintext, key, pieces = b64decode(made["plain"]), b64decode(made["key"]), [b64decode(p) for p in made["pieces"]]
    chunks = max(1, -(-size // CHUNK_BYTES))
    assert made["indexes"] == list(range(chunks))
    assert made["progress"][-1] == [size, size]
    assert len(pieces[0]) == STREAM_HEADER_BYTES + min(size, CHUNK_BYTES) + STREAM_ABYTES  # header || first chunk
    ciphertext = b"".join(pieces)
    assert len(ciphertext) == envelope.encrypted_size(size)
    assert (made["size"], made["sha256"]) == (size, hashlib.sha256(plaintext).hexdigest())
    ad = envelope.attachment_context(report, attachment)
    assert b"".join(envelope.decrypt_file(pieces, key, ad)) == plaintext
    assert b"".join(envelope.decrypt_file(_pieces(ciphertext, [7, 65_537, 1_000_003]), key, ad)) == plaintext
    cut_short = [
        ciphertext[:-1],
        ciphertext[: STREAM_HEADER_BYTES + CHUNK_BYTES + STREAM_ABYTES] if chunks > 1 else b"",
    ]
    for truncated in cut_short:
        with pytest.raises(EnvelopeError):
            b"".join(envelope.decrypt_file([truncated], key, ad))
    with pytest.raises(EnvelopeError):
        b"".join(envelope.decrypt_file(pieces, key, envelope.attachment_context(report, uuid.uuid4())))


@pytest.mark.parametrize("size", [0, 1, CHUNK_BYTES, CHUNK_BYTES + 1, int(2.2 * CHUNK_BYTES)])
def test_files_encrypted_here_open_in_the_browser_from_odd_pieces(page: Any, size: int) -> None:
    report, attachment, key = uuid.uuid4(), uuid.uuid4(), envelope.new_key()
    plaintext = random.Random(size).randbytes(size)
    ad = envelope.attachment_context(report, attachment)
    ciphertext = b"".join(envelope.encrypt_file(io.BytesIO(plaintext), key, ad))
    pieces = _pieces(ciphertext, [1, 23, 5, 4093, 65_537, CHUNK_BYTES + 17, 7])  # splits header, tags and chunks
    opened = page.evaluate(
        """([pieces, key, report, attachment]) => {
          const decryptor = T.fileDecryptor(T.unb64(key), T.context('attachment', report, attachment));
          const out = [];
          pieces.forEach((text, index) => {
            const piece = T.unb64(text);
            out.push(...decryptor.push(index % 2 ? piece : piece.slice().buffer)); // an ArrayBuffer, as fetch gives
          });
          out.push(...decryptor.finish());
          const joined = new Uint8Array(out.reduce((sum, part) => sum + part.length, 0));
          out.reduce((offset, part) => { joined.set(part, offset); return offset + part.length; }, 0);
          return { plain: T.b64(joined), sizes: out.map((part) => part.length) };
        }""",
        [[b64encode(piece) for piece in pieces], b64encode(key), str(report), str(attachment)],
    )
    assert b64decode(opened["plain"]) == plaintext
    assert all(chunk == CHUNK_BYTES for chunk in opened["sizes"][:-1])


def test_the_browser_refuses_files_cut_short_extended_or_moved(page: Any) -> None:
    report, attachment, key = uuid.uuid4(), uuid.uuid4(), envelope.new_key()
    ad = envelope.attachment_context(report, attachment)
    ciphertext = b"".join(envelope.encrypt_file(io.BytesIO(os.urandom(2 * CHUNK_BYTES + 5)), key, ad))
    one_full_chunk = b"".join(envelope.encrypt_file(io.BytesIO(bytes(CHUNK_BYTES)), key, ad))
    cases = {
        "whole chunks without the FINAL one": ciphertext[: STREAM_HEADER_BYTES + 2 * (CHUNK_BYTES + STREAM_ABYTES)],
        "last byte missing": ciphertext[:-1],
        "header only": ciphertext[:STREAM_HEADER_BYTES],
        "half a header": ciphertext[:10],
        "nothing": b"",
        "a byte after the end": ciphertext + b"\0",
        "bytes after a full FINAL chunk": one_full_chunk + bytes(STREAM_ABYTES + 1),
    }
    codes = page.evaluate(
        """([cases, key, report, attachment, other]) => {
          const run = (text, ad) => failure(() => {
            const decryptor = T.fileDecryptor(T.unb64(key), ad);
            decryptor.push(T.unb64(text));
            decryptor.finish();
          });
          const ad = T.context('attachment', report, attachment);
          const codes = {};
          for (const [name, text] of Object.entries(cases)) codes[name] = (run(text, ad) || {}).code;
          codes['another attachment'] = run(cases['last byte missing'], T.context('attachment', report, other)).code;
          const used = T.fileDecryptor(T.unb64(key), T.context('attachment', report, attachment));
          failure(() => used.push(T.unb64(cases['a byte after the end'])));
          failure(() => used.finish());
          codes['used after a failure'] = failure(() => used.push(new Uint8Array(1))).code;
          return codes;
        }""",
        [
            {name: b64encode(data) for name, data in cases.items()},
            b64encode(key),
            str(report),
            str(attachment),
            str(uuid.uuid4()),
        ],
    )
    assert codes == {
        "whole chunks without the FINAL one": "truncated",
        "last byte missing": "open",
        "header only": "truncated",
        "half a header": "truncated",
        "nothing": "truncated",
        "a byte after the end": "open",
        "bytes after a full FINAL chunk": "trailing",
        "another attachment": "open",
        "used after a failure": "closed",
    }


# -- proof of work -----------------------------------------------------------------------------------------------------


def test_a_challenge_solved_in_the_browser_verifies_here(page: Any) -> None:
    pow_key = os.urandom(32)
    challenge = proof.issue(pow_key, bits=10)
    solved = page.evaluate(
        """async (token) => {
          const progress = [];
          const counter = await T.solveChallenge(token, (tries) => progress.push(tries));
          return { counter, progress, malformed: await T.solveChallenge(token.slice(4)).catch((error) => error.code) };
        }""",
        challenge.token,
    )
    assert proof.verify(pow_key, challenge.token, solved["counter"], min_bits=10).nonce == challenge.nonce
    assert solved["counter"] == proof.solve(challenge.token)  # both search from 0: the same first solution
    assert solved["progress"] == [4096 * (i + 1) for i in range(len(solved["progress"]))]
    assert solved["malformed"] == "format"


# -- the app's CSP -----------------------------------------------------------------------------------------------------


def test_the_apps_csp_lets_libsodium_compile_webassembly_and_nothing_more(browser: Any, live_server: str) -> None:
    page = browser.new_page()
    try:
        page.add_init_script(_WATCH)
        response = page.goto(live_server + "/")
        directives = dict(part.strip().split(" ", 1) for part in response.headers["content-security-policy"].split(";"))
        assert directives["script-src"] == f"'self' {WASM_SOURCE}"  # no 'unsafe-eval', no 'unsafe-inline'
        _add_scripts_as_tags(page, live_server)
        assert page.evaluate("TnrCrypto.ready.then(() => window.__wasm)") == ["ok"]
    finally:
        page.close()


@pytest.mark.parametrize("workaround", [False, True], ids=["plain tags", "ready restored"])
def test_without_wasm_unsafe_eval_tnr_crypto_does_not_start(browser: Any, live_server: str, workaround: bool) -> None:
    """Without 'wasm-unsafe-eval' libsodium.js 0.8.4 falls back to a wasm2js build. With plain script tags that
    fallback deletes libsodium.ready before libsodium-wrappers.js reads it, and `sodium` never appears. A page could
    put the promise back, but the fallback keeps a stale heap view once its memory grows and then returns wrong bytes
    without an error, so tnr-crypto.js must refuse to start on it."""
    page = browser.new_page()
    try:
        page.add_init_script(_WATCH)
        page.route(live_server + "/", _without_wasm)
        page.goto(live_server + "/")
        if workaround:
            page.add_script_tag(url=live_server + SCRIPTS[0])
            page.wait_for_function("() => typeof window.libsodium?._crypto_secretbox_keybytes === 'function'")
            page.evaluate("libsodium.ready = libsodium.ready || Promise.resolve()")
            page.add_script_tag(url=live_server + SCRIPTS[1])
            page.add_script_tag(url=live_server + SCRIPTS[2])
        else:
            _add_scripts_as_tags(page, live_server)
        refusal = page.evaluate("TnrCrypto.ready.then(() => 'started', (error) => error.message)")
        assert page.evaluate("window.__wasm") == ["refused"]
        assert refusal == (
            "libsodium.js runs without WebAssembly, which is unsafe here: allow 'wasm-unsafe-eval'"
            if workaround
            else "libsodium.js did not load (does the page's CSP allow 'wasm-unsafe-eval'?)"
        )
    finally:
        page.close()
