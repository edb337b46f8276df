/* followup.js: open a report with its receipt, in this browser, read the replies and send more.
 *
 * The receipt never leaves the page: it gives the lookup token (what the server knows the report by) and the
 * reporter's key pair (which opens the report key). Without this script the same form posts to /follow-up/plain.
 * Uses the intake protocol of report.js (window.TnrIntake) for uploads and proofs of work.
 */
(function () {
  'use strict';

  const form = document.getElementById('receipt-form');
  if (!form || !window.TnrIntake) return;

  const I = window.TnrIntake;
  const $ = (id) => document.getElementById(id);
  const messages = I.pageMessages();
  const words = JSON.parse($('choices').textContent);
  const lang = document.documentElement.lang || 'en';
  const input = $('receipt');
  const status = $('followup-status');
  const threadSection = $('thread');
  let opened = null; // {lookup, reportId, reportKey}

  function fieldError(errorId, control, text) {
    const box = $(errorId);
    box.textContent = text || '';
    box.hidden = !text;
    if (text) control.setAttribute('aria-invalid', 'true');
    else control.removeAttribute('aria-invalid');
  }

  function receiptProblem(error) {
    if (error.code === 'length') {
      return I.format(messages.length, { count: [...TnrCrypto.normaliseReceipt(input.value)].length });
    }
    if (error.code === 'alphabet') {
      const wrong = [...new Set([...TnrCrypto.normaliseReceipt(input.value)]
        .filter((ch) => !'0123456789ABCDEFGHJKMNPQRSTVWXYZ'.includes(ch)))];
      return I.format(messages.alphabet, { characters: wrong.join(' ') });
    }
    return messages.checksum;
  }

  function errorText(error) {
    if (error instanceof I.ApiError) return messages[error.code] || messages.error;
    return messages.broken;
  }

  const when = (iso, withTime) => {
    const date = new Date(withTime ? iso : `${iso}T00:00:00Z`);
    try {
      return new Intl.DateTimeFormat(lang, withTime
        ? { dateStyle: 'medium', timeStyle: 'short' }
        : { dateStyle: 'long', timeZone: 'UTC' }).format(date);
    } catch (_) {
      return iso;
    }
  };

  // -- opening --

  async function fetchThread() {
    return I.withRetries(() => I.call('POST', '/follow-up/api/thread', { lookup: opened.lookup }));
  }

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const button = form.querySelector('button[type="submit"]');
    try {
      await TnrCrypto.ready;
    } catch (_) {
      status.textContent = messages.unsupported;
      return;
    }
    if (!input.value.trim()) {
      fieldError('receipt-error', input, messages.empty);
      input.focus();
      return;
    }
    let secret;
    try {
      secret = TnrCrypto.parseReceipt(input.value);
    } catch (error) {
      fieldError('receipt-error', input, receiptProblem(error)); // checked here, before anything is sent
      input.focus();
      return;
    }
    fieldError('receipt-error', input, '');
    button.disabled = true;
    status.textContent = messages.opening;
    try {
      const lookup = TnrCrypto.b64(TnrCrypto.lookupToken(secret));
      let thread;
      try {
        thread = await I.withRetries(() => I.call('POST', '/follow-up/api/thread', { lookup }));
      } catch (error) {
        if (error instanceof I.ApiError && error.status === 404) {
          status.textContent = '';
          fieldError('receipt-error', input, messages.not_found);
          input.focus();
          return;
        }
        throw error;
      }
      const pair = TnrCrypto.reporterKeyPair(secret);
      const reportId = thread.report.id;
      const reportKey = TnrCrypto.openReportKey(
        TnrCrypto.unb64(thread.sealed_key), pair.publicKey, pair.privateKey, reportId, 'reporter');
      window.sodium.memzero(pair.privateKey);
      opened = { lookup, reportId, reportKey };
      render(thread);
      input.value = ''; // the receipt has done its work; do not leave it in the page
      form.hidden = true;
      threadSection.hidden = false;
      status.textContent = messages.opened;
      $('thread-heading').focus();
    } catch (error) {
      status.textContent = errorText(error);
    } finally {
      button.disabled = false;
    }
  });

  $('close-thread').addEventListener('click', () => {
    opened = null;
    threadSection.hidden = true;
    ['thread-meta', 'answers', 'messages-list', 'reply-progress'].forEach((id) => $(id).replaceChildren());
    $('reply-form').reset();
    form.hidden = false;
    status.textContent = messages.closed;
    input.focus();
  });

  // -- showing the thread --

  function element(tag, text, className) {
    const node = document.createElement(tag);
    if (text !== undefined) node.textContent = text;
    if (className) node.className = className;
    return node;
  }

  function render(thread) {
    const report = thread.report;
    const meta = $('thread-meta');
    meta.replaceChildren();
    const rows = [
      [messages.received_at, when(report.received_at, true)],
      [messages.acknowledge_by, when(report.acknowledge_by, false)],
      [messages.status, messages[`status_${report.status}`] || report.status],
    ];
    if (report.urgent) rows.push([messages.urgent_flag, messages.yes]);
    rows.forEach(([term, value]) => meta.append(element('dt', term), element('dd', value)));

    const answers = TnrCrypto.decryptDocument(
      TnrCrypto.unb64(thread.answers), opened.reportKey, TnrCrypto.context('answers', opened.reportId));
    const sent = showAnswers(answers);
    const files = element('ul', undefined, 'attachments');
    showFiles(files, entriesOf(answers), new Set(thread.attachments.map((a) => a.id)));
    const filesAnswer = files.childElementCount ? element('dd') : element('dd', messages.not_answered, 'unanswered');
    if (files.childElementCount) filesAnswer.append(files);
    sent.append(element('dt', messages.labels.files), filesAnswer);

    const list = $('messages-list');
    list.replaceChildren();
    for (const message of thread.messages) list.append(messageItem(message));
    $('no-messages').hidden = thread.messages.length > 0;
  }

  const entriesOf = (doc) => (doc && Array.isArray(doc.attachments)
    ? doc.attachments.filter((entry) => entry && typeof entry === 'object') : []);

  function showAnswers(doc) {
    const box = $('answers');
    box.replaceChildren();
    const labels = messages.labels;
    const get = (part, key) => (doc[part] && typeof doc[part] === 'object' ? doc[part][key] : undefined);
    const phrase = (map, code) => map[code] || String(code);
    const list = element('dl');
    const rows = [
      ['jurisdiction', doc.jurisdiction ? phrase(words.jurisdictions, doc.jurisdiction) : ''],
      ['tactic_families', (get('what', 'tactic_families') || []).map((code) => phrase(words.families, code)).join('\n')],
      ['description', get('what', 'description')],
      ['host_country', get('where', 'host_country') ? phrase(words.countries, get('where', 'host_country')) : ''],
      ['place', get('where', 'place')],
      ['date', get('when', 'date')],
      ['approximately', get('when', 'date_unknown') ? get('when', 'approximately') || labels.date_unknown : ''],
      ['who', get('targeted', 'who') ? phrase(words.who, get('targeted', 'who')) : ''],
      ['who_description', get('targeted', 'description')],
      ['origin_country', get('responsible', 'origin_country') ? phrase(words.countries, get('responsible', 'origin_country')) : ''],
      ['responsible', get('responsible', 'description')],
      ['wants', (Array.isArray(doc.wants) ? doc.wants : []).map((code) => phrase(words.wants, code)).join('\n')],
      ['urgent', doc.urgent ? messages.yes : messages.no],
      ['contact', doc.contact],
    ];
    for (const [key, value] of rows) {
      const text = typeof value === 'string' ? value.trim() : '';
      if (key === 'approximately' && !text) continue;
      list.append(element('dt', labels[key]));
      const answer = text ? element('dd', text) : element('dd', messages.not_answered, 'unanswered');
      if (text) answer.dir = 'auto'; // what was typed may be in another script than the page
      list.append(answer);
    }
    box.append(list);
    return list;
  }

  function messageItem(message) {
    const mine = message.author === 'reporter';
    const item = element('li', undefined, `message ${mine ? 'from-reporter' : 'from-officer'}`);
    const header = element('header');
    const time = element('time', when(message.sent_at, true));
    time.dateTime = message.sent_at;
    header.append(element('span', mine ? messages.you : messages.officer), time);
    item.append(header);
    try {
      const doc = TnrCrypto.decryptDocument(TnrCrypto.unb64(message.ciphertext), opened.reportKey,
        TnrCrypto.context('message', opened.reportId, message.id));
      const text = element('p', typeof doc.text === 'string' ? doc.text : '', 'text');
      text.dir = 'auto';
      item.append(text);
      const files = element('ul', undefined, 'attachments');
      showFiles(files, entriesOf(doc), new Set(message.attachments.map((a) => a.id)));
      if (files.childElementCount) item.append(files);
    } catch (_) {
      item.append(element('p', messages.broken, 'text'));
    }
    return item;
  }

  // -- files: download, decrypt, check the fingerprint --

  function showFiles(list, entries, present) {
    list.replaceChildren();
    for (const entry of entries) {
      const row = element('li');
      const note = element('span', undefined, 'check');
      note.setAttribute('role', 'status');
      if (present.has(entry.id)) {
        const button = element('button', I.format(messages.download, { name: String(entry.name) }));
        button.type = 'button';
        button.addEventListener('click', () => download(entry, button, note));
        row.append(button, element('span', I.humanSize(Number(entry.size) || 0, lang)), note);
      } else {
        row.append(element('span', String(entry.name)), element('span', messages.file_missing, 'check'));
      }
      list.append(row);
    }
  }

  async function download(entry, button, note) {
    button.disabled = true;
    note.className = 'check';
    note.textContent = messages.downloading;
    const sodium = window.sodium;
    let hash = null;
    try {
      const response = await I.request('POST', '/follow-up/api/attachment', {
        lookup: opened.lookup, attachment_id: entry.id,
      });
      const decryptor = TnrCrypto.fileDecryptor(
        TnrCrypto.unb64(entry.key), TnrCrypto.context('attachment', opened.reportId, entry.id));
      hash = sodium.crypto_hash_sha256_init();
      const parts = [];
      const keep = (pieces) => pieces.forEach((piece) => {
        sodium.crypto_hash_sha256_update(hash, piece);
        parts.push(piece);
      });
      if (response.body && response.body.getReader) {
        const reader = response.body.getReader();
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          keep(decryptor.push(value));
        }
      } else {
        keep(decryptor.push(new Uint8Array(await response.arrayBuffer())));
      }
      keep(decryptor.finish());
      const digest = sodium.to_hex(sodium.crypto_hash_sha256_final(hash));
      hash = null;
      if (digest !== String(entry.sha256).toLowerCase()) {
        note.className = 'check bad';
        note.textContent = messages.file_bad;
        return;
      }
      const type = /^[\w.+-]+\/[\w.+-]+$/.test(entry.type) ? entry.type : 'application/octet-stream';
      const url = URL.createObjectURL(new Blob(parts, { type }));
      const link = document.createElement('a');
      link.href = url;
      link.download = String(entry.name || 'file');
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(url), 60000);
      note.textContent = messages.file_ok;
    } catch (error) {
      note.className = 'check bad';
      note.textContent = errorText(error);
    } finally {
      if (hash !== null) sodium.crypto_hash_sha256_final(hash); // frees it
      button.disabled = false;
    }
  }

  // -- replying --

  const replyForm = $('reply-form');
  const replyText = $('reply-text');
  const replyFiles = $('reply-files');
  const replyStatus = $('reply-status');
  const maxFiles = Number(replyForm.dataset.maxFiles);
  const maxBytes = Number(replyForm.dataset.maxMb) * 1024 * 1024;

  function fileProblems(files) {
    const problems = [];
    if (files.length > maxFiles) problems.push(I.format(messages.too_many_files, { count: files.length, max: maxFiles }));
    files.filter((file) => file.size > maxBytes)
      .forEach((file) => problems.push(I.format(messages.file_too_large, { name: file.name, max: maxBytes / 1048576 })));
    return problems.join(' ');
  }

  replyForm.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (!opened) return;
    const text = replyText.value.trim();
    const files = replyFiles ? Array.from(replyFiles.files) : [];
    fieldError('reply-error', replyText, text || files.length ? '' : messages.nothing_to_send);
    if (replyFiles) fieldError('reply-files-error', replyFiles, fileProblems(files));
    const invalid = replyForm.querySelector('[aria-invalid="true"]');
    if (invalid) {
      invalid.focus();
      return;
    }
    const button = replyForm.querySelector('button[type="submit"]');
    button.disabled = true;
    const progress = $('reply-progress');
    progress.replaceChildren();
    const retrying = (seconds) => { replyStatus.textContent = I.format(messages.retrying, { seconds }); };
    try {
      const messageId = TnrCrypto.newUuid();
      const entries = [];
      for (const [index, file] of files.entries()) {
        const row = I.progressRow(progress, file.name, index);
        replyStatus.textContent = I.format(messages.encrypting, { name: file.name });
        entries.push(await I.uploadFile(file, opened.reportId, { onProgress: row.update, onRetry: retrying }));
        row.update(1, 1);
      }
      const ciphertext = TnrCrypto.encryptDocument(
        { v: 1, kind: 'message', text, attachments: entries },
        opened.reportKey, TnrCrypto.context('message', opened.reportId, messageId));
      const body = {
        lookup: opened.lookup, message_id: messageId, ciphertext: TnrCrypto.b64(ciphertext),
        attachments: entries.map((entry) => entry.id),
      };
      try {
        await I.withRetries(async () => {
          replyStatus.textContent = messages.proving;
          const pow = await I.proofOfWork();
          replyStatus.textContent = messages.sending;
          return I.call('POST', '/follow-up/api/messages', { ...body, pow });
        }, retrying);
      } catch (error) {
        // "Received already": an earlier attempt got through and only its answer was lost.
        const arrived = error instanceof I.ApiError && error.code === 'conflict'
          && (await fetchThread()).messages.some((message) => message.id === messageId);
        if (!arrived) throw error;
      }
      replyForm.reset();
      progress.replaceChildren();
      render(await fetchThread());
      replyStatus.textContent = messages.sent;
    } catch (error) {
      replyStatus.textContent = errorText(error);
    } finally {
      button.disabled = false;
    }
  });
}());
