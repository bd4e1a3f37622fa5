// The event tracker: queues exposures and custom events and sends them in batches to the
// Litmus server's POST /events. Each event gets its message_id when it is queued and keeps it
// through retries (the server stores each message_id once), so a retry never counts twice.
// Written once as ESM for browsers and Node (build-package.sh derives the CommonJS copy); in
// browsers the queue also leaves with fetch(..., { keepalive: true }) when the page is hidden.

import { LitmusError } from "./common.mjs";
import { ENVELOPE_BYTES, GZIP_OVER, KEEPALIVE_BYTES, MAX_BODY_BYTES, MAX_EVENTS, body, encode, gzip, httpError, instant, retryAfterMs, uuid } from "./tracker-wire.mjs";

// Events dropped because the queue is full (or the tracker closed) are reported at most this often.
const REPORT_EVERY = 1_000;
// setTimeout fires at once for longer delays.
const LONGEST_TIMER = 2 ** 31 - 1;

function positive(name, value) {
  if (typeof value !== "number" || !(value > 0)) {
    throw new LitmusError(`${name} must be a positive number of milliseconds, not ${String(value)}`, "invalid_argument");
  }
  return value;
}

function whole(name, value, max) {
  if (!Number.isInteger(value) || value < 1 || value > max) {
    throw new LitmusError(`${name} must be a whole number from 1 to ${max}, not ${String(value)}`, "invalid_argument");
  }
  return value;
}

function optionalFunction(name, value) {
  if (value !== undefined && typeof value !== "function") throw new LitmusError(`${name} must be a function`, "invalid_argument");
  return value;
}

function text(name, value) {
  if (typeof value !== "string" || value === "") throw new LitmusError(`${name} must be a non-empty string`, "invalid_argument");
  return value;
}

/** A timer that never keeps a Node process alive. */
function timer(ms, f) {
  const t = setTimeout(f, Math.min(Math.max(0, ms), LONGEST_TIMER));
  if (typeof t === "object" && typeof t.unref === "function") t.unref();
  return t;
}

/** Calls a user callback; a throwing one never stops the tracker (rethrown in a microtask). */
function notify(callback, value) {
  if (callback === undefined) return;
  try {
    callback(value);
  } catch (e) {
    queueMicrotask(() => {
      throw e;
    });
  }
}

/** A LitmusError for anything thrown where none was expected (code "internal"). */
const asLitmusError = (e) => (e instanceof LitmusError ? e : new LitmusError(String(e?.message ?? e), "internal"));

/**
 * Sends exposures and custom events to a Litmus server (`POST {baseUrl}/events`) in batches,
 * with retries that keep each event's message_id, a bounded queue, and a last keep-alive send
 * when a page is hidden: see docs/javascript.md ("Event tracker").
 */
export class EventTracker {
  #url;
  #key;
  #flushInterval;
  #maxBatch;
  #maxQueue;
  #timeout;
  #retryDelay;
  #maxRetryDelay;
  #onError;
  #fetch;

  // Queued events, oldest first: { seq, json, bytes } (the JSON text made at queue time).
  #queue = [];
  #seq = 0;
  // Events in requests not yet answered (they count against maxQueue).
  #inFlight = 0;
  #sent = 0;
  #dropped = 0;
  #lastError = null;
  // The automatic sender while it runs (one request at a time), and every send in flight.
  #running = null;
  #sends = new Set();
  // The next automatic send and its time; when the oldest queued event has waited flushInterval.
  #timer = null;
  #timerAt = Infinity;
  #dueAt = Infinity;
  // No automatic request before this instant (a back-off), and failures in a row.
  #notBefore = 0;
  #failures = 0;
  // Drops not reported yet, by code, and when drops were last reported.
  #unreported = new Map();
  #reportTimer = null;
  #reportedAt = -Infinity;
  #closing = null;
  #detach = null;

