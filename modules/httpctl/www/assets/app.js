// app.js -- the sipphone operator console: login, live state, actions.
//
// The page speaks only the public API (docs/api.md, docs/websocket.md):
//   - REST with "Authorization: Bearer <token>" for state and actions;
//   - one WebSocket (/api/v1/ws?token=...&audio=pcmu) for live events and
//     the call's audio both ways.
// The token lives in this tab's sessionStorage; it never goes into the
// page's address. State comes from GET /api/v1/status when the socket
// opens (and now and then), then follows the events; the event log shows
// the recent past from GET /api/v1/events and fills gaps after a
// reconnect.

import { AudioEngine } from './audio.js';
import { FRAME, decodeFrame, encodeFrame } from './dsp.js';

const TOKEN_KEY = 'sipphone.token';
const LOG_MAX = 200;          // events kept in the list
const REPLAY = 50;            // recent events shown at login
const SYNC_MS = 20000;        // status refresh (expiry, missed changes)
const WEBHOOK_MS = 15000;     // webhook list refresh, while it exists
const TALK_CHECK_MS = 2000;   // talk queue check (clock drift)
const TALK_PREROLL = 3;       // frames of silence ahead of the voice
const TALK_MAX_MS = 160;      // queue above this: drop frames
const TALK_MIN_MS = 20;       // queue below this: add a silent frame

const REASONS = {
  api_hangup: 'hung up from the API',
  phone_hangup: 'the phone hung up',
  no_answer: 'no answer',
  busy: 'busy',
  rejected: 'rejected',
  timeout: 'nobody answered in time',
  shutdown: 'the service stopped',
  error: 'error',
};

const $ = (id) => document.getElementById(id);
const now = () => performance.now();

// -- state ---------------------------------------------------------------

const S = {
  token: null,
  ws: null,
  hello: null,
  format: 'pcmu',
  retries: 0,
  retryTimer: 0,
  lines: new Map(),       // id -> line object (+ _at: when fetched)
  calls: new Map(),       // id -> live call (+ _t0, _answered)
  lastEnded: null,        // the last call that ended
  dtmfRx: new Map(),      // call id -> digits from the phone
  dtmfTx: new Map(),      // call id -> digits sent from here
  events: [],             // newest first, at most LOG_MAX
  seen: new Set(),        // seqs in events
  lastSeq: 0,             // highest seq seen
  liveSeq: 0,             // highest seq applied from the socket
  webhooks: null,         // null: no webhooks API on this service
  audioLine: null,        // chosen line for audio (null: the default)
  talk: { primed: false, skip: 0, sent: 0, queueMs: null, checks: 0 },
  cmdId: 0,
  pending: new Map(),     // command id -> {resolve, reject}
  timers: [],
  syncTimer: 0,
  hookTimer: 0,
  hookProbes: 0,          // answers to GET /api/v1/webhooks so far
};

const audio = new AudioEngine();

// -- small DOM helpers -----------------------------------------------------

function h(tag, attrs, ...kids) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else el.setAttribute(k, v === true ? '' : v);
  }
  for (const c of kids.flat())
    if (c !== null && c !== undefined && c !== false)
      el.append(c instanceof Node ? c : String(c));
  return el;
}

function setText(el, text) {
  text = text ?? '';
  if (el.textContent !== text) el.textContent = text;
}

function mmss(ms) {
  const s = Math.max(0, Math.floor(ms / 1000));
  const hh = Math.floor(s / 3600), mm = Math.floor(s / 60) % 60;
  const ss = String(s % 60).padStart(2, '0');
  return hh ? `${hh}:${String(mm).padStart(2, '0')}:${ss}` : `${mm}:${ss}`;
}

function ago(s) {
  if (s >= 3600) return `${Math.floor(s / 3600)} h ${Math.floor(s / 60) % 60} min`;
  if (s >= 60) return `${Math.floor(s / 60)} min ${s % 60} s`;
  return `${s} s`;
}

let toastTimer = 0;
function toast(msg) {
  const t = $('toast');
  t.textContent = msg;
  t.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { t.hidden = true; }, 6000);
}

// -- REST ------------------------------------------------------------------

class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

async function api(method, path, body) {
  const opts = {
    method,
    cache: 'no-store',
    headers: { Authorization: 'Bearer ' + S.token },
  };
  if (body !== undefined) {
    opts.headers['Content-Type'] = 'application/json';
    opts.body = JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(path, opts);
  } catch (e) {
    throw new ApiError(0, 'network', 'the service cannot be reached');
  }
  const text = await res.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { data = text; }
  if (!res.ok) {
    const e = (data && data.error) || {};
    const err = new ApiError(res.status, e.code || 'http_' + res.status,
      e.message || res.statusText || 'HTTP ' + res.status);
    if (res.status === 401 && S.token && !$('console').hidden)
      logout('The service no longer accepts this token (401 Unauthorized). ' +
             'Paste the current one.');
    throw err;
  }
  return data;
}

