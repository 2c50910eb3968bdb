"""The span editor's JavaScript (``gr.HTML(js_on_load=EDITOR_JS)``): keys and mouse in, actions out.

It keeps no spans of its own: each action sends the spans the server last rendered (``data-state``)
with what to do (``trigger('edit', ...)`` or ``trigger('decide', ...)``), and the server answers with a
fresh editor, so the page always shows what the server checked (and, after a decision, stored). What
lives only here: the active label, the selected span, the keyboard's word cursor and selection, and the
item's edits to undo. A key pressed while a request is out waits for its answer, then runs.
"""

EDITOR_JS = r"""
const root = element;
let active = null, selected = null, cursor = -1, anchor = null;
let itemKey = null, undoStack = [], pending = null, busy = false, busyTimer = null;
const queued = [];

function st() {
  const n = root.querySelector('.ann-editor');
  if (!n || !n.dataset.state || n.dataset.state === 'null') return null;
  return JSON.parse(n.dataset.state);
}
function same(a, b) { return JSON.stringify(a) === JSON.stringify(b); }
function send(event, data, undoable) {
  const s = st();
  if (!s) return;
  busy = true;
  pending = undoable ? s.spans : null;
  clearTimeout(busyTimer);
  busyTimer = setTimeout(() => { busy = false; }, 15000);  // a lost answer must not freeze the keys
  trigger(event, Object.assign({dataset: s.dataset, position: s.position, spans: s.spans, base: s.base,
                                seq: s.seq + 1}, data));
}
function spanOf(key) {
  const s = st();
  return s && key ? s.spans.find(x => x.start + ':' + x.end === key) || null : null;
}
function kbRange(s) {
  if (anchor === null || cursor < 0) return null;
  const a = Math.min(anchor, cursor), b = Math.max(anchor, cursor);
  return [s.words[a][0], s.words[b][1]];
}
function paint() {
  const s = st();
  if (!s) return;
  const key = s.dataset + ':' + s.position;
  if (key !== itemKey) {
    itemKey = key; selected = null; cursor = -1; anchor = null; undoStack = [];
    const focus = document.activeElement;
    if (!focus || !focus.closest('input, textarea, select')) root.querySelector('.ann-editor').focus({preventScroll: true});
  } else if (pending !== null && !same(pending, s.spans)) {
    undoStack.push(pending);
  }
  pending = null;
  if (!s.labels.some(l => l.name === active)) active = s.labels.length ? s.labels[0].name : null;
  if (!spanOf(selected)) selected = null;
  root.querySelectorAll('.ann-label').forEach(el => el.classList.toggle('ann-active', el.dataset.label === active));
  root.querySelectorAll('.ann-span').forEach(el =>
    el.classList.toggle('ann-selected', el.dataset.s + ':' + el.dataset.e === selected));
  const range = kbRange(s);
  const at = cursor >= 0 ? s.words[cursor] : null;
  root.querySelectorAll('.ann-w').forEach(el => {
    const a = +el.dataset.s, b = +el.dataset.e;
    el.classList.toggle('ann-cursor', !!at && a >= at[0] && b <= at[1]);
    el.classList.toggle('ann-kbsel', !!range && a >= range[0] && b <= range[1]);
  });
  const box = root.querySelector('.ann-editor');
  if (box) { box.dataset.active = active || ''; box.dataset.selected = selected || ''; box.dataset.ready = '1'; }
}
function charAt(node, off) {
  if (node.nodeType === 3) {
    const el = node.parentElement;
    const tag = el.closest('.ann-tag');
    if (tag) return +tag.closest('.ann-span').dataset.e;
    return el.dataset.s !== undefined ? +el.dataset.s + off : null;
  }
  const kids = node.childNodes;
  for (let i = off; i < kids.length; i++) {
    const k = kids[i];
    if (k.nodeType === 1) { const f = k.dataset.s !== undefined ? k : k.querySelector('[data-s]'); if (f) return +f.dataset.s; }
  }
  const all = node.querySelectorAll ? node.querySelectorAll('.ann-w, .ann-gap') : [];
  const last = all[all.length - 1];
  return last ? +last.dataset.s + last.textContent.length : null;
}
function wordIndex(s, pos, edge) {  // the word that starts (edge 0) or ends (edge 1) at pos
  return s.words.findIndex(w => w[edge] === pos);
}
function resize(kind) {
  const s = st(), span = spanOf(selected);
  if (!s || !span) return;
  let i = wordIndex(s, span.start, 0), j = wordIndex(s, span.end, 1);
  if (i < 0 || j < 0) return;
  if (kind === '[') i = Math.max(0, i - 1);
  if (kind === ']') j = Math.min(s.words.length - 1, j + 1);
  if (kind === '{' && i < j) i += 1;
  if (kind === '}' && j > i) j -= 1;
  const start = s.words[i][0], end = s.words[j][1];
  if (start === span.start && end === span.end) return;
  selected = start + ':' + end;
  send('edit', {op: 'resize', target: span, start: start, end: end}, true);
}
function labelFor(key) {
  const s = st();
  return s ? s.labels.find(l => l.key === key) || null : null;
}
function handle(k) {
  const s = st();
  if (!s) return false;
  if (busy) { queued.push(k); return true; }
  const n = s.words.length;
  if (k.key === 'ArrowRight' || k.key === 'ArrowLeft') {
    if (!n) return true;
    const step = k.key === 'ArrowRight' ? 1 : -1;
    if (k.shift) {
      if (anchor === null) { anchor = Math.max(cursor, 0); cursor = anchor; }
      else cursor = Math.min(n - 1, Math.max(0, cursor + step));
    } else { anchor = null; cursor = Math.min(n - 1, Math.max(0, cursor + step)); }
    paint(); return true;
  }
  const label = labelFor(k.key);
  if (label) {
    active = label.name;
    const range = kbRange(s), span = spanOf(selected);
    if (range) { anchor = null; send('edit', {op: 'add', start: range[0], end: range[1], label: active}, true); }
    else if (span && span.label !== active) send('edit', {op: 'relabel', target: span, label: active}, true);
    else paint();
    return true;
  }
  if (k.key === 'Tab') {
    if (!s.spans.length) return false;
    const i = s.spans.findIndex(x => x.start + ':' + x.end === selected);
    const next = s.spans[(i + (k.shift ? s.spans.length - 1 : 1)) % s.spans.length];
    selected = next.start + ':' + next.end; paint(); return true;
  }
  if (k.key === 'Escape') { selected = null; anchor = null; paint(); return true; }
  if ((k.key === 'Delete' || k.key === 'Backspace') && spanOf(selected)) {
    send('edit', {op: 'remove', target: spanOf(selected)}, true); selected = null; return true;
  }
  if ('[]{}'.includes(k.key) && k.key.length === 1) { resize(k.key); return true; }
  if (k.key === 'o' && spanOf(selected)) { send('edit', {op: 'all', target: spanOf(selected)}, true); return true; }
  if (k.key === 'Enter' || k.key === 'a') { send('decide', {action: 'accept'}); return true; }
  if (k.key === 'x') { send('decide', {action: 'reject'}); return true; }
  if (k.key === 's') { send('decide', {action: 'skip'}); return true; }
  if (k.key === 'b') { send('decide', {action: 'back'}); return true; }
  if (k.key === 'u' || (k.ctrl && k.key === 'z')) {
    if (undoStack.length) { const spans = undoStack.pop(); send('edit', {op: 'set', spans_new: spans}, false); }
    else send('decide', {action: 'undo'});
    return true;
  }
  return false;
}
document.addEventListener('keydown', ev => {
  if (root.offsetParent === null || ev.altKey || ev.metaKey) return;  // another tab is showing
  const t = ev.target;
  if (t && (t.closest('input, textarea, select, [contenteditable="true"]'))) return;
  if (ev.ctrlKey && ev.key !== 'z') return;
  if (handle({key: ev.key, shift: ev.shiftKey, ctrl: ev.ctrlKey})) ev.preventDefault();
});
root.addEventListener('mouseup', () => {
  const s = st(), sel = window.getSelection();
  if (!s || !sel || sel.isCollapsed || !root.querySelector('.ann-text').contains(sel.anchorNode)) return;
  let a = charAt(sel.anchorNode, sel.anchorOffset), b = charAt(sel.focusNode, sel.focusOffset);
  sel.removeAllRanges();
  if (a === null || b === null || a === b || busy) return;
  if (a > b) [a, b] = [b, a];
  const span = spanOf(selected);
  if (span && span.start < b && a < span.end) send('edit', {op: 'resize', target: span, start: a, end: b}, true);
  else if (active) send('edit', {op: 'add', start: a, end: b, label: active}, true);
});
root.addEventListener('click', ev => {
  const lab = ev.target.closest('.ann-label');
  if (lab) {
    active = lab.dataset.label;
    const span = spanOf(selected);
    if (span && span.label !== active && !busy) send('edit', {op: 'relabel', target: span, label: active}, true);
    else paint();
    return;
  }
  const mark = ev.target.closest('.ann-span');
  const sel = window.getSelection();
  if (mark && (!sel || sel.isCollapsed)) {
    const key = mark.dataset.s + ':' + mark.dataset.e;
    selected = selected === key ? null : key; anchor = null; paint();
  }
});
watch('value', () => {
  busy = false; clearTimeout(busyTimer); paint();
  while (queued.length && !busy) handle(queued.shift());
});
paint();
"""
