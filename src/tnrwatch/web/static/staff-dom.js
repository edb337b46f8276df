/* staff-dom.js: the small DOM helpers every script of the officers' pages uses (staff-report.js, staff-notes.js,
 * staff-evidence.js). Text only: nothing here ever sets HTML, since much of what the pages show was written by a
 * reporter or decrypted in this browser.
 */
(function () {
  'use strict';

  /** An element with attributes and children (nodes, or strings made text). */
  function node(tag, attributes, ...children) {
    const element = document.createElement(tag);
    for (const [name, value] of Object.entries(attributes || {})) {
      if (name === 'class') element.className = value;
      else element.setAttribute(name, value);
    }
    for (const child of children) {
      if (child === null || child === undefined) continue;
      element.append(child instanceof Node ? child : String(child));
    }
    return element;
  }

  /** A status line's message, marked as an error or not. */
  function say(box, message, isError) {
    box.textContent = message;
    box.classList.toggle('staff-status-error', Boolean(isError));
  }

  /** A field's error under it, announced and focused; an empty message clears it. */
  function setError(input, box, message) {
    box.textContent = message;
    box.hidden = !message;
    if (message) {
      input.setAttribute('aria-invalid', 'true');
      input.focus();
    } else {
      input.removeAttribute('aria-invalid');
    }
  }

  const clearError = (input, box) => setError(input, box, '');

  function humanSize(bytes) {
    if (!Number.isFinite(bytes)) return 'unknown size';
    if (bytes < 1024) return `${bytes} bytes`;
    if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
    return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
  }

  /** A failed request in words: the usual statuses, else the server's own message and the fields it names. */
  async function failureText(response, what) {
    if (response.status === 401) return 'Your sign-in has expired. Sign in again, then reopen this report.';
    if (response.status === 403) return 'This page is out of date, or your role may not do this. Reload the page.';
    if (response.status === 404) return `This ${what || 'report'} is not in your jurisdiction, or no longer exists.`;
    if (response.status === 413) return 'The file is larger than the node accepts.';
    try {
      const body = await response.json();
      if (body && typeof body.error === 'string') {
        const fields = Array.isArray(body.errors) ? body.errors.map((e) => `${(e.loc || []).slice(-1)[0]}: ${e.msg}`) : [];
        return `The server refused: ${body.error}${fields.length ? ` (${fields.join('; ')})` : ''}.`;
      }
    } catch (_) { /* not JSON */ }
    return `The server answered with an error (${response.status}). Try again.`;
  }

  window.TnrStaffDom = Object.freeze({ node, say, setError, clearError, humanSize, failureText });
}());