async function act(what, fn) {
  try {
    return await fn();
  } catch (e) {
    toast(`${what}: ${e.message}${e.code ? ' (' + e.code + ')' : ''}`);
    return null;
  }
}

// -- login -----------------------------------------------------------------

function showLogin(error) {
  $('console').hidden = true;
  $('logout').hidden = true;
  $('login').hidden = false;
  const e = $('login-error');
  e.hidden = !error;
  e.textContent = error || '';
  $('token').focus();
}

async function login(token, saved) {
  const btn = $('login-form').querySelector('button');
  btn.disabled = true;
  S.token = token;
  let st;
  try {
    st = await api('GET', '/api/v1/status');
  } catch (e) {
    S.token = null;
    sessionStorage.removeItem(TOKEN_KEY);
    btn.disabled = false;
    if (e.status === 401)
      showLogin(saved
        ? 'The saved token is no longer accepted (401 Unauthorized). Paste the current one.'
        : 'Wrong token: the service answered 401 Unauthorized. Check conf/state/token on the Pi.');
    else if (e.status)
      showLogin(`The service answered ${e.status}: ${e.message}`);
    else
      showLogin('Cannot reach the service: is it running?');
    return;
  }
  btn.disabled = false;
  sessionStorage.setItem(TOKEN_KEY, token);
  $('token').value = '';
  $('login').hidden = true;
  $('console').hidden = false;
  $('logout').hidden = false;
  applyStatus(st);
  replayEvents(st.last_event_seq);
  connectWs();
  probeWebhooks();
  startTimers();
}

function logout(msg) {
  S.token = null;
  sessionStorage.removeItem(TOKEN_KEY);
  stopTimers();
  clearTimeout(S.retryTimer);
  if (S.ws) {
    const ws = S.ws;
    S.ws = null;
    ws.close(1000);
  }
  S.hello = null;
  setConn('off');
  audio.listen(false).catch(() => {});
  audio.talk(false).catch(() => {});
  S.lines.clear();
  S.calls.clear();
  S.lastEnded = null;
  S.events = [];
  S.seen.clear();
  S.lastSeq = S.liveSeq = 0;
  S.webhooks = null;
  render();
  renderLog();
  renderWebhooks();
  updateAudioUi();
  showLogin(msg);
}

// -- WebSocket -------------------------------------------------------------

function setConn(st) {
  const el = $('conn');
  el.dataset.state = st;
  el.textContent = { off: 'offline', connecting: 'connecting…', live: 'live' }[st];
}

function connectWs() {
  clearTimeout(S.retryTimer);
  const q = new URLSearchParams({ token: S.token, audio: 'pcmu' });
  if (S.audioLine) q.set('line', S.audioLine);
  const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
  const ws = new WebSocket(`${proto}//${location.host}/api/v1/ws?${q}`);
  ws.binaryType = 'arraybuffer';
  S.ws = ws;
  setConn('connecting');

  ws.onmessage = (m) => {
    if (S.ws !== ws) return;
    if (typeof m.data === 'string') onText(m.data);
    else onAudio(m.data);
  };
  ws.onclose = () => {
    if (S.ws !== ws) return;
    S.ws = null;
    S.hello = null;
    setConn('off');
    for (const p of S.pending.values()) p.reject(new Error('socket closed'));
    S.pending.clear();
    if (S.token) reconnectLater();
  };
}

function reconnectLater() {
  const delay = Math.min(10000, 500 * 2 ** S.retries++);
  S.retryTimer = setTimeout(async () => {
    if (!S.token) return;
    // a refused upgrade looks like any close: ask REST why (401 logs out)
    try {
      await api('GET', '/healthz');
      await api('GET', '/api/v1/status');
    } catch (e) {
      if (S.token) reconnectLater();
      return;
    }
    if (S.token && !S.ws) connectWs();
  }, delay);
}

function wsCommand(command, args) {
  return new Promise((resolve, reject) => {
    if (!S.ws || S.ws.readyState !== WebSocket.OPEN)
      return reject(new Error('not connected'));
    const id = 'c' + (++S.cmdId);
    S.pending.set(id, { resolve, reject });
    S.ws.send(JSON.stringify({ type: 'command', id, command, args: args || {} }));
  });
}

function onText(text) {
  let msg;
  try { msg = JSON.parse(text); } catch { return; }
  switch (msg.type) {
  case 'hello':
    S.hello = msg;
    S.format = msg.audio && msg.audio.format !== 'none' ? msg.audio.format : 'pcmu';
    S.retries = 0;
    setConn('live');
    afterConnect();
    break;
  case 'event':
    onEvent(msg.event, true);
    break;
  case 'response': {
    const p = S.pending.get(msg.id);
    if (!p) break;
    S.pending.delete(msg.id);
    if (msg.ok) p.resolve(msg.result || {});
    else p.reject(new ApiError(0, msg.error?.code, msg.error?.message));
    break;
  }
  case 'error':
    toast(`WebSocket: ${msg.error?.message || 'error'}`);
    break;
  default:
    break;   // "mark" echoes of the talk queue checks
  }
}

