/* tnr-crypto.js: the reporter's and officer's side of docs/report-format.md, byte for byte what
 * tnrwatch.crypto (envelope, receipts, keywrap, pow) writes and reads. Tests encrypt on one side and decrypt on
 * the other (tests/web/test_crypto_interop.py); change both sides and the spec together, or neither.
 *
 * Needs libsodium.js (sumo): load /static/vendor/libsodium-sumo/libsodium-sumo.js, then
 * /static/vendor/libsodium-wrappers-sumo/libsodium-wrappers.js, then this file; await TnrCrypto.ready.
 * A plain script on purpose: the pages run scripts from their own origin only (script-src 'self'
 * 'wasm-unsafe-eval', the latter for libsodium's WebAssembly), and there is no build step.
 */
(function () {
  'use strict';

  const CHUNK_BYTES = 1024 * 1024;
  const PAD_BLOCK = 1024;
  const KEY_BYTES = 32;
  const NONCE_BYTES = 24; // XChaCha20-Poly1305 (IETF AEAD)
  const AEAD_ABYTES = 16;
  const STREAM_HEADER_BYTES = 24;
  const STREAM_ABYTES = 17;
  const STREAM_STATE_BYTES = 52; // what libsodium-wrappers allocates for a secretstream state
  const SALT_BYTES = 16;
  const CHALLENGE_BYTES = 42; // version, bits, expiry (8), nonce (16), MAC (16)
  const MIN_PASSPHRASE_CHARS = 12;
  const RECEIPT_ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ'; // Crockford base32
  const RECEIPT_DATA = 26; // 128 secret bits and two zero bits
  const RECEIPT_CHECK = 6;
  const GENERATORS = [0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3]; // Bech32's BCH code
  const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
  // Which purposes carry an item (docs/report-format.md, "Encodings").
  const PURPOSES = { answers: false, message: true, attachment: true, 'report-key': true, 'recipient-key': true,
    note: true, task: true, evidence: true, 'evidence-meta': true };

  let sodium = null; // set once libsodium is ready; every function below needs it

  function lib() {
    if (sodium === null) throw new Error('TnrCrypto is not ready yet: await TnrCrypto.ready');
    return sodium;
  }

  function fail(code, message) {
    const error = new Error(message);
    error.code = code;
    return error;
  }

  const utf8 = (text) => new TextEncoder().encode(text);
  // ignoreBOM keeps a leading BOM, so JSON.parse refuses it exactly as Python's json.loads does.
  const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
  const asBytes = (value) => (typeof value === 'string' ? utf8(value) : value);

  function concat(...parts) {
    const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
    let offset = 0;
    for (const part of parts) {
      out.set(part, offset);
      offset += part.length;
    }
    return out;
  }

  function requireLength(bytes, length, what) {
    if (!(bytes instanceof Uint8Array) || bytes.length !== length) {
      throw new TypeError(`${what} must be ${length} bytes`);
    }
  }

  // -- encodings ---------------------------------------------------------------------------------------------------

  const b64 = (bytes) => lib().to_base64(bytes, lib().base64_variants.ORIGINAL);
  const unb64 = (text) => lib().from_base64(text, lib().base64_variants.ORIGINAL);

  function newUuid() {
    if (typeof crypto !== 'undefined' && typeof crypto.randomUUID === 'function') return crypto.randomUUID();
    const bytes = lib().randombytes_buf(16); // crypto.randomUUID needs a secure context; this does not
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    const hex = lib().to_hex(bytes);
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  }

  /** `tnrwatch/1/<purpose>/<report id>[/<item>]`. Strict where Python is lenient: an upper-case id, a missing or
   * surplus item or a misspelt purpose would make ciphertext that no one can ever open again. */
  function context(purpose, reportId, item) {
    if (!(purpose in PURPOSES)) throw new TypeError(`unknown context purpose ${purpose}`);
    if (!UUID.test(reportId)) throw new TypeError('ids are UUIDs in canonical lower-case form');
    if (PURPOSES[purpose] !== Boolean(item)) {
      throw new TypeError(`context ${purpose} ${PURPOSES[purpose] ? 'needs an' : 'takes no'} item`);
    }
    const text = `tnrwatch/1/${purpose}/${reportId}` + (item ? `/${item}` : '');
    if (!/^[\x20-\x7e]*$/.test(text)) throw new TypeError('a context is printable ASCII');
    return text;
  }

  const newKey = () => lib().randombytes_buf(KEY_BYTES);

  // -- receipts ----------------------------------------------------------------------------------------------------

  function polymod(values) {
    let checksum = 1;
    for (const value of values) {
      const top = checksum >>> 25;
      checksum = ((checksum & 0x1ffffff) << 5) ^ value; // stays below 2^30: no sign trouble
      GENERATORS.forEach((generator, bit) => {
        if ((top >>> bit) & 1) checksum ^= generator;
      });
    }
    return checksum;
  }

  function receiptChecksum(data) {
    const codes = [...'tnr'].map((c) => c.charCodeAt(0));
    const prefix = codes.map((c) => c >> 5).concat([0], codes.map((c) => c & 31));
    const mod = polymod(prefix.concat(data, new Array(RECEIPT_CHECK).fill(0))) ^ 1;
    return Array.from({ length: RECEIPT_CHECK }, (_, i) => (mod >>> (5 * (RECEIPT_CHECK - 1 - i))) & 31);
  }

  function encodeReceipt(secret) {
    requireLength(secret, 16, 'a receipt secret');
    const data = [];
    let acc = 0;
    let bits = 0;
    for (const byte of [...secret, 0]) { // the extra zero byte supplies the two padding bits
      acc = ((acc << 8) | byte) & 0xfff;
      bits += 8;
      while (bits >= 5 && data.length < RECEIPT_DATA) {
        bits -= 5;
        data.push((acc >>> bits) & 31);
      }
    }
    const text = data.concat(receiptChecksum(data)).map((v) => RECEIPT_ALPHABET[v]).join('');
    return text.match(/.{4}/g).join('-');
  }

  function normaliseReceipt(text) {
    const cleaned = text.toUpperCase().replace(/[ \-\t\r\n]/g, '');
    return cleaned.replace(/[OIL]/g, (ch) => (ch === 'O' ? '0' : '1'));
  }

  /** The 16 secret bytes; otherwise an Error whose .code is 'length', 'alphabet' or 'checksum' and whose message
   * (the same as Python's) may be shown to the reporter, and never logged. */
  function parseReceipt(text) {
    const symbols = [...normaliseReceipt(text)]; // code points, as Python counts
    const expected = RECEIPT_DATA + RECEIPT_CHECK;
    if (symbols.length !== expected) {
      throw fail('length', `a receipt has ${expected} letters and digits; this one has ${symbols.length}`);
    }
    const bad = [...new Set(symbols.filter((ch) => !RECEIPT_ALPHABET.includes(ch)))]
      .sort((a, b) => a.codePointAt(0) - b.codePointAt(0)); // Python's sorted()
    if (bad.length) throw fail('alphabet', `a receipt does not contain ${bad.join(', ')}`);
    const values = symbols.map((ch) => RECEIPT_ALPHABET.indexOf(ch));
    const data = values.slice(0, RECEIPT_DATA);
    const typo = () => fail('checksum', 'this receipt has a typing error: check each group again');
    if (receiptChecksum(data).join() !== values.slice(RECEIPT_DATA).join()) throw typo();
    const secret = new Uint8Array(16);
    let acc = 0;
    let bits = 0;
    let filled = 0;
    for (const value of data) {
      acc = ((acc << 5) | value) & 0xfff;
      bits += 5;
      if (bits >= 8) {
        bits -= 8;
        if (filled < 16) secret[filled++] = (acc >>> bits) & 0xff;
      }
    }
    if (bits !== 2 || (acc & 0b11) !== 0) throw typo(); // the two padding bits must be zero
    return secret;
  }

  function newReceipt() {
    const secret = lib().randombytes_buf(16);
    return { text: encodeReceipt(secret), secret };
  }

  const lookupToken = (secret) => lib().crypto_generichash(32, utf8('tnrwatch/1/receipt-lookup'), secret);

  function reporterKeyPair(secret) {
    const seed = lib().crypto_generichash(32, utf8('tnrwatch/1/reporter-key'), secret);
    const pair = lib().crypto_box_seed_keypair(seed);
    lib().memzero(seed);
    return { publicKey: pair.publicKey, privateKey: pair.privateKey };
  }

  // -- answers and messages ----------------------------------------------------------------------------------------

  /** JSON, UTF-8, padded to a multiple of 1 KiB (sizes then say little about content), encrypted: nonce || box. */
  function encryptDocument(doc, key, ad) {
    const json = JSON.stringify(doc);
    if (json === undefined) throw new TypeError('the document is not JSON');
    const plain = utf8(json);
    const padded = lib().pad(plain, PAD_BLOCK);
    const nonce = lib().randombytes_buf(NONCE_BYTES);
    const box = lib().crypto_aead_xchacha20poly1305_ietf_encrypt(padded, asBytes(ad), null, nonce, key);
    lib().memzero(plain);
    lib().memzero(padded);
    return concat(nonce, box);
  }

  function decryptDocument(ciphertext, key, ad) {
    if (ciphertext.length < NONCE_BYTES + AEAD_ABYTES) throw fail('open', 'ciphertext is too short');
    let padded;
    let plain;
    try {
      padded = lib().crypto_aead_xchacha20poly1305_ietf_decrypt(
        null, ciphertext.subarray(NONCE_BYTES), asBytes(ad), ciphertext.subarray(0, NONCE_BYTES), key);
      plain = lib().unpad(padded, PAD_BLOCK);
    } catch (_) {
      if (padded) lib().memzero(padded);
      throw fail('open', 'ciphertext does not open: wrong key, altered, or moved');
    }
    try {
      return JSON.parse(strictUtf8.decode(plain));
    } catch (_) {
      throw fail('json', 'the decrypted document is not JSON');
    } finally {
      lib().memzero(padded);
      lib().memzero(plain);
    }
  }

  // -- report keys and key pairs -----------------------------------------------------------------------------------

  function sealReportKey(reportKey, publicKey, reportId, recipient) {
    requireLength(reportKey, KEY_BYTES, 'a report key');
    const plain = concat(reportKey, utf8(context('report-key', reportId, recipient)));
    const sealed = lib().crypto_box_seal(plain, publicKey);
    lib().memzero(plain);
    return sealed;
  }

  /** The report key, once it is clear the sealed copy was made for this report and this recipient: a copy moved
   * to another report or recipient opens, but names the wrong context. */
  function openReportKey(sealed, publicKey, privateKey, reportId, recipient) {
    const bound = utf8(context('report-key', reportId, recipient));
    let plain;
    try {
      plain = lib().crypto_box_seal_open(sealed, publicKey, privateKey);
    } catch (_) {
      throw fail('open', 'the sealed report key does not open with this key pair');
    }
    const key = plain.slice(0, KEY_BYTES);
    const ok = plain.length === KEY_BYTES + bound.length && lib().memcmp(plain.subarray(KEY_BYTES), bound);
    lib().memzero(plain);
    if (!ok) {
      lib().memzero(key);
      throw fail('context', 'the sealed report key belongs to another report or recipient');
    }
    return key;
  }

  function newKeyPair() {
    const pair = lib().crypto_box_keypair();
    return { publicKey: pair.publicKey, privateKey: pair.privateKey };
  }

  // -- wrapped private keys ----------------------------------------------------------------------------------------

  function strengths() {
    const s = lib();
    return {
      interactive: [s.crypto_pwhash_OPSLIMIT_INTERACTIVE, s.crypto_pwhash_MEMLIMIT_INTERACTIVE],
      moderate: [s.crypto_pwhash_OPSLIMIT_MODERATE, s.crypto_pwhash_MEMLIMIT_MODERATE],
      sensitive: [s.crypto_pwhash_OPSLIMIT_SENSITIVE, s.crypto_pwhash_MEMLIMIT_SENSITIVE],
    };
  }

  const wrapContext = (keyId, publicKey) => context('recipient-key', keyId, b64(publicKey));

  function passphraseKey(passphrase, salt, opslimit, memlimit) {
    const algorithm = lib().crypto_pwhash_ALG_ARGON2ID13;
    return lib().crypto_pwhash(KEY_BYTES, utf8(passphrase.normalize('NFC')), salt, opslimit, memlimit, algorithm);
  }

  /** Argon2id blocks the thread it runs on (~0.3 s interactive, ~1 s moderate, several seconds sensitive). */
  function wrapPrivateKey(privateKey, passphrase, keyId, publicKey, strength) {
    if ([...passphrase].length < MIN_PASSPHRASE_CHARS) {
      throw fail('passphrase', `a passphrase has at least ${MIN_PASSPHRASE_CHARS} characters`);
    }
    const limits = strengths()[strength];
    if (!limits) throw new TypeError(`strength is interactive, moderate or sensitive, not ${strength}`);
    requireLength(privateKey, 32, 'a private key');
    requireLength(publicKey, 32, 'a public key');
    // Refuse to wrap a pair that does not belong together: it could never be unwrapped.
    if (!lib().memcmp(lib().crypto_scalarmult_base(privateKey), publicKey)) {
      throw new TypeError('the private key does not belong to the public key');
    }
    const [opslimit, memlimit] = limits;
    const salt = lib().randombytes_buf(SALT_BYTES);
    const nonce = lib().randombytes_buf(NONCE_BYTES);
    const key = passphraseKey(passphrase, salt, opslimit, memlimit);
    const ciphertext = lib().crypto_aead_xchacha20poly1305_ietf_encrypt(
      privateKey, utf8(wrapContext(keyId, publicKey)), null, nonce, key);
    lib().memzero(key);
    return {
      v: 1, kdf: 'argon2id13', opslimit, memlimit, salt: b64(salt), nonce: b64(nonce), ciphertext: b64(ciphertext),
    };
  }

  function readWrapped(wrapped) {
    const malformed = () => fail('format', 'not a tnrwatch wrapped key (version 1, argon2id13)');
    if (typeof wrapped !== 'object' || wrapped === null || wrapped.v !== 1 || wrapped.kdf !== 'argon2id13') {
      throw malformed();
    }
    const { opslimit, memlimit } = wrapped;
    const levels = strengths();
    // A stored record must not make this browser spend nothing (a downgrade) or all its memory (a denial of service).
    const within = (value, index) => Number.isInteger(value)
      && value >= levels.interactive[index] && value <= levels.sensitive[index];
    if (!within(opslimit, 0) || !within(memlimit, 1)) {
      throw fail('format', "wrapped key asks for Argon2id limits outside libsodium's named levels");
    }
    let fields;
    try {
      fields = [unb64(wrapped.salt), unb64(wrapped.nonce), unb64(wrapped.ciphertext)];
    } catch (_) {
      throw malformed();
    }
    const [salt, nonce, ciphertext] = fields;
    if (salt.length !== SALT_BYTES || nonce.length !== NONCE_BYTES || ciphertext.length !== 32 + AEAD_ABYTES) {
      throw fail('format', 'wrapped key has a salt, nonce or ciphertext of the wrong length');
    }
    return { opslimit, memlimit, salt, nonce, ciphertext };
  }

  /** The private key; Error .code 'passphrase' when the passphrase does not open it (or the record was altered or
   * moved to another key), .code 'format' when the record is malformed or asks for out-of-range limits. */
  function unwrapPrivateKey(wrapped, passphrase, keyId, publicKey) {
    const { opslimit, memlimit, salt, nonce, ciphertext } = readWrapped(wrapped);
    requireLength(publicKey, 32, 'a public key');
    const ad = utf8(wrapContext(keyId, publicKey));
    const key = passphraseKey(passphrase, salt, opslimit, memlimit);
    let privateKey;
    try {
      privateKey = lib().crypto_aead_xchacha20poly1305_ietf_decrypt(null, ciphertext, ad, nonce, key);
    } catch (_) {
      throw fail('passphrase', 'the passphrase does not unlock this key');
    } finally {
      lib().memzero(key);
    }
    if (!lib().memcmp(lib().crypto_scalarmult_base(privateKey), publicKey)) {
      lib().memzero(privateKey);
      throw fail('passphrase', 'the unwrapped private key does not match its public key');
    }
    return privateKey;
  }

  // -- files -------------------------------------------------------------------------------------------------------

  /** Wipe and free a secretstream state: libsodium-wrappers allocates it on its heap and never releases it. */
  function releaseStream(state) {
    const raw = lib().libsodium;
    raw.HEAPU8.fill(0, state, state + STREAM_STATE_BYTES);
    raw._free(state);
  }

  /** Encrypt a Blob (a File) in 1 MiB chunks without ever holding more than one chunk: every chunk but the last
   * is pushed with TAG_MESSAGE, the last (short, or empty for an empty file) with TAG_FINAL, as Python's
   * FileSealer does. Awaits `onPiece(bytes, index)` for each piece of ciphertext, so uploading applies back
   * pressure. Resolves {size, sha256} of the plaintext. */
  async function encryptFile(blob, key, ad, onPiece, onProgress) {
    const s = lib();
    const adBytes = asBytes(ad);
    const total = blob.size;
    const chunks = Math.max(1, Math.ceil(total / CHUNK_BYTES));
    const { state, header } = s.crypto_secretstream_xchacha20poly1305_init_push(key);
    let hash = s.crypto_hash_sha256_init();
    try {
      for (let index = 0; index < chunks; index++) {
        const start = index * CHUNK_BYTES;
        const end = Math.min(start + CHUNK_BYTES, total);
        const plain = new Uint8Array(await blob.slice(start, end).arrayBuffer());
        if (plain.length !== end - start) throw fail('read', 'the file changed while it was being read');
        s.crypto_hash_sha256_update(hash, plain);
        const tag = index === chunks - 1
          ? s.crypto_secretstream_xchacha20poly1305_TAG_FINAL
          : s.crypto_secretstream_xchacha20poly1305_TAG_MESSAGE;
        const box = s.crypto_secretstream_xchacha20poly1305_push(state, plain, adBytes, tag);
        plain.fill(0); // as sodium.memzero does, at twice its speed on 1 MiB
        await onPiece(index === 0 ? concat(header, box) : box, index);
        if (onProgress) onProgress(end, total);
      }
      const digest = s.crypto_hash_sha256_final(hash); // also frees the hash state
      hash = null;
      return { size: total, sha256: s.to_hex(digest) };
    } finally {
      releaseStream(state);
      if (hash !== null) s.crypto_hash_sha256_final(hash); // only to free it
    }
  }

  /** Decrypt ciphertext arriving in pieces of any size: push(bytes) returns the plaintext chunks now complete;
   * finish() returns the last one and throws (.code 'truncated') when the stream did not end with TAG_FINAL. A
   * chunk that does not open throws .code 'open'; bytes after the FINAL chunk throw .code 'trailing'. After an
   * error the decryptor refuses further use. */
  function fileDecryptor(key, ad) {
    const s = lib();
    const adBytes = asBytes(ad);
    const FULL = CHUNK_BYTES + STREAM_ABYTES;
    const queue = [];
    let queued = 0;
    let state = null;
    let closed = false;

    function take(count) {
      const out = new Uint8Array(count);
      let filled = 0;
      while (filled < count) {
        const head = queue[0];
        const used = Math.min(head.length, count - filled);
        out.set(head.subarray(0, used), filled);
        filled += used;
        if (used === head.length) queue.shift();
        else queue[0] = head.subarray(used);
      }
      queued -= count;
      return out;
    }

    function close() {
      closed = true;
      if (state !== null) releaseStream(state);
      state = null;
      queue.length = 0;
      queued = 0;
    }

    function guarded(step) {
      if (closed) throw fail('closed', 'this decryptor has finished or failed');
      try {
        return step();
      } catch (error) {
        close();
        throw error;
      }
    }

    function pull(size, expectFinal) {
      const result = s.crypto_secretstream_xchacha20poly1305_pull(state, take(size), adBytes);
      if (!result) throw fail('open', 'a chunk of the file does not open: wrong key, altered, or moved');
      if ((result.tag === s.crypto_secretstream_xchacha20poly1305_TAG_FINAL) !== expectFinal) {
        throw expectFinal
          ? fail('truncated', 'the file is truncated')
          : fail('trailing', 'the file has bytes after its end');
      }
      return result.message;
    }

    return {
      push(bytes) {
        return guarded(() => {
          // A copy (of a Uint8Array or an ArrayBuffer): the caller may reuse its buffer.
          const piece = new Uint8Array(bytes instanceof ArrayBuffer ? bytes.slice(0) : bytes);
          if (piece.length) queue.push(piece);
          queued += piece.length;
          if (state === null && queued >= STREAM_HEADER_BYTES) {
            state = s.crypto_secretstream_xchacha20poly1305_init_pull(take(STREAM_HEADER_BYTES), key);
          }
          const out = [];
          // Keep the last chunk back until finish(): only then is it known to be the last.
          while (state !== null && queued > FULL) out.push(pull(FULL, false));
          return out;
        });
      },
      finish() {
        return guarded(() => {
          if (state === null) throw fail('truncated', 'the file is shorter than its stream header');
          if (queued < STREAM_ABYTES) throw fail('truncated', 'the file is truncated');
          const last = pull(queued, true);
          close();
          return [last];
        });
      },
    };
  }

  // -- proof of work -----------------------------------------------------------------------------------------------

  // A MessageChannel round trip yields to the event loop without setTimeout's clamping, which browsers stretch to
  // a second or more in background tabs.
  function nextTask() {
    return new Promise((resolve) => {
      const channel = new MessageChannel();
      channel.port1.onmessage = () => {
        channel.port1.close();
        resolve();
      };
      channel.port2.postMessage(null);
    });
  }

  function leadingZeroBits(digest) {
    let count = 0;
    for (const byte of digest) {
      if (byte !== 0) return count + Math.clz32(byte) - 24;
      count += 8;
    }
    return count;
  }

  /** The counter n for which BLAKE2b-256(token bytes || n as 8 bytes big-endian) starts with `bits` zero bits. */
  async function solveChallenge(token, onProgress) {
    const s = lib();
    const raw = s.from_base64(token, s.base64_variants.URLSAFE_NO_PADDING);
    if (raw.length !== CHALLENGE_BYTES) throw fail('format', 'not a tnrwatch challenge');
    const bits = raw[1];
    const input = new Uint8Array(CHALLENGE_BYTES + 8);
    input.set(raw);
    const view = new DataView(input.buffer);
    for (let counter = 0; counter < Number.MAX_SAFE_INTEGER; counter++) {
      view.setUint32(CHALLENGE_BYTES, Math.floor(counter / 2 ** 32));
      view.setUint32(CHALLENGE_BYTES + 4, counter >>> 0);
      if (leadingZeroBits(s.crypto_generichash(32, input, null)) >= bits) return counter;
      if (counter % 4096 === 4095) {
        if (onProgress) onProgress(counter + 1);
        await nextTask(); // keep the page responsive
      }
    }
    throw fail('format', 'the challenge cannot be solved');
  }

  // libsodium.js falls back to a wasm2js build when the page's CSP forbids WebAssembly (script-src without
  // 'wasm-unsafe-eval'). In 0.8.4 that build keeps a stale heap view once its memory grows (Argon2id MODERATE is
  // enough) and from then on returns wrong bytes without any error: keys, nonces, ciphertext. Refuse it. Only the
  // WebAssembly module object keeps useBackupModule; the fallback replaces every property of it.
  async function start() {
    if (!window.sodium) throw new Error("libsodium.js did not load (does the page's CSP allow 'wasm-unsafe-eval'?)");
    await window.sodium.ready;
    if (typeof window.sodium.libsodium.useBackupModule !== 'function') {
      throw new Error("libsodium.js runs without WebAssembly, which is unsafe here: allow 'wasm-unsafe-eval'");
    }
    const abc = window.sodium.to_hex(window.sodium.crypto_generichash(32, utf8('abc'), null));
    if (abc !== 'bddd813c634239723171ef3fee98579b94964e3bb1cb3e427262c8c068d52319') {
      throw new Error('libsodium.js fails its self-test'); // that is BLAKE2b-256("abc")
    }
    sodium = window.sodium;
  }

  window.TnrCrypto = Object.freeze({
    ready: start(),
    CHUNK_BYTES,
    b64,
    unb64,
    newUuid,
    context,
    newKey,
    newReceipt,
    parseReceipt,
    normaliseReceipt,
    lookupToken,
    reporterKeyPair,
    encryptDocument,
    decryptDocument,
    sealReportKey,
    openReportKey,
    newKeyPair,
    wrapPrivateKey,
    unwrapPrivateKey,
    encryptFile,
    fileDecryptor,
    solveChallenge,
  });
}());
