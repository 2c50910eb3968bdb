"""The span editor's JavaScript (``gr.HTML(js_on_load=EDITOR_JS, server_functions=...)``): keys and
mouse in, an optimistic view out, the server's answers in.

Each edit is applied in the page the moment its key is pressed (the same rules as
:mod:`ner_demo.annotation.edits`: snap to words, no overlaps, the dataset's labels), and accept, reject
and skip show the next item at once (fetched ahead with ``server.editor_next``). Then the action goes to
the server (:mod:`ner_demo.app.annotate_editor`), one at a time in the order the keys were pressed, each
with the spans the server last confirmed and the next sequence number. The server's answer is the
truth: it replaces what the page showed (the edits still waiting are applied again on top of it). When
the server refuses an action, or does not answer, the page rolls back to the server's state, drops the
actions queued behind it and says why; an edit the page's rules refuse is sent as it is, so the
server's message says why. The badge (``#ann-sync``) and ``data-ann-sync`` on the editor say what is
saved: "saving…" while actions are on their way, "saved" when the server has stored all of them, "not
saved" after a refusal.

The server's HTML is put on the page as the component's value (``props.value``); a MutationObserver
decorates each new editor node with the page's own state (the optimistic spans, the active label, the
selected span, the keyboard's cursor and selection).
"""