async function afterConnect() {
  // what happened while the socket was down: the log has it
  if (S.lastSeq) await fillGap();
  await sync();
  probeWebhooks();
}

function onAudio(buf) {
  audio.phoneFrame(decodeFrame(buf, S.format));
}

// -- state from REST -------------------------------------------------------

function applyStatus(st) {
  const t = now();
  S.lines = new Map(st.lines.map((l) => [l.id, { ...l, _at: t }]));
  const calls = new Map();
  for (const c of st.calls) {
    const old = S.calls.get(c.id);
    calls.set(c.id, {
      ...c,
      _t0: old?._t0 ?? t,
      _answered: c.state === 'active'
        ? (old?._answered ?? t - (c.duration_ms || 0)) : undefined,
    });
  }
  // calls gone without their call.ended (the socket was down): learn why
  for (const id of S.calls.keys())
    if (!calls.has(id)) fetchEnded(id);
  S.calls = calls;
  render();
}

async function sync() {
  if (!S.token) return;
  const st = await act('Status', () => api('GET', '/api/v1/status'));
  if (!st) return;
  // an answer older than an event we applied would undo it: ask again
  if (st.last_event_seq < S.liveSeq) {
    syncSoon();
    return;
  }
  applyStatus(st);
}

function syncSoon(ms = 400) {
  clearTimeout(S.syncTimer);
  S.syncTimer = setTimeout(sync, ms);
}

async function fetchEnded(id) {
  const c = await api('GET', '/api/v1/calls/' + encodeURIComponent(id))
    .catch(() => null);
  if (c && c.state === 'ended') {
    S.lastEnded = c;
    render();
  }
}

function startTimers() {
  stopTimers();
  S.timers.push(setInterval(tick, 250));
  S.timers.push(setInterval(() => { if (S.ws) sync(); }, SYNC_MS));
  S.timers.push(setInterval(talkCheck, TALK_CHECK_MS));
  S.timers.push(setInterval(() => { if (S.webhooks) probeWebhooks(); }, WEBHOOK_MS));
}

function stopTimers() {
  S.timers.forEach(clearInterval);
  S.timers = [];
  clearTimeout(S.syncTimer);
  clearTimeout(S.hookTimer);
}

// -- events ----------------------------------------------------------------

function onEvent(ev, live) {
  if (!ev || typeof ev.seq !== 'number') return;
  const fresh = addLog(ev, false);
  if (!live || !fresh) return;
  S.liveSeq = Math.max(S.liveSeq, ev.seq);
  applyEvent(ev);
}

function lineOf(id) {
  let l = S.lines.get(id);
  if (!l) {
    l = { id, registered: false, state: 'idle', call: null, expires_s: 0, _at: now() };
    S.lines.set(id, l);
  }
  return l;
}

function setLine(id, state, call) {
  const l = lineOf(id);
  l.state = state;
  l.call = call;
}

function upsertCall(c) {
  const old = S.calls.get(c.id) || { _t0: now() };
  const n = { ...old, ...c };
  if (n.state === 'active' && !n._answered)
    n._answered = now() - (c.duration_ms || 0);
  S.calls.set(c.id, n);
  return n;
}

function endCall(c) {
  const old = S.calls.get(c.id) || {};
  S.calls.delete(c.id);
  S.lastEnded = { ...old, ...c, state: 'ended' };
  const l = S.lines.get(S.lastEnded.line);
  if (l && l.call === c.id) setLine(l.id, 'idle', null);
  S.talk.primed = false;
}

function applyEvent(ev) {
  const d = ev.data || {};
  switch (ev.type) {
  case 'line.registered': {
    const l = lineOf(d.line);
    Object.assign(l, {
      registered: true, contact: d.contact, source: d.source,
      user_agent: d.user_agent, expires_s: d.expires_s, _at: now(),
    });
    break;
  }
  case 'line.unregistered': {
    const l = lineOf(d.line);
    l.registered = false;
    l.expires_s = 0;
    break;
  }
  case 'call.incoming':
    upsertCall({ id: d.call, line: d.line, direction: 'from_phone',
      state: 'ringing', dialed: d.dialed, from: d.from, _t0: now() });
    setLine(d.line, 'ringing', d.call);
    break;
  case 'call.ringing':
    upsertCall({ id: d.call, line: d.line, direction: 'to_phone', state: 'ringing' });
    setLine(d.line, 'ringing', d.call);
    break;
  case 'call.answered':
    upsertCall({ id: d.call, line: d.line, state: 'active', answered_by: d.by,
      _answered: now() });
    setLine(d.line, 'in_call', d.call);
    break;
  case 'call.ended':
    endCall({ id: d.call, line: d.line, end_reason: d.reason,
      duration_ms: d.duration_ms, sip_code: d.sip_code });
    break;
  case 'dtmf':
    S.dtmfRx.set(d.call, (S.dtmfRx.get(d.call) || '') + d.digit);
    flashKey(d.digit, 'rx');
    break;
  default:
    break;
  }
  render();
  if (ev.type.startsWith('line.') || ev.type.startsWith('call.')) syncSoon();
  if (S.webhooks) {
    clearTimeout(S.hookTimer);
    S.hookTimer = setTimeout(probeWebhooks, 2000);
  }
}

