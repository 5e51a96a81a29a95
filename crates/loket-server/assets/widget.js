/*! Loket web chat widget — embed with:
 *  <script src="https://loket.example/widget.js" data-tenant="GM0344" data-lang="nl" defer></script>
 * Plain ES2020, no dependencies. Builds itself inside a Shadow DOM so the host site's CSS cannot break it.
 */
(() => {
  'use strict';
  if (window.LoketWidget) return; // embedded twice: keep the first

  const script = document.currentScript || document.querySelector('script[data-tenant]');
  const tenant = script && script.dataset.tenant;
  if (!tenant) { console.warn('[loket] widget.js: data-tenant ontbreekt'); return; }
  const origin = new URL(script.src || location.href, location.href).origin;
  const api = (path) => `${origin}/api/v1/widget/${encodeURIComponent(tenant)}${path}`;
  const wsUrl = (token) => `${origin.replace(/^http/, 'ws')}/api/v1/widget/ws?token=${encodeURIComponent(token)}`;
  const KEY = `loket-widget:${tenant}`;
  const MAX = 4000, WARN_AT = 3600;

  // ---- all strings -------------------------------------------------------------------------
  const T = {
    nl: {
      launcher: (n) => `Chat met ${n}`,
      region: (n) => `Chat met ${n}`,
      logo: (n) => `Logo ${n}`,
      close: 'Chat sluiten',
      langGroup: 'Taal',
      nl: 'Nederlands', en: 'English',
      log: 'Berichten',
      closedNow: 'We zijn nu gesloten; we antwoorden op de eerstvolgende werkdag.',
      hours: 'Openingstijden',
      name: 'Uw naam (optioneel)',
      message: 'Uw bericht',
      send: 'Verstuur',
      hint: 'Enter verstuurt, Shift+Enter geeft een nieuwe regel. Deel geen BSN of wachtwoorden.',
      you: 'U',
      agent: 'Medewerker',
      sending: 'wordt verzonden…',
      failed: 'niet verzonden — ',
      retry: 'opnieuw proberen',
      typing: 'Een medewerker typt…',
      resolved: 'Dit gesprek is afgerond. U kunt altijd een nieuw bericht sturen.',
      left: (n) => `Nog ${n} tekens`,
      over: (n) => `${n} tekens te veel`,
      tooLong: `Uw bericht is te lang. Gebruik maximaal ${MAX} tekens.`,
      network: 'Uw bericht is niet verzonden: er is geen verbinding. Controleer uw internet en probeer het opnieuw.',
      generic: 'Er ging iets mis. Probeer het later opnieuw.',
      unread: ' (nieuw bericht)',
      survey: 'Hoe tevreden bent u over ons antwoord?',
      stars: (n) => `${n} van 5 sterren`,
      surveyComment: 'Toelichting (optioneel)',
      surveySend: 'Verstuur beoordeling',
      surveyPick: 'Kies eerst 1 tot en met 5 sterren.',
      surveyThanks: 'Bedankt voor uw beoordeling!',
      surveyDone: 'U heeft dit gesprek al beoordeeld. Bedankt!',
    },
    en: {
      launcher: (n) => `Chat with ${n}`,
      region: (n) => `Chat with ${n}`,
      logo: (n) => `Logo of ${n}`,
      close: 'Close chat',
      langGroup: 'Language',
      nl: 'Nederlands', en: 'English',
      log: 'Messages',
      closedNow: 'We are closed right now; we will reply on the next working day.',
      hours: 'Opening hours',
      name: 'Your name (optional)',
      message: 'Your message',
      send: 'Send',
      hint: 'Enter sends, Shift+Enter adds a new line. Do not share your BSN or passwords.',
      you: 'You',
      agent: 'Agent',
      sending: 'sending…',
      failed: 'not sent — ',
      retry: 'try again',
      typing: 'An agent is typing…',
      resolved: 'This conversation has been closed. You can always send a new message.',
      left: (n) => `${n} characters left`,
      over: (n) => `${n} characters too many`,
      tooLong: `Your message is too long. Please use at most ${MAX} characters.`,
      network: 'Your message was not sent: there is no connection. Check your internet and try again.',
      generic: 'Something went wrong. Please try again later.',
      unread: ' (new message)',
      survey: 'How satisfied are you with our answer?',
      stars: (n) => `${n} out of 5 stars`,
      surveyComment: 'Comment (optional)',
      surveySend: 'Send rating',
      surveyPick: 'Please choose 1 to 5 stars first.',
      surveyThanks: 'Thank you for your rating!',
      surveyDone: 'You have already rated this conversation. Thank you!',
    },
  };

  // ---- small helpers -----------------------------------------------------------------------
  const store = (kind) => { try { return window[kind]; } catch { return null; } };
  const ls = store('localStorage'), ss = store('sessionStorage');
  const get = (s, k) => { try { return s ? s.getItem(k) : null; } catch { return null; } };
  const set = (s, k, v) => { try { if (s) v == null ? s.removeItem(k) : s.setItem(k, v); } catch { /* private mode */ } };
  const uuid = () => (crypto.randomUUID ? crypto.randomUUID()
    : '10000000-1000-4000-8000-100000000000'.replace(/[018]/g, (c) =>
      (c ^ (crypto.getRandomValues(new Uint8Array(1))[0] & (15 >> (c / 4)))).toString(16)));
  const h = (tag, attrs = {}, ...kids) => {
    const el = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) if (v != null && v !== false) el.setAttribute(k, v === true ? '' : v);
    el.append(...kids);
    return el;
  };
  const svg = (d) => {
    const s = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
    s.setAttribute('viewBox', '0 0 24 24'); s.setAttribute('aria-hidden', 'true'); s.setAttribute('focusable', 'false');
    const p = document.createElementNS('http://www.w3.org/2000/svg', 'path');
    p.setAttribute('d', d); s.append(p); return s;
  };
  const hex = (c) => (typeof c === 'string' && /^#([0-9a-f]{3}|[0-9a-f]{6})$/i.test(c) ? c : null);
  const rgb = (c) => { let s = c.slice(1); if (s.length === 3) s = [...s].map((x) => x + x).join(''); return [0, 2, 4].map((i) => parseInt(s.slice(i, i + 2), 16)); };
  const lum = (c) => { const [r, g, b] = rgb(c).map((v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; }); return 0.2126 * r + 0.7152 * g + 0.0722 * b; };
  const contrast = (a, b) => { const [x, y] = [lum(a), lum(b)].sort((p, q) => q - p); return (x + 0.05) / (y + 0.05); };
  /** Text colour for `bg`: the tenant's accent if it reaches 4.5:1, else white or near-black. */
  const textOn = (bg, accent) => {
    if (accent && contrast(bg, accent) >= 4.5) return accent;
    if (contrast(bg, '#ffffff') >= 4.5) return '#ffffff';
    return contrast(bg, '#1a1a1a') >= 4.5 ? '#1a1a1a' : '#000000';
  };
  async function problem(res, t) {
    try { const p = await res.json(); return p.detail || p.title || t.generic; } catch { return t.generic; }
  }
  const JSON_HEADERS = { 'Content-Type': 'application/json', Accept: 'application/json' };

  // ---- state -------------------------------------------------------------------------------
  const S = {
    tenant, origin, lang: 'nl', config: null, token: get(ls, KEY), conversationId: null, state: null,
    open: false, connected: false, typing: false, unread: 0,
    byId: new Map(), pending: [], queue: Promise.resolve(),
  };
  const attrLang = (script.dataset.lang || '').toLowerCase();
  const chosen = get(ls, `${KEY}:lang`);
  S.lang = T[chosen] ? chosen : T[attrLang] ? attrLang
    : (navigator.language || '').toLowerCase().startsWith('en') ? 'en' : 'nl';
  const t = () => T[S.lang];
  const pick = (obj) => (obj && typeof obj === 'object' ? obj[S.lang] || obj.nl || '' : obj || '');

  let readyResolve;
  const ready = new Promise((r) => { readyResolve = r; });
  let ui = null; // element references once built
  window.LoketWidget = {
    open: () => ready.then((ok) => ok && open(true)),
    close: () => ready.then((ok) => ok && close(false)),
    ready, _state: S,
  };

  // ---- styles ------------------------------------------------------------------------------
  const CSS = `
:host{all:initial}
*,*::before,*::after{box-sizing:border-box}
[hidden]{display:none!important}
.root{font-family:system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;font-size:16px;line-height:1.45;color:#1a1a1a}
button,input,textarea{font:inherit;color:inherit}
button{cursor:pointer;min-height:44px;min-width:44px}
:focus-visible{outline:3px solid #1a1a1a;outline-offset:2px}
.sr{position:absolute;width:1px;height:1px;margin:-1px;padding:0;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap;border:0}
.launcher{position:fixed;right:16px;bottom:16px;z-index:2147483000;display:flex;align-items:center;gap:8px;max-width:calc(100vw - 32px);
  padding:10px 20px 10px 16px;border:2px solid var(--fg);border-radius:999px;background:var(--pc);color:var(--fg);font-weight:600;
  box-shadow:0 4px 14px rgba(0,0,0,.3);text-align:left}
.launcher:focus-visible{outline:3px solid #1a1a1a;outline-offset:3px;box-shadow:0 0 0 3px #fff,0 4px 14px rgba(0,0,0,.3)}
.launcher svg{width:24px;height:24px;flex:none;fill:currentColor}
.dot{width:12px;height:12px;border-radius:50%;background:var(--fg);flex:none}
.panel{position:fixed;right:16px;bottom:84px;z-index:2147483001;width:380px;max-width:calc(100vw - 32px);
  height:min(640px,calc(100vh - 100px));display:flex;flex-direction:column;background:#fff;border-radius:12px;overflow:hidden;
  box-shadow:0 8px 32px rgba(0,0,0,.35);border:1px solid #767676}
.head{display:flex;align-items:center;gap:8px;padding:8px 8px 8px 16px;background:var(--pc);color:var(--fg)}
.head :focus-visible{outline-color:currentColor;outline-offset:-5px}
.logo{height:32px;width:auto;max-width:64px;object-fit:contain;background:#fff;border-radius:4px;padding:2px}
h2{flex:1;margin:0;font-size:18px;font-weight:700;overflow-wrap:anywhere}
.langs{display:flex}
.langs button,.x{background:transparent;border:0;border-radius:6px;color:inherit;padding:0 6px;font-size:14px;font-weight:600}
.langs button[aria-pressed="true"]{text-decoration:underline;text-decoration-thickness:2px;text-underline-offset:4px}
.langs button[aria-pressed="false"]{opacity:1;font-weight:400}
.x svg{width:22px;height:22px;fill:currentColor;vertical-align:middle}
.log{flex:1;overflow-y:auto;padding:16px;display:flex;flex-direction:column;gap:10px;background:#fafafa}
.intro,.msg,.note{max-width:85%;padding:10px 12px;border-radius:12px;overflow-wrap:anywhere}
.intro{align-self:flex-start;background:#ececec;border-bottom-left-radius:4px}
.intro p{margin:0}.intro p+p{margin-top:8px}
.closed{font-weight:600}
.msg{display:flex;flex-direction:column;gap:2px}
.msg[data-direction="out"]{align-self:flex-start;background:#ececec;border-bottom-left-radius:4px}
.msg[data-direction="in"]{align-self:flex-end;background:var(--pc);color:var(--fg);border-bottom-right-radius:4px}
.msg[data-state="failed"]{background:#fff;color:#1a1a1a;border:2px solid #b00020}
.meta{font-size:13px;font-weight:600}
.body{white-space:pre-wrap}
.status{font-size:13px}
.msg[data-state="failed"] .status{color:#b00020;font-weight:600}
.status button{background:transparent;border:0;padding:0 4px;color:#1a1a1a;text-decoration:underline;font-weight:600;min-height:44px}
.note{align-self:center;max-width:95%;background:#e8f1f8;color:#1a1a1a;border:1px solid #5a7a94;font-size:14px;text-align:center}
.typing{min-height:0;padding:0 16px;font-size:14px;color:#4a4a4a;font-style:italic;background:#fafafa}
.typing:not(:empty){padding:4px 16px}
.alert:not(:empty){margin:8px 12px 0;padding:8px 12px;border-radius:8px;background:#fdecee;color:#7a0014;border:1px solid #b00020;font-size:14px}
form{padding:8px 12px 12px;border-top:1px solid #d0d0d0;background:#fff}
label{display:block;font-size:14px;font-weight:600;margin:4px 0 2px}
input,textarea{width:100%;border:1px solid #767676;border-radius:8px;padding:10px;background:#fff;min-height:44px}
textarea{resize:none;height:72px;display:block}
.row{display:flex;gap:8px;align-items:flex-end}
.send{flex:none;padding:0 16px;border:2px solid var(--fg);border-radius:8px;background:var(--pc);color:var(--fg);font-weight:700}
.send:focus-visible{outline:3px solid #1a1a1a;outline-offset:2px}
.hint,.count{margin:4px 0 0;font-size:13px;color:#4a4a4a}
.count:empty{display:none}
.count.over{color:#b00020;font-weight:600}
.survey{align-self:stretch;background:#fff;border:1px solid #767676;border-radius:12px;padding:10px 12px}
.survey fieldset{border:0;margin:0;padding:0}
.survey legend{font-weight:600;padding:0;margin-bottom:4px}
.stars{display:flex;flex-wrap:wrap;gap:2px}
.stars label{display:inline-flex;align-items:center;margin:0;font-weight:400;min-height:44px;padding:0 4px;cursor:pointer}
.stars input{width:auto;min-height:0;margin:0 4px 0 0}
.stars .st{font-size:18px;color:#7a5c00;letter-spacing:-2px}
.survey textarea{height:56px}
.survey .send{margin-top:8px;min-height:44px}
.survey .done{margin:0;font-weight:600}
@media (max-width:480px),(max-height:520px){
  .panel{inset:0;width:100%;max-width:none;height:100%;border-radius:0;border:0}
  .launcher{right:12px;bottom:12px}
}
@media (prefers-reduced-motion:no-preference){
  .panel{animation:pop .16s ease-out}
  @keyframes pop{from{opacity:0;transform:translateY(8px)}to{opacity:1;transform:none}}
}
@media (forced-colors:active){.launcher,.send,.msg{border:2px solid CanvasText}}
`;

  // ---- build -------------------------------------------------------------------------------
  function build(cfg) {
    const pc = hex(cfg.primary_color) || '#01689b';
    const fg = textOn(pc, hex(cfg.accent_color));
    const host = h('loket-widget', { id: 'loket-widget', 'data-loket-tenant': tenant }); // own tag: site rules for div etc. miss it
    const root = host.attachShadow({ mode: 'open' });
    const wrap = h('aside', { class: 'root' });
    wrap.style.setProperty('--pc', pc);
    wrap.style.setProperty('--fg', fg);

    const launchText = h('span');
    const unread = h('span', { class: 'sr' });
    const dot = h('span', { class: 'dot', hidden: true, 'aria-hidden': 'true' });
    const launcher = h('button', {
      type: 'button', class: 'launcher', 'data-testid': 'loket-launcher',
      'aria-expanded': 'false', 'aria-controls': 'loket-panel',
    }, svg('M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H8l-4 4V6a2 2 0 0 1 2-2zm3 6v2h2v-2H7zm4 0v2h2v-2h-2zm4 0v2h2v-2h-2z'),
    launchText, unread, dot);

    const title = h('h2', { id: 'loket-title' }, cfg.display_name || cfg.name || tenant);
    let logo = null;
    if (typeof cfg.logo_url === 'string' && /^https?:\/\//i.test(cfg.logo_url)) {
      logo = h('img', { class: 'logo', src: cfg.logo_url, alt: '' });
      logo.addEventListener('error', () => logo.remove());
    }
    const langBtn = (code) => {
      const b = h('button', { type: 'button', lang: code, 'data-lang': code }, code.toUpperCase(), h('span', { class: 'sr' }, ` – ${T[code][code]}`));
      b.addEventListener('click', () => setLang(code));
      return b;
    };
    const langs = h('div', { class: 'langs', role: 'group' }, langBtn('nl'), langBtn('en'));
    const closeBtn = h('button', { type: 'button', class: 'x', 'data-testid': 'loket-close' },
      svg('M18.3 5.7 12 12l6.3 6.3-1.4 1.4L10.6 13.4 4.3 19.7 2.9 18.3 9.2 12 2.9 5.7 4.3 4.3l6.3 6.3 6.3-6.3z'));
    const head = h('div', { class: 'head' }, ...(logo ? [logo] : []), title, langs, closeBtn);

    const greet = h('p'), closed = h('p', { class: 'closed' }), hours = h('p');
    const intro = h('div', { class: 'intro' }, greet, closed, hours);
    const log = h('div', { class: 'log', role: 'log', 'aria-live': 'polite', tabindex: '0', 'data-testid': 'loket-log' }, intro);
    const note = h('div', { class: 'note', 'data-testid': 'loket-resolved' });
    const typing = h('div', { class: 'typing', role: 'status', 'data-testid': 'loket-typing' });
    const alert = h('div', { class: 'alert', role: 'alert', 'data-testid': 'loket-alert' });

    const nameLabel = h('label', { for: 'loket-name' });
    const name = h('input', { id: 'loket-name', type: 'text', autocomplete: 'name', maxlength: '100', 'data-testid': 'loket-name' });
    const nameRow = h('div', {}, nameLabel, name);
    const msgLabel = h('label', { for: 'loket-input' });
    const input = h('textarea', { id: 'loket-input', rows: '3', 'data-testid': 'loket-input', 'aria-describedby': 'loket-hint loket-count' });
    const send = h('button', { type: 'submit', class: 'send', 'data-testid': 'loket-send' });
    const hint = h('p', { id: 'loket-hint', class: 'hint' });
    const count = h('p', { id: 'loket-count', class: 'count' });
    const form = h('form', { novalidate: true }, nameRow, msgLabel, h('div', { class: 'row' }, input, send), hint, count);

    const panel = h('div', {
      id: 'loket-panel', class: 'panel', role: 'dialog', 'aria-modal': 'true', 'aria-labelledby': 'loket-title',
      'data-testid': 'loket-panel', hidden: true,
    }, head, log, typing, alert, form);

    wrap.append(launcher, panel);
    // a constructed stylesheet is not blocked by a host page's CSP (style-src); <style> as fallback
    try { const sheet = new CSSStyleSheet(); sheet.replaceSync(CSS); root.adoptedStyleSheets = [sheet]; }
    catch { root.append(h('style', {}, CSS)); }
    root.append(wrap);
    document.body.append(host);

    ui = { host, root, wrap, launcher, launchText, unread, dot, panel, title, logo, langs, closeBtn, greet, closed, hours,
      log, note, typing, alert, nameRow, nameLabel, name, msgLabel, input, send, hint, count, form };

    launcher.addEventListener('click', () => (S.open ? close(true) : open(true)));
    closeBtn.addEventListener('click', () => close(true));
    panel.addEventListener('keydown', onPanelKey);
    form.addEventListener('submit', (e) => { e.preventDefault(); submit(); });
    input.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' && !e.shiftKey && !e.isComposing && !e.ctrlKey && !e.altKey && !e.metaKey) { e.preventDefault(); submit(); }
    });
    input.addEventListener('input', updateCount);
    applyLang();
  }

  function applyLang() {
    const tt = t(), cfg = S.config, n = cfg.display_name || cfg.name || tenant;
    ui.wrap.setAttribute('lang', S.lang);
    ui.wrap.setAttribute('aria-label', tt.region(n));
    ui.launchText.textContent = tt.launcher(n);
    ui.unread.textContent = S.unread ? tt.unread : '';
    if (ui.logo) ui.logo.alt = tt.logo(n);
    ui.langs.setAttribute('aria-label', tt.langGroup);
    for (const b of ui.langs.querySelectorAll('button')) b.setAttribute('aria-pressed', String(b.dataset.lang === S.lang));
    ui.closeBtn.setAttribute('aria-label', tt.close);
    ui.log.setAttribute('aria-label', tt.log);
    ui.greet.textContent = pick(cfg.greeting);
    ui.greet.hidden = !ui.greet.textContent;
    const isClosed = cfg.open_now === false;
    ui.closed.textContent = isClosed ? tt.closedNow : '';
    ui.closed.hidden = !isClosed;
    const hrs = pick(cfg.hours_text);
    ui.hours.textContent = isClosed && hrs ? `${tt.hours}: ${hrs}` : '';
    ui.hours.hidden = !ui.hours.textContent;
    ui.note.textContent = tt.resolved;
    if (S.survey) renderSurvey();
    ui.nameLabel.textContent = tt.name;
    ui.msgLabel.textContent = tt.message;
    ui.send.textContent = tt.send;
    ui.hint.textContent = tt.hint;
    if (S.typing) ui.typing.textContent = tt.typing;
    ui.nameRow.hidden = !!S.token;
    for (const rec of S.byId.values()) paint(rec);
    for (const rec of S.pending) paint(rec);
    updateCount();
  }

  function setLang(code) {
    if (!T[code] || code === S.lang) return;
    S.lang = code;
    set(ls, `${KEY}:lang`, code);
    applyLang();
  }

  // ---- open / close / keyboard -------------------------------------------------------------
  function open(focus) {
    S.open = true;
    ui.panel.hidden = false;
    ui.launcher.setAttribute('aria-expanded', 'true');
    set(ss, `${KEY}:open`, '1');
    S.unread = 0; ui.dot.hidden = true; ui.unread.textContent = '';
    scrollDown(true);
    if (focus) ui.input.focus();
  }
  function close(focusLauncher) {
    const hadFocus = ui.root.activeElement != null;
    S.open = false;
    ui.panel.hidden = true;
    ui.launcher.setAttribute('aria-expanded', 'false');
    set(ss, `${KEY}:open`, null);
    if (focusLauncher || hadFocus) ui.launcher.focus();
  }
  function focusables() {
    return [...ui.panel.querySelectorAll('button,input,textarea,img[tabindex],[tabindex="0"]')]
      .filter((el) => !el.disabled && el.getClientRects().length > 0);
  }
  function onPanelKey(e) {
    if (e.key === 'Escape') { e.preventDefault(); e.stopPropagation(); close(true); return; }
    if (e.key !== 'Tab') return;
    const f = focusables();
    if (!f.length) return;
    const first = f[0], last = f[f.length - 1], active = ui.root.activeElement;
    if (e.shiftKey && (active === first || !f.includes(active))) { e.preventDefault(); last.focus(); }
    else if (!e.shiftKey && (active === last || !f.includes(active))) { e.preventDefault(); first.focus(); }
  }

  // ---- messages ----------------------------------------------------------------------------
  const fmtTime = (ms) => {
    const d = new Date(typeof ms === 'number' ? ms : Date.parse(ms) || Date.now());
    const time = d.toLocaleTimeString('nl-NL', { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
    if (d.toDateString() === new Date().toDateString()) return [d, time];
    return [d, `${d.toLocaleDateString(S.lang === 'en' ? 'en-GB' : 'nl-NL', { day: 'numeric', month: 'short' })} ${time}`];
  };

  /** (Re)draw one message record into its element. Message text goes in via textContent only. */
  function paint(rec) {
    const tt = t();
    if (!rec.el) {
      rec.el = h('div', { class: 'msg', 'data-testid': 'loket-msg' });
      rec.metaEl = h('div', { class: 'meta' });
      rec.bodyEl = h('div', { class: 'body' });
      rec.statusEl = h('div', { class: 'status' });
      rec.el.append(rec.metaEl, rec.bodyEl, rec.statusEl);
    }
    const el = rec.el;
    el.dataset.direction = rec.direction;
    el.dataset.state = rec.state;
    if (rec.id != null) el.dataset.id = String(rec.id); else delete el.dataset.id;
    const who = rec.direction === 'in' ? tt.you : rec.author || tt.agent;
    const [d, time] = fmtTime(rec.created_at);
    const timeEl = h('time', { datetime: d.toISOString() }, time);
    rec.metaEl.replaceChildren(`${who} · `, timeEl);
    if (rec.bodyEl.textContent !== rec.body) rec.bodyEl.textContent = rec.body;
    if (rec.state === 'failed') {
      const retry = h('button', { type: 'button', 'data-testid': 'loket-retry' }, tt.retry);
      retry.addEventListener('click', () => { resend(rec); });
      rec.statusEl.replaceChildren(tt.failed, retry);
    } else if (rec.state === 'pending') {
      rec.statusEl.replaceChildren(tt.sending);
    } else if (rec.statusEl.firstChild) {
      rec.statusEl.replaceChildren();
    }
    rec.statusEl.hidden = !rec.statusEl.firstChild;
  }

  const order = (a, b) => (a.created_at - b.created_at) || (a.id - b.id);
  /** Put a server message at its chronological place; optimistic (pending/failed) ones stay last. */
  function place(rec) {
    const firstPending = S.pending.find((p) => p.el && p.el.isConnected && p !== rec);
    let before = null;
    for (const el of ui.log.querySelectorAll('.msg[data-id]')) {
      const other = S.byId.get(Number(el.dataset.id)) || S.byId.get(el.dataset.id);
      if (other && other !== rec && order(rec, other) < 0) { before = el; break; }
    }
    before = before || (firstPending && firstPending.el);
    if (before) ui.log.insertBefore(rec.el, before); else ui.log.append(rec.el);
  }

  const norm = (m) => ({
    id: m.id, direction: m.direction === 'in' ? 'in' : 'out', author: m.author || null,
    body: typeof m.body === 'string' ? m.body : String(m.body ?? ''),
    created_at: typeof m.created_at === 'number' ? m.created_at : Date.parse(m.created_at) || Date.now(),
    client_id: m.client_id || null, state: 'sent',
  });

  /** Add a message from the server, deduplicated by id; adopts the optimistic copy of our own message. */
  function upsert(m) {
    if (!m || m.id == null || S.byId.has(m.id)) return null;
    const srv = norm(m);
    let rec = null;
    if (srv.direction === 'in') {
      rec = S.pending.find((p) => (srv.client_id ? p.client_id === srv.client_id : p.body === srv.body));
      if (rec) { S.pending = S.pending.filter((p) => p !== rec); if (rec.state === 'failed') showAlert(''); }
    }
    rec = rec ? Object.assign(rec, { ...srv, client_id: rec.client_id }) : srv;
    S.byId.set(rec.id, rec);
    paint(rec);
    place(rec);
    if (rec.direction === 'out') {
      setTyping(false);
      if (!S.open) { S.unread++; ui.dot.hidden = false; ui.unread.textContent = t().unread; }
    }
    return rec;
  }

  // Whether the reader is at (or near) the newest message; measured before adding one, so a
  // long new reply still scrolls into view while someone reading older messages is left alone.
  function nearBottom() {
    const l = ui.log;
    return l.scrollHeight - l.scrollTop - l.clientHeight < 120;
  }

  function scrollDown(force) {
    const l = ui.log;
    if (force || nearBottom()) l.scrollTop = l.scrollHeight;
  }

  function setTyping(active) {
    S.typing = !!active;
    clearTimeout(setTyping.timer);
    ui.typing.textContent = S.typing ? t().typing : '';
    if (S.typing) setTyping.timer = setTimeout(() => setTyping(false), 15000);
  }

  function setConvState(state) {
    S.state = state;
    if (state === 'opgelost' || state === 'gesloten') { ui.log.append(ui.note); scrollDown(); }
    if (state === 'opgelost') loadSurvey();
  }

  // ---- satisfaction survey: inline 1–5 stars after the conversation is resolved -------------
  async function loadSurvey() {
    if (!S.token || S.survey) return;
    let res;
    try {
      res = await fetch(api(`/survey?token=${encodeURIComponent(S.token)}`), { headers: { Accept: 'application/json' } });
    } catch { return; }
    if (!res.ok) return;
    const data = await res.json().catch(() => null);
    if (!data || !data.token) return;
    S.survey = { token: data.token, answered: !!data.answered, thanks: false, score: 0, comment: '' };
    renderSurvey();
    scrollDown();
  }

  function renderSurvey() {
    const sv = S.survey;
    if (!sv) return;
    const tt = t();
    const box = ui.survey || h('div', { class: 'survey', 'data-testid': 'loket-survey' });
    ui.survey = box;
    box.replaceChildren();
    if (sv.answered) {
      box.append(h('p', { class: 'done', role: 'status' }, sv.thanks ? tt.surveyThanks : tt.surveyDone));
    } else {
      const legend = h('legend', { id: 'loket-survey-q' }, tt.survey);
      const stars = h('div', { class: 'stars', role: 'radiogroup', 'aria-labelledby': 'loket-survey-q' });
      for (let n = 1; n <= 5; n++) {
        const r = h('input', { type: 'radio', name: 'loket-score', id: `loket-score-${n}`, value: String(n), 'data-testid': `loket-score-${n}` });
        if (sv.score === n) r.checked = true;
        r.addEventListener('change', () => { sv.score = n; });
        stars.append(h('label', { for: `loket-score-${n}` }, r,
          h('span', { class: 'st', 'aria-hidden': 'true' }, '★'.repeat(n)),
          h('span', { class: 'sr' }, tt.stars(n))));
      }
      const cLabel = h('label', { for: 'loket-survey-comment' }, tt.surveyComment);
      const comment = h('textarea', { id: 'loket-survey-comment', maxlength: '1000', 'data-testid': 'loket-survey-comment' });
      comment.value = sv.comment;
      comment.addEventListener('input', () => { sv.comment = comment.value; });
      const err = h('p', { class: 'alert', role: 'alert' });
      const btn = h('button', { type: 'button', class: 'send', 'data-testid': 'loket-survey-send' }, tt.surveySend);
      btn.addEventListener('click', () => sendSurvey(err));
      box.append(h('fieldset', {}, legend, stars), cLabel, comment, err, btn);
    }
    if (!box.isConnected) ui.log.append(box);
  }

  async function sendSurvey(err) {
    const sv = S.survey;
    if (!sv.score) { err.textContent = t().surveyPick; return; }
    err.textContent = '';
    let res;
    try {
      res = await fetch(api('/survey'), {
        method: 'POST', headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
        body: JSON.stringify({ token: sv.token, score: sv.score, comment: sv.comment.trim() || null }),
      });
    } catch { err.textContent = t().network; return; }
    if (res.ok || res.status === 409) {
      sv.answered = true; sv.thanks = res.ok;
      renderSurvey();
      const focusTarget = ui.survey.querySelector('.done');
      if (focusTarget) { focusTarget.setAttribute('tabindex', '-1'); focusTarget.focus(); }
    } else {
      err.textContent = await problem(res, t());
    }
  }

  function showAlert(text) { ui.alert.textContent = text || ''; }

  function updateCount() {
    const n = [...ui.input.value].length;
    const c = ui.count;
    c.classList.toggle('over', n > MAX);
    c.textContent = n > MAX ? t().over(n - MAX) : n >= WARN_AT ? t().left(MAX - n) : '';
  }

  // ---- server calls ------------------------------------------------------------------------
  function saveToken(token) {
    S.token = token || null;
    set(ls, KEY, S.token);
    ui.nameRow.hidden = !!S.token;
  }

  function forget() {
    stopWs();
    saveToken(null);
    S.conversationId = null; S.state = null;
    for (const rec of S.byId.values()) rec.el && rec.el.remove();
    S.byId.clear();
    ui.note.remove();
    if (ui.survey) { ui.survey.remove(); ui.survey = null; }
    S.survey = null;
  }

  async function loadConversation() {
    if (!S.token) return;
    let res;
    try {
      res = await fetch(api(`/conversation?token=${encodeURIComponent(S.token)}`), { headers: { Accept: 'application/json' } });
    } catch { return; } // offline: the websocket reconnect loop will catch up later
    if (res.status === 404) { forget(); return; }
    if (!res.ok) return;
    const data = await res.json().catch(() => null);
    if (!data) return;
    S.conversationId = data.conversation_id ?? S.conversationId;
    const msgs = Array.isArray(data.messages) ? data.messages.slice().sort((a, b) => order(norm(a), norm(b))) : [];
    let added = false;
    for (const m of msgs) if (upsert(m)) added = true;
    if (data.state) setConvState(data.state);
    if (added) scrollDown();
  }

  function submit() {
    const text = ui.input.value.trim();
    if (!text) { ui.input.focus(); return; }
    if ([...text].length > MAX) { showAlert(t().tooLong); ui.input.focus(); return; }
    showAlert('');
    const rec = {
      client_id: uuid(), direction: 'in', body: text, author: null, created_at: Date.now(), state: 'pending',
      name: S.token ? null : ui.name.value.trim() || null,
    };
    ui.input.value = '';
    updateCount();
    S.pending.push(rec);
    paint(rec);
    ui.log.append(rec.el);
    scrollDown(true);
    enqueue(rec);
  }

  function resend(rec) {
    rec.state = 'pending';
    paint(rec);
    showAlert('');
    enqueue(rec);
    ui.input.focus();
  }

  // one request at a time, so a quick second message joins the conversation the first one opened
  function enqueue(rec) { S.queue = S.queue.then(() => post(rec)).catch(() => {}); }

  async function post(rec, again) {
    if (!S.pending.includes(rec)) return;
    const tt = t();
    let res;
    try {
      res = await fetch(api('/messages'), {
        method: 'POST', headers: JSON_HEADERS,
        body: JSON.stringify({ token: S.token, name: S.token ? null : rec.name, text: rec.body, client_id: rec.client_id }),
      });
    } catch {
      return fail(rec, tt.network);
    }
    if (res.ok) {
      const data = await res.json().catch(() => null);
      if (!data) return fail(rec, tt.generic);
      return accept(rec, data);
    }
    const detail = await problem(res, tt);
    if (res.status === 404 && S.token && !again) { forget(); return post(rec, true); } // stale token
    if (res.status >= 500 || res.status === 408 || res.status === 429) return fail(rec, detail);
    // rejected as it stands (400/413/422 …): take it back into the box so the resident can edit it
    S.pending = S.pending.filter((p) => p !== rec);
    rec.el.remove();
    if (!ui.input.value) { ui.input.value = rec.body; updateCount(); }
    showAlert(detail);
  }

  function fail(rec, detail) {
    if (!S.pending.includes(rec)) return;
    rec.state = 'failed';
    paint(rec);
    showAlert(detail);
    scrollDown(true);
  }

  function accept(rec, data) {
    if (data.token) saveToken(data.token);
    if (data.conversation_id != null) S.conversationId = data.conversation_id;
    const m = data.message;
    if (!S.pending.includes(rec)) return connectWs(); // already adopted from a websocket frame
    if (m && m.id != null && S.byId.has(m.id)) {
      S.pending = S.pending.filter((p) => p !== rec);
      rec.el.remove();
    } else if (m && m.id != null) {
      S.pending = S.pending.filter((p) => p !== rec);
      Object.assign(rec, norm(m), { client_id: rec.client_id });
      S.byId.set(rec.id, rec);
      paint(rec);
      place(rec);
    } else {
      rec.state = 'sent';
      S.pending = S.pending.filter((p) => p !== rec);
      paint(rec);
    }
    if (S.state === 'opgelost' || S.state === 'gesloten') S.state = 'open';
    connectWs();
  }

  // ---- websocket ---------------------------------------------------------------------------
  let ws = null, wsTry = 0, wsTimer = 0, wsWanted = false;
  function connectWs() {
    if (!S.token || ws || !('WebSocket' in window)) return;
    wsWanted = true;
    clearTimeout(wsTimer);
    let sock;
    try { sock = new WebSocket(wsUrl(S.token)); } catch { scheduleWs(); return; }
    ws = sock;
    sock.onopen = () => {
      wsTry = 0;
      S.connected = true;
      loadConversation(); // catch up on anything missed while (re)connecting; deduplicated by id
    };
    sock.onmessage = (e) => {
      let f;
      try { f = JSON.parse(e.data); } catch { return; }
      if (!f || typeof f !== 'object') return;
      if (f.type === 'message' && f.message) { const near = nearBottom(); if (upsert(f.message)) scrollDown(near || f.message.direction === 'in'); }
      else if (f.type === 'typing') setTyping(f.active);
      else if (f.type === 'state' && f.state) setConvState(f.state);
    };
    sock.onclose = () => {
      if (ws === sock) ws = null;
      S.connected = false;
      setTyping(false);
      if (wsWanted && S.token) scheduleWs();
    };
  }
  function scheduleWs() {
    clearTimeout(wsTimer);
    const base = Math.min(30000, 1000 * 2 ** wsTry);
    wsTry++;
    wsTimer = setTimeout(connectWs, Math.min(30000, base + Math.random() * base * 0.2));
  }
  function stopWs() {
    wsWanted = false;
    clearTimeout(wsTimer);
    if (ws) { const s = ws; ws = null; s.close(1000); }
    S.connected = false;
  }
  window.addEventListener('online', () => { if (wsWanted && !ws) { wsTry = 0; connectWs(); } });

  // ---- start -------------------------------------------------------------------------------
  async function start() {
    let res;
    try {
      res = await fetch(api('/config'), { headers: { Accept: 'application/json' } });
    } catch (e) {
      console.warn('[loket] chatwidget: server niet bereikbaar', e);
      return readyResolve(false);
    }
    if (!res.ok) {
      console.warn(`[loket] chatwidget: ${res.status === 404 ? `onbekende gemeente "${tenant}"` : `configuratie niet geladen (${res.status})`}`);
      return readyResolve(false);
    }
    const cfg = await res.json().catch(() => null);
    if (!cfg) { console.warn('[loket] chatwidget: ongeldige configuratie'); return readyResolve(false); }
    S.config = cfg;
    build(cfg);
    if (S.token) { await loadConversation(); if (S.token) connectWs(); }
    if (get(ss, `${KEY}:open`) === '1') open(false);
    readyResolve(true);
  }

  if (document.body) start();
  else document.addEventListener('DOMContentLoaded', start, { once: true });
})();
