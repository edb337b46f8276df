/* report.js: the report form (one step at a time), and the intake protocol the follow-up page shares.
 *
 * Everything the reporter types or attaches is encrypted here (tnr-crypto.js) before it is sent; the only answer
 * the server reads is "urgent". Nothing typed is ever logged or sent in the clear. No time limits: proofs of work
 * are fetched fresh right before each use, so a form left open for days still sends.
 */
(function () {
  'use strict';

  // -- shared: JSON calls, proof of work, resumable uploads -------------------------------------------------------

  const RETRY_DELAYS = [1, 2, 4, 8, 15, 30, 30, 30]; // seconds; then the reporter decides ("Try again")

  class ApiError extends Error {
    constructor(status, body) {
      super(`request failed with status ${status}`);
      this.status = status;
      this.code = (body && body.code) || (status === 0 ? 'network' : 'error');
      this.received = body && typeof body.received === 'number' ? body.received : null;
      this.transient = status === 0 || status >= 500; // worth retrying: the request may not have arrived
    }
  }

  /** fetch() that rejects with ApiError on a lost connection or a non-2xx answer; resolves the Response. */
  async function request(method, path, body) {
    const init = { method, headers: {}, cache: 'no-store', credentials: 'omit', referrerPolicy: 'no-referrer' };
    if (body instanceof Uint8Array) {
      init.headers['Content-Type'] = 'application/octet-stream';
      init.body = body;
    } else if (body !== undefined) {
      init.headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    let response;
    try {
      response = await fetch(path, init);
    } catch (_) {
      throw new ApiError(0, null);
    }
    if (!response.ok) {
      let answer = null;
      try {
        answer = await response.json();
      } catch (_) { /* not JSON: the status says enough */ }
      throw new ApiError(response.status, answer);
    }
    return response;
  }

  async function call(method, path, body) {
    const response = await request(method, path, body);
    try {
      return await response.json();
    } catch (_) {
      throw new ApiError(0, null);
    }
  }

  const wait = (seconds) => new Promise((resolve) => { setTimeout(resolve, seconds * 1000); });

  /** Run `attempt` again after a lost connection or a server error, telling `onRetry(seconds)` before each wait. */
  async function withRetries(attempt, onRetry) {
    for (let round = 0; ; round++) {
      try {
        return await attempt(round);
      } catch (error) {
        if (!(error instanceof ApiError) || !error.transient || round >= RETRY_DELAYS.length) throw error;
        if (onRetry) onRetry(RETRY_DELAYS[round]);
        await wait(RETRY_DELAYS[round]);
      }
    }
  }

  async function proofOfWork() {
    const challenge = await call('GET', '/report/api/challenge');
    const counter = await TnrCrypto.solveChallenge(challenge.token);
    return { token: challenge.token, counter };
  }

  /** Bytes the server stores for a file: stream header, plaintext, and 17 bytes per 1 MiB chunk (at least one). */
  function sealedSize(size) {
    return 24 + size + 17 * Math.max(1, Math.ceil(size / TnrCrypto.CHUNK_BYTES));
  }

  /** PUT one piece at `offset`; after a dropped connection ask the server how far it got and resume from there.
   * Resolves the server's new total. */
  async function putPiece(id, offset, bytes, onRetry) {
    const end = offset + bytes.length;
    for (let round = 0; ; round++) {
      let received;
      try {
        return (await call('PUT', `/report/api/uploads/${id}?offset=${offset}`, bytes)).received;
      } catch (error) {
        if (!(error instanceof ApiError)) throw error;
        if (error.code === 'upload_offset' && error.received !== null) {
          received = error.received;
        } else if (!error.transient || round >= RETRY_DELAYS.length) {
          throw error;
        } else {
          onRetry(RETRY_DELAYS[round]);
          await wait(RETRY_DELAYS[round]);
          try {
            received = (await call('GET', `/report/api/uploads/${id}`)).received;
          } catch (again) {
            if (again instanceof ApiError && again.transient) continue;
            throw again;
          }
        }
      }
      if (received === end) return received; // the piece arrived; only its answer was lost
      if (received !== offset) throw new ApiError(409, { code: 'conflict' }); // bytes this page no longer holds
    }
  }

  /** Encrypt and upload one file for `reportId`; resolves its entry for the answers or message document.
   * hooks: onProgress(done, total) in plaintext bytes, onRetry(seconds). */
  async function uploadFile(file, reportId, hooks) {
    const id = TnrCrypto.newUuid();
    const key = TnrCrypto.newKey();
    await withRetries(async (attempt) => {
      if (attempt > 0) { // the first start may have arrived, and only its answer got lost
        try {
          await call('GET', `/report/api/uploads/${id}`);
          return;
        } catch (error) {
          if (!(error instanceof ApiError) || error.status !== 404) throw error;
        }
      }
      const pow = await proofOfWork();
      await call('POST', '/report/api/uploads', {
        report_id: reportId, attachment_id: id, size: sealedSize(file.size), pow,
      });
    }, hooks.onRetry);
    let offset = 0;
    const sealed = await TnrCrypto.encryptFile(
      file, key, TnrCrypto.context('attachment', reportId, id),
      async (bytes) => { offset = await putPiece(id, offset, bytes, hooks.onRetry); },
      hooks.onProgress,
    );
    return {
      id, name: file.name, type: file.type || 'application/octet-stream',
      size: sealed.size, sha256: sealed.sha256, key: TnrCrypto.b64(key),
    };
  }

  /** The page's translated texts, with `{name}` placeholders filled by format(). */
  function pageMessages() {
    const block = document.getElementById('messages');
    return block ? JSON.parse(block.textContent) : {};
  }

  function format(template, values) {
    return String(template).replace(/\{(\w+)\}/g, (whole, name) => (name in values ? String(values[name]) : whole));
  }

  /** A file-progress row: a label and a <progress> it names. Returns the row and an update(done, total). */
  function progressRow(list, name, index) {
    const row = document.createElement('li');
    const label = document.createElement('label');
    const bar = document.createElement('progress');
    bar.id = `${list.id}-${index}`;
    label.htmlFor = bar.id;
    label.textContent = name;
    bar.max = 1;
    bar.value = 0;
    row.append(label, bar);
    list.append(row);
    return { row, update(done, total) { bar.value = total ? done / total : 1; } };
  }

  function humanSize(bytes, lang) {
    const units = [['byte', 1], ['kilobyte', 1024], ['megabyte', 1024 ** 2], ['gigabyte', 1024 ** 3]];
    let [unit, base] = units[0];
    for (const candidate of units) if (bytes >= candidate[1]) [unit, base] = candidate;
    try {
      return new Intl.NumberFormat(lang, { style: 'unit', unit, unitDisplay: 'short', maximumFractionDigits: 1 })
        .format(bytes / base);
    } catch (_) {
      return `${bytes} B`;
    }
  }

  window.TnrIntake = Object.freeze({
    ApiError, request, call, withRetries, proofOfWork, uploadFile, pageMessages, format, progressRow, humanSize,
  });

  // -- the report form ----------------------------------------------------------------------------------------------

  const form = document.getElementById('report-form');
  if (!form) return;

  const app = document.getElementById('report-app');
  const messages = pageMessages();
  const lang = document.documentElement.lang || 'en';
  const steps = Array.from(form.querySelectorAll('fieldset.step'));
  const progress = document.getElementById('progress');
  const $ = (id) => document.getElementById(id);
  const field = {
    jurisdiction: $('jurisdiction'), description: $('description'), host: $('host_country'), place: $('place'),
    date: $('date'), dateUnknown: $('date_unknown'), approximately: $('approximately'),
    whoDescription: $('who_description'), origin: $('origin_country'), responsible: $('responsible'),
    files: $('files'), contact: $('contact'),
  };
  const maxFiles = Number(form.dataset.maxFiles);
  const maxBytes = Number(form.dataset.maxMb) * 1024 * 1024;
  let current = 0;

  const heading = (step) => step.querySelector('legend h2');
  const checked = (name) => Array.from(form.querySelectorAll(`input[name="${name}"]:checked`)).map((box) => box.value);

  function show(index) {
    steps.forEach((step, i) => { step.hidden = i !== index; });
    current = index;
    progress.textContent = format(messages.step, { number: index + 1, total: steps.length });
    if (index === steps.length - 1) buildReview();
    heading(steps[index]).focus();
  }

  // -- errors tied to their fields --

  function setError(errorId, message, controls) {
    const box = $(errorId);
    box.textContent = message;
    box.hidden = false;
    controls.forEach((control) => control.setAttribute('aria-invalid', 'true'));
  }

  function clearError(errorId, controls) {
    const box = $(errorId);
    box.textContent = '';
    box.hidden = true;
    controls.forEach((control) => control.removeAttribute('aria-invalid'));
  }

  const familyBoxes = Array.from(form.querySelectorAll('input[name="tactic_families"]'));
  const urgentRadios = Array.from(form.querySelectorAll('input[name="urgent"]'));

  /** Check one step; show each problem by its field and return the first control to focus, or null. */
  function problemsIn(index) {
    const stepId = steps[index].id;
    const first = [];
    // The focal point may stay open until sending (step 3 can suggest one); only then is it required.
    if (stepId === 'step-1' && field.jurisdiction.value) clearError('jurisdiction-error', [field.jurisdiction]);
    if (stepId === 'step-2') {
      const nothing = checked('tactic_families').length === 0 && field.description.value.trim() === '';
      if (nothing) {
        setError('families-error', messages.nothing_happened, familyBoxes);
        first.push(familyBoxes[0]);
      } else clearError('families-error', familyBoxes);
    }
    if (stepId === 'step-3') {
      const today = new Date();
      const local = `${today.getFullYear()}-${String(today.getMonth() + 1).padStart(2, '0')}-${String(today.getDate()).padStart(2, '0')}`;
      if (field.date.value && field.date.value > local) {
        setError('date-error', messages.date_future, [field.date]);
        first.push(field.date);
      } else clearError('date-error', [field.date]);
    }
    if (stepId === 'step-6') {
      if (checked('urgent').length === 0) {
        setError('urgent-error', messages.urgent_missing, urgentRadios);
        first.push(urgentRadios[0]);
      } else clearError('urgent-error', urgentRadios);
    }
    if (stepId === 'step-7' && field.files) {
      const files = Array.from(field.files.files);
      const large = files.filter((file) => file.size > maxBytes);
      const problems = [];
      if (files.length > maxFiles) problems.push(format(messages.too_many_files, { count: files.length, max: maxFiles }));
      large.forEach((file) => problems.push(format(messages.file_too_large, { name: file.name, max: maxBytes / 1048576 })));
      if (problems.length) {
        setError('files-error', problems.join(' '), [field.files]);
        first.push(field.files);
      } else clearError('files-error', [field.files]);
    }
    return first[0] || null;
  }

  function next() {
    const problem = problemsIn(current);
    if (problem) {
      problem.focus();
      return;
    }
    if (current < steps.length - 1) show(current + 1);
  }

  form.addEventListener('click', (event) => {
    const button = event.target.closest('button');
    if (!button || !form.contains(button)) return;
    if (button.classList.contains('next')) next();
    else if (button.classList.contains('back') && current > 0) show(current - 1);
  });

  // Re-check a step's fields as they change, once an error is showing, so the message goes away when fixed.
  form.addEventListener('change', (event) => {
    if (event.target.getAttribute('aria-invalid') === 'true' || event.target.closest('[aria-invalid]')) problemsIn(current);
  });
  field.description.addEventListener('input', () => {
    if (!$('families-error').hidden) problemsIn(current);
  });

  // -- "I don't know the exact date" reveals "approximately" --

  field.dateUnknown.addEventListener('change', () => {
    $('approximately-wrap').hidden = !field.dateUnknown.checked;
    field.dateUnknown.setAttribute('aria-expanded', String(field.dateUnknown.checked));
  });
  field.dateUnknown.setAttribute('aria-expanded', 'false');

  // -- the host country suggests a focal point when none is chosen yet --

  const suggestion = $('suggestion');
  field.host.addEventListener('change', () => {
    suggestion.replaceChildren();
    if (field.jurisdiction.value) return;
    const match = Array.from(field.jurisdiction.options).find((option) => option.dataset.country === field.host.value);
    if (!match) return;
    const text = document.createElement('p');
    text.textContent = format(messages.suggest, { name: match.textContent });
    const accept = document.createElement('button');
    accept.type = 'button';
    accept.textContent = messages.suggest_button;
    accept.addEventListener('click', () => {
      field.jurisdiction.value = match.value;
      clearError('jurisdiction-error', [field.jurisdiction]);
      text.textContent = format(messages.suggest_done, { name: match.textContent });
      accept.remove();
      text.tabIndex = -1;
      text.focus();
    });
    suggestion.append(text, accept);
  });

  // -- the chosen files, listed with their sizes --

  if (field.files) {
    field.files.addEventListener('change', () => {
      const list = $('file-list');
      list.replaceChildren(...Array.from(field.files.files).map((file) => {
        const item = document.createElement('li');
        item.textContent = `${file.name} (${humanSize(file.size, lang)})`;
        return item;
      }));
      problemsIn(current);
    });
  }

  // -- review --

  function questionLabel(question) {
    const label = question.querySelector('.q-label').cloneNode(true);
    label.querySelectorAll('.optional').forEach((part) => part.remove());
    return label.textContent.trim();
  }

  function labelFor(control) {
    const label = form.querySelector(`label[for="${control.id}"]`);
    return label ? label.textContent.trim() : control.value;
  }

  function answerOf(question) {
    const parts = [];
    question.querySelectorAll('input, select, textarea').forEach((control) => {
      if (control.closest('.reveal[hidden]')) return; // e.g. "approximately" after unticking "I don't know"
      if (control.tagName === 'SELECT') {
        if (control.value) parts.push(control.selectedOptions[0].textContent.trim());
      } else if (control.type === 'checkbox' || control.type === 'radio') {
        if (control.checked) parts.push(labelFor(control));
      } else if (control.type === 'file') {
        Array.from(control.files).forEach((file) => parts.push(`${file.name} (${humanSize(file.size, lang)})`));
      } else if (control.value.trim()) {
        parts.push(control.value.trim());
      }
    });
    return parts;
  }

  function buildReview() {
    const review = $('review');
    review.replaceChildren();
    steps.slice(0, -1).forEach((step, index) => {
      const section = document.createElement('section');
      const title = document.createElement('h3');
      title.textContent = heading(step).textContent.trim();
      const list = document.createElement('dl');
      step.querySelectorAll(':scope > .question').forEach((question) => {
        const term = document.createElement('dt');
        term.textContent = questionLabel(question);
        const parts = answerOf(question);
        const definition = document.createElement('dd');
        if (parts.length) {
          definition.textContent = parts.join('\n');
          definition.dir = 'auto'; // what was typed may be in another script than the page
        } else {
          definition.textContent = messages.not_answered;
          definition.className = 'unanswered';
        }
        list.append(term, definition);
      });
      const change = document.createElement('button');
      change.type = 'button';
      change.className = 'link-button';
      change.textContent = messages.change;
      change.setAttribute('aria-label', format(messages.change_label, { title: title.textContent }));
      change.addEventListener('click', () => show(index));
      section.append(title, list, change);
      review.append(section);
    });
  }

  // -- sending --

  const sendPanel = $('send-panel');
  const sendStatus = $('send-status');
  const fileProgress = $('file-progress');
  let sending = null; // kept across "Try again": the same report id, receipt and finished uploads

  function say(text) {
    sendStatus.textContent = text;
  }

  function answers(entries) {
    const text = (control) => control.value.trim();
    const unknown = field.dateUnknown.checked;
    return {
      v: 1,
      kind: 'report',
      language: lang,
      jurisdiction: field.jurisdiction.value,
      what: { tactic_families: checked('tactic_families'), description: text(field.description) },
      where: { host_country: field.host.value || null, place: text(field.place) },
      when: { date: field.date.value || null, date_unknown: unknown, approximately: unknown ? text(field.approximately) : '' },
      targeted: { who: checked('who')[0] || '', description: text(field.whoDescription) },
      responsible: { origin_country: field.origin.value || null, description: text(field.responsible) },
      wants: checked('wants'),
      urgent: checked('urgent')[0] === 'yes',
      contact: text(field.contact),
      attachments: entries,
    };
  }

  async function recipientKeys(code) {
    try {
      return (await withRetries(() => call('GET', `/report/api/jurisdictions/${encodeURIComponent(code)}`), retrying)).keys;
    } catch (error) {
      if (error instanceof ApiError && error.status === 409) error.code = 'no_key';
      throw error;
    }
  }

  function retrying(seconds) {
    say(format(messages.retrying, { seconds }));
  }

  /** Whether a report with this receipt is stored: after a lost answer to the final POST, it may well be. */
  async function alreadyStored(lookup) {
    try {
      return await call('POST', '/follow-up/api/thread', { lookup });
    } catch (_) {
      return null;
    }
  }

  async function submit(state, ciphertext, lookup) {
    const { reportId, reportKey, secret } = state;
    const reporter = TnrCrypto.reporterKeyPair(secret);
    let keys = await recipientKeys(field.jurisdiction.value);
    for (let round = 0; ; round++) {
      const body = {
        report_id: reportId,
        jurisdiction: field.jurisdiction.value,
        urgent: checked('urgent')[0] === 'yes',
        lookup,
        answers: TnrCrypto.b64(ciphertext),
        keys: keys.map((key) => ({
          recipient: key.id,
          sealed: TnrCrypto.b64(TnrCrypto.sealReportKey(reportKey, TnrCrypto.unb64(key.public_key), reportId, key.id)),
        })),
        reporter_key: TnrCrypto.b64(TnrCrypto.sealReportKey(reportKey, reporter.publicKey, reportId, 'reporter')),
        attachments: state.entries.map((entry) => entry.id),
      };
      try {
        return await withRetries(async (attempt) => {
          if (attempt > 0) {
            const stored = await alreadyStored(lookup);
            if (stored) return { acknowledge_by: stored.report.acknowledge_by };
          }
          say(messages.proving);
          const pow = await proofOfWork();
          say(messages.sending);
          return call('POST', '/report/api/reports', { ...body, pow });
        }, retrying);
      } catch (error) {
        if (error instanceof ApiError && error.code === 'keys_changed' && round < 3) {
          say(messages.keys_changed_retry);
          keys = await recipientKeys(field.jurisdiction.value);
          continue;
        }
        if (error instanceof ApiError && error.code === 'conflict') {
          const stored = await alreadyStored(lookup); // "received already": an earlier attempt got through
          if (stored) return { acknowledge_by: stored.report.acknowledge_by };
        }
        throw error;
      }
    }
  }

  async function send() {
    for (let index = 0; index < steps.length - 1; index++) {
      const problem = problemsIn(index);
      if (problem) {
        show(index);
        problem.focus();
        return;
      }
    }
    if (!field.jurisdiction.value) {
      setError('jurisdiction-error', messages.jurisdiction_missing, [field.jurisdiction]);
      show(0);
      field.jurisdiction.focus();
      return;
    }
    const files = field.files ? Array.from(field.files.files) : [];
    if (sending === null) {
      const receipt = TnrCrypto.newReceipt();
      sending = {
        reportId: TnrCrypto.newUuid(), reportKey: TnrCrypto.newKey(), receipt: receipt.text, secret: receipt.secret,
        uploaded: new Map(),
      };
    }
    form.hidden = true;
    progress.hidden = true;
    $('send-problem').hidden = true;
    sendPanel.hidden = false;
    $('send-heading').focus();
    say(messages.preparing);
    fileProgress.replaceChildren();
    try {
      const rows = files.map((file, index) => progressRow(fileProgress, file.name, index));
      // Fail before uploading anything when the focal point cannot receive (its key was revoked meanwhile).
      await recipientKeys(field.jurisdiction.value);
      const entries = [];
      for (const [index, file] of files.entries()) {
        let entry = sending.uploaded.get(file);
        if (!entry) {
          say(format(messages.encrypting, { name: file.name }));
          entry = await uploadFile(file, sending.reportId, { onProgress: rows[index].update, onRetry: retrying });
          sending.uploaded.set(file, entry);
        }
        rows[index].update(1, 1);
        say(format(messages.file_done, { name: file.name }));
        entries.push(entry);
      }
      sending.entries = entries;
      const ciphertext = TnrCrypto.encryptDocument(
        answers(entries), sending.reportKey, TnrCrypto.context('answers', sending.reportId));
      const lookup = TnrCrypto.b64(TnrCrypto.lookupToken(sending.secret));
      const acknowledgement = await submit(sending, ciphertext, lookup);
      showReceipt(sending.receipt, acknowledgement.acknowledge_by);
    } catch (error) {
      showSendError(error);
    }
  }

  function showSendError(error) {
    let text = messages.error;
    if (error instanceof ApiError) {
      const option = field.jurisdiction.selectedOptions[0];
      text = format(messages[error.code] || messages.error, { name: option ? option.textContent : '' });
    }
    say('');
    $('send-error').textContent = text;
    $('send-problem').hidden = false;
    $('send-retry').hidden = error instanceof ApiError && error.code === 'no_key';
  }

  $('send-retry').addEventListener('click', send);
  $('send-edit').addEventListener('click', () => {
    sendPanel.hidden = true;
    form.hidden = false;
    progress.hidden = false;
    show(0);
  });

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    if (current < steps.length - 1) next();
    else send();
  });

  // -- the receipt --

  function warnBeforeLeaving(event) {
    event.preventDefault();
    event.returnValue = messages.leave_warning; // browsers show their own text; setting it is what asks
    return messages.leave_warning;
  }

  function showReceipt(receipt, acknowledgeBy) {
    const date = new Date(`${acknowledgeBy}T00:00:00Z`);
    let dateText = acknowledgeBy;
    try {
      dateText = new Intl.DateTimeFormat(lang, { dateStyle: 'long', timeZone: 'UTC' }).format(date);
    } catch (_) { /* the ISO date is readable too */ }
    const address = `${window.location.origin}/follow-up`;
    const groups = $('receipt-text');
    groups.replaceChildren();
    receipt.split('-').forEach((group, index) => {
      if (index) groups.append('-');
      const span = document.createElement('span');
      span.textContent = group;
      groups.append(span);
    });
    $('acknowledge-by').textContent = dateText;
    $('follow-up-address').textContent = address;
    window.addEventListener('beforeunload', warnBeforeLeaving);
    $('save-receipt').addEventListener('click', () => {
      const text = format(messages.receipt_file, { receipt, address, date: dateText });
      const url = URL.createObjectURL(new Blob([text], { type: 'text/plain;charset=utf-8' }));
      const link = document.createElement('a');
      link.href = url;
      link.download = 'tnrwatch-receipt.txt';
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(url), 60000);
    });
    $('print-receipt').addEventListener('click', () => window.print());
    const done = $('done-link');
    $('receipt-kept').addEventListener('change', (event) => {
      if (event.target.checked) {
        done.href = '/';
        done.removeAttribute('aria-disabled');
        window.removeEventListener('beforeunload', warnBeforeLeaving);
      } else {
        done.removeAttribute('href');
        done.setAttribute('aria-disabled', 'true');
        window.addEventListener('beforeunload', warnBeforeLeaving);
      }
    });
    // What was typed is sent; do not leave it in the page, where the back button or a shared device shows it.
    form.reset();
    $('file-list').replaceChildren();
    sendPanel.hidden = true;
    $('receipt-panel').hidden = false;
    document.body.classList.add('has-receipt');
    $('receipt-heading').focus();
    sending = null;
  }

  // -- start: the form appears once encryption is available --

  TnrCrypto.ready.then(() => {
    steps.forEach((step) => { step.disabled = false; });
    app.hidden = false;
    steps.forEach((step, i) => { step.hidden = i !== 0; });
    progress.textContent = format(messages.step, { number: 1, total: steps.length });
  }, () => {
    const notice = document.createElement('div');
    notice.className = 'notice notice-error';
    notice.setAttribute('role', 'alert');
    const text = document.createElement('p');
    text.textContent = messages.unsupported;
    const link = document.createElement('a');
    link.href = '/report/plain';
    link.textContent = messages.plain_link;
    notice.append(text, link);
    app.replaceWith(notice);
  });
}());
