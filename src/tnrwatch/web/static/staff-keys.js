/* staff-keys.js: an officer creates a recipient key in their own browser (templates/staff/keys.html).
 *
 * The X25519 key pair is made here; the private key is wrapped with the passphrase (Argon2id at the node's
 * `key_wrap_strength`, docs/report-format.md) and only the public key and the wrapped form are sent. The passphrase
 * and the private key never leave the page, and the private key is wiped as soon as it is wrapped.
 */
(function () {
  'use strict';

  const form = document.getElementById('key-form');
  if (!form) return; // an account without a jurisdiction gets no form

  const MIN_CHARS = 12;
  const el = (id) => document.getElementById(id);
  const csrfToken = document.querySelector('meta[name="csrf-token"]').content;
  const strength = form.dataset.strength;
  const labelInput = el('key-label');
  const passphraseInput = el('key-passphrase');
  const passphraseError = el('key-passphrase-error');
  const repeatInput = el('key-repeat');
  const repeatError = el('key-repeat-error');
  const meter = el('key-passphrase-strength');
  const status = el('key-status');
  const button = form.querySelector('button[type="submit"]');

  const characters = (text) => [...text].length;

  /** A rough guide, not a guarantee: length and variety, with repeated characters counted once. */
  function strengthHint(passphrase) {
    const length = characters(passphrase);
    if (length === 0) return '';
    if (length < MIN_CHARS) return `Too short: ${length} of at least ${MIN_CHARS} characters.`;
    let pool = 0;
    if (/[a-z]/.test(passphrase)) pool += 26;
    if (/[A-Z]/.test(passphrase)) pool += 26;
    if (/[0-9]/.test(passphrase)) pool += 10;
    if (/[^a-zA-Z0-9]/.test(passphrase)) pool += 33;
    const distinct = new Set(passphrase).size;
    const bits = Math.min(length, distinct * 2) * Math.log2(Math.max(pool, 2));
    if (bits < 60) return 'Strength: weak. Add more words or characters.';
    if (bits < 90) return 'Strength: fair. A few more words would make it strong.';
    return 'Strength: strong.';
  }

  function setError(input, box, message) {
    box.textContent = message;
    box.hidden = false;
    input.setAttribute('aria-invalid', 'true');
  }

  function clearError(input, box) {
    box.textContent = '';
    box.hidden = true;
    input.removeAttribute('aria-invalid');
  }

  function say(message, isError) {
    status.textContent = message;
    status.classList.toggle('staff-status-error', Boolean(isError));
  }

  /** Let the browser paint the status line before Argon2id blocks the thread. */
  const painted = () => new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0)));

  async function failureText(response) {
    if (response.status === 401) return 'Your sign-in has expired. Sign in again and create the key then.';
    if (response.status === 403) return 'This page is out of date. Reload it and try again.';
    try {
      const body = await response.json();
      if (body && typeof body.error === 'string') return `The server refused the key: ${body.error}.`;
    } catch (_) { /* not JSON */ }
    return `The server answered with an error (${response.status}). Try again.`;
  }

  /** Fetch this page again and swap in its list of keys, which now includes the new one. */
  async function reloadList() {
    const response = await fetch('/app/keys', { cache: 'no-store' });
    if (!response.ok) return false;
    const fresh = new DOMParser().parseFromString(await response.text(), 'text/html').getElementById('key-list');
    if (!fresh) return false;
    el('key-list').replaceChildren(...fresh.childNodes);
    return true;
  }

  function validate() {
    clearError(passphraseInput, passphraseError);
    clearError(repeatInput, repeatError);
    const passphrase = passphraseInput.value;
    let first = null;
    if (characters(passphrase) < MIN_CHARS) {
      setError(passphraseInput, passphraseError, `Use at least ${MIN_CHARS} characters.`);
      first = passphraseInput;
    }
    if (repeatInput.value !== passphrase) {
      setError(repeatInput, repeatError, 'The two passphrases differ. Type the same passphrase twice.');
      first = first || repeatInput;
    }
    if (first) first.focus();
    return first === null;
  }

  async function create(event) {
    event.preventDefault();
    say('');
    if (!validate()) return;
    button.disabled = true;
    say('Creating your key and wrapping it with your passphrase. This takes a few seconds…');
    let privateKey = null;
    try {
      await TnrCrypto.ready;
      await painted();
      const pair = TnrCrypto.newKeyPair();
      privateKey = pair.privateKey;
      const id = TnrCrypto.newUuid();
      const wrapped = TnrCrypto.wrapPrivateKey(privateKey, passphraseInput.value, id, pair.publicKey, strength);
      sodium.memzero(privateKey);
      privateKey = null;
      const response = await fetch('/app/api/keys', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Accept: 'application/json', 'X-CSRF-Token': csrfToken },
        body: JSON.stringify({
          id,
          public_key: TnrCrypto.b64(pair.publicKey),
          wrapped_private_key: wrapped,
          label: labelInput.value.trim().slice(0, 120),
        }),
      });
      if (response.status !== 201) {
        say(`Your key was not created. ${await failureText(response)}`, true);
        return;
      }
      const created = await response.json();
      form.reset();
      meter.textContent = '';
      const listed = await reloadList();
      say(`Your key ${created.fingerprint} is created and active. Reports that arrive from now on are encrypted to it.`
        + (listed ? '' : ' Reload the page to see it in the list.'));
    } catch (error) {
      say(error && error.code === 'passphrase'
        ? `Your key was not created: use at least ${MIN_CHARS} characters.`
        : 'Your key was not created: something went wrong in this browser. Reload the page and try again.', true);
    } finally {
      if (privateKey !== null) sodium.memzero(privateKey);
      button.disabled = false;
    }
  }

  passphraseInput.addEventListener('input', () => {
    const hint = strengthHint(passphraseInput.value);
    if (meter.textContent !== hint) meter.textContent = hint; // unchanged text is not announced again
  });
  form.addEventListener('submit', create);
  window.addEventListener('pagehide', () => {
    passphraseInput.value = '';
    repeatInput.value = '';
  });
}());
