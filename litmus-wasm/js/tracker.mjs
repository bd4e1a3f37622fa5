// The event tracker: an I/O shell over litmus-core's tracker policy (`TrackerCore` in the
// engine's WebAssembly module). The queue, the batching, every retry and drop decision and the
// wire format are core's, the same as the Python package's (docs/sdk-protocol.md); this file
// does fetch, gzip, timers, page listeners and callbacks.
import { LitmusError, asLitmusError, notify, optionalFunction, positive, reportError, seed } from "./common.mjs";

const LONGEST_TIMER = 2 ** 31 - 1;
// A keep-alive request (a page being hidden or left) may carry at most 64 KB in browsers.
const KEEPALIVE_BYTES = 64 * 1024;
const MAX_EVENTS = 2_500;
// Timestamps RFC 3339 can write: years 0000 to 9999.
const FIRST_MS = -62_167_219_200_000;
const LAST_MS = 253_402_300_799_999;

function whole(name, value, max) {
  if (!Number.isInteger(value) || value < 1 || value > max) {
    throw new LitmusError(`${name} must be a whole number from 1 to ${max}, not ${String(value)}`, "invalid_argument");
  }
  return value;
}

function text(name, value) {
  if (typeof value !== "string" || value === "") throw new LitmusError(`${name} must be a non-empty string`, "invalid_argument");
  return value;
}

/** Milliseconds since the epoch of a Date, milliseconds or a date string (now by default). */
function instant(value) {
  const ms = value === undefined || value === null ? Date.now()
    : value instanceof Date ? value.getTime()
      : typeof value === "number" ? value
        : typeof value === "string" ? Date.parse(value) : NaN;
  if (!(ms >= FIRST_MS && ms <= LAST_MS)) {
    throw new LitmusError(`timestamp must be a Date, milliseconds or a date string, not ${String(value)}`, "invalid_argument");
  }
  return Math.floor(ms);
}

/** 16 random bytes for a message id, from a pool refilled 4 KB at a time. */
const random16 = (() => {
  let pool = new Uint8Array(0);
  let at = 0;
  return () => {
    if (at + 16 > pool.length) {
      pool = new Uint8Array(4096);
      const c = globalThis.crypto;
      if (typeof c?.getRandomValues === "function") c.getRandomValues(pool);
      else for (let i = 0; i < pool.length; i++) pool[i] = Math.floor(Math.random() * 256);
      at = 0;
    }
    at += 16;
    return pool.subarray(at - 16, at);
  };
})();

/** A timer; one that is not `kept` never keeps a Node process alive. */
function timer(ms, f, kept = false) {
  const t = setTimeout(f, Math.min(Math.max(0, ms), LONGEST_TIMER));
  if (!kept && typeof t === "object" && typeof t.unref === "function") t.unref();
  return t;
}

/** `text` gzipped (CompressionStream: browsers, Node 18 and later). */
function gzip(body) {
  const stream = new Blob([body]).stream().pipeThrough(new CompressionStream("gzip"));
  return new Response(stream).arrayBuffer().then((b) => new Uint8Array(b));
}

