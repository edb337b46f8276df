/* staff-notes.js: notes and tasks on the case page (templates/staff/_notes.html).
 *
 * The server holds notes and task titles as ciphertext only. This page lists them at once with what is in the clear
 * (who, when, who a task is given to, its due date), and decrypts them with the report key once staff-report.js
 * announces `tnr:report-unlocked`; `tnr:report-locked` wipes every decrypted text. New notes and task titles are
 * encrypted here: `TnrCrypto.encryptDocument({v: 1, kind, text}, key, context(kind, reportId, id))`. The key is
 * asked for (`detail.key()`) each time it is needed and never kept; decrypted text reaches the page through
 * textContent only.
 */
(function () {
  'use strict';

  const root = document.getElementById('case-notes');
  if (!root) return;

  const reportId = root.dataset.reportId;
  const csrfToken = document.querySelector('meta[name="csrf-token"]').content;
  const el = (id) => document.getElementById(id);
  const taskList = el('task-list');
  const doneList = el('done-list');
  const doneBox = el('done-tasks');
  const noteList = el('note-list');
  const noteForm = el('note-form');
  const taskForm = el('task-form');
  const status = el('notes-status');

  let data = { notes: [], tasks: [], writable: false };
  let keyOf = null; // the unlock event's `key()`: answers the report key, or null once the page forgot it
  let plain = new Map(); // id -> decrypted text, wiped on lock

  const dom = window.TnrStaffDom;
  const { node, setError, clearError } = dom;
  const say = (message, isError) => dom.say(status, message, isError);

  const when = (iso) => node('time', { datetime: iso }, `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC`);

  // -- decrypting ----------------------------------------------------------------------------------------------------

  /** The text of a note or task title, or null when the page is locked or it does not open. */
  function open(kind, id, ciphertext) {
    const key = keyOf ? keyOf() : null;
    if (key === null) return null;
    if (!plain.has(id)) {
      let text = false; // false: does not open
      try {
        const doc = TnrCrypto.decryptDocument(TnrCrypto.unb64(ciphertext), key, TnrCrypto.context(kind, reportId, id));
        if (doc && doc.kind === kind && typeof doc.text === 'string') text = doc.text;
      } catch (_) { /* shown as not opening */ }
      plain.set(id, text);
    }
    return plain.get(id);
  }

  function content(kind, id, ciphertext, lockedLabel) {
    const text = open(kind, id, ciphertext);
    if (text === null) return node('span', { class: 'staff-empty' }, lockedLabel);
    if (text === false) {
      return node('span', { class: 'staff-mismatch' }, 'Does not open: damaged, or moved from another report.');
    }
    return node(kind === 'note' ? 'p' : 'span', { class: 'staff-text' }, text);
  }

  // -- lists -----------------------------------------------------------------------------------------------------------

  function taskItem(task) {
    const facts = [];
    facts.push(task.assignee ? `given to ${task.assignee}` : 'given to nobody');
    const due = task.due_on
      ? node('span', {}, 'due ', node('time', { datetime: task.due_on }, task.due_on))
      : node('span', {}, 'no due date');
    const meta = node('span', { class: 'staff-task-meta' }, facts.join(', '), ', ', due);
    if (task.done && task.marked_by) meta.append(`; done by ${task.marked_by} on `, when(task.marked_at));
    else if (task.marked_by) meta.append(`; reopened by ${task.marked_by} on `, when(task.marked_at));
    const title = content('task', task.id, task.title, 'Encrypted task');
    title.id = `task-${task.id}`;
    const item = node('li', { class: 'staff-task' + (task.overdue ? ' staff-task-overdue' : ''), 'data-task-id': task.id },
      title);
    if (task.overdue) item.append(' ', node('strong', { class: 'staff-flag staff-flag-overdue' }, 'Overdue'));
    item.append(node('br'), meta);
    if (data.writable) {
      const button = node('button', {
        type: 'button', class: 'staff-button staff-button-quiet staff-button-small', 'aria-describedby': title.id,
      }, task.done ? 'Mark as not done' : 'Mark as done');
      button.addEventListener('click', () => mark(task, !task.done, button));
      item.append(' ', button);
      if (!task.done) item.append(' ', giveForm(task, title.id));
    }
    return item;
  }

  /** "Give to": hand an open task to another officer of the case's jurisdiction, or to nobody. */
  function giveForm(task, titleId) {
    const selectId = `give-${task.id}`;
    const select = node('select', { id: selectId, class: 'staff-select-small' },
      node('option', { value: '' }, 'Nobody'),
      ...(data.assignees || []).map((name) => node('option', { value: name }, name)));
    select.value = task.assignee || '';
    const button = node('button', {
      type: 'submit', class: 'staff-button staff-button-quiet staff-button-small', 'aria-describedby': titleId,
    }, 'Give');
    const form = node('form', { class: 'staff-give' },
      node('label', { for: selectId }, 'Give to '), select, ' ', button);
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      give(task, select.value, button);
    });
    return form;
  }

  function noteItem(note) {
    return node('li', { class: 'staff-note', 'data-note-id': note.id },
      node('p', { class: 'staff-note-meta' }, `${note.author || 'A deleted account'}, `, when(note.created_at)),
      content('note', note.id, note.ciphertext, 'Encrypted note'));
  }

  function render() {
    const pending = data.tasks.filter((task) => !task.done);
    const done = data.tasks.filter((task) => task.done);
    taskList.replaceChildren(...pending.map(taskItem));
    doneList.replaceChildren(...done.map(taskItem));
    el('no-tasks').hidden = pending.length > 0;
    doneBox.hidden = done.length === 0;
    el('done-count').textContent = String(done.length);
    noteList.replaceChildren(...data.notes.map(noteItem));
    el('no-notes').hidden = data.notes.length > 0;
    const unlocked = Boolean(keyOf && keyOf());
    el('notes-locked').hidden = unlocked;
    for (const form of [noteForm, taskForm]) if (form) form.hidden = !(unlocked && data.writable);
  }

  async function load() {
    try {
      const response = await fetch(`/app/api/reports/${reportId}/notes`, { headers: { Accept: 'application/json' } });
      if (!response.ok) {
        say('Notes and tasks could not be loaded. Reload the page to try again.', true);
        return;
      }
      data = await response.json();
      render();
    } catch (_) {
      say('Notes and tasks could not be loaded: the connection failed.', true);
    }
  }

  // -- writing ---------------------------------------------------------------------------------------------------------

  async function post(path, body) {
    const response = await fetch(path, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': csrfToken },
      body: JSON.stringify(body),
    });
    if (response.ok) return null;
    const problem = await response.json().catch(() => ({}));
    return problem.error || `the server answered ${response.status}`;
  }

  function seal(kind, id, text) {
    const key = keyOf ? keyOf() : null;
    if (key === null) throw new Error('locked');
    return TnrCrypto.b64(TnrCrypto.encryptDocument({ v: 1, kind, text }, key, TnrCrypto.context(kind, reportId, id)));
  }

  async function addNote(event) {
    event.preventDefault();
    const input = el('note-text');
    const error = el('note-error');
    clearError(input, error);
    const text = input.value.trim();
    if (!text) {
      setError(input, error, 'Write the note first.');
      return;
    }
    const button = noteForm.querySelector('button');
    button.disabled = true;
    say('Encrypting and saving the note…');
    try {
      const id = TnrCrypto.newUuid();
      const refused = await post(`/app/api/reports/${reportId}/notes`, { id, ciphertext: seal('note', id, text) });
      if (refused) {
        say(`The note was not saved: ${refused}`, true);
        return;
      }
      plain.set(id, text);
      input.value = '';
      await load();
      say('Note added.');
    } catch (_) {
      say('The note was not saved: the page is locked or the connection failed. Try again.', true);
    } finally {
      button.disabled = false;
    }
  }

  async function addTask(event) {
    event.preventDefault();
    const input = el('task-title');
    const error = el('task-title-error');
    clearError(input, error);
    const text = input.value.trim();
    if (!text) {
      setError(input, error, 'Say what is to be done.');
      return;
    }
    const button = taskForm.querySelector('button');
    button.disabled = true;
    say('Encrypting and saving the task…');
    try {
      const id = TnrCrypto.newUuid();
      const body = {
        id,
        title: seal('task', id, text),
        assignee: el('task-assignee').value || null,
        due_on: el('task-due').value || null,
      };
      const refused = await post(`/app/api/reports/${reportId}/tasks`, body);
      if (refused) {
        say(`The task was not saved: ${refused}`, true);
        return;
      }
      plain.set(id, text);
      taskForm.reset();
      await load();
      say('Task added.');
    } catch (_) {
      say('The task was not saved: the page is locked or the connection failed. Try again.', true);
    } finally {
      button.disabled = false;
    }
  }

  async function mark(task, done, button) {
    button.disabled = true;
    try {
      const refused = await post(`/app/api/reports/${reportId}/tasks/${task.id}`, { done });
      if (refused) {
        say(`The task was not changed: ${refused}`, true);
        button.disabled = false;
        return;
      }
      await load();
      say(done ? 'Task marked as done.' : 'Task marked as not done.');
    } catch (_) {
      say('The task was not changed: the connection failed. Try again.', true);
      button.disabled = false;
    }
  }

  async function give(task, assignee, button) {
    button.disabled = true;
    try {
      const refused = await post(`/app/api/reports/${reportId}/tasks/${task.id}/assignee`, { assignee: assignee || null });
      if (refused) {
        say(`The task was not given: ${refused}`, true);
        button.disabled = false;
        return;
      }
      await load();
      say(assignee ? `Task given to ${assignee}.` : 'Task given to nobody.');
    } catch (_) {
      say('The task was not given: the connection failed. Try again.', true);
      button.disabled = false;
    }
  }

  // -- the report's key comes and goes ---------------------------------------------------------------------------------

  document.addEventListener('tnr:report-unlocked', (event) => {
    if (event.detail.reportId !== reportId) return;
    keyOf = event.detail.key;
    render();
  });

  document.addEventListener('tnr:report-locked', () => {
    keyOf = null;
    plain = new Map();
    for (const id of ['note-text', 'task-title']) {
      const input = el(id);
      if (input) input.value = '';
    }
    say('');
    render();
  });

  if (noteForm) noteForm.addEventListener('submit', addNote);
  if (taskForm) taskForm.addEventListener('submit', addTask);
  load();
}());