  /**
   * @param options `{ baseUrl, sdkKey, flushInterval = 1000, maxBatch = 500, maxQueue = 10000,
   *   timeout = 5000, retryDelay = 1000, maxRetryDelay = 30000, onError,
   *   fetch = globalThis.fetch }`.
   */
  constructor(options) {
    const o = options ?? {};
    if (typeof o.baseUrl !== "string" || o.baseUrl === "") throw new LitmusError("baseUrl must be a URL string", "invalid_argument");
    if (typeof o.sdkKey !== "string" || o.sdkKey === "") throw new LitmusError("sdkKey must be a non-empty string", "invalid_argument");
    this.#url = `${o.baseUrl.replace(/\/+$/, "")}/events`;
    this.#key = o.sdkKey;
    this.#flushInterval = positive("flushInterval", o.flushInterval ?? 1_000);
    this.#maxBatch = whole("maxBatch", o.maxBatch ?? 500, MAX_EVENTS);
    this.#maxQueue = whole("maxQueue", o.maxQueue ?? 10_000, Number.MAX_SAFE_INTEGER);
    this.#timeout = positive("timeout", o.timeout ?? 5_000);
    this.#retryDelay = positive("retryDelay", o.retryDelay ?? 1_000);
    this.#maxRetryDelay = positive("maxRetryDelay", o.maxRetryDelay ?? 30_000);
    this.#onError = optionalFunction("onError", o.onError);
    const fetch = optionalFunction("fetch", o.fetch ?? globalThis.fetch);
    if (fetch === undefined) throw new LitmusError("no fetch: pass options.fetch", "invalid_argument");
    // Called as a plain function (a browser's fetch throws "Illegal invocation" as a method).
    this.#fetch = (url, init) => fetch(url, init);
    this.#detach = this.#watchPage();
  }

  /**
   * Queues a custom event; returns its message_id, or null when it was dropped (the queue
   * holds `maxQueue` events, or the tracker is closed). Throws `invalid_argument` for bad
   * arguments and `event_too_large` for an event over 32 KB as JSON; never blocks.
   * @param options `{ value, properties, timestamp }`: a number, a JSON object, and a Date,
   *   milliseconds or a date string (now by default).
   */
  track(unitId, event, options) {
    const o = options ?? {};
    text("unitId", unitId);
    text("event", event);
    const { value, properties } = o;
    if (value !== undefined && value !== null && (typeof value !== "number" || !Number.isFinite(value))) {
      throw new LitmusError(`value must be a finite number, not ${String(value)}`, "invalid_argument");
    }
    if (properties !== undefined && properties !== null && (typeof properties !== "object" || Array.isArray(properties))) {
      throw new LitmusError("properties must be an object", "invalid_argument");
    }
    const timestamp = instant(o.timestamp);
    if (!this.#admit()) return null;
    const e = { type: "track", message_id: uuid(), timestamp, unit_id: unitId, event };
    if (value !== undefined && value !== null) e.value = value;
    if (properties !== undefined && properties !== null) e.properties = properties;
    return this.#enqueue(e);
  }

  /**
   * Queues an exposure of `unitId` to `variant` of `experiment`; returns its message_id, or
   * null when it was dropped. `options.timestamp`: when it happened (now by default).
   */
  exposure(unitId, experiment, variant, options) {
    text("unitId", unitId);
    text("experiment", experiment);
    text("variant", variant);
    const timestamp = instant(options?.timestamp);
    if (!this.#admit()) return null;
    return this.#enqueue({ type: "exposure", message_id: uuid(), timestamp, unit_id: unitId, experiment, variant });
  }

  /**
   * A function to pass as the Engine's `onExposure` option: each exposure the engine reports
   * is queued with its timestamp. It never throws (a problem goes to `onError`).
   */
  get onExposure() {
    return this.#exposureHandler;
  }

  #exposureHandler = (e) => {
    try {
      this.exposure(e?.unitId, e?.experiment, e?.variant, { timestamp: e?.timestamp });
    } catch (error) {
      this.#report(asLitmusError(error), 1);
    }
  };

  /** Events queued or in flight (not yet answered by the server). */
  get queued() {
    return this.#queue.length + this.#inFlight;
  }

  /** Events given up: the queue was full, the server refused them, or close() could not deliver them. */
  get dropped() {
    return this.#dropped;
  }

  /** Events the server acknowledged (accepted, or already stored under their message_id). */
  get sent() {
    return this.#sent;
  }

  /** The latest error reported (a LitmusError), or null; cleared when a request is answered without one. */
  get lastError() {
    return this.#lastError;
  }

  /**
   * Sends every queued event now, in batches, and resolves once each has been answered (and
   * retried when it had to). While the tracker backs off after a failure it sends nothing
   * more: the events stay queued for the next retry, and `lastError` says why. Never rejects.
   */
  async flush() {
    const target = this.#seq;
    for (;;) {
      if (this.#closing !== null) return this.#closing;
      if (this.#running !== null || this.#sends.size > 0) {
        await Promise.all([this.#running, ...this.#sends]);
        continue;
      }
      if (this.#backingOff() || !this.#holds(target)) return undefined;
      this.#start(target, true);
    }
  }

  /**
   * Stops: removes the page listeners and timers, waits for requests in flight, then makes
   * one last attempt for everything queued (whatever the back-off); what that attempt cannot
   * deliver is dropped and reported. Later events are dropped (code `closed`). Never rejects.
   */
  close() {
    if (this.#closing === null) {
      this.#clearTimer();
      this.#detach?.();
      this.#closing = this.#finish();
    }
    return this.#closing;
  }

  // ---- the queue

  /** Whether an event may be queued; counts it as dropped when not. */
  #admit() {
    const code = this.#closing !== null ? "closed" : this.#queue.length + this.#inFlight >= this.#maxQueue ? "queue_full" : null;
    if (code === null) return true;
    this.#dropped++;
    this.#unreported.set(code, (this.#unreported.get(code) ?? 0) + 1);
    if (this.#reportTimer === null) {
      this.#reportTimer = timer(this.#reportedAt + REPORT_EVERY - Date.now(), () => {
        this.#reportTimer = null;
        this.#reportDrops();
      });
    }
    return false;
  }

  #reportDrops() {
    this.#reportedAt = Date.now();
    for (const [code, n] of this.#unreported) {
      const why = code === "closed" ? "the tracker is closed" : `the queue holds maxQueue (${this.#maxQueue}) events`;
      // Counted when they were dropped.
      this.#emit(new LitmusError(`${n} event${n === 1 ? "" : "s"} dropped: ${why}`, code), n);
    }
    this.#unreported.clear();
  }

  #enqueue(e) {
    const { json, bytes } = encode(e);
    this.#queue.push({ seq: ++this.#seq, json, bytes });
    this.#schedule();
    return e.message_id;
  }

