/* staff-evidence.js: the case page's evidence section (templates/staff/_evidence.html).
 *
 * The custody log (what the server knows: hashes, who, when) is shown at once. Once the officer unlocks the report
 * (`tnr:report-unlocked` from staff-report.js), this page can: register one of the report's files as evidence (it
 * decrypts the file here, computes the SHA-256 of the plaintext and sends only that); add a document, screenshot or
 * capture of a web page (encrypted here with the report key before it leaves); view an item (decrypted here and
 * checked against the SHA-256 taken at capture); and decrypt the items' labels. The report key is asked for through
 * `key()` each time and never kept; everything decrypted is wiped on `tnr:report-locked`. Decrypted text reaches the
 * page through textContent only.
 */
(function () {
  'use strict';

  const section = document.getElementById('evidence');
  if (!section) return;

  const reportId = section.dataset.reportId;
  const csrfToken = document.querySelector('meta[name="csrf-token"]').content;
  const api = `/app/api/reports/${reportId}/evidence`;
  const el = (id) => document.getElementById(id);
  const listBox = el('evidence-list');
  const status = el('evidence-status');
  const lockedNote = el('evidence-locked');
  const addBox = el('evidence-add');
  const fileList = el('evidence-files');
  const form = el('evidence-upload');
  const uploadStatus = el('evidence-upload-status');
  const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
  const MIME = /^[a-z0-9][a-z0-9!#$&^_.+-]*\/[a-z0-9][a-z0-9!#$&^_.+-]*$/i;

  const KINDS = {
    attachment: 'File of the report', document: 'Document', screenshot: 'Screenshot', url_capture: 'Capture of a web page',
  };
  const ACTIONS = {
    received: 'Received', decrypted: 'Decrypted', viewed: 'Viewed', exported: 'Handed out', shared: 'Shared',
    transferred: 'Transferred',
  };

  let keyOf = null; // () => the report key, or null once the page forgot it
  let reportFiles = null; // the report's and its messages' file entries (keys included), from the unlock event
  let listed = { items: [], can_add: false, max_mb: 0 };
  let described = new Map(); // item id -> its decrypted description
  let downloads = []; // object URLs of decrypted files, revoked when the page locks

  // -- small helpers (text only) -------------------------------------------------------------------------------------

  const dom = window.TnrStaffDom;
  const { node, say, humanSize } = dom;
  const fieldError = dom.setError;
  const failureText = (response) => dom.failureText(response, 'report or item');

  const isObject = (value) => typeof value === 'object' && value !== null && !Array.isArray(value);
  const text = (value) => (typeof value === 'string' ? value : '');

  const when = (iso) => node('time', { datetime: iso }, `${String(iso).slice(0, 10)} ${String(iso).slice(11, 19)} UTC`);
  const shortHash = (hash) => node('code', { title: text(hash) }, `${text(hash).slice(0, 16)}…`);

  function post(url, body) {
    return fetch(url, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json', 'X-CSRF-Token': csrfToken },
      body: JSON.stringify(body),
    });
  }

  /** Fetch ciphertext, decrypt it as it arrives and hash the plaintext. Returns {sha256, size, pieces}; `pieces`
   * is kept only when `keep` is set (the caller wipes them). */
  async function openFile(url, key, ad, keep) {
    const response = await fetch(url, { cache: 'no-store' });
    if (!response.ok) throw new Error(await failureText(response));
    const decryptor = TnrCrypto.fileDecryptor(key, ad);
    let hash = sodium.crypto_hash_sha256_init();
    const pieces = [];
    let size = 0;
    try {
      const take = (chunks) => {
        for (const chunk of chunks) {
          sodium.crypto_hash_sha256_update(hash, chunk);
          size += chunk.length;
          if (keep) pieces.push(chunk);
          else sodium.memzero(chunk);
        }
      };
      const reader = response.body.getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        take(decryptor.push(value));
      }
      take(decryptor.finish());
      const sha256 = sodium.to_hex(sodium.crypto_hash_sha256_final(hash));
      hash = null;
      return { sha256, size, pieces };
    } catch (error) {
      for (const piece of pieces) sodium.memzero(piece);
      throw error;
    } finally {
      if (hash !== null) sodium.crypto_hash_sha256_final(hash);
    }
  }

  // -- the list and its custody logs ---------------------------------------------------------------------------------

  async function load() {
    try {
      const response = await fetch(api, { cache: 'no-store', headers: { Accept: 'application/json' } });
      if (!response.ok) {
        say(status, await failureText(response), true);
        return;
      }
      listed = await response.json();
      describe();
      render();
    } catch (_) {
      say(status, 'The evidence could not be loaded: the connection failed. Reload the page.', true);
    }
  }

  /** Decrypt each item's description (label, file name, a capture's address) with the report key, if it is open. */
  function describe() {
    described = new Map();
    const key = keyOf ? keyOf() : null;
    if (!key) return;
    for (const item of listed.items) {
      try {
        const doc = TnrCrypto.decryptDocument(TnrCrypto.unb64(item.meta), key,
          TnrCrypto.context('evidence-meta', reportId, item.id));
        if (isObject(doc)) described.set(item.id, doc);
      } catch (_) {
        described.set(item.id, null); // shown as not opening
      }
    }
  }

  function detailText(event) {
    const d = isObject(event.detail) ? event.detail : {};
    switch (event.action) {
      case 'received':
        return ['SHA-256 at capture ', shortHash(d.sha256), `, ${humanSize(d.size)}`];
      case 'decrypted':
        return ['decrypted in the browser, SHA-256 ', shortHash(d.sha256)];
      case 'exported':
        return [d.match ? 'the encrypted file handed out is the one captured' : '✗ the encrypted file handed out is NOT the one captured'];
      case 'viewed':
        return [d.match ? '✓ SHA-256 matches the capture' : '✗ SHA-256 does NOT match the capture: ', d.match ? '' : shortHash(d.sha256)];
      case 'shared':
        return [`with the focal point ${text(d.to_jurisdiction)}`];
      case 'transferred':
        return [`to ${text(d.recipient)}`];
      default:
        return [JSON.stringify(d)];
    }
  }

  function custodyTable(item) {
    const body = node('tbody');
    for (const event of item.events) {
      body.append(node('tr', {},
        node('td', { class: 'staff-number' }, String(event.seq)),
        node('td', {}, when(event.at)),
        node('td', {}, text(event.username)),
        node('th', { scope: 'row' }, ACTIONS[event.action] || text(event.action)),
        node('td', {}, ...detailText(event))));
    }
    return node('div', { class: 'staff-table-scroll' },
      node('table', { class: 'staff-table staff-custody' },
        node('caption', {}, 'Custody log'),
        node('thead', {}, node('tr', {},
          node('th', { scope: 'col' }, '#'), node('th', { scope: 'col' }, 'When'), node('th', { scope: 'col' }, 'Who'),
          node('th', { scope: 'col' }, 'What'), node('th', { scope: 'col' }, 'Details'))),
        body));
  }

  function itemTitle(item) {
    const kind = KINDS[item.kind] || item.kind;
    if (!described.has(item.id)) return [kind, node('span', { class: 'staff-empty' }, ' · label locked')];
    const doc = described.get(item.id);
    if (doc === null) return [kind, node('span', { class: 'staff-mismatch' }, ' · its description does not open')];
    return [kind, ' · ', text(doc.label) || text(doc.name) || '(no label)'];
  }

  function renderItem(item) {
    const doc = described.get(item.id);
    const rows = [
      ['SHA-256 at capture', node('code', { class: 'staff-hash' }, item.sha256)],
      ['Size', humanSize(item.size)],
      ['Captured', when(item.captured_at)],
      ['Custody log', item.problem
        ? node('span', { class: 'staff-mismatch' }, `✗ broken: ${item.problem}`)
        : node('span', { class: 'staff-verified' }, `✓ intact (${item.events.length} ${item.events.length === 1 ? 'entry' : 'entries'})`)],
    ];
    if (isObject(doc) && text(doc.url)) rows.splice(2, 0, ['Address', node('code', { class: 'staff-hash' }, text(doc.url))]);
    if (isObject(doc) && text(doc.captured_at)) rows.splice(3, 0, ['Page captured', text(doc.captured_at)]);
    const facts = node('dl', { class: 'facts' });
    for (const [label, value] of rows) facts.append(node('dt', {}, label), node('dd', {}, value));

    const result = node('p', { class: 'staff-file-result', role: 'status' });
    const view = node('button', { type: 'button', class: 'staff-button staff-button-quiet staff-button-small' },
      'View and verify', node('span', { class: 'visually-hidden' }, ` item ${item.id.slice(0, 8)}`));
    view.disabled = !keyOf;
    view.addEventListener('click', () => viewItem(item, view, result));
    const box = node('li', { class: 'staff-evidence-item', id: `evidence-${item.id}` },
      node('h3', {}, ...itemTitle(item)), facts, node('div', { class: 'staff-actions' }, view), result,
      custodyTable(item));
    if (listed.can_add) box.append(transferForm(item));
    return box;
  }

  function transferForm(item) {
    const id = `transfer-${item.id}`;
    const input = node('input', { id, name: 'recipient', type: 'text', maxlength: '200', required: '',
      'aria-describedby': `${id}-error` });
    const error = node('p', { id: `${id}-error`, class: 'staff-field-error', hidden: '' });
    const done = node('p', { class: 'staff-status', role: 'status' });
    const transferFormNode = node('form', { class: 'staff-form staff-transfer', novalidate: '' },
      node('div', { class: 'staff-field' },
        node('label', { for: id }, 'Hand custody to (authority and reference)'), input, error),
      node('button', { type: 'submit', class: 'staff-button staff-button-quiet' }, 'Record the transfer'), done);
    transferFormNode.addEventListener('submit', async (event) => {
      event.preventDefault();
      fieldError(input, error, '');
      if (!input.value.trim()) {
        fieldError(input, error, 'Name who received it, e.g. "Bundeskriminalamt, case 123".');
        return;
      }
      const response = await post(`${api}/${item.id}/transfers`, { recipient: input.value });
      if (response.status !== 201) {
        say(done, await failureText(response), true);
        return;
      }
      await load();
      say(status, 'The transfer was recorded in the custody log.');
    });
    return transferFormNode;
  }

  function render() {
    if (!listed.items.length) {
      listBox.replaceChildren(node('p', { class: 'staff-empty' }, 'No evidence yet.'));
    } else {
      listBox.replaceChildren(node('ol', { class: 'staff-evidence-list' }, ...listed.items.map(renderItem)));
    }
    el('evidence-limit').textContent = listed.max_mb ? `At most ${listed.max_mb} MiB.` : '';
    lockedNote.hidden = Boolean(keyOf);
    addBox.hidden = !(keyOf && listed.can_add);
    renderFiles();
  }

  // -- the report's files --------------------------------------------------------------------------------------------

  const entries = () => (Array.isArray(reportFiles) ? reportFiles : [])
    .filter((entry) => isObject(entry) && typeof entry.id === 'string' && UUID.test(entry.id) && typeof entry.key === 'string');

  function renderFiles() {
    const kept = new Set(listed.items.map((item) => item.attachment_id));
    const files = entries();
    fileList.replaceChildren(...files.map((entry) => {
      const name = text(entry.name) || '(no name)';
      const result = node('p', { class: 'staff-file-result', role: 'status' });
      const item = node('li', { class: 'staff-file' }, node('span', { class: 'staff-file-name' }, name),
        node('span', { class: 'staff-file-meta' }, `${text(entry.type) || 'unknown type'}, ${humanSize(entry.size)}`));
      if (kept.has(entry.id)) {
        item.append(node('p', { class: 'staff-file-result' }, 'Kept as evidence (see above).'));
      } else {
        const button = node('button', { type: 'button', class: 'staff-button staff-button-small' },
          'Register as evidence', node('span', { class: 'visually-hidden' }, ` ${name}`));
        button.addEventListener('click', () => register(entry, button, result));
        item.append(node('div', {}, button), result);
      }
      return item;
    }));
    if (!files.length) fileList.replaceChildren(node('li', { class: 'staff-empty' }, 'The report came without files.'));
  }

  async function register(entry, button, result) {
    const reportKey = keyOf && keyOf();
    if (!reportKey) return;
    button.disabled = true;
    result.replaceChildren('Downloading, decrypting and hashing…');
    let key = null;
    try {
      key = TnrCrypto.unb64(entry.key);
      const opened = await openFile(`/app/api/reports/${reportId}/attachments/${entry.id}`, key,
        TnrCrypto.context('attachment', reportId, entry.id), false);
      const itemId = TnrCrypto.newUuid();
      const type = MIME.test(text(entry.type)) ? entry.type : '';
      const meta = TnrCrypto.encryptDocument({ v: 1, label: text(entry.name), name: text(entry.name), type },
        reportKey, TnrCrypto.context('evidence-meta', reportId, itemId));
      const response = await post(`${api}/attachments`, {
        item_id: itemId, attachment_id: entry.id, sha256: opened.sha256, size: opened.size, meta: TnrCrypto.b64(meta),
      });
      if (response.status !== 201) {
        result.replaceChildren(await failureText(response));
        return;
      }
      const matches = text(entry.sha256).toLowerCase() === opened.sha256;
      await load();
      say(status, `Registered as evidence. SHA-256 ${opened.sha256}` +
        (matches ? ', the one the reporter\'s browser computed.' : '. It differs from the one the reporter\'s browser computed: treat the file with care.'));
    } catch (error) {
      result.replaceChildren(node('span', { class: 'staff-mismatch' }, 'Not registered: '),
        error && error.code ? 'the file does not open (damaged, incomplete or altered).' : String(error.message || error));
    } finally {
      if (key) sodium.memzero(key);
      button.disabled = false;
    }
  }

  // -- viewing -------------------------------------------------------------------------------------------------------

  async function viewItem(item, button, result) {
    const reportKey = keyOf && keyOf();
    if (!reportKey) return;
    let key = null;
    let ad;
    if (item.kind === 'attachment') {
      const entry = entries().find((candidate) => candidate.id === item.attachment_id);
      if (!entry) {
        result.replaceChildren('The report does not describe this file, so its key is unknown here.');
        return;
      }
      key = TnrCrypto.unb64(entry.key);
      ad = TnrCrypto.context('attachment', reportId, entry.id);
    } else {
      ad = TnrCrypto.context('evidence', reportId, item.id);
    }
    button.disabled = true;
    result.replaceChildren('Downloading, decrypting and checking…');
    let opened = null;
    try {
      opened = await openFile(`${api}/${item.id}/file`, key || reportKey, ad, true);
      const match = opened.sha256 === item.sha256;
      const doc = described.get(item.id);
      const type = isObject(doc) && MIME.test(text(doc.type)) ? doc.type : 'application/octet-stream';
      const url = URL.createObjectURL(new Blob(opened.pieces, { type }));
      downloads.push(url);
      const name = (isObject(doc) && (text(doc.name) || text(doc.label))) || `evidence-${item.id.slice(0, 8)}`;
      const save = node('a', { href: url, download: name, class: 'staff-button staff-button-quiet staff-button-small' }, 'Save the decrypted file');
      const response = await post(`${api}/${item.id}/viewed`, { sha256: opened.sha256 });
      const recorded = response.status === 201 ? '' : ` (not recorded in the custody log: ${await failureText(response)})`;
      result.replaceChildren(
        match ? node('span', { class: 'staff-verified' }, '✓ Verified: ') : node('span', { class: 'staff-mismatch' }, '✗ NOT matching: '),
        match ? 'the SHA-256 of the decrypted file is the one taken at capture. '
          : 'the SHA-256 of the decrypted file differs from the one taken at capture. ',
        'SHA-256: ', node('code', { class: 'staff-hash' }, opened.sha256), recorded, ' ', save);
      await refreshLog(item.id);
    } catch (error) {
      result.replaceChildren(node('span', { class: 'staff-mismatch' }, 'The file does not open: '),
        error && error.code ? 'it is damaged, incomplete or was altered.' : String(error.message || error));
    } finally {
      if (opened) for (const piece of opened.pieces) sodium.memzero(piece); // the Blob holds its own copy
      if (key) sodium.memzero(key);
      button.disabled = false;
    }
  }

  /** Show the item's new custody entries, keeping the verdict just shown. */
  async function refreshLog(itemId) {
    const response = await fetch(api, { cache: 'no-store', headers: { Accept: 'application/json' } });
    if (!response.ok) return;
    listed = await response.json();
    const item = listed.items.find((candidate) => candidate.id === itemId);
    const box = el(`evidence-${itemId}`);
    if (!item || !box) return;
    const fresh = renderItem(item);
    fresh.querySelector('.staff-file-result').replaceWith(box.querySelector('.staff-file-result'));
    box.replaceWith(fresh);
  }

  // -- adding a document, screenshot or capture ----------------------------------------------------------------------

  const kindSelect = el('evidence-kind');
  kindSelect.addEventListener('change', () => { el('evidence-url-field').hidden = kindSelect.value !== 'url_capture'; });

  async function upload(event) {
    event.preventDefault();
    const fileInput = el('evidence-file');
    const urlInput = el('evidence-url');
    fieldError(fileInput, el('evidence-file-error'), '');
    fieldError(urlInput, el('evidence-url-error'), '');
    say(uploadStatus, '');
    const reportKey = keyOf && keyOf();
    if (!reportKey) return;
    const kind = kindSelect.value;
    let url = '';
    if (kind === 'url_capture') {
      url = urlInput.value.trim();
      let parsed = null;
      try {
        parsed = new URL(url);
      } catch (_) { /* below */ }
      if (!parsed || !['http:', 'https:'].includes(parsed.protocol)) {
        fieldError(urlInput, el('evidence-url-error'), 'Give the page\'s address, starting with https:// or http://.');
        return;
      }
    }
    const file = fileInput.files[0];
    if (!file) {
      fieldError(fileInput, el('evidence-file-error'), 'Choose the file to add.');
      return;
    }
    if (listed.max_mb && file.size > listed.max_mb * 1024 * 1024) {
      fieldError(fileInput, el('evidence-file-error'), `This file is ${humanSize(file.size)}; the node accepts at most ${listed.max_mb} MiB.`);
      return;
    }
    const button = form.querySelector('button');
    button.disabled = true;
    say(uploadStatus, 'Encrypting…');
    const pieces = [];
    try {
      const itemId = TnrCrypto.newUuid();
      const sealed = await TnrCrypto.encryptFile(file, reportKey, TnrCrypto.context('evidence', reportId, itemId),
        async (piece) => { pieces.push(piece); });
      const captured = el('evidence-captured').value;
      const doc = {
        v: 1, label: el('evidence-label').value.trim() || file.name, name: file.name,
        type: MIME.test(file.type) ? file.type : '', url: url || null,
        captured_at: kind === 'url_capture' && captured ? new Date(captured).toISOString() : null,
      };
      const meta = TnrCrypto.encryptDocument(doc, reportKey, TnrCrypto.context('evidence-meta', reportId, itemId));
      const query = new URLSearchParams({
        item_id: itemId, kind, sha256: sealed.sha256, size: String(sealed.size), meta: TnrCrypto.b64(meta),
      });
      say(uploadStatus, 'Sending the encrypted file…');
      const response = await fetch(`${api}?${query}`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/octet-stream', Accept: 'application/json', 'X-CSRF-Token': csrfToken },
        body: new Blob(pieces),
      });
      if (response.status !== 201) {
        say(uploadStatus, `Not added. ${await failureText(response)}`, true);
        return;
      }
      form.reset();
      el('evidence-url-field').hidden = true;
      await load();
      say(uploadStatus, `Added as evidence. SHA-256 of the file taken at capture: ${sealed.sha256}.`);
    } catch (_) {
      say(uploadStatus, 'Not added: the file could not be read or the connection failed. Try again.', true);
    } finally {
      pieces.length = 0;
      button.disabled = false;
    }
  }

  form.addEventListener('submit', upload);

  // -- the report's key comes and goes -------------------------------------------------------------------------------

  document.addEventListener('tnr:report-unlocked', (event) => {
    keyOf = typeof event.detail.key === 'function' ? event.detail.key : null;
    reportFiles = event.detail.files;
    describe();
    render();
  });

  document.addEventListener('tnr:report-locked', () => {
    keyOf = null;
    reportFiles = null;
    described = new Map();
    for (const url of downloads) URL.revokeObjectURL(url);
    downloads = [];
    form.reset();
    say(uploadStatus, '');
    render();
  });

  load();
}());
