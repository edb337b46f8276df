/* staff-report.js: an officer reads one report in their own browser (templates/staff/report.html).
 *
 * The passphrase unlocks the officer's wrapped private key, which opens their sealed copy of the report key, which
 * opens the answers, the messages and the files (docs/report-format.md). The private key and the report key live
 * in variables of this page only: never in localStorage, sessionStorage or a cookie, and they are wiped, with
 * everything decrypted on the page, when the page is left (`pagehide`). Decrypted content is never logged and never
 * sent to the server; it reaches the page through textContent only, never as HTML, since the reporter wrote it.
 */
(function () {
  'use strict';

  const root = document.getElementById('staff-report');
  const unlockForm = document.getElementById('unlock-form');
  if (!root || !unlockForm) return; // no key holds this report: the page explains why, nothing to do here

  const reportId = root.dataset.reportId;
  const csrfToken = document.querySelector('meta[name="csrf-token"]').content;
  const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
  const MIME = /^[a-z0-9][a-z0-9!#$&^_.+-]*\/[a-z0-9][a-z0-9!#$&^_.+-]*$/i;

  const el = (id) => document.getElementById(id);
  const passphraseInput = el('passphrase');
  const passphraseError = el('passphrase-error');
  const unlockStatus = el('unlock-status');
  const content = el('report-content');
  const answersBox = el('answers');
  const messageList = el('messages');
  const noMessages = el('no-messages');
  const replyForm = el('reply-form');
  const replyText = el('reply-text');
  const replyError = el('reply-error');
  const replyStatus = el('reply-status');

  // The secrets of this page. Nothing else holds them.
  let privateKey = null;
  let reportKey = null;
  let downloads = []; // object URLs of decrypted files, revoked on pagehide
  let openedFiles = []; // the file entries (keys included) of the decrypted messages, dropped on pagehide

  // -- words shown for the answers document (docs/report-format.md) --------------------------------------------------

  const WHO = { self: 'The reporter themself', relative: 'A relative of the reporter', other: 'Someone else' };
  const WANTS = { advice: 'Advice', protection: 'Protection', record: 'That it is recorded' };
  const AUTHORS = { reporter: 'From the reporter', officer: 'From an officer' };
  const KNOWN_FIELDS = ['v', 'kind', 'language', 'jurisdiction', 'what', 'where', 'when', 'targeted', 'responsible',
    'wants', 'urgent', 'contact', 'attachments'];

  function displayName(type, code) {
    try {
      const name = new Intl.DisplayNames(['en'], { type }).of(code);
      return name && name !== code ? `${name} (${code})` : code;
    } catch (_) {
      return code;
    }
  }

  // -- small DOM helpers (text only) -------------------------------------------------------------------------------

  const dom = window.TnrStaffDom;
  const { node, say, setError, clearError, humanSize } = dom;
  const failureText = (response) => dom.failureText(response, 'report');

  const isObject = (value) => typeof value === 'object' && value !== null && !Array.isArray(value);
  const part = (doc, name) => (isObject(doc) && isObject(doc[name]) ? doc[name] : {});

  /** A free text, kept as typed (line breaks included), or a note that it was left empty. */
  function freeText(value) {
    if (value === null || value === undefined || value === '') return node('span', { class: 'staff-empty' }, 'Left empty');
    return node('p', { class: 'staff-text' }, typeof value === 'string' ? value : JSON.stringify(value));
  }

  function maybe(value, show) {
    if (value === null || value === undefined || value === '') return node('span', { class: 'staff-empty' }, 'Not given');
    return show ? show(value) : String(value);
  }

  function facts(rows) {
    const list = node('dl', { class: 'facts' });
    for (const [label, value] of rows) list.append(node('dt', {}, label), node('dd', {}, value));
    return list;
  }

  function section(title, rows) {
    return node('section', {}, node('h3', {}, title), facts(rows));
  }

  function hourText(iso) {
    return node('time', { datetime: iso }, `${String(iso).slice(0, 10)} ${String(iso).slice(11, 16)} UTC`);
  }

  /** Let the browser paint a status line before Argon2id blocks the thread for a moment. */
  const painted = () => new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0)));

  // -- files -------------------------------------------------------------------------------------------------------

  /** Download one file, decrypt it as it arrives, recompute its SHA-256 and hand it to the browser as a download. */
  async function downloadFile(entry, button, result) {
    button.disabled = true;
    result.replaceChildren('Downloading and decrypting…');
    let hash = null;
    const pieces = [];
    try {
      const response = await fetch(`/app/api/reports/${reportId}/attachments/${entry.id}`, { cache: 'no-store' });
      if (!response.ok) {
        result.replaceChildren(await failureText(response));
        return;
      }
      const decryptor = TnrCrypto.fileDecryptor(TnrCrypto.unb64(entry.key), TnrCrypto.context('attachment', reportId, entry.id));
      hash = sodium.crypto_hash_sha256_init();
      const keep = (chunks) => {
        for (const chunk of chunks) {
          sodium.crypto_hash_sha256_update(hash, chunk);
          pieces.push(chunk);
        }
      };
      const reader = response.body.getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        keep(decryptor.push(value));
      }
      keep(decryptor.finish());
      const digest = sodium.to_hex(sodium.crypto_hash_sha256_final(hash));
      hash = null;
      const type = typeof entry.type === 'string' && MIME.test(entry.type) ? entry.type : 'application/octet-stream';
      const url = URL.createObjectURL(new Blob(pieces, { type }));
      downloads.push(url);
      const link = node('a', { href: url, download: entry.name || 'file' });
      document.body.append(link);
      link.click(); // `download` saves the file; it is never opened as a page of this site
      link.remove();
      const expected = typeof entry.sha256 === 'string' ? entry.sha256.toLowerCase() : '';
      const verdict = digest === expected
        ? node('span', { class: 'staff-verified' }, '✓ Verified: ')
        : node('span', { class: 'staff-mismatch' }, '✗ NOT matching: ');
      const explanation = digest === expected
        ? 'the SHA-256 of the decrypted file is the one the reporter\'s browser computed. '
        : 'the SHA-256 of the decrypted file differs from the one the reporter\'s browser computed. Treat the file with care. ';
      result.replaceChildren(verdict, explanation, 'Saved as a download. SHA-256: ', node('code', {}, digest));
    } catch (_) {
      result.replaceChildren(node('span', { class: 'staff-mismatch' }, 'The file does not open: '),
        'it is damaged, incomplete or was altered. Nothing was saved.');
    } finally {
      if (hash !== null) sodium.crypto_hash_sha256_final(hash); // frees the state after a failure
      for (const piece of pieces) sodium.memzero(piece); // the Blob holds its own copy
      button.disabled = false;
    }
  }

  /** The files a document describes, matched with what the server holds (`held`: [{id, size}]). */
  function fileList(entries, held) {
    const heldIds = new Set(held.map((item) => item.id));
    const list = node('ul', { class: 'staff-files' });
    const described = new Set();
    for (const entry of entries) {
      if (!isObject(entry)) continue;
      const name = typeof entry.name === 'string' && entry.name ? entry.name : '(no name)';
      const item = node('li', { class: 'staff-file' },
        node('span', { class: 'staff-file-name' }, name),
        node('span', { class: 'staff-file-meta' },
          `${typeof entry.type === 'string' && entry.type ? entry.type : 'unknown type'}, ${humanSize(entry.size)}`));
      const result = node('p', { class: 'staff-file-result', role: 'status' });
      let key = null;
      try {
        key = typeof entry.key === 'string' ? TnrCrypto.unb64(entry.key) : null;
      } catch (_) { /* reported below */ }
      if (typeof entry.id !== 'string' || !UUID.test(entry.id) || !key || key.length !== 32) {
        result.textContent = 'The description of this file is damaged; it cannot be opened.';
      } else if (!heldIds.has(entry.id)) {
        described.add(entry.id);
        result.textContent = 'The server did not receive this file.';
      } else {
        described.add(entry.id);
        const button = node('button', { type: 'button', class: 'staff-button staff-button-quiet staff-button-small' },
          'Download and verify', node('span', { class: 'visually-hidden' }, ` ${name}`));
        button.addEventListener('click', () => downloadFile(entry, button, result));
        item.append(node('div', {}, button));
      }
      if (key) sodium.memzero(key);
      item.append(result);
      list.append(item);
    }
    for (const item of held) {
      if (described.has(item.id)) continue;
      list.append(node('li', { class: 'staff-file' },
        node('span', { class: 'staff-file-name' }, 'A file without a description'),
        node('span', { class: 'staff-file-meta' }, `${humanSize(item.size)} of ciphertext`),
        node('p', { class: 'staff-file-result' }, 'The server holds this file but the report does not describe it, so its key is unknown and it cannot be opened.')));
    }
    return list.children.length ? list : null;
  }

  const entriesOf = (doc) => (isObject(doc) && Array.isArray(doc.attachments) ? doc.attachments : []);

  // -- the answers -------------------------------------------------------------------------------------------------

  function renderAnswers(doc, held) {
    const what = part(doc, 'what');
    const where = part(doc, 'where');
    const when = part(doc, 'when');
    const targeted = part(doc, 'targeted');
    const responsible = part(doc, 'responsible');
    const families = Array.isArray(what.tactic_families) ? what.tactic_families : [];
    const wants = Array.isArray(doc.wants) ? doc.wants : [];

    const box = node('div', { class: 'staff-answers' });
    box.append(
      section('About the report', [
        ['Language of the form', maybe(doc.language, (code) => displayName('language', String(code)))],
        ['Sent to', maybe(doc.jurisdiction)],
        ['Urgent', doc.urgent === true ? node('strong', { class: 'staff-flag staff-flag-urgent' }, 'Urgent') : 'No'],
      ]),
      section('What happened', [
        ['Tactic families (codes)', families.length
          ? node('ul', { class: 'staff-codes' }, ...families.map((code) => node('li', {}, node('code', {}, String(code)))))
          : node('span', { class: 'staff-empty' }, 'None chosen')],
        ['Description', freeText(what.description)],
      ]),
      section('Where', [
        ['Country where it happened', maybe(where.host_country, (code) => displayName('region', String(code)))],
        ['Place', freeText(where.place)],
      ]),
      section('When', [
        ['Date', when.date_unknown === true ? 'Unknown to the reporter' : maybe(when.date)],
        ['In the reporter\'s words', freeText(when.approximately)],
      ]),
      section('Who was targeted', [
        ['Who', maybe(targeted.who, (who) => WHO[who] || String(who))],
        ['Description', freeText(targeted.description)],
      ]),
      section('Who is responsible', [
        ['Country behind it', maybe(responsible.origin_country, (code) => displayName('region', String(code)))],
        ['Description', freeText(responsible.description)],
      ]),
      section('What the reporter wants', [
        ['Wishes', wants.length
          ? node('ul', {}, ...wants.map((want) => node('li', {}, WANTS[want] || String(want))))
          : node('span', { class: 'staff-empty' }, 'None chosen')],
        ['How to reach them', isObject(doc) && doc.contact
          ? freeText(doc.contact)
          : node('span', { class: 'staff-empty' }, 'No contact given: reply below; the reporter reads replies with their receipt')],
      ]),
    );
    const files = fileList(entriesOf(doc), held);
    box.append(node('section', {}, node('h3', {}, 'Files sent with the report'),
      files || node('p', { class: 'staff-empty' }, 'No files.')));
    const extra = isObject(doc) ? Object.keys(doc).filter((name) => !KNOWN_FIELDS.includes(name)) : [];
    if (extra.length) {
      box.append(section('Other answers (not in report format 1)',
        extra.map((name) => [name, freeText(JSON.stringify(doc[name]))])));
    }
    answersBox.replaceChildren(box);
  }

  // -- messages ----------------------------------------------------------------------------------------------------

  function messageItem(message, doc) {
    const author = message.author === 'officer' ? 'officer' : 'reporter';
    const item = node('li', { class: `staff-message staff-message-${author}` });
    item.append(node('h3', {}, AUTHORS[author], ' ', node('span', { class: 'staff-message-meta' }, '· ', hourText(message.sent_at))));
    if (doc === null) {
      item.append(node('p', { class: 'staff-mismatch' }, 'This message does not open: it is damaged or was moved from elsewhere.'));
      return item;
    }
    item.append(freeText(isObject(doc) ? doc.text : null));
    const files = fileList(entriesOf(doc), Array.isArray(message.attachments) ? message.attachments : []);
    if (files) item.append(files);
    return item;
  }

  function renderMessages(messages) {
    // Oldest first: the server sends them in the order they arrived (their times are rounded to the hour).
    messageList.replaceChildren(...messages.map((message) => {
      let doc = null;
      try {
        doc = TnrCrypto.decryptDocument(TnrCrypto.unb64(message.ciphertext), reportKey,
          TnrCrypto.context('message', reportId, message.id));
      } catch (_) { /* shown as not opening */ }
      openedFiles.push(...entriesOf(doc));
      return messageItem(message, doc);
    }));
    noMessages.hidden = messages.length > 0;
  }

  // -- unlocking ---------------------------------------------------------------------------------------------------

  async function unlock(event) {
    event.preventDefault();
    clearError(passphraseInput, passphraseError);
    const passphrase = passphraseInput.value;
    if (!passphrase) {
      setError(passphraseInput, passphraseError, 'Enter the passphrase of your key.');
      return;
    }
    const button = unlockForm.querySelector('button');
    button.disabled = true;
    say(unlockStatus, 'Unlocking your key. This takes a few seconds…');
    try {
      await TnrCrypto.ready;
      const response = await fetch(`/app/api/reports/${reportId}`, { cache: 'no-store', headers: { Accept: 'application/json' } });
      if (!response.ok) {
        say(unlockStatus, await failureText(response), true);
        return;
      }
      const data = await response.json();
      if (!data.key || !data.sealed_key) {
        say(unlockStatus, 'None of your keys holds this report any more. Reload the page.', true);
        return;
      }
      await painted();
      const publicKey = TnrCrypto.unb64(data.key.public_key);
      try {
        privateKey = TnrCrypto.unwrapPrivateKey(data.key.wrapped_private_key, passphrase, data.key.id, publicKey);
      } catch (error) {
        say(unlockStatus, '');
        if (error.code === 'passphrase') {
          setError(passphraseInput, passphraseError, 'This passphrase does not unlock your key. Check it and try again.');
        } else {
          say(unlockStatus, 'Your stored key is damaged or of an unknown kind; it cannot be unlocked here.', true);
        }
        return;
      }
      passphraseInput.value = '';
      try {
        reportKey = TnrCrypto.openReportKey(TnrCrypto.unb64(data.sealed_key), publicKey, privateKey, data.report.id, data.recipient);
      } catch (_) {
        say(unlockStatus, 'Your key is unlocked, but the copy of this report\'s key made for it does not open: it is damaged or was moved from another report.', true);
        return;
      }
      let answers = null;
      try {
        answers = TnrCrypto.decryptDocument(TnrCrypto.unb64(data.answers), reportKey, TnrCrypto.context('answers', reportId));
      } catch (_) {
        answersBox.replaceChildren(node('p', { class: 'staff-mismatch' }, 'The answers do not open: they are damaged or were moved from another report.'));
      }
      if (answers !== null) renderAnswers(answers, Array.isArray(data.attachments) ? data.attachments : []);
      renderMessages(Array.isArray(data.messages) ? data.messages : []);
      unlockForm.hidden = true;
      say(unlockStatus, 'Your key is unlocked for this page only. It is forgotten when you leave the page.');
      content.hidden = false;
      el('content-title').focus();
      // Every file the report and its messages describe (with its key), for the evidence section.
      announce('tnr:report-unlocked', { answers, files: [...entriesOf(answers), ...openedFiles] });
    } catch (_) {
      say(unlockStatus, 'Something went wrong while opening the report. Reload the page and try again.', true);
    } finally {
      button.disabled = false;
    }
  }

  // -- replying ----------------------------------------------------------------------------------------------------

  async function reply(event) {
    event.preventDefault();
    clearError(replyText, replyError);
    say(replyStatus, '');
    const text = replyText.value;
    if (!text.trim()) {
      setError(replyText, replyError, 'Write a reply first.');
      return;
    }
    if (reportKey === null) {
      say(replyStatus, 'Unlock your key first.', true);
      return;
    }
    const button = replyForm.querySelector('button');
    button.disabled = true;
    try {
      const messageId = TnrCrypto.newUuid();
      const ciphertext = TnrCrypto.encryptDocument({ v: 1, kind: 'message', text, attachments: [] }, reportKey,
        TnrCrypto.context('message', reportId, messageId));
      const response = await fetch(`/app/api/reports/${reportId}/messages`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Accept: 'application/json', 'X-CSRF-Token': csrfToken },
        body: JSON.stringify({ message_id: messageId, ciphertext: TnrCrypto.b64(ciphertext) }),
      });
      if (response.status !== 201) {
        say(replyStatus, `Your reply was not sent. ${await failureText(response)}`, true);
        return;
      }
      const sent = await response.json();
      messageList.append(messageItem({ id: messageId, author: 'officer', sent_at: sent.sent_at, attachments: [] },
        { text, attachments: [] }));
      noMessages.hidden = true;
      replyText.value = '';
      say(replyStatus, 'Your reply was encrypted and sent. It is now the last message above.');
    } catch (_) {
      say(replyStatus, 'Your reply was not sent: the connection failed. Try again.', true);
    } finally {
      button.disabled = false;
    }
  }

  // -- sharing with another focal point ----------------------------------------------------------------------------

  const shareForm = el('share-form');

  /** Seal the report key to each active key of another focal point (as the reporter's browser did for ours) and
   * record the referral: its officers can then read the report. The server never sees the report key. */
  async function share(event) {
    event.preventDefault();
    const select = el('share-to');
    const error = el('share-error');
    const status = el('share-status');
    clearError(select, error);
    say(status, '');
    const code = select.value;
    if (!code) {
      setError(select, error, 'Choose a focal point.');
      return;
    }
    if (reportKey === null) {
      say(status, 'Unlock your key first.', true);
      return;
    }
    const button = shareForm.querySelector('button');
    button.disabled = true;
    try {
      const keysResponse = await fetch(`/report/api/jurisdictions/${encodeURIComponent(code)}`, {
        headers: { Accept: 'application/json' }, credentials: 'omit', cache: 'no-store',
      });
      if (keysResponse.status !== 200) {
        say(status, `Not shared: that focal point cannot receive reports now. ${await failureText(keysResponse)}`, true);
        return;
      }
      const keys = (await keysResponse.json()).keys;
      const sealedKeys = keys.map((key) => ({
        recipient: key.id,
        sealed: TnrCrypto.b64(TnrCrypto.sealReportKey(reportKey, TnrCrypto.unb64(key.public_key), reportId, key.id)),
      }));
      const response = await fetch(`/app/api/reports/${reportId}/referrals`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Accept: 'application/json', 'X-CSRF-Token': csrfToken },
        body: JSON.stringify({ to_jurisdiction: code, sealed_keys: sealedKeys }),
      });
      if (response.status !== 201) {
        say(status, `Not shared. ${await failureText(response)}`, true);
        return;
      }
      say(status, `Shared with ${select.options[select.selectedIndex].text}: its officers can now read this report. ` +
        'Reload the page to see the referral in the case.');
    } catch (_) {
      say(status, 'Not shared: the connection failed. Try again.', true);
    } finally {
      button.disabled = false;
    }
  }

  // -- the other parts of the case page (notes, evidence, coding) ---------------------------------------------------

  /** Tell the case page's other scripts (ours, same origin: the CSP allows no other) that the report was opened or
   * forgotten. They get the report key through `key()`, which answers null once the page forgot it, the decrypted
   * answers and the entries of every file: none of them keeps a copy, and `tnr:report-locked` tells them to wipe what
   * they decrypted. */
  function announce(name, detail) {
    document.dispatchEvent(new CustomEvent(name, { detail: { reportId, key: () => reportKey, ...detail } }));
  }

  // -- leaving the page --------------------------------------------------------------------------------------------

  /** Forget the keys and everything decrypted. A page restored from the back/forward cache asks for the passphrase
   * again. */
  function forget() {
    announce('tnr:report-locked', {});
    if (privateKey !== null) sodium.memzero(privateKey);
    if (reportKey !== null) sodium.memzero(reportKey);
    privateKey = null;
    reportKey = null;
    for (const url of downloads) URL.revokeObjectURL(url);
    downloads = [];
    openedFiles = [];
    passphraseInput.value = '';
    replyText.value = '';
    answersBox.replaceChildren();
    messageList.replaceChildren();
    content.hidden = true;
    unlockForm.hidden = false;
    say(unlockStatus, '');
    say(replyStatus, '');
  }

  unlockForm.addEventListener('submit', unlock);
  replyForm.addEventListener('submit', reply);
  if (shareForm) shareForm.addEventListener('submit', share);
  window.addEventListener('pagehide', forget);
}());
