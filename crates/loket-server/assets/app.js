// Loket agent UI — progressive enhancement. Every page works without this module; it adds
// live updates over WebSocket, the typing warning, template insertion without reload,
// search suggestions and keyboard shortcuts. No inline scripts or styles (strict CSP).

const $ = (sel, root = document) => root.querySelector(sel);
const $$ = (sel, root = document) => Array.from(root.querySelectorAll(sel));
const EN = document.documentElement.lang === 'en';
const T = (nl, en) => (EN ? en : nl);
const csrfToken = () => $('meta[name="csrf-token"]')?.content || '';
const reducedMotion = () => matchMedia('(prefers-reduced-motion: reduce)').matches;
const loggedIn = Boolean($('meta[name="csrf-token"]'));

/** fetch with the CSRF header on anything that changes state. */
function api(url, opts = {}) {
  const method = (opts.method || 'GET').toUpperCase();
  const headers = new Headers(opts.headers || {});
  if (method !== 'GET' && method !== 'HEAD') headers.set('X-CSRF-Token', csrfToken());
  return fetch(url, { credentials: 'same-origin', ...opts, method, headers });
}

function debounce(fn, ms) {
  let t;
  const d = (...args) => { clearTimeout(t); t = setTimeout(() => fn(...args), ms); };
  d.cancel = () => clearTimeout(t);
  return d;
}

/** Says something in the polite live region (re-announces identical text too). */
function announce(text) {
  const s = $('#live-status');
  if (!s) return;
  s.textContent = '';
  setTimeout(() => { s.textContent = text; }, 60);
}

/** Parses an HTML fragment from the server and returns the element with `id`. */
function fragment(html, id) {
  const tpl = document.createElement('template');
  tpl.innerHTML = html;
  return tpl.content.getElementById(id) || tpl.content.querySelector('#' + id);
}

// ------------------------------------------------------------------ small page setup

for (const i of $$('input[data-back]')) i.value = location.pathname + location.search;