// -- the event log ---------------------------------------------------------

// Returns true when the event was new
function addLog(ev, replayed) {
  if (S.seen.has(ev.seq)) return false;
  S.seen.add(ev.seq);
  S.lastSeq = Math.max(S.lastSeq, ev.seq);
  const item = { ev, replayed };
  let i = 0;
  while (i < S.events.length && S.events[i].ev.seq > ev.seq) i++;
  S.events.splice(i, 0, item);
  while (S.events.length > LOG_MAX) S.seen.delete(S.events.pop().ev.seq);
  renderLogSoon();
  return true;
}

async function replayEvents(last) {
  const after = Math.max(0, (last || 0) - REPLAY);
  const r = await act('Event log', () =>
    api('GET', `/api/v1/events?after=${after}&limit=${REPLAY}`));
  if (r) r.events.forEach((ev) => addLog(ev, true));
}

async function fillGap() {
  for (let pages = 0; pages < 10; pages++) {
    const r = await api('GET', `/api/v1/events?after=${S.lastSeq}&limit=1000`)
      .catch(() => null);
    if (!r) return;
    for (const ev of r.events) {
      // digits are not in /status: take them from the log
      if (addLog(ev, false) && ev.type === 'dtmf') {
        const d = ev.data;
        S.dtmfRx.set(d.call, (S.dtmfRx.get(d.call) || '') + d.digit);
      }
    }
    if (r.events.length < 1000) return;
  }
}

function summary(ev) {
  const d = ev.data || {};
  switch (ev.type) {
  case 'line.registered':
    return `line ${d.line} · ${d.contact || ''} · ${d.user_agent || ''}`;
  case 'line.unregistered':
    return `line ${d.line} · ${d.reason}`;
  case 'call.incoming':
    return `line ${d.line} dialed ${d.dialed || '(nothing)'}`;
  case 'call.ringing':
    return `line ${d.line} rings`;
  case 'call.answered':
    return `line ${d.line} · by ${d.by}`;
  case 'call.ended':
    return `line ${d.line} · ${d.reason} · ${mmss(d.duration_ms || 0)}`;
  case 'dtmf':
    return `line ${d.line} · digit ${d.digit} (${d.method})`;
  case 'call.flash':
    return `line ${d.line} · hook flash`;
  case 'audio.started':
  case 'audio.stopped':
    return `line ${d.line} · ${d.call}`;
  default: {
    const s = JSON.stringify(d);
    return s.length > 120 ? s.slice(0, 117) + '…' : s;
  }
  }
}

let logQueued = false;
function renderLogSoon() {
  if (logQueued) return;
  logQueued = true;
  requestAnimationFrame(() => { logQueued = false; renderLog(); });
}

function renderLog() {
  const list = $('events');
  list.replaceChildren(...S.events.map(({ ev, replayed }) => {
    const t = new Date(ev.timestamp);
    const time = isNaN(t) ? ev.timestamp
      : t.toLocaleTimeString([], { hour12: false }) +
        '.' + String(t.getMilliseconds()).padStart(3, '0');
    return h('li', {
      class: 'ev ev-' + ev.type.split('.')[0] + (replayed ? ' replayed' : ''),
      'data-type': ev.type, 'data-seq': ev.seq, title: JSON.stringify(ev.data),
    },
    h('time', { datetime: ev.timestamp }, time),
    h('span', { class: 'type' }, ev.type),
    h('span', { class: 'sum' }, summary(ev)));
  }));
  setText($('events-count'), S.events.length ? `(${S.events.length})` : '');
  $('no-events').hidden = S.events.length > 0;
}

// -- actions ---------------------------------------------------------------

function ring(line) {
  return act(`Ring line ${line}`, async () => {
    const c = await api('POST', '/api/v1/calls', { line });
    if (c.state !== 'ended' && !S.calls.has(c.id)) {
      upsertCall(c);
      setLine(line, 'ringing', c.id);
    }
    render();
  });
}

function answer(id) {
  return act('Answer', async () => {
    const c = await api('POST', `/api/v1/calls/${encodeURIComponent(id)}/answer`);
    if (S.calls.has(id)) {
      upsertCall(c);
      setLine(c.line, 'in_call', id);
    }
    render();
  });
}

function hangup(id) {
  return act('Hang up', async () => {
    const c = await api('POST', `/api/v1/calls/${encodeURIComponent(id)}/hangup`);
    if (S.calls.has(id)) endCall(c);
    render();
  });
}