EDITOR_JS = r"""
const root = element;
let conf = null;          // the item state the server last confirmed (its data-state)
let view = null;          // {st: the item state shown, spans: the spans shown}
let provisional = false;  // the item shown is the next one, fetched ahead, not yet confirmed
let queue = [], inflight = null, held = [], waiting = false, note = null, failed = false, gen = 0;
let prefetch = null, prefetchKey = null, seen = null, ours = null;
let active = null, selected = null, cursor = -1, anchor = null, undoStack = [], shownKey = null;

function parseAttr(html) {  // the data-state attribute of the server's HTML, unescaped
  const m = /data-state="([^"]*)"/.exec(html);
  if (!m) return null;
  const t = document.createElement('textarea'); t.innerHTML = m[1];
  return t.value;
}
function parse(html) { const v = parseAttr(html); return v === null || v === 'null' ? null : JSON.parse(v); }
function nodeState() { const n = root.querySelector('.ann-editor'), v = n && n.dataset.state; return v && v !== 'null' ? JSON.parse(v) : null; }
function keyOf(s) { return s ? s.token + ':' + s.dataset + ':' + s.position : ''; }
function same(a, b) { return JSON.stringify(a) === JSON.stringify(b); }
function esc(x) { return String(x).replace(/[&<>"']/g, c => ({'&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#x27;'}[c])); }
function sorted(spans) { return spans.slice().sort((a, b) => a.start - b.start || a.end - b.end || (a.label < b.label ? -1 : a.label > b.label ? 1 : 0)); }

// ---- the rules of ner_demo.annotation.edits, for the view; null: let the server say why not ----
function check(s, spans) {
  const out = sorted(spans), names = s.labels.map(l => l.name);
  for (const x of out) {
    if (!(0 <= x.start && x.start < x.end && x.end <= s.text.length) || !s.text.slice(x.start, x.end).trim()) return null;
    if (!names.includes(x.label)) return null;
  }
  for (let i = 1; i < out.length; i++) if (out[i].start < out[i - 1].end) return null;
  return out;
}
function snap(s, a, b) {
  const inside = s.words.filter(w => w[0] < b && a < w[1]);
  return inside.length ? [inside[0][0], inside[inside.length - 1][1]] : null;
}
function find(spans, t) { return t ? spans.findIndex(x => x.start === t.start && x.end === t.end && x.label === t.label) : -1; }
function localEdit(s, spans, d) {
  if (!s || !s.text) return null;
  const i = find(spans, d.target);
  if (d.op === 'add') { const r = snap(s, d.start, d.end); return r && check(s, [...spans, {start: r[0], end: r[1], label: d.label}]); }
  if (d.op === 'set') return check(s, d.spans_new);
  if (i < 0) return null;
  if (d.op === 'remove') return check(s, spans.filter((_, j) => j !== i));
  if (d.op === 'relabel') return check(s, spans.map((x, j) => j === i ? {start: x.start, end: x.end, label: d.label} : x));
  if (d.op === 'resize') {
    const r = snap(s, d.start, d.end);
    return r && check(s, spans.map((x, j) => j === i ? {start: r[0], end: r[1], label: x.label} : x));
  }
  if (d.op === 'all') {  // this item's whole-word occurrences (the server labels the other items)
    const form = s.text.slice(d.target.start, d.target.end).replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    let cur = sorted(spans);
    for (const m of s.text.matchAll(new RegExp('(?<![\\p{L}\\p{N}\\p{M}_])' + form + '(?![\\p{L}\\p{N}\\p{M}_])', 'gu'))) {
      const a = m.index, b = a + m[0].length, k = cur.findIndex(x => x.start === a && x.end === b);
      if (k >= 0) cur[k] = {start: a, end: b, label: d.target.label};
      else if (!cur.some(x => x.start < b && a < x.end)) cur = sorted([...cur, {start: a, end: b, label: d.target.label}]);
    }
    return check(s, cur);
  }
  return null;
}
function replay(s, spans, ops) {  // the queued edits of the shown item, again on the server's spans
  let cur = spans;
  for (const op of ops) if (op.kind === 'edit' && op.key === keyOf(s)) cur = localEdit(s, cur, op.data) || cur;
  return cur;
}

// ---- what the page shows ----
function textHtml(s, spans) {
  const colours = {}; s.labels.forEach(l => { colours[l.name] = l.colour; });
  const sugg = new Set((s.suggested || []).map(x => x.start + ':' + x.end + ':' + x.label));
  const out = [];
  const plain = (start, end) => {
    let pos = start;
    for (const w of s.words) {
      if (w[1] <= start || w[0] >= end) continue;
      if (w[0] > pos) out.push('<span class="ann-gap" data-s="' + pos + '">' + esc(s.text.slice(pos, w[0])) + '</span>');
      const a = Math.max(w[0], start), b = Math.min(w[1], end);
      out.push('<span class="ann-w" data-s="' + a + '" data-e="' + b + '">' + esc(s.text.slice(a, b)) + '</span>');
      pos = b;
    }
    if (pos < end) out.push('<span class="ann-gap" data-s="' + pos + '">' + esc(s.text.slice(pos, end)) + '</span>');
  };
  let cut = 0;
  for (const x of sorted(spans)) {
    plain(cut, x.start);
    const isSugg = sugg.has(x.start + ':' + x.end + ':' + x.label);
    out.push('<mark class="ann-span ' + (isSugg ? 'ann-suggested' : 'ann-final') + '" data-s="' + x.start + '" data-e="' + x.end +
             '" data-label="' + esc(x.label) + '" style="background:' + esc(colours[x.label] || '#ddd') + '">');
    plain(x.start, x.end);
    out.push('<span class="ann-tag" contenteditable="false">' + esc(isSugg ? x.label + ' · suggested' : x.label) + '</span></mark>');
    cut = x.end;
  }
  plain(cut, s.text.length);
  return out.join('');
}
function syncState() { return failed ? 'error' : (inflight || queue.length || provisional || waiting) ? 'saving' : 'saved'; }
function decorate() {
  const box = root.querySelector('.ann-editor');
  const sync = syncState(), pending = queue.length + (inflight ? 1 : 0);
  root.setAttribute('data-ann-sync', sync); root.setAttribute('data-ann-pending', String(pending));
  root.setAttribute('data-ann-ahead', prefetch && view && prefetchKey === keyOf(view.st) ? '1' : '0');
  if (!box) return;
  const badge = box.querySelector('#ann-sync');
  if (badge) {
    badge.dataset.sync = sync;
    badge.textContent = sync === 'error' ? '✗ not saved' : sync === 'saving' ? 'saving… (' + Math.max(pending, 1) + ')' : '✓ saved';
  }
  if (note) {
    const msg = box.querySelector('#ann-message') || box.querySelector('#ann-notice');
    if (msg) { msg.textContent = note.text; msg.classList.toggle('ann-error', !!note.error); if (note.error) msg.setAttribute('role', 'alert'); }
  }
  const s = view && view.st;
  if (!s || typeof s.text !== 'string') { box.dataset.ready = '1'; return; }
  const k = keyOf(s);
  if (k !== shownKey) {
    shownKey = k; selected = null; cursor = -1; anchor = null;
    const focus = document.activeElement;
    if (!focus || !focus.closest('input, textarea, select')) box.focus({preventScroll: true});
  }
  const text = box.querySelector('.ann-text');
  if (text) { const h = textHtml(s, view.spans); if (text.innerHTML !== h) text.innerHTML = h; }
  if (!s.labels.some(l => l.name === active)) active = s.labels.length ? s.labels[0].name : null;
  if (!spanOf(selected)) selected = null;
  box.querySelectorAll('.ann-label').forEach(el => el.classList.toggle('ann-active', el.dataset.label === active));
  box.querySelectorAll('.ann-span').forEach(el => el.classList.toggle('ann-selected', el.dataset.s + ':' + el.dataset.e === selected));
  const range = kbRange(s), at = cursor >= 0 ? s.words[cursor] : null;
  box.querySelectorAll('.ann-w').forEach(el => {
    const a = +el.dataset.s, b = +el.dataset.e;
    el.classList.toggle('ann-cursor', !!at && a >= at[0] && b <= at[1]);
    el.classList.toggle('ann-kbsel', !!range && a >= range[0] && b <= range[1]);
  });
  box.dataset.active = active || ''; box.dataset.selected = selected || ''; box.dataset.ready = '1';
}
function show(html) {  // the server's HTML as the component's value; Gradio morphs the node, the observer repaints
  ours = parseAttr(html);
  props.value = html;
  paint();
}
// Gradio updates the editor's node in place: a change of its data-state that is not the page's own is a
// new session's first item (Start). The page's own changes to the node are not observed (paint).
const OPTS = {childList: true, subtree: true, attributes: true, characterData: true};
const observer = new MutationObserver(() => {
  const n = root.querySelector('.ann-editor');
  if (!n) return;
  if (n.dataset.state !== seen) { seen = n.dataset.state; if (seen !== ours) adopt(nodeState()); }
  paint();
});
function paint() {
  observer.disconnect();
  try { decorate(); } finally { observer.takeRecords(); observer.observe(root, OPTS); }
}
function adopt(s) {  // a state from Gradio (Start): everything the page held belongs to the old session
  conf = s; view = s ? {st: s, spans: s.spans} : null;
  queue = []; held = []; waiting = false; provisional = false; note = null; failed = false; undoStack = [];
  inflight = null; gen += 1; ours = null; ahead();
}
function ahead() {  // fetch the item that follows the shown one, to show it the moment it is answered
  prefetch = null; prefetchKey = null;
  const s = conf;
  if (!s || s.position === null || s.position === undefined) return;
  const k = keyOf(s);
  server.editor_next({token: s.token, position: s.position}).then(r => {
    if (r && r.ok && conf && keyOf(conf) === k) { prefetch = r.html; prefetchKey = k; paint(); }
  }, () => {});
}

// ---- sending, one at a time ----
function enqueue(op) { queue.push(op); paint(); pump(); }
function call(fn, payload) {
  return Promise.race([fn(payload), new Promise(res => setTimeout(() => res(undefined), 30000))]).catch(() => undefined);
}
async function pump() {
  if (inflight || !queue.length || !conf) return;
  const op = queue.shift();
  inflight = op;
  if (op.key !== keyOf(conf)) {  // pressed on an item the server did not confirm (another came): not sent
    inflight = null; waiting = false;
    note = {text: '⚠️ not saved: the server showed another item next; your keys on the one shown before were not sent', error: true};
    failed = true; paint(); return pump();
  }
  const payload = Object.assign({token: conf.token, dataset: conf.dataset, position: conf.position, spans: conf.spans,
                                 base: conf.base, seq: conf.seq + 1}, op.data);
  const g = gen, r = await call(op.kind === 'edit' ? server.editor_edit : server.editor_decide, payload);
  if (g !== gen) return;  // Start was pressed meanwhile: the answer belongs to the old session
  inflight = null;
  if (!r || typeof r.html !== 'string') return lost();
  const s = parse(r.html);
  if (!r.ok) return rollback(op, r.html, s);
  const itemChanged = keyOf(s) !== keyOf(conf);
  conf = s; note = null; failed = false;
  if (op.kind === 'decide') {
    waiting = false;
    if (provisional && keyOf(s) !== keyOf(view.st)) {  // the server's next item is not the one fetched ahead
      const kept = queue.filter(o => o.key === keyOf(s));
      if (kept.length < queue.length) {
        note = {text: '⚠️ the server showed another item next (the queue changed); your keys on the one shown before were not sent', error: true};
      }
      queue = kept;
    }
    provisional = false;
  }
  view = s ? {st: s, spans: replay(s, s.spans, queue)} : null;
  if (itemChanged) undoStack = [];
  show(r.html);
  if (itemChanged || (op.data && op.data.op === 'all')) ahead();
  const keys = held; held = [];
  keys.forEach(k => handle(k));
  pump();
}
function rollback(op, html, s) {
  conf = s; view = s ? {st: s, spans: s.spans} : null;
  queue = []; held = []; waiting = false; provisional = false; note = null; failed = true;
  if (op.kind === 'edit') undoStack.length = Math.min(undoStack.length, op.undoLen); else undoStack = [];
  show(html);
  ahead();
}
async function lost() {
  const was = conf;
  queue = []; held = []; waiting = false; provisional = false; failed = true;
  const r = was ? await call(server.editor_item, {token: was.token, position: was.position}) : undefined;
  if (r && r.ok) {
    conf = parse(r.html); view = conf ? {st: conf, spans: conf.spans} : null;
    note = {text: '⚠️ the server did not answer: the actions since the last "saved" are not saved; this is what it has saved', error: true};
    undoStack = []; show(r.html); ahead();
  } else {
    view = conf ? {st: conf, spans: conf.spans} : null;
    note = {text: '⚠️ the server does not answer: nothing since the last "saved" is saved; reload the page', error: true};
    paint();
  }
}

// ---- actions ----
function edit(data, undoable) {
  const s = view.st, before = view.spans, after = localEdit(s, before, data);
  const op = {kind: 'edit', data: data, key: keyOf(s), undoLen: undoStack.length};
  if (after) { if (undoable) undoStack.push(before); view.spans = after; }
  else if (undoable) undoStack.push(before);
  enqueue(op);
}
function decideAction(action) {
  const s = view.st;
  const op = {kind: 'decide', data: {action: action}, key: keyOf(s)};
  const optimistic = ['accept', 'reject', 'skip'].includes(action) && s.position !== null && s.position !== undefined
                     && prefetch && prefetchKey === keyOf(s) && !provisional;
  if (optimistic) {
    const html = prefetch, next = parse(html);
    provisional = true; prefetch = null; prefetchKey = null;
    note = {text: 'saving your ' + action + ' of item ' + s.position + '…', error: false};
    view = next ? {st: next, spans: next.spans} : {st: null, spans: []};
    undoStack = [];
    queue.push(op);
    show(html);
    pump();
  } else {
    waiting = true; enqueue(op);
  }
}
function spanOf(key) { return view && key ? view.spans.find(x => x.start + ':' + x.end === key) || null : null; }
function kbRange(s) {
  if (anchor === null || cursor < 0) return null;
  const a = Math.min(anchor, cursor), b = Math.max(anchor, cursor);
  return [s.words[a][0], s.words[b][1]];
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
function resize(kind) {
  const s = view.st, span = spanOf(selected);
  if (!span) return;
  let i = s.words.findIndex(w => w[0] === span.start), j = s.words.findIndex(w => w[1] === span.end);
  if (i < 0 || j < 0) return;
  if (kind === '[') i = Math.max(0, i - 1);
  if (kind === ']') j = Math.min(s.words.length - 1, j + 1);
  if (kind === '{' && i < j) i += 1;
  if (kind === '}' && j > i) j -= 1;
  const start = s.words[i][0], end = s.words[j][1];
  if (start === span.start && end === span.end) return;
  selected = start + ':' + end;
  edit({op: 'resize', target: span, start: start, end: end}, true);
}
function handle(k) {
  if (!view || !view.st) return false;
  if (waiting) { held.push(k); return true; }
  const s = view.st, n = s.words.length;
  if (k.key === 'ArrowRight' || k.key === 'ArrowLeft') {
    if (!n) return true;
    const step = k.key === 'ArrowRight' ? 1 : -1;
    if (k.shift) {
      if (anchor === null) { anchor = Math.max(cursor, 0); cursor = anchor; }
      else cursor = Math.min(n - 1, Math.max(0, cursor + step));
    } else { anchor = null; cursor = Math.min(n - 1, Math.max(0, cursor + step)); }
    paint(); return true;
  }
  const label = s.labels.find(l => l.key === k.key) || null;
  if (label) {
    active = label.name;
    const range = kbRange(s), span = spanOf(selected);
    if (range) { anchor = null; edit({op: 'add', start: range[0], end: range[1], label: active}, true); }
    else if (span && span.label !== active) { selected = span.start + ':' + span.end; edit({op: 'relabel', target: span, label: active}, true); }
    else paint();
    return true;
  }
  if (k.key === 'Tab') {
    if (!view.spans.length) return false;
    const i = view.spans.findIndex(x => x.start + ':' + x.end === selected);
    const next = view.spans[(i + (k.shift ? view.spans.length - 1 : 1)) % view.spans.length];
    selected = next.start + ':' + next.end; paint(); return true;
  }
  if (k.key === 'Escape') { selected = null; anchor = null; paint(); return true; }
  if ((k.key === 'Delete' || k.key === 'Backspace') && spanOf(selected)) {
    const span = spanOf(selected); selected = null; edit({op: 'remove', target: span}, true); return true;
  }
  if ('[]{}'.includes(k.key) && k.key.length === 1) { resize(k.key); return true; }
  if (k.key === 'o' && spanOf(selected)) { edit({op: 'all', target: spanOf(selected)}, true); return true; }
  if (k.key === 'Enter' || k.key === 'a') { decideAction('accept'); return true; }
  if (k.key === 'x') { decideAction('reject'); return true; }
  if (k.key === 's') { decideAction('skip'); return true; }
  if (k.key === 'b') { decideAction('back'); return true; }
  if (k.key === 'u' || (k.ctrl && k.key === 'z')) {
    if (undoStack.length) edit({op: 'set', spans_new: undoStack.pop()}, false);
    else decideAction('undo');
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
  const sel = window.getSelection(), text = root.querySelector('.ann-text');
  if (!view || !view.st || waiting || !sel || sel.isCollapsed || !text || !text.contains(sel.anchorNode)) return;
  let a = charAt(sel.anchorNode, sel.anchorOffset), b = charAt(sel.focusNode, sel.focusOffset);
  sel.removeAllRanges();
  if (a === null || b === null || a === b) return;
  if (a > b) [a, b] = [b, a];
  const span = spanOf(selected);
  if (span && span.start < b && a < span.end) edit({op: 'resize', target: span, start: a, end: b}, true);
  else if (active) edit({op: 'add', start: a, end: b, label: active}, true);
});
root.addEventListener('click', ev => {
  if (!view || !view.st) return;
  const lab = ev.target.closest('.ann-label');
  if (lab) {
    active = lab.dataset.label;
    const span = spanOf(selected);
    if (span && span.label !== active && !waiting) edit({op: 'relabel', target: span, label: active}, true);
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
const first = root.querySelector('.ann-editor');
seen = first ? first.dataset.state : null;
adopt(nodeState());
paint();
"""