function applyColours(root = document) {
  for (const el of $$('[data-colour]', root)) {
    const c = el.dataset.colour || '';
    if (/^#[0-9a-f]{3,8}$/i.test(c)) el.style.setProperty('--tenant', c);
  }
}
applyColours();

const helpDialog = $('#help');
function openHelp() {
  if (helpDialog && !helpDialog.open && typeof helpDialog.showModal === 'function') helpDialog.showModal();
}
for (const b of $$('[data-help]')) {
  b.hidden = false;
  b.addEventListener('click', openHelp);
}

// ------------------------------------------------------------------ live socket

const live = {
  ws: null,
  tries: 0,
  handlers: new Set(),
  wasConnected: false,
  closing: false,
  send(obj) {
    if (this.ws && this.ws.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(obj));
  },
  on(fn) { this.handlers.add(fn); },
  emit(ev) {
    for (const h of this.handlers) {
      try { h(ev); } catch (e) { console.warn('loket live handler', e); }
    }
  },
};

function setLiveIndicator(on) {
  for (const el of $$('[data-live-indicator]')) el.hidden = !on;
  // Also a hook for tests and styles: <html data-live="on|off">.
  document.documentElement.dataset.live = on ? 'on' : 'off';
}

function connect() {
  if (!loggedIn || live.closing) return;
  let ws;
  try {
    ws = new WebSocket((location.protocol === 'https:' ? 'wss' : 'ws') + '://' + location.host + '/api/v1/live');
  } catch {
    scheduleReconnect();
    return;
  }
  live.ws = ws;
  ws.addEventListener('open', () => {
    const reconnected = live.wasConnected;
    live.tries = 0;
    live.wasConnected = true;
    setLiveIndicator(true);
    // Events may have been missed while we were away: catch up.
    if (reconnected) live.emit({ type: 'resync' });
  });
  ws.addEventListener('message', (e) => {
    let ev;
    try { ev = JSON.parse(e.data); } catch { return; }
    if (ev && typeof ev.type === 'string') live.emit(ev);
  });
  ws.addEventListener('close', () => {
    if (live.ws === ws) live.ws = null;
    setLiveIndicator(false);
    scheduleReconnect();
  });
}

function scheduleReconnect() {
  if (live.closing) return;
  const base = Math.min(30000, 1000 * 2 ** live.tries);
  live.tries = Math.min(live.tries + 1, 10);
  setTimeout(connect, base / 2 + Math.random() * base / 2);
}

addEventListener('pagehide', () => {
  live.closing = true;
  if (live.ws) live.ws.close();
});
addEventListener('pageshow', (e) => {
  if (e.persisted) { live.closing = false; connect(); }
});

// ------------------------------------------------------------------ toasts (alerts)

function toast(text, href, linkText) {
  const box = $('#toasts');
  if (!box) return;
  const el = document.createElement('div');
  el.className = 'toast';
  el.innerHTML = '<svg class="icon" aria-hidden="true" focusable="false"><use href="#i-alert"/></svg><div class="t-body"><strong></strong><span class="t-text"></span> </div><button type="button" class="small"><span aria-hidden="true">×</span><span class="sr-only"></span></button>';
  el.querySelector('strong').textContent = T('Melding', 'Alert');
  el.querySelector('.t-text').textContent = text;
  if (href) {
    const a = document.createElement('a');
    a.href = href;
    a.textContent = linkText;
    el.querySelector('.t-body').append(a);
  }
  el.querySelector('.sr-only').textContent = T('Melding sluiten', 'Dismiss alert');
  el.querySelector('button').addEventListener('click', () => el.remove());
  box.prepend(el);
  while (box.children.length > 4) box.lastElementChild.remove();
}

live.on((ev) => {
  if (ev.type !== 'alert') return;
  toast(ev.text || '', '/conversations/' + ev.conversation_id,
    T('Open gesprek #', 'Open conversation #') + ev.conversation_id);
});

// ------------------------------------------------------------------ inbox: live list + selection

const inbox = $('[data-live-inbox]');
let selectedId = null;

function inboxRows() { return $$('#inbox-list .row'); }

function selectRow(row, focus = true) {
  for (const r of inboxRows()) r.classList.toggle('is-selected', r === row);
  if (!row) { selectedId = null; return; }
  selectedId = row.dataset.id;
  const link = row.querySelector('.rowlink');
  if (focus && link) link.focus();
  row.scrollIntoView({ block: 'nearest', behavior: reducedMotion() ? 'auto' : 'smooth' });
}

function moveSelection(step) {
  const rows = inboxRows();
  if (!rows.length) return;
  let i = rows.findIndex((r) => r.dataset.id === selectedId);
  i = i < 0 ? (step > 0 ? 0 : rows.length - 1) : Math.max(0, Math.min(rows.length - 1, i + step));
  selectRow(rows[i]);
}

if (inbox) {
  const query = inbox.dataset.query || '';
  let sawNew = false;
  let sawMessage = false;
  let inflight = false;
  let again = false;

  inbox.addEventListener('focusin', (e) => {
    const row = e.target.closest && e.target.closest('.row');
    if (row) selectRow(row, false);
  });

  async function refreshInbox() {
    if (inflight) { again = true; return; }
    inflight = true;
    try {
      const old = $('#inbox-list');
      const before = new Set(inboxRows().map((r) => r.dataset.id));
      const hadFocus = old && old.contains(document.activeElement);
      const r = await fetch('/inbox/list' + (query ? '?' + query : ''), { credentials: 'same-origin', headers: { Accept: 'text/html' } });
      if (!r.ok) return;
      try {
        const counts = JSON.parse(r.headers.get('x-loket-counts') || '{}');
        for (const [k, v] of Object.entries(counts)) {
          for (const el of $$('[data-count="' + k + '"]')) el.textContent = String(v);
        }
      } catch { /* counts are a nicety; the list itself still refreshes */ }
      const fresh = fragment(await r.text(), 'inbox-list');
      if (!fresh || !old) return;
      old.replaceWith(fresh);
      let added = 0;
      for (const row of inboxRows()) {
        if (!before.has(row.dataset.id)) {
          added++;
          row.classList.add('is-new');
          setTimeout(() => row.classList.remove('is-new'), 4000);
        }
      }
      const keep = selectedId && inboxRows().find((row) => row.dataset.id === selectedId);
      if (keep) selectRow(keep, hadFocus);
      else if (hadFocus) { const first = inboxRows()[0]; if (first) selectRow(first); }
      if (sawNew && added) announce(T('Nieuw gesprek', 'New conversation'));
      else if (sawMessage) announce(T('Nieuw bericht', 'New message'));
    } catch {
      // offline for a moment: the next event or reconnect refreshes again
    } finally {
      sawNew = false;
      sawMessage = false;
      inflight = false;
      if (again) { again = false; queueRefresh(); }
    }
  }
  const queueRefresh = debounce(refreshInbox, 300);

  live.on((ev) => {
    if (ev.type === 'conversation') {
      if (ev.change === 'created') sawNew = true;
      queueRefresh();
    } else if (ev.type === 'message') {
      if (ev.message && ev.message.direction === 'in') sawMessage = true;
      queueRefresh();
    } else if (ev.type === 'resync') {
      queueRefresh();
    }
  });
}

// ------------------------------------------------------------------ conversation page

const conv = $('[data-conversation-id]');
const replyBody = $('#body');

if (conv) {
  const id = Number(conv.dataset.conversationId);
  const tenant = conv.dataset.tenant;
  const notice = $('#conv-notice');
  const typingWarning = $('#typing-warning');
  let submitting = false;
  let typingHide;

  // Our own form posts reload the page; their events must not look like someone else's.
  document.addEventListener('submit', (e) => {
    if (!e.target.matches('[data-template-form], [data-retry-form]')) submitting = true;
  });

  function showNotice(text) {
    if (!notice) return;
    notice.replaceChildren();
    const span = document.createElement('span');
    span.textContent = text + ' ';
    const a = document.createElement('a');
    a.href = location.pathname;
    a.textContent = T('Pagina vernieuwen', 'Reload page');
    const back = document.createElement('a');
    back.href = '/inbox';
    back.textContent = T('Naar de inbox', 'To the inbox');
    span.append(a, ' · ', back);
    notice.append(span);
    notice.hidden = false;
  }

  async function refreshThread() {
    try {
      const r = await fetch('/conversations/' + id + '/thread', { credentials: 'same-origin', headers: { Accept: 'text/html' } });
      if (r.status === 404 || r.status === 403) {
        showNotice(T('U heeft geen toegang meer tot dit gesprek.', 'You no longer have access to this conversation.'));
        return;
      }
      if (!r.ok) return;
      const fresh = fragment(await r.text(), 'thread');
      const old = $('#thread');
      if (!fresh || !old) return;
      const before = new Set($$('.msg', old).map((m) => m.dataset.id));
      const atBottom = innerHeight + scrollY >= document.body.scrollHeight - 80;
      old.replaceWith(fresh);
      const added = $$('.msg', fresh).filter((m) => !before.has(m.dataset.id));
      if (added.some((m) => m.classList.contains('msg-in'))) announce(T('Nieuw bericht van de inwoner', 'New message from the resident'));
      if (atBottom && added.length) added[added.length - 1].scrollIntoView({ block: 'nearest' });
    } catch {
      // ignore; the next event refreshes
    }
  }
  const queueThread = debounce(refreshThread, 150);

  function hideTyping() {
    clearTimeout(typingHide);
    if (typingWarning) typingWarning.hidden = true;
  }

  live.on((ev) => {
    if (ev.type === 'resync') { queueThread(); return; }
    if (ev.conversation_id !== id) return;
    switch (ev.type) {
      case 'message':
      case 'delivery':
        queueThread();
        if (ev.type === 'message' && ev.message && ev.message.direction !== 'in') hideTyping();
        break;
      case 'conversation':
        queueThread();
        if (submitting) break;
        if (ev.change === 'transferred' && ev.tenant !== tenant) {
          showNotice(T('Dit gesprek is overgedragen aan een andere gemeente.', 'This conversation was transferred to another municipality.'));
        } else if (ev.change === 'state:opgelost' || ev.change === 'state:gesloten') {
          showNotice(ev.change === 'state:opgelost'
            ? T('Een collega heeft dit gesprek opgelost.', 'A colleague resolved this conversation.')
            : T('Een collega heeft dit gesprek gesloten.', 'A colleague closed this conversation.'));
        } else if (ev.change === 'updated') {
          showNotice(T('Dit gesprek is zojuist gewijzigd (toewijzing, status of labels).', 'This conversation was just changed (assignment, state or labels).'));
        }
        break;
      case 'typing':
        if (!typingWarning) break;
        if (ev.active) {
          typingWarning.textContent = (ev.name || T('Een collega', 'A colleague')) + ' ' +
            T('typt al een antwoord in dit gesprek.', 'is already typing a reply in this conversation.');
          typingWarning.hidden = false;
          clearTimeout(typingHide);
          typingHide = setTimeout(hideTyping, 8000);
        } else {
          hideTyping();
        }
        break;
      default:
    }
  });

  // --- typing signal
  if (replyBody) {
    let active = false;
    let lastSent = 0;
    let idle;
    const stop = () => {
      clearTimeout(idle);
      if (active) live.send({ type: 'typing', conversation_id: id, active: false });
      active = false;
      lastSent = 0;
    };
    replyBody.addEventListener('input', () => {
      const now = Date.now();
      if (!active || now - lastSent >= 3000) {
        live.send({ type: 'typing', conversation_id: id, active: true });
        lastSent = now;
        active = true;
      }
      clearTimeout(idle);
      idle = setTimeout(stop, 5000);
    });
    replyBody.addEventListener('blur', stop);
    const rf = replyBody.closest('form');
    if (rf) rf.addEventListener('submit', stop);
  }

  // --- template picker
  const tf = $('[data-template-form]');
  if (tf && replyBody) {
    tf.addEventListener('submit', async (e) => {
      e.preventDefault();
      const sel = tf.querySelector('select');
      const tid = sel && sel.value;
      if (!tid) return;
      try {
        const r = await fetch('/api/v1/conversations/' + id + '/templates/' + encodeURIComponent(tid), {
          credentials: 'same-origin', headers: { Accept: 'application/json' },
        });
        if (!r.ok) throw new Error(String(r.status));
        const { text } = await r.json();
        insertAtCursor(replyBody, text || '');
        announce(T('Standaardantwoord ingevoegd', 'Template inserted'));
      } catch {
        tf.submit(); // the no-JS path: reload with ?template=ID
      }
    });
  }

  // --- retry a failed delivery without a reload
  document.addEventListener('submit', async (e) => {
    const f = e.target;
    if (!f.matches('[data-retry-form]')) return;
    const btn = e.submitter || f.querySelector('button[name=value]');
    if (!btn) return;
    e.preventDefault();
    btn.disabled = true;
    try {
      const r = await api('/api/v1/conversations/' + id + '/messages/' + encodeURIComponent(btn.value) + '/retry', { method: 'POST' });
      if (!r.ok) throw new Error(String(r.status));
      announce(T('Opnieuw in de wachtrij gezet', 'Queued again'));
      queueThread();
    } catch {
      btn.disabled = false;
      f.submit();
    }
  });
}

function insertAtCursor(ta, text) {
  const start = ta.selectionStart ?? ta.value.length;
  const end = ta.selectionEnd ?? start;
  const before = ta.value.slice(0, start);
  const sep = before && !/\s$/.test(before) ? '\n' : '';
  ta.focus();
  ta.setRangeText(sep + text, start, end, 'end');
  ta.dispatchEvent(new Event('input', { bubbles: true }));
}

// ------------------------------------------------------------------ top search suggestions

const searchInput = $('[data-live-search]');
const suggest = $('#search-suggest');

if (searchInput && suggest) {
  let seq = 0;
  let active = -1;
  searchInput.setAttribute('role', 'combobox');
  searchInput.setAttribute('aria-autocomplete', 'list');
  searchInput.setAttribute('aria-controls', 'search-suggest');
  searchInput.setAttribute('aria-expanded', 'false');

  const options = () => $$('[role=option]', suggest);
  const close = () => {
    suggest.hidden = true;
    suggest.replaceChildren();
    active = -1;
    searchInput.setAttribute('aria-expanded', 'false');
    searchInput.removeAttribute('aria-activedescendant');
  };
  const setActive = (i) => {
    const opts = options();
    if (!opts.length) return;
    active = (i + opts.length) % opts.length;
    opts.forEach((o, n) => o.setAttribute('aria-selected', String(n === active)));
    searchInput.setAttribute('aria-activedescendant', opts[active].id);
    opts[active].scrollIntoView({ block: 'nearest' });
  };
  const kindLabel = (k) => ({
    message: T('Bericht', 'Message'), note: T('Notitie', 'Note'), contact: T('Inwoner', 'Resident'),
  })[k] || k;

  function option(n, href, build) {
    const o = document.createElement('div');
    o.id = 'sug-' + n;
    o.setAttribute('role', 'option');
    o.setAttribute('aria-selected', 'false');
    o.dataset.href = href;
    build(o);
    o.addEventListener('mousedown', (e) => { e.preventDefault(); location.href = href; });
    return o;
  }

  async function run() {
    const q = searchInput.value.trim();
    const my = ++seq;
    if (q.length < 2) { close(); return; }
    let hits = [];
    try {
      const r = await fetch('/api/v1/search?q=' + encodeURIComponent(q), { credentials: 'same-origin', headers: { Accept: 'application/json' } });
      if (!r.ok) return;
      hits = await r.json();
    } catch { return; }
    if (my !== seq || document.activeElement !== searchInput) return;
    suggest.replaceChildren();
    let n = 0;
    for (const h of hits.slice(0, 8)) {
      const href = h.conversation_id != null ? '/conversations/' + h.conversation_id : '/search?q=' + encodeURIComponent(q);
      suggest.append(option(n++, href, (o) => {
        const head = document.createElement('span');
        head.className = 's-head';
        const b = document.createElement('span');
        b.className = 'badge';
        b.textContent = kindLabel(h.kind);
        const meta = document.createElement('span');
        meta.className = 'muted small-text';
        meta.textContent = (h.conversation_id != null ? '#' + h.conversation_id + ' · ' : '') + (h.tenant_name || h.tenant_code);
        head.append(b, meta);
        const text = document.createElement('span');
        text.className = 's-text';
        highlightInto(text, h.snippet || '', q);
        o.append(head, text);
      }));
    }
    if (!hits.length) {
      const none = document.createElement('div');
      none.className = 's-empty';
      none.textContent = T('Geen directe treffers.', 'No direct matches.');
      suggest.append(none);
    }
    suggest.append(option(n, '/search?q=' + encodeURIComponent(q), (o) => {
      o.className = 's-all';
      o.textContent = T('Alle resultaten voor “', 'All results for “') + q + '”';
    }));
    suggest.hidden = false;
    active = -1;
    searchInput.setAttribute('aria-expanded', 'true');
    announce(hits.length + ' ' + T('suggesties', 'suggestions'));
  }
  const queueSearch = debounce(run, 200);

  searchInput.addEventListener('input', queueSearch);
  searchInput.addEventListener('keydown', (e) => {
    if (e.key === 'ArrowDown') {
      if (suggest.hidden) { queueSearch.cancel(); run(); return; }
      e.preventDefault(); setActive(active + 1);
    } else if (e.key === 'ArrowUp') {
      if (suggest.hidden) return;
      e.preventDefault(); setActive(active - 1);
    } else if (e.key === 'Enter') {
      const o = options()[active];
      if (!suggest.hidden && o) { e.preventDefault(); location.href = o.dataset.href; }
    } else if (e.key === 'Escape') {
      if (!suggest.hidden) { e.preventDefault(); e.stopPropagation(); close(); }
    }
  });
  searchInput.addEventListener('blur', () => setTimeout(close, 150));
}

/** Appends `text` to `el`, wrapping occurrences of the query's words in <mark>. */
function highlightInto(el, text, q) {
  const words = q.toLowerCase().split(/\s+/).filter((w) => w.length >= 2)
    .map((w) => w.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  if (!words.length) { el.textContent = text; return; }
  const re = new RegExp('(' + words.join('|') + ')', 'gi');
  let last = 0;
  for (const m of text.matchAll(re)) {
    el.append(text.slice(last, m.index));
    const mark = document.createElement('mark');
    mark.textContent = m[0];
    el.append(mark);
    last = m.index + m[0].length;
  }
  el.append(text.slice(last));
}

// search result page: mark the query words in the snippets
const hitList = $('.hits[data-highlight]');
if (hitList) {
  for (const p of $$('.snippet', hitList)) {
    const text = p.textContent;
    p.textContent = '';
    highlightInto(p, text, hitList.dataset.highlight);
  }
}

// ------------------------------------------------------------------ keyboard shortcuts

let gPressed = 0;
document.addEventListener('keydown', (e) => {
  if (e.defaultPrevented || e.ctrlKey || e.metaKey || e.altKey || e.isComposing) return;
  const t = e.target;
  const inField = t instanceof Element && t.closest('input, textarea, select, [contenteditable=""], [contenteditable="true"]');
  if (e.key === 'Escape') {
    if (helpDialog && helpDialog.open) return; // the dialog closes itself
    if (inField && t !== document.body) t.blur();
    return;
  }
  if (inField) return;
  if (helpDialog && helpDialog.open) return;
  const inInbox = Boolean($('#inbox-list .row'));
  switch (e.key) {
    case 'j':
    case 'k':
      if (!inInbox) return;
      e.preventDefault();
      moveSelection(e.key === 'j' ? 1 : -1);
      break;
    case 'Enter': {
      // a focused link or button handles Enter itself
      if (t instanceof Element && t.closest('a, button, summary')) return;
      const row = selectedId && inboxRows().find((r) => r.dataset.id === selectedId);
      const link = row && row.querySelector('.rowlink');
      if (link) { e.preventDefault(); location.href = link.href; }
      break;
    }
    case 'r':
      if (replyBody) { e.preventDefault(); replyBody.focus(); replyBody.scrollIntoView({ block: 'center' }); }
      break;
    case 'e': {
      const b = $('[data-resolve]');
      if (b) { e.preventDefault(); b.click(); }
      break;
    }
    case 'g':
      gPressed = Date.now();
      return;
    case 'i':
      if (Date.now() - gPressed < 1500) { e.preventDefault(); location.href = '/inbox'; }
      break;
    case '/': {
      const s = $('#q-top') || $('#q');
      if (s) { e.preventDefault(); s.focus(); s.select(); }
      break;
    }
    case '?':
      e.preventDefault();
      openHelp();
      break;
    default:
      return;
  }
  gPressed = 0;
});

connect();

// Dashboards: a click on a bar opens the conversations behind it (the table next to the chart
// has the same links for keyboards and screen readers); typing a date picks "Zelf kiezen".
document.addEventListener('click', (e) => {
  const bar = e.target.closest && e.target.closest('svg.chart [data-href]');
  if (bar) location.href = bar.getAttribute('data-href');
});
for (const input of document.querySelectorAll('[data-custom-range] input')) {
  input.addEventListener('change', () => {
    const custom = document.querySelector('input[data-period][value="aangepast"]');
    if (custom) custom.checked = true;
  });
}