// The call the keypad and Talk are for: the active call on the audio line,
// else the first active call
function currentCall() {
  const active = [...S.calls.values()].filter((c) => c.state === 'active');
  const line = audioLine();
  return active.find((c) => c.line === line) || active[0] || null;
}

function sendDigit(d) {
  const c = currentCall();
  if (!c) {
    toast('No call in progress: digits go to an answered call.');
    return;
  }
  flashKey(d, 'tx');
  S.dtmfTx.set(c.id, (S.dtmfTx.get(c.id) || '') + d);
  renderDigits();
  act('DTMF', () => api('POST', `/api/v1/calls/${encodeURIComponent(c.id)}/dtmf`,
    { digits: d }));
}

function flashKey(d, kind) {
  const b = $('keypad').querySelector(`[data-digit="${CSS.escape(d)}"]`);
  if (!b) return;
  b.classList.remove('flash-tx', 'flash-rx');
  void b.offsetWidth;           // restart the animation
  b.classList.add('flash-' + kind);
}

// -- audio -----------------------------------------------------------------

function audioLine() {
  if (S.audioLine) return S.audioLine;
  if (S.hello && S.hello.line) return S.hello.line;
  const reg = [...S.lines.values()].filter((l) => l.registered);
  return reg.length ? reg[0].id : null;
}

function audioCall() {
  const line = audioLine();
  return [...S.calls.values()].find((c) => c.line === line && c.state === 'active');
}

audio.onMicFrame = (f) => {
  const ws = S.ws;
  if (!ws || ws.readyState !== WebSocket.OPEN || !S.hello || !audioCall()) {
    S.talk.primed = false;
    return;
  }
  if (!S.talk.primed) {
    // a little silence first: room for the jitter of our own sending
    S.talk.primed = true;
    for (let i = 0; i < TALK_PREROLL; i++)
      ws.send(encodeFrame(new Float32Array(FRAME), S.format));
  }
  if (S.talk.skip > 0) {
    S.talk.skip--;
    return;
  }
  ws.send(encodeFrame(f, S.format));
  S.talk.sent++;
};

// The service plays our audio on its clock, we capture on the sound
// card's: the queue between them drifts. A mark's answer says how much is
// queued; drop a few frames when it grows, add silence when it empties.
async function talkCheck() {
  if (!audio.talking || audio.muted || !audioCall() || !S.talk.primed) {
    S.talk.queueMs = null;
    return;
  }
  const r = await wsCommand('mark', { name: 'talk-check' }).catch(() => null);
  if (!r) return;
  S.talk.checks++;
  S.talk.queueMs = r.queued_ms;
  if (r.queued_ms > TALK_MAX_MS)
    S.talk.skip = Math.floor((r.queued_ms - TALK_PREROLL * 20) / 20);
  else if (r.queued_ms < TALK_MIN_MS && S.ws)
    S.ws.send(encodeFrame(new Float32Array(FRAME), S.format));
}

function note(msg) {
  const n = $('audio-note');
  n.hidden = !msg;
  n.textContent = msg || '';
}

async function toggleListen() {
  try {
    await audio.listen(!audio.listening);
    note('');
  } catch (e) {
    note(`Listen: ${e.message}`);
  }
  updateAudioUi();
}

async function toggleTalk() {
  if (!audio.talking && !window.isSecureContext) {
    note('Talk needs the microphone, which browsers give only to https:// ' +
         'pages or http://localhost: open the console through an SSH tunnel ' +
         '(docs/console.md).');
    return;
  }
  try {
    await audio.talk(!audio.talking);
    S.talk.primed = false;
    note('');
    // drop anything an earlier Talk left queued
    if (audio.talking) wsCommand('clear').catch(() => {});
  } catch (e) {
    note(e.name === 'NotAllowedError'
      ? 'Talk: the browser refused the microphone.'
      : e.name === 'NotFoundError' ? 'Talk: no microphone found.'
        : `Talk: ${e.message}`);
  }
  updateAudioUi();
}

function toggleMute() {
  audio.muted = !audio.muted;
  updateAudioUi();
}

function updateAudioUi() {
  $('listen').setAttribute('aria-pressed', String(audio.listening));
  $('talk').setAttribute('aria-pressed', String(audio.talking));
  $('mute').setAttribute('aria-pressed', String(audio.muted));
  $('mute').disabled = !audio.talking;
  setText($('listen'), audio.listening ? 'Listening' : 'Listen');
  setText($('talk'), audio.talking ? 'Talking' : 'Talk');
  setText($('mute'), audio.muted ? 'Muted' : 'Mute');
}

function meter(el, level) {
  // -60 dBFS .. 0 dBFS
  const db = level > 0 ? 20 * Math.log10(level) : -100;
  const pos = Math.max(0, Math.min(1, (db + 60) / 60));
  el.firstElementChild.style.transform = `scaleX(${(1 - pos).toFixed(3)})`;
  el.dataset.db = db.toFixed(0);
}

