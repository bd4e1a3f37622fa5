// The live results WebSocket (GET /live): one connection for the page, following the
// experiments the current view shows. Results older than those shown are ignored; a closed
// socket is reopened with backoff and resubscribed; a heartbeat announcing a newer version
// than the shown results for a few seconds triggers a resync.

import { project } from './api.js';

const BACKOFF_MS = [500, 1000, 2000, 4000, 8000, 15000];
const RESYNC_AFTER_MS = 3000;

export class Live {
  /**
   * @param {() => string} key the API key ('' when signed in by session: the cookie goes with
   *   the handshake)
   * @param {(status: object) => void} onStatus {state: idle|connecting|connected|reconnecting,
   *   retryAt?, attempt?, reason?, version?, lastUpdate?}
   * @param {() => void} onAuthFailure called after repeated failures to open (the key or session may be bad)
   */
  constructor(key, onStatus, onAuthFailure) {
    this.key = key;
    this.onStatus = onStatus;
    this.onAuthFailure = onAuthFailure;
    this.ws = null;
    this.wanted = new Set();
    this.shown = new Map(); // experiment -> newest version shown
    this.handlers = { results: null, error: null };
    this.attempt = 0;
    this.failedOpens = 0;
    this.timer = null;
    this.resyncTimers = new Map();
    this.status = { state: 'idle' };
    this.stopped = true;
  }

  /** Follows `experiments` (replacing the set followed); results go to `onResults(key, data, version)`. */
  follow(experiments, onResults, onError) {
    const newView = this.handlers.results !== onResults;
    this.handlers = { results: onResults, error: onError };
    if (newView) this.setStatus({ lastUpdate: undefined, version: undefined });
    const next = new Set(experiments);
    const drop = [...this.wanted].filter((k) => !next.has(k));
    const add = [...next].filter((k) => !this.wanted.has(k));
    this.wanted = next;
    for (const k of drop) this.shown.delete(k);
    if (this.open()) {
      if (drop.length) this.send({ type: 'unsubscribe', experiments: drop });
      if (add.length) this.send({ type: 'subscribe', experiments: add });
    }
    if (this.wanted.size && this.stopped) this.start();
    // A new view gets the current results of experiments followed already.
    const kept = [...next].filter((k) => !add.includes(k));
    if (newView && this.open() && kept.length) this.send({ type: 'resync', experiments: kept });
  }

  /** Stops following anything (the socket stays open for the next view). */
  unfollow() {
    this.follow([], null, null);
  }

  open() {
    return this.ws && this.ws.readyState === WebSocket.OPEN;
  }

  send(msg) {
    if (this.open()) this.ws.send(JSON.stringify(msg));
  }

  setStatus(patch) {
    this.status = { ...this.status, ...patch };
    if (this.onStatus) this.onStatus(this.status);
  }

  start() {
    this.stopped = false;
    if (!this.ws) this.connect();
  }

  /** Closes for good (sign out). */
  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    for (const t of this.resyncTimers.values()) clearTimeout(t);
    this.resyncTimers.clear();
    this.wanted.clear();
    this.shown.clear();
    if (this.ws) {
      const ws = this.ws;
      this.ws = null;
      ws.onclose = null;
      ws.close(1000, 'bye');
    }
    this.setStatus({ state: 'idle', version: undefined, lastUpdate: undefined, reason: undefined });
  }

  connect() {
    clearTimeout(this.timer);
    const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
    // The key and the project travel in the query: a browser's WebSocket cannot send headers.
    // Without a key the session's cookie goes with the handshake.
    const key = this.key();
    const url = `${proto}//${location.host}/live?${key ? `key=${encodeURIComponent(key)}&` : ''}project=${encodeURIComponent(project.key)}`;
    this.setStatus({ state: this.attempt ? 'reconnecting' : 'connecting', retryAt: undefined });
    let ws;
    try {
      ws = new WebSocket(url);
    } catch (e) {
      this.scheduleReconnect(String(e));
      return;
    }
    this.ws = ws;
    let opened = false;
    ws.onopen = () => {
      opened = true;
    };
    ws.onmessage = (ev) => this.receive(ev.data);
    ws.onclose = (ev) => {
      if (this.ws !== ws) return;
      this.ws = null;
      if (!opened) this.failedOpens += 1;
      const reason = ev.code === 1008 ? 'the connection was too slow and was closed by the server'
        : ev.code === 1000 ? 'closed' : `connection lost (code ${ev.code})`;
      if (this.stopped) return;
      if (this.failedOpens >= 3 && this.onAuthFailure) this.onAuthFailure();
      this.scheduleReconnect(reason);
    };
  }

  scheduleReconnect(reason) {
    const base = BACKOFF_MS[Math.min(this.attempt, BACKOFF_MS.length - 1)];
    const wait = Math.round(base * (0.75 + Math.random() * 0.5));
    this.attempt += 1;
    this.setStatus({ state: 'reconnecting', retryAt: Date.now() + wait, attempt: this.attempt, reason });
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      if (!this.stopped) this.connect();
    }, wait);
  }

  receive(text) {
    let msg;
    try {
      msg = JSON.parse(text);
    } catch {
      return;
    }
    switch (msg.type) {
      case 'hello':
        this.attempt = 0;
        this.failedOpens = 0;
        this.setStatus({ state: 'connected', reason: undefined, retryAt: undefined, serverVersion: msg.version });
        if (this.wanted.size) this.send({ type: 'subscribe', experiments: [...this.wanted] });
        break;
      case 'results': {
        if (!this.wanted.has(msg.experiment)) return;
        const shown = this.shown.get(msg.experiment);
        if (shown !== undefined && msg.version < shown) return;
        this.shown.set(msg.experiment, msg.version);
        this.setStatus({ version: msg.version, lastUpdate: Date.now() });
        if (this.handlers.results) this.handlers.results(msg.experiment, msg.data, msg.version);
        break;
      }
      case 'error':
        if (this.handlers.error) this.handlers.error(msg);
        break;
      case 'heartbeat':
        this.setStatus({ serverVersion: msg.version });
        this.checkBehind(msg.version);
        break;
      default:
        break;
    }
  }

  /** Resyncs the experiments whose shown version stays below `version` for a few seconds. */
  checkBehind(version) {
    for (const key of this.wanted) {
      const shown = this.shown.get(key);
      if (shown === undefined || shown >= version) continue;
      if (this.resyncTimers.has(key)) continue;
      this.resyncTimers.set(key, setTimeout(() => {
        this.resyncTimers.delete(key);
        const now = this.shown.get(key);
        if (this.wanted.has(key) && now !== undefined && now < version) {
          this.send({ type: 'resync', experiments: [key] });
        }
      }, RESYNC_AFTER_MS));
    }
  }
}