/** Builds the EventTracker class over the engine module's bindings `sdk` ({ b, call, epoch }). */
export function makeEventTracker(sdk) {
  /**
   * Sends exposures and custom events to a Litmus server (`POST {baseUrl}/events`) in batches,
   * with retries that keep each event's message_id, a bounded queue, and a last keep-alive send
   * when a page is hidden: see docs/javascript.md ("Event tracker").
   */
  class EventTracker {
    #url;
    #key;
    #timeout;
    #maxBatch;
    #onError;
    #fetch;
    #args;
    #core;
    #epoch;
    #lastError = null;
    #cause = null;
    #inFlight = 0;
    #timer = null;
    #running = false;
    #again = false;
    #flushes = [];
    #closing = null;
    #closed = null;
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
      const base = o.baseUrl.replace(/\/+$/, "");
      this.#url = `${base}/events`;
      this.#key = o.sdkKey;
      this.#timeout = positive("timeout", o.timeout ?? 5_000);
      this.#maxBatch = whole("maxBatch", o.maxBatch ?? 500, MAX_EVENTS);
      this.#args = [
        base,
        positive("flushInterval", o.flushInterval ?? 1_000),
        this.#maxBatch,
        whole("maxQueue", o.maxQueue ?? 10_000, Number.MAX_SAFE_INTEGER),
        positive("retryDelay", o.retryDelay ?? 1_000),
        positive("maxRetryDelay", o.maxRetryDelay ?? 30_000),
        1024,
      ];
      this.#onError = optionalFunction("onError", o.onError);
      const fetch = optionalFunction("fetch", o.fetch ?? globalThis.fetch);
      if (fetch === undefined) throw new LitmusError("no fetch: pass options.fetch", "invalid_argument");
      this.#fetch = (url, init) => fetch(url, init);
      this.#core = this.#build();
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
      let props;
      if (properties !== undefined && properties !== null) {
        if (typeof properties !== "object" || Array.isArray(properties)) throw new LitmusError("properties must be an object", "invalid_argument");
        try {
          props = JSON.stringify(properties);
        } catch (error) {
          throw new LitmusError(`the event cannot be written as JSON: ${error?.message ?? error}`, "invalid_argument");
        }
      }
      const at = instant(o.timestamp);
      return this.#queue((core, now) => core.track(unitId, event, value ?? undefined, props, at, random16(), now));
    }

    /**
     * Queues an exposure of `unitId` to `variant` of `experiment`; returns its message_id, or
     * null when it was dropped. `options.timestamp`: when it happened (now by default);
     * `options.dimensions`: the unit's values of the experiment's dimensions
     * (`{ country: "FR" }`: its results by segment).
     */
    exposure(unitId, experiment, variant, options) {
      text("unitId", unitId);
      text("experiment", experiment);
      text("variant", variant);
      const at = instant(options?.timestamp);
      const d = options?.dimensions;
      const dims = d === undefined || d === null || Object.keys(d).length === 0 ? undefined : JSON.stringify(d);
      return this.#queue((core, now) => core.exposure(unitId, experiment, variant, dims, at, random16(), now));
    }

    /**
     * A function to pass as the Engine's `onExposure` option: each exposure the engine reports
     * is queued with its timestamp. It never throws (a problem goes to `onError`).
     */
    get onExposure() {
      return this.#exposureHandler;
    }

    /**
     * Queues a holdout exposure: `unitId` in the `arm` (`holdout` or `exposed`) of `holdout`;
     * returns its message_id, or null when it was dropped. `options.timestamp` as for
     * `exposure`.
     */
    holdoutExposure(unitId, holdout, arm, options) {
      text("unitId", unitId);
      text("holdout", holdout);
      text("arm", arm);
      const at = instant(options?.timestamp);
      return this.#queue((core, now) => core.holdoutExposure(unitId, holdout, arm, at, random16(), now));
    }

    #exposureHandler = (e) => {
      try {
        if (e?.holdout !== undefined) {
          this.holdoutExposure(e.unitId, e.holdout, e.variant, { timestamp: e.timestamp });
          return;
        }
        this.exposure(e?.unitId, e?.experiment, e?.variant, { timestamp: e?.timestamp, dimensions: e?.dimensions });
      } catch (error) {
        this.#extraDropped++;
        this.#emit(Object.assign(asLitmusError(error), { dropped: 1 }));
      }
    };

    #extraDropped = 0;

    /** Events queued or in flight (not yet answered by the server). */
    get queued() {
      return this.#machine().queued;
    }

    /** Events given up: the queue was full, the server refused them, or close() could not deliver them. */
    get dropped() {
      return this.#machine().dropped + this.#extraDropped;
    }

    /** Events the server acknowledged (accepted, or already stored under their message_id). */
    get sent() {
      return this.#machine().sent;
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
    flush() {
      const core = this.#machine();
      const target = core.enqueued;
      if (core.settled >= target) return Promise.resolve();
      sdk.call(() => core.flush());
      const done = new Promise((resolve) => this.#flushes.push({ target, resolve }));
      this.#kick();
      return done;
    }

    /**
     * Stops: removes the page listeners, sends everything queued at once (whatever the
     * back-off after failures, not through a 401/403 pause), retrying until `timeout` ms
     * (5,000) have passed; what is left then is dropped and reported. Later events are dropped
     * (code `closed`). Never rejects.
     */
    close(timeout = 5_000) {
      if (this.#closing === null) {
        this.#detach?.();
        const ms = typeof timeout === "number" && timeout >= 0 ? Math.min(timeout, 1e12) : 5_000;
        this.#closing = new Promise((resolve) => {
          this.#closed = resolve;
        });
        sdk.call(() => this.#machine().close(ms, Date.now()));
        this.#kick();
      }
      return this.#closing;
    }

    // -- the machine -----------------------------------------------------------------------

    #build() {
      this.#epoch = sdk.epoch();
      return sdk.call(() => new sdk.b.TrackerCore(...this.#args, seed()));
    }

    /** The machine; a fresh one (an empty queue) when a trap restarted the WebAssembly instance. */
    #machine() {
      if (this.#epoch !== sdk.epoch()) {
        this.#core = this.#build();
        if (this.#closing !== null) this.#core.close(0, Date.now());
      }
      return this.#core;
    }

    /** Queues through the machine: the message id, or null when it was dropped. */
    #queue(add) {
      const core = this.#machine();
      const id = sdk.call(() => add(core, Date.now())) ?? null;
      const n = core.queued;
      if (id === null || n === 1 || n % this.#maxBatch === 0) this.#kick();
      return id;
    }

    /** Runs the loop soon (once, however often it is asked). */
    #kick() {
      if (this.#running) {
        this.#again = true;
        return;
      }
      if (this.#timer !== null) clearTimeout(this.#timer);
      this.#timer = null;
      this.#running = true;
      queueMicrotask(() => this.#loop());
    }

    /** Carries out the machine's actions until it waits. */
    #loop() {
      try {
        for (;;) {
          this.#again = false;
          const core = this.#machine();
          const action = JSON.parse(sdk.call(() => core.nextAction(Date.now())));
          if (action.type === "send") {
            this.#send(core, action, false);
          } else if (action.type === "report") {
            const error = reportError(action.report);
            if (action.report.kind === "unavailable" && this.#cause !== null) error.cause = this.#cause;
            this.#cause = null;
            this.#emit(error);
          } else if (action.type === "recovered") {
            this.#lastError = null;
          } else if (action.type === "wait") {
            // Nothing in flight and a wait: a back-off (flush() does not wait through it).
            this.#settle(core, action.ms !== null && action.ms > 0 && this.#inFlight === 0);
            if (this.#again) continue;
            // While closing, the timer keeps the process until close() resolves.
            if (action.ms !== null) this.#timer = timer(action.ms, () => this.#kick(), this.#closing !== null);
            return;
          } else {
            this.#settle(core, true);
            this.#closed?.();
            return;
          }
        }
      } catch (e) {
        this.#emit(asLitmusError(e));
      } finally {
        this.#running = false;
      }
    }

    /** Resolves the flushes that are done (all of them when nothing more is sent for now). */
    #settle(core, all) {
      if (this.#flushes.length === 0) return;
      const settled = core.settled;
      const left = [];
      for (const f of this.#flushes) {
        if (all || settled >= f.target) f.resolve();
        else left.push(f);
      }
      this.#flushes = left;
    }

    /** POSTs a request the machine asked for and gives it the answer. */
    async #send(core, action, keepalive) {
      let answer;
      this.#inFlight++;
      try {
        answer = await this.#post(action, keepalive);
      } catch (e) {
        answer = { error: String(e?.message ?? e), cause: e };
      } finally {
        this.#inFlight--;
      }
      if (core !== this.#core) return; // a trap replaced the machine meanwhile
      if (answer.cause !== undefined) this.#cause = answer.cause;
      sdk.call(() => {
        if (answer.error !== undefined) core.unreachable(action.id, answer.error, Date.now());
        else core.answered(action.id, answer.status, answer.retryAfter ?? undefined, answer.body, Date.now());
      });
      this.#kick();
    }

    async #post(action, keepalive) {
      const headers = { Authorization: `Bearer ${this.#key}`, "Content-Type": "application/json" };
      let payload = action.body;
      if (action.gzip && !keepalive && typeof globalThis.CompressionStream === "function") {
        try {
          payload = await gzip(action.body);
          headers["Content-Encoding"] = "gzip";
        } catch {
          payload = action.body;
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
        const body = new Uint8Array(await res.arrayBuffer());
        return { status: res.status, body, retryAfter: res.headers.get("Retry-After") };
      } catch (e) {
        if (timedOut) return { error: `no answer within ${this.#timeout} ms`, cause: e };
        const detail = e?.cause?.code ?? e?.cause?.message;
        return { error: `cannot reach the server: ${e?.message ?? e}${detail ? ` (${detail})` : ""}`, cause: e };
      } finally {
        clearTimeout(t);
      }
    }

    /** Browsers: when the page is hidden or left, the queue leaves with a keep-alive request. */
    #watchPage() {
      const doc = globalThis.document;
      if (typeof globalThis.addEventListener !== "function" || typeof doc?.addEventListener !== "function") return null;
      const leave = () => {
        const core = this.#machine();
        const json = sdk.call(() => core.takeForKeepalive(KEEPALIVE_BYTES, Date.now()));
        if (json !== undefined) this.#send(core, JSON.parse(json), true);
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

    #emit(error) {
      this.#lastError = error;
      notify(this.#onError, error);
    }
  }

  return EventTracker;
}