function meters() {
  const v = audio.levels();
  meter($('meter-rx'), audio.listening ? Math.max(v.out, v.rx) : v.rx);
  meter($('meter-tx'), v.tx);
  requestAnimationFrame(meters);
}

function audioStats() {
  const parts = [];
  const info = audio.info;
  const ps = audio.playState;
  if (audio.listening && ps)
    parts.push(`Listening · buffer ${ps.bufferMs} ms (target ${ps.targetMs}) · ` +
      `${ps.underruns} underruns` + (ps.droppedMs ? ` · ${ps.droppedMs} ms dropped` : ''));
  if (audio.talking)
    parts.push(`Talking${audio.muted ? ' (muted)' : ''} · ${S.talk.sent} frames sent` +
      (S.talk.queueMs !== null ? ` · queue ${S.talk.queueMs} ms` : ''));
  if (info)
    parts.push(`${info.worklet ? 'AudioWorklet' : 'ScriptProcessor'} · ` +
      `${(info.rate / 1000).toFixed(1)} kHz · ${info.state}`);
  parts.push(`${audio.rx.frames} frames from the phone (${S.format})`);
  setText($('audio-stats'), parts.join(' — '));
}

// -- rendering -------------------------------------------------------------

function expiresLeft(l) {
  if (!l.registered) return 0;
  return Math.max(0, Math.round(l.expires_s - (now() - l._at) / 1000));
}

function lineEl(id) {
  return h('article', { class: 'line', 'data-line': id },
    h('header', {},
      h('span', { class: 'line-id' }, 'Line ' + id),
      h('span', { class: 'badge reg' }),
      h('span', { class: 'badge state' })),
    h('dl', { class: 'kv' },
      h('dt', {}, 'Contact'), h('dd', { class: 'contact mono' }),
      h('dt', {}, 'User agent'), h('dd', { class: 'ua' }),
      h('dt', {}, 'From'), h('dd', { class: 'source mono' }),
      h('dt', {}, 'Expires in'), h('dd', { class: 'expires' })),
    h('div', { class: 'actions' },
      h('button', { type: 'button', class: 'ring primary', onclick: () => ring(id) }, 'Ring'),
      h('button', { type: 'button', class: 'hang danger',
        onclick: () => { const l = S.lines.get(id); if (l?.call) hangup(l.call); } },
      'Hang up')));
}

const STATE_TEXT = { idle: 'idle', ringing: 'ringing', in_call: 'in call' };

function updateLine(el, l) {
  el.dataset.registered = String(!!l.registered);
  el.dataset.state = l.state || 'idle';
  const reg = el.querySelector('.badge.reg');
  setText(reg, l.registered ? 'registered' : 'not registered');
  reg.dataset.on = String(!!l.registered);
  const st = el.querySelector('.badge.state');
  setText(st, STATE_TEXT[l.state] || l.state || 'idle');
  st.dataset.state = l.state || 'idle';
  setText(el.querySelector('.contact'), l.contact || '—');
  setText(el.querySelector('.ua'), l.user_agent || '—');
  setText(el.querySelector('.source'), l.source || '—');
  const left = expiresLeft(l);
  setText(el.querySelector('.expires'), l.registered ? ago(left) : '—');
  el.querySelector('.ring').disabled = !l.registered || (l.state || 'idle') !== 'idle';
  el.querySelector('.hang').hidden = !l.call;
}

function callEl(id) {
  return h('article', { class: 'call', 'data-call': id },
    h('div', { class: 'call-title' }),
    h('div', { class: 'call-sub' }),
    h('div', { class: 'dialed mono' }),
    h('div', { class: 'timer mono' }),
    h('div', { class: 'actions' },
      h('button', { type: 'button', class: 'answer primary', onclick: () => answer(id) }, 'Answer'),
      h('button', { type: 'button', class: 'hangup danger', onclick: () => hangup(id) }, 'Hang up')));
}

function updateCall(el, c) {
  const incoming = c.direction === 'from_phone';
  el.dataset.state = c.state;
  el.dataset.direction = c.direction || '';
  el.classList.toggle('incoming', incoming && c.state === 'ringing');
  let title;
  if (c.state === 'ringing')
    title = incoming ? 'Incoming call' : 'Ringing the phone';
  else
    title = 'In call';
  setText(el.querySelector('.call-title'), title);
  setText(el.querySelector('.call-sub'), `Line ${c.line}` +
    (incoming ? ' · dialed' : c.state === 'ringing' ? ' · waiting for the handset' : ' · called from here'));
  const dialed = el.querySelector('.dialed');
  setText(dialed, incoming ? (c.dialed || '(no digits)') : '');
  dialed.hidden = !incoming;
  const t = c.state === 'active' ? mmss(now() - (c._answered ?? now()))
    : `ringing ${mmss(now() - (c._t0 ?? now()))}`;
  setText(el.querySelector('.timer'), t);
  el.querySelector('.answer').hidden = !(incoming && c.state === 'ringing');
}

