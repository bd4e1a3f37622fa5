// The config client: keeps an Engine in step with a Litmus server (GET /sdk/config with an
// ETag, and GET /sdk/stream, Server-Sent Events read over fetch). Stale-while-revalidate: the
// last good config is always served; a config that does not load never replaces it. Written
// once as ESM for browsers and Node; the entry points bind it to their Engine (and, in Node, a
// file cache from client-node.mjs, so the browser build never sees node:fs).

import { LitmusError } from "./common.mjs";
import { SseParser } from "./sse.mjs";

const MODES = ["stream", "poll"];

function positive(name, value) {
  if (typeof value !== "number" || !(value > 0)) {
    throw new LitmusError(`${name} must be a positive number of milliseconds, not ${String(value)}`, "invalid_argument");
  }
  return value;
}

function optionalFunction(name, value) {
  if (value !== undefined && typeof value !== "function") throw new LitmusError(`${name} must be a function`, "invalid_argument");
  return value;
}

/** Calls a user callback; a throwing one never stops the client (rethrown in a microtask). */
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

/**
 * The error of a non-2xx answer: 401 `unauthorized`, 403 `forbidden`, else the code of the
 * server's `{"error": {"code", "message"}}` body, or `http_error` without one (the codes of
 * litmus.ConfigClient in Python).
 */
async function httpError(res, url) {
  let body = null;
  try {
    body = JSON.parse(await res.text())?.error ?? null;
  } catch {
    // Not JSON: the status says enough.
  }
  const detail = typeof body?.message === "string" ? `: ${body.message}` : "";
  if (res.status === 401) return new LitmusError(`${url} answered 401 (check the SDK key)${detail}`, "unauthorized");
  if (res.status === 403) return new LitmusError(`${url} answered 403 (the key may not read the config)${detail}`, "forbidden");
  const code = typeof body?.code === "string" && body.code !== "" ? body.code : "http_error";
  return new LitmusError(`${url} answered ${res.status}${detail}`, code);
}

/** The number N of a config's `"version": "vN"` (-1 when it has none or is not JSON). */
function versionNumber(text) {
  try {
    const m = /^v([0-9]+)$/.exec(JSON.parse(text)?.version ?? "");
    return m ? Number(m[1]) : -1;
  } catch {
    return -1;
  }
}

const isAuth = (e) => e.code === "unauthorized" || e.code === "forbidden";

/** A LitmusError for anything thrown where none was expected (code "internal"). */
const asLitmusError = (e) => (e instanceof LitmusError ? e : new LitmusError(String(e?.message ?? e), "internal"));