  /** Takes the oldest events that fit in one request of at most `maxCount` events and `maxBytes` bytes. */
  #take(maxCount, maxBytes) {
    let n = 0;
    let bytes = ENVELOPE_BYTES;
    while (n < this.#queue.length && n < maxCount) {
      bytes += this.#queue[n].bytes + (n > 0 ? 1 : 0);
      if (bytes > maxBytes && n > 0) break;
      n++;
    }
    return this.#queue.splice(0, n);
  }

  /** Whether an event queued by sequence number `target` is still waiting. */
  #holds(target) {
    return this.#queue.length > 0 && this.#queue.some((r) => r.seq <= target);
  }

  // ---- when to send

  #backingOff() {
    return this.#notBefore > Date.now();
  }

  /**
   * Arms the next automatic send: at once for a full batch (full batches only), else when the
   * oldest queued event has waited flushInterval (everything queued), never within a back-off.
   */
  #schedule() {
    if (this.#closing !== null || this.#running !== null) return;
    if (this.#queue.length === 0) {
      this.#clearTimer();
      this.#dueAt = Infinity;
      return;
    }
    const now = Date.now();
    if (this.#dueAt === Infinity) this.#dueAt = now + this.#flushInterval;
    const at = Math.max(this.#notBefore, this.#queue.length >= this.#maxBatch ? now : this.#dueAt);
    if (this.#timer !== null && this.#timerAt <= at) return;
    this.#clearTimer();
    this.#timerAt = at;
    this.#timer = timer(at - now, () => {
      this.#timer = null;
      this.#timerAt = Infinity;
      if (this.#running !== null) return; // its end schedules again
      if (this.#backingOff()) this.#schedule();
      else this.#start(this.#seq, Date.now() >= this.#dueAt);
    });
  }

  #clearTimer() {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    this.#timerAt = Infinity;
  }

  /**
   * Runs the sender over the events queued up to sequence number `target`: all of them, or
   * (`all` false) only full batches. A run never outlasts the events queued when it started.
   */
  #start(target, all) {
    this.#clearTimer();
    if (all && target >= this.#seq) this.#dueAt = Infinity;
    this.#running = this.#run(target, all)
      .catch((e) => this.#report(asLitmusError(e), 0))
      .finally(() => {
        this.#running = null;
        this.#schedule();
      });
  }

  async #run(target, all) {
    while (this.#closing === null && !this.#backingOff()) {
      const more = all ? this.#holds(target) : this.#queue.length >= this.#maxBatch && this.#queue[0].seq <= target;
      if (!more) return;
      await this.#send(this.#take(this.#maxBatch, MAX_BODY_BYTES), false);
    }
  }

  /** Browsers: when the page is hidden or left, the queue leaves with a keep-alive request. */
  #watchPage() {
    const doc = globalThis.document;
    if (typeof globalThis.addEventListener !== "function" || typeof doc?.addEventListener !== "function") return null;
    const leave = () => {
      if (this.#closing !== null || this.#queue.length === 0) return;
      // Keep-alive bodies are limited (and not compressed): what does not fit stays queued
      // for when the page comes back.
      this.#send(this.#take(MAX_EVENTS, KEEPALIVE_BYTES), true);
    };
    const visibility = () => {
      if (doc.visibilityState === "hidden") leave();
    };
    globalThis.addEventListener("pagehide", leave);
    doc.addEventListener("visibilitychange", visibility);
    return () => {
      globalThis.removeEventListener("pagehide", leave);
      doc.removeEventListener("visibilitychange", visibility);
    };
  }

  // ---- requests

  /** Sends a batch; what must be retried goes back to the front of the queue, and the tracker backs off. */
  #send(batch, keepalive) {
    // Never rejects: flush() and close() wait for it.
    const sending = (async () => {
      this.#inFlight += batch.length;
      let result;
      try {
        result = await this.#deliver(batch, keepalive);
      } catch (e) {
        result = { left: batch, error: asLitmusError(e), retryAfter: 0 };
      } finally {
        this.#inFlight -= batch.length;
      }
      if (result.left.length === 0) return;
      this.#queue.unshift(...result.left);
      const ceiling = Math.min(this.#maxRetryDelay, this.#retryDelay * 2 ** Math.min(this.#failures, 30));
      this.#failures++;
      // Full jitter, and never sooner than the server's Retry-After.
      this.#notBefore = Math.max(this.#notBefore, Date.now() + Math.max(Math.random() * ceiling, result.retryAfter));
      // The retry does not wait for flushInterval.
      this.#dueAt = Math.min(this.#dueAt, this.#notBefore);
      this.#emit(result.error, 0);
    })().catch((e) => this.#emit(asLitmusError(e), 0));
    this.#sends.add(sending);
    sending.then(() => this.#sends.delete(sending));
    return sending;
  }

  /**
   * One request for `batch` (halves again after a 413): `{ left, error, retryAfter }`, where
   * `left` lists the events to retry (none when every event was acknowledged or given up).
   */
  async #deliver(batch, keepalive) {
    const answer = await this.#post(batch, keepalive);
    if (answer.error !== undefined) return { left: batch, error: answer.error, retryAfter: 0 };
    const { status } = answer;
    if (status >= 200 && status < 300) {
      this.#acknowledged(batch, answer.text, status);
      return { left: [], error: null, retryAfter: 0 };
    }
    if (status === 413) {
      if (batch.length === 1) {
        this.#report(new LitmusError(`${this.#url} answered 413 for a single event of ${batch[0].bytes} bytes`, "event_too_large"), 1);
        return { left: [], error: null, retryAfter: 0 };
      }
      const half = Math.ceil(batch.length / 2);
      const first = await this.#deliver(batch.slice(0, half), keepalive);
      if (first.left.length > 0) return { ...first, left: first.left.concat(batch.slice(half)) };
      return this.#deliver(batch.slice(half), keepalive);
    }
    const error = httpError(status, answer.text, this.#url);
    const retryAfter = retryAfterMs(answer.retryAfter);
    if (status === 408 || status === 429 || status >= 500) return { left: batch, error, retryAfter };
    if (status === 401 || status === 403) {
      // A key the server refuses: the longest wait before the next request, so a wrong key
      // never makes the tracker spin (the events are dropped: they would be refused again).
      this.#notBefore = Date.now() + Math.max(this.#maxRetryDelay, retryAfter);
    }
    this.#report(error, batch.length);
    return { left: [], error: null, retryAfter: 0 };
  }

  /** A 2xx answer: `{"accepted", "duplicates", "rejected": [{ index, code, message }]}`. */
  #acknowledged(batch, body, status) {
    this.#failures = 0;
    let reply = null;
    try {
      reply = JSON.parse(body);
    } catch {
      // Checked below.
    }
    const rejected = [];
    const seen = new Set();
    for (const r of Array.isArray(reply?.rejected) ? reply.rejected : []) {
      const index = r?.index;
      if (!Number.isInteger(index) || index < 0 || index >= batch.length || seen.has(index)) continue;
      seen.add(index);
      const code = typeof r.code === "string" && r.code !== "" ? r.code : "rejected";
      const message = typeof r.message === "string" ? r.message : "";
      rejected.push({ index, code, path: typeof r.path === "string" ? r.path : null, message, event: JSON.parse(batch[index].json) });
    }
    this.#sent += batch.length - rejected.length;
    if (rejected.length > 0) {
      const some = rejected.slice(0, 3).map((r) => `[${r.index}] ${r.code}${r.message ? `: ${r.message}` : ""}`).join("; ");
      const error = new LitmusError(`${this.#url} rejected ${rejected.length} of ${batch.length} events: ${some}${rejected.length > 3 ? "; ..." : ""}`, "events_rejected");
      error.rejected = rejected;
      this.#report(error, rejected.length);
    } else if (status === 200 && (reply === null || typeof reply !== "object")) {
      this.#report(new LitmusError(`${this.#url} answered 200 without the expected JSON (the events count as sent)`, "bad_response"), 0);
    } else {
      this.#lastError = null;
    }
  }

  /** POSTs a batch: `{ status, text, retryAfter }`, or `{ error }` when there is no answer. */
  async #post(batch, keepalive) {
    const { text, bytes } = body(batch);
    const headers = { Authorization: `Bearer ${this.#key}`, "Content-Type": "application/json" };
    let payload = text;
    if (!keepalive && bytes > GZIP_OVER && typeof globalThis.CompressionStream === "function") {
      try {
        payload = await gzip(text);
        headers["Content-Encoding"] = "gzip";
      } catch {
        payload = text;
      }
    }
    const controller = new AbortController();
    let timedOut = false;
    const t = timer(this.#timeout, () => {
      timedOut = true;
      controller.abort();
    });
    try {
      const res = await this.#fetch(this.#url, { method: "POST", headers, body: payload, signal: controller.signal, keepalive });
      const answer = await res.text();
      return { status: res.status, text: answer, retryAfter: res.headers.get("Retry-After") };
    } catch (e) {
      if (timedOut) return { error: new LitmusError(`no answer from ${this.#url} within ${this.#timeout} ms`, "unavailable") };
      const cause = e?.cause?.code ?? e?.cause?.message;
      const error = new LitmusError(`cannot reach ${this.#url}: ${e?.message ?? e}${cause ? ` (${cause})` : ""}`, "unavailable");
      error.cause = e;
      return { error };
    } finally {
      clearTimeout(t);
    }
  }

  /** close(): waits for requests in flight, then one last attempt per batch. */
  async #finish() {
    try {
      while (this.#running !== null || this.#sends.size > 0) await Promise.all([this.#running, ...this.#sends]);
      while (this.#queue.length > 0) {
        const batch = this.#take(this.#maxBatch, MAX_BODY_BYTES);
        this.#inFlight += batch.length;
        let result;
        try {
          result = await this.#deliver(batch, false);
        } finally {
          this.#inFlight -= batch.length;
        }
        if (result.left.length > 0) {
          // The server is unreachable or busy: the rest would fare no better.
          const n = result.left.length + this.#queue.length;
          this.#queue = [];
          const error = new LitmusError(`${n} event${n === 1 ? "" : "s"} not sent at close (dropped): ${result.error.message}`, "closed");
          error.cause = result.error;
          this.#report(error, n);
        }
      }
    } catch (e) {
      this.#report(asLitmusError(e), 0);
    }
    if (this.#reportTimer !== null) {
      clearTimeout(this.#reportTimer);
      this.#reportTimer = null;
      this.#reportDrops();
    }
  }

  // ---- errors

  /** Reports an error that made the tracker give up `dropped` events (counted here). */
  #report(error, dropped) {
    this.#dropped += dropped;
    this.#emit(error, dropped);
  }

  #emit(error, dropped) {
    error.dropped = dropped;
    this.#lastError = error;
    notify(this.#onError, error);
  }
}