function keyed(box, attr, items, make, update) {
  const want = new Set(items.map(([id]) => id));
  for (const el of [...box.children])
    if (!want.has(el.dataset[attr])) el.remove();
  let prev = null;
  for (const [id, obj] of items) {
    let el = [...box.children].find((e) => e.dataset[attr] === id);
    if (!el) el = make(id);
    const next = prev ? prev.nextElementSibling : box.firstElementChild;
    if (next !== el) box.insertBefore(el, next);
    update(el, obj);
    prev = el;
  }
}

function byId(a, b) {
  return a[0].localeCompare(b[0], undefined, { numeric: true });
}

function renderDigits() {
  const c = currentCall() || [...S.calls.values()][0] || S.lastEnded;
  setText($('dtmf-tx'), c ? S.dtmfTx.get(c.id) || '' : '');
  setText($('dtmf-rx'), c ? S.dtmfRx.get(c.id) || '' : '');
  const active = !!currentCall();
  for (const b of $('keypad').querySelectorAll('button')) b.disabled = !active;
  setText($('keypad-note'), active
    ? `Digits go to the call on line ${currentCall().line}.`
    : 'Digits go to the call in progress (none now).');
}

function renderLastCall() {
  const p = $('last-call');
  const c = S.lastEnded;
  p.hidden = !c;
  if (!c) return;
  p.dataset.reason = c.end_reason || '';
  p.dataset.call = c.id;
  const dir = c.direction === 'from_phone'
    ? `from the phone${c.dialed ? ', dialed ' + c.dialed : ''}`
    : c.direction === 'to_phone' ? 'to the phone' : '';
  const reason = REASONS[c.end_reason] || c.end_reason || 'ended';
  setText(p, `Last call: line ${c.line}${dir ? ' · ' + dir : ''} · ` +
    `${mmss(c.duration_ms || 0)} · ended: ${reason}` +
    (c.end_reason && REASONS[c.end_reason] ? ` (${c.end_reason})` : ''));
}

function renderAudioLines() {
  const reg = [...S.lines.values()].filter((l) => l.registered).map((l) => l.id)
    .sort((a, b) => a.localeCompare(b, undefined, { numeric: true }));
  const row = $('audio-line-row'), sel = $('audio-line');
  row.hidden = reg.length < 2;
  const cur = audioLine();
  const have = [...sel.options].map((o) => o.value).join(',');
  if (have !== reg.join(','))
    sel.replaceChildren(...reg.map((id) => h('option', { value: id }, 'Line ' + id)));
  if (cur && sel.value !== cur) sel.value = cur;
}

function render() {
  keyed($('lines'), 'line', [...S.lines.entries()].sort(byId), lineEl, updateLine);
  $('no-lines').hidden = S.lines.size > 0;

  const calls = [...S.calls.entries()].sort((a, b) => (a[1]._t0 || 0) - (b[1]._t0 || 0));
  keyed($('calls'), 'call', calls, callEl, updateCall);
  $('no-call').hidden = calls.length > 0;
  renderLastCall();
  renderDigits();
  renderAudioLines();

  const incoming = calls.find(([, c]) => c.direction === 'from_phone' && c.state === 'ringing');
  document.title = incoming
    ? `☎ Incoming: ${incoming[1].dialed || 'call'} — sipphone`
    : calls.length ? 'In call — sipphone' : 'sipphone console';
}

function tick() {
  // timers and countdowns only: cheap, keyed updates
  for (const el of $('lines').children) {
    const l = S.lines.get(el.dataset.line);
    if (l) updateLine(el, l);
  }
  for (const el of $('calls').children) {
    const c = S.calls.get(el.dataset.call);
    if (c) updateCall(el, c);
  }
  audioStats();
}

// -- webhooks (shown only when the service has the webhooks API) -----------

async function probeWebhooks() {
  if (!S.token) return;
  let r;
  try {
    r = await api('GET', '/api/v1/webhooks');
  } catch (e) {
    S.webhooks = null;     // 404 on a service without webhooks
    S.hookProbes++;
    renderWebhooks();
    return;
  }
  const list = Array.isArray(r && r.webhooks) ? r.webhooks : [];
  await Promise.all(list.map(async (w) => {
    try {
      const d = await api('GET',
        `/api/v1/webhooks/${encodeURIComponent(w.id)}/deliveries?limit=5`);
      w._deliveries = Array.isArray(d && d.deliveries) ? d.deliveries : [];
    } catch {
      w._deliveries = null;
    }
  }));
  S.webhooks = list;
  S.hookProbes++;
  renderWebhooks();
}

function whenText(t) {
  if (!t) return '—';
  const d = new Date(t);
  if (isNaN(d)) return String(t);
  const time = d.toLocaleTimeString([], { hour12: false });
  return d.toDateString() === new Date().toDateString() ? time
    : d.toLocaleDateString([], { month: 'short', day: 'numeric' }) + ' ' + time;
}