/** Builds the ConfigClient class over `Engine`; `fileCache` ({ read, write }) enables cachePath. */
export function makeConfigClient(Engine, fileCache) {
  /**
   * Keeps an Engine in step with a Litmus server: see docs/javascript.md ("Config client").
   */
  class ConfigClient {
    #base;
    #key;
    #mode;
    #pollInterval;
    #timeout;
    #idleTimeout;
    #retryDelay;
    #maxRetryDelay;
    #bootstrap;
    #engineOptions;
    #onUpdate;
    #onError;
    #fetch;
    #cachePath;

    #engine = null;
    // The text of the config the engine serves, and where it came from.
    #text = null;
    #source = null;
    // The text of the latest config received that did not load (null: none), so that it is
    // neither compiled nor reported again.
    #rejected = null;
    #etag = null;
    // The stream's last event id (the server's version number of the latest config seen).
    #eventId = null;
    // How many configs were applied: an answer to a request sent before the latest change is
    // not applied (it may be older).
    #applied = 0;
    #stale = true;
    #lastError = null;
    #started = false;
    #closed = false;
    #ready;
    #resolveReady;
    #timers = new Set();
    #controllers = new Set();
    // Failed attempts in a row (the exponent of the backoff), and the server's `retry`.
    #failures = 0;
    #serverRetry = null;
    #streamUp = false;
    #fallback = null;
    #cached = null;

    /**
     * @param options `{ baseUrl, sdkKey, mode = "stream", pollInterval = 30000, timeout = 5000,
     *   streamIdleTimeout = 45000, retryDelay = 1000, maxRetryDelay = 30000, bootstrap,
     *   engineOptions, onUpdate, onError, fetch = globalThis.fetch, cachePath (Node only) }`.
     */
    constructor(options) {
      const o = options ?? {};
      if (typeof o.baseUrl !== "string" || o.baseUrl === "") throw new LitmusError("baseUrl must be a URL string", "invalid_argument");
      if (typeof o.sdkKey !== "string" || o.sdkKey === "") throw new LitmusError("sdkKey must be a non-empty string", "invalid_argument");
      this.#base = o.baseUrl.replace(/\/+$/, "");
      this.#key = o.sdkKey;
      this.#mode = o.mode ?? "stream";
      if (!MODES.includes(this.#mode)) throw new LitmusError(`mode must be "stream" or "poll", not ${String(o.mode)}`, "invalid_argument");
      this.#pollInterval = positive("pollInterval", o.pollInterval ?? 30_000);
      this.#timeout = positive("timeout", o.timeout ?? 5_000);
      this.#idleTimeout = positive("streamIdleTimeout", o.streamIdleTimeout ?? 45_000);
      this.#retryDelay = positive("retryDelay", o.retryDelay ?? 1_000);
      this.#maxRetryDelay = positive("maxRetryDelay", o.maxRetryDelay ?? 30_000);
      this.#bootstrap = o.bootstrap;
      this.#engineOptions = o.engineOptions ?? {};
      this.#onUpdate = optionalFunction("onUpdate", o.onUpdate);
      this.#onError = optionalFunction("onError", o.onError);
      const fetch = optionalFunction("fetch", o.fetch ?? globalThis.fetch);
      if (fetch === undefined) throw new LitmusError("no fetch: pass options.fetch", "invalid_argument");
      // Called as a plain function: a browser's fetch throws "Illegal invocation" when called
      // as a method of another object.
      this.#fetch = (url, init) => fetch(url, init);
      if (o.cachePath !== undefined) {
        if (fileCache === undefined) throw new LitmusError("cachePath needs the Node entry point (there is no file system here)", "invalid_argument");
        if (typeof o.cachePath !== "string" || o.cachePath === "") throw new LitmusError("cachePath must be a file path", "invalid_argument");
        this.#cachePath = o.cachePath;
      }
      this.#ready = new Promise((resolve) => {
        this.#resolveReady = resolve;
      });
    }

    /**
     * Starts keeping the engine in step (once; later calls do nothing) and returns `ready()`.
     * A `bootstrap` config is loaded at once, so `engine` works right after `start()`.
     */
    start() {
      if (this.#started || this.#closed) return this.#ready;
      this.#started = true;
      if (this.#bootstrap !== undefined) {
        let text;
        try {
          text = typeof this.#bootstrap === "string" ? this.#bootstrap
            : this.#bootstrap instanceof Uint8Array ? new TextDecoder().decode(this.#bootstrap)
              : JSON.stringify(this.#bootstrap);
        } catch (e) {
          text = null;
          this.#report(new LitmusError(`bootstrap is not a config: ${e.message}`, "invalid_argument"));
        }
        if (text !== null) this.#receive(text, "bootstrap");
      }
      this.#begin().catch((e) => this.#report(asLitmusError(e)));
      return this.#ready;
    }

    /**
     * Starts the client if needed and resolves once the first request to the server has
     * settled (at most about `timeout` ms): true when an engine is available (from the server,
     * else from `bootstrap` or the cache file), false when there is none yet (the client keeps
     * trying; `onUpdate` tells when one arrives) or the client was closed.
     */
    ready() {
      return this.start();
    }

    /** The current Engine (the same object throughout, updated in place). Throws `not_ready` before any config. */
    get engine() {
      if (this.#engine === null) {
        throw new LitmusError("no config yet: await client.ready() and give a bootstrap config for when the server is unreachable", "not_ready");
      }
      return this.#engine;
    }

    /** The served config's version (the server's "v<N>"), or null. */
    get version() {
      return this.#engine === null ? null : this.#engine.version;
    }

    /** Where the served config came from: "server", "bootstrap", "cache", or null. */
    get source() {
      return this.#source;
    }

    /**
     * Whether the served config may be behind the server's: true until a config from the
     * server is served, while the server cannot be reached, and while its current config is
     * one that did not load.
     */
    get stale() {
      return this.#stale;
    }

    /** The latest error (a LitmusError), or null; cleared when the client is in step again. */
    get lastError() {
      return this.#lastError;
    }

    /** Stops: aborts requests in flight and clears every timer. The engine stays usable. */
    close() {
      if (this.#closed) return;
      this.#closed = true;
      for (const t of this.#timers) clearTimeout(t);
      this.#timers.clear();
      for (const c of this.#controllers) c.abort();
      this.#controllers.clear();
      this.#resolveReady(this.#engine !== null);
    }

    // ---- the first request, then polling or streaming

    async #begin() {
      const first = await this.#poll();
      if (this.#closed) return;
      // Unreachable: the cache file serves when it is newer than the bootstrap (or there is none).
      if (first !== "ok" && this.#cachePath !== undefined && (this.#engine === null || this.#source === "bootstrap")) await this.#readCache();
      this.#resolveReady(this.#engine !== null);
      if (this.#closed) return;
      if (this.#mode === "poll") this.#afterPoll(first);
      else if (first === "ok") this.#connect();
      else this.#streamDown(first === "auth");
    }

    #afterPoll(result) {
      if (result === "ok") {
        this.#failures = 0;
        this.#later(this.#jittered(), () => this.#pollLoop());
      } else if (result === "auth") {
        this.#later(Math.max(this.#pollInterval, this.#maxRetryDelay), () => this.#pollLoop());
      } else {
        this.#later(Math.min(this.#jittered(), this.#backoff()), () => this.#pollLoop());
      }
    }

    async #pollLoop() {
      const result = await this.#poll();
      if (!this.#closed) this.#afterPoll(result);
    }

    /** One GET /sdk/config with If-None-Match: "ok", "auth" (401/403) or "error". */
    async #poll() {
      const url = `${this.#base}/sdk/config`;
      const applied = this.#applied;
      const headers = { Authorization: `Bearer ${this.#key}` };
      if (this.#etag !== null) headers["If-None-Match"] = this.#etag;
      let answer;
      try {
        answer = await this.#request(url, headers, async (res) => {
          if (res.status === 200) return { status: 200, text: await res.text(), etag: res.headers.get("ETag") };
          if (res.status === 304) return { status: 304 };
          throw await httpError(res, url);
        });
      } catch (e) {
        if (this.#closed) return "error";
        this.#fail(e);
        return isAuth(e) ? "auth" : "error";
      }
      if (this.#closed) return "ok";
      if (answer.status === 304) {
        if (this.#rejected === null && this.#source === "server") this.#fresh();
        return "ok";
      }
      // Not older than what arrived (from the stream) while this request was out.
      if (applied !== this.#applied) return "ok";
      this.#etag = answer.etag;
      this.#receive(answer.text, "server");
      return "ok";
    }

    #connect() {
      if (this.#closed) return;
      this.#stream().catch((e) => {
        // Not expected (every failure is handled in #stream); keep the client alive anyway.
        this.#report(asLitmusError(e));
        this.#streamDown(false);
      });
    }

    /** One connection to GET /sdk/stream, read until it ends, then a reconnection. */
    async #stream() {
      const url = `${this.#base}/sdk/stream`;
      const headers = { Authorization: `Bearer ${this.#key}`, Accept: "text/event-stream" };
      if (this.#eventId !== null && this.#eventId !== "") headers["Last-Event-ID"] = this.#eventId;
      let opened;
      try {
        opened = await this.#request(url, headers, async (res, controller) => {
          if (!res.ok) throw await httpError(res, url);
          const type = res.headers.get("Content-Type") ?? "";
          if (!type.startsWith("text/event-stream") || res.body === null) {
            await res.body?.cancel();
            throw new LitmusError(`${url} did not answer with an event stream (Content-Type: ${type})`, "bad_response");
          }
          return { res, controller };
        }, true);
      } catch (e) {
        if (this.#closed) return;
        this.#fail(e);
        this.#streamDown(isAuth(e));
        return;
      }
      const { res, controller } = opened;
      this.#streamUp = true;
      this.#stopFallback();
      // Connected knowing the latest version: the server would send a newer one at once.
      if (this.#eventId !== null && this.#rejected === null && this.#source === "server") this.#fresh();
      const parser = new SseParser(
        (event) => {
          if (event.type !== "config") return;
          this.#eventId = event.id;
          this.#receive(event.data, "server", true);
        },
        (ms) => {
          this.#serverRetry = ms;
        },
      );
      const reader = res.body.getReader();
      const decoder = new TextDecoder();
      let idle = false;
      let idleTimer = null;
      const touch = () => {
        this.#forget(idleTimer);
        idleTimer = this.#later(this.#idleTimeout, () => {
          idle = true;
          controller.abort();
        });
      };
      touch();
      try {
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          touch();
          this.#failures = 0;
          parser.feed(decoder.decode(value, { stream: true }));
        }
      } catch {
        // Dropped (or aborted: idle, or closed): reconnect below unless closed.
      } finally {
        this.#forget(idleTimer);
        this.#controllers.delete(controller);
      }
      if (this.#closed) return;
      if (idle) this.#fail(new LitmusError(`no data on ${url} for ${this.#idleTimeout} ms`, "unavailable"));
      this.#stale = true;
      this.#streamDown(false);
    }

    /** The stream is down: reconnect after a backoff (the longest after 401/403) and poll meanwhile. */
    #streamDown(auth) {
      this.#streamUp = false;
      if (this.#closed) return;
      const delay = auth ? this.#maxRetryDelay : this.#backoff();
      this.#later(delay, () => this.#connect());
      if (!auth) this.#startFallback();
    }

    #startFallback() {
      if (this.#fallback !== null) return;
      // A token per fallback loop, so that a poll still out when the loop stops cannot
      // start a second loop.
      const loop = { timer: null };
      this.#fallback = loop;
      const tick = async () => {
        const result = await this.#poll();
        if (this.#fallback !== loop) return;
        if (this.#closed || result === "auth") {
          this.#fallback = null;
          return;
        }
        loop.timer = this.#later(this.#jittered(), tick);
      };
      loop.timer = this.#later(this.#jittered(), tick);
    }

    #stopFallback() {
      if (this.#fallback === null) return;
      this.#forget(this.#fallback.timer);
      this.#fallback = null;
    }

    // ---- configs

    /**
     * Loads a config text unless it is the one served or one that already failed.
     * `streamed`: it came with a stream event, whose id is already recorded.
     */
    #receive(text, source, streamed = false) {
      if (text === this.#text) {
        if (source === "server") {
          this.#source = "server";
          this.#rejected = null;
          this.#fresh();
          this.#writeCache(text);
        }
        return;
      }
      if (text === this.#rejected) return;
      const previousVersion = this.version;
      try {
        if (this.#engine === null) this.#engine = new Engine(text, this.#engineOptions);
        else this.#engine.update(text);
      } catch (e) {
        this.#rejected = text;
        this.#stale = true;
        this.#report(asLitmusError(e));
        return;
      }
      this.#rejected = null;
      this.#text = text;
      this.#source = source;
      this.#applied++;
      const version = this.version;
      if (source === "server") {
        // The stream's id of a polled config, for the next connection: the server's "v<N>"
        // is event id N, so the stream does not send this config again.
        const n = streamed ? null : /^v([0-9]+)$/.exec(version ?? "");
        if (n) this.#eventId = n[1];
        this.#fresh();
        this.#writeCache(text);
      }
      notify(this.#onUpdate, { engine: this.#engine, version, previousVersion, source });
    }

    async #readCache() {
      let text;
      try {
        text = await fileCache.read(this.#cachePath);
      } catch (e) {
        if (e?.code !== "ENOENT") this.#report(new LitmusError(`cannot read the cache ${this.#cachePath}: ${e?.message ?? e}`, "cache_error"));
        return;
      }
      if (this.#closed) return;
      if (this.#engine !== null && (this.#source !== "bootstrap" || versionNumber(text) < versionNumber(this.#text))) return;
      this.#cached = text;
      this.#receive(text, "cache");
    }

    #writeCache(text) {
      if (this.#cachePath === undefined || text === this.#cached) return;
      this.#cached = text;
      fileCache.write(this.#cachePath, text).catch((e) => {
        this.#report(new LitmusError(`cannot write the cache ${this.#cachePath}: ${e?.message ?? e}`, "cache_error"));
      });
    }

    // ---- state, errors, timers and requests

    #fresh() {
      this.#stale = false;
      this.#lastError = null;
    }

    #fail(error) {
      this.#stale = true;
      this.#report(error);
    }

    #report(error) {
      this.#lastError = error;
      notify(this.#onError, error);
    }

    /** The poll interval with ±10 % jitter. */
    #jittered() {
      return this.#pollInterval * (0.9 + 0.2 * Math.random());
    }

    /** Exponential backoff with full jitter, capped at maxRetryDelay; counts the failure. */
    #backoff() {
      const base = this.#serverRetry ?? this.#retryDelay;
      const ceiling = Math.min(this.#maxRetryDelay, base * 2 ** Math.min(this.#failures, 30));
      this.#failures++;
      return Math.random() * ceiling;
    }

    #later(ms, f) {
      if (this.#closed) return null;
      const t = setTimeout(() => {
        this.#timers.delete(t);
        f();
      }, ms);
      this.#timers.add(t);
      return t;
    }

    #forget(t) {
      if (t === null) return;
      clearTimeout(t);
      this.#timers.delete(t);
    }

    /**
     * fetch(url) with a timeout on the answer; `handle(res, controller)` runs within it.
     * `keep`: the controller stays registered (a stream being read) for close() to abort.
     */
    async #request(url, headers, handle, keep = false) {
      const controller = new AbortController();
      this.#controllers.add(controller);
      let timedOut = false;
      const timer = this.#later(this.#timeout, () => {
        timedOut = true;
        controller.abort();
      });
      let done = false;
      try {
        const res = await this.#fetch(url, { headers, signal: controller.signal });
        const result = await handle(res, controller);
        done = keep;
        return result;
      } catch (e) {
        if (e instanceof LitmusError) throw e;
        if (timedOut) throw new LitmusError(`no answer from ${url} within ${this.#timeout} ms`, "unavailable");
        const cause = e?.cause?.code ?? e?.cause?.message;
        const err = new LitmusError(`cannot reach ${url}: ${e?.message ?? e}${cause ? ` (${cause})` : ""}`, "unavailable");
        err.cause = e;
        throw err;
      } finally {
        this.#forget(timer);
        if (!done) this.#controllers.delete(controller);
      }
    }
  }

  return ConfigClient;
}