// "2 delivered · 1 pending" over the deliveries shown
function counts(dl) {
  const n = {};
  for (const x of dl) n[x.state || '?'] = (n[x.state || '?'] || 0) + 1;
  return Object.entries(n).map(([k, v]) => `${v} ${k}`).join(' · ') +
    ` (the latest ${dl.length})`;
}

function renderWebhooks() {
  const card = $('webhooks-card'), box = $('webhooks');
  card.hidden = S.webhooks === null;
  if (S.webhooks === null) {
    box.replaceChildren();
    return;
  }
  if (!S.webhooks.length) {
    box.replaceChildren(h('p', { class: 'muted' },
      'No webhook endpoint yet (POST /api/v1/webhooks adds one).'));
    return;
  }
  box.replaceChildren(...S.webhooks.map((w) => {
    const state = w.enabled === false ? 'disabled' : 'active';
    const dl = w._deliveries;
    return h('article', { class: 'webhook', 'data-webhook': w.id },
      h('header', {},
        h('span', { class: 'mono url' }, w.url || w.id),
        h('span', { class: 'badge', 'data-state': state }, state)),
      w.description ? h('p', { class: 'desc' }, w.description) : null,
      h('p', { class: 'muted' }, 'Events: ' +
        (Array.isArray(w.events) ? w.events.join(', ') : '*')),
      w.enabled === false ? h('p', { class: 'error' }, 'Disabled' +
        (w.disabled_reason ? ': ' + w.disabled_reason : '') +
        (w.disabled_at ? ' (' + whenText(w.disabled_at) + ')' : '')) : null,
      dl === null ? h('p', { class: 'muted' }, 'Deliveries: unavailable')
        : !dl.length ? h('p', { class: 'muted' }, 'No delivery yet.')
          : h('div', { class: 'scroll' }, h('table', { class: 'deliveries' },
            h('thead', {}, h('tr', {}, h('th', {}, 'Event'), h('th', {}, 'Try'),
              h('th', {}, 'State'), h('th', {}, 'Status'), h('th', {}, 'At'),
              h('th', {}, 'Next try'))),
            h('tbody', {}, dl.map((x) => h('tr', { 'data-state': x.state },
              h('td', { class: 'mono', title: x.event_id || '' },
                x.type || x.event_id || ''),
              h('td', {}, x.attempt ?? ''),
              h('td', {}, x.state || ''),
              h('td', { title: x.error || '' }, x.status_code ?? (x.error || '—')),
              h('td', {}, whenText(x.at)),
              h('td', {}, whenText(x.next_attempt_at))))))),
      dl && dl.length ? h('p', { class: 'muted counts' }, counts(dl)) : null);
  }));
}

// -- wiring ----------------------------------------------------------------

function init() {
  $('login-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const t = $('token').value.trim();
    if (t) login(t, false);
  });
  $('logout').addEventListener('click', () => logout(''));
  $('listen').addEventListener('click', toggleListen);
  $('talk').addEventListener('click', toggleTalk);
  $('mute').addEventListener('click', toggleMute);
  $('volume').addEventListener('input', (e) => audio.setVolume(Number(e.target.value)));
  $('audio-line').addEventListener('change', (e) => {
    S.audioLine = e.target.value;
    if (S.ws) {
      const ws = S.ws;
      S.ws = null;
      ws.close(1000);
    }
    connectWs();
  });
  $('keypad').addEventListener('click', (e) => {
    const b = e.target.closest('button[data-digit]');
    if (b && !b.disabled) sendDigit(b.dataset.digit);
  });
  document.addEventListener('keydown', (e) => {
    if (e.ctrlKey || e.metaKey || e.altKey || !S.token) return;
    if (e.target.closest('input, select, textarea')) return;
    if (/^[0-9*#]$/.test(e.key) && currentCall()) {
      e.preventDefault();
      sendDigit(e.key);
    }
  });

  updateAudioUi();
  requestAnimationFrame(meters);

  const saved = sessionStorage.getItem(TOKEN_KEY);
  if (saved) login(saved, true);
  else showLogin('');
}

// For tests and the curious: a snapshot of what the page knows
window.sipphoneConsole = {
  stats() {
    return {
      ws: $('conn').dataset.state,
      hello: S.hello,
      lines: [...S.lines.values()],
      calls: [...S.calls.values()],
      lastEnded: S.lastEnded,
      audio: {
        context: audio.info,
        listening: audio.listening,
        talking: audio.talking,
        muted: audio.muted,
        playout: audio.playState,
        rx: { ...audio.rx },
        tx: { ...audio.tx },
        out: { ...audio.out },
        talk: { ...S.talk },
      },
      events: S.events.length,
      lastSeq: S.lastSeq,
      webhooks: S.webhooks,
      webhookProbes: S.hookProbes,
    };
  },
};

init();
