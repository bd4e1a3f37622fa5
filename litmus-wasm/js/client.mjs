// The config client: an I/O shell over litmus-core's config-sync state machine (`ConfigSync`
// in the engine's WebAssembly module). When to fetch, stream, poll or wait, which config to
// serve and what to report are core's decisions, the same as the Python package's
// (docs/sdk-protocol.md); this file does fetch, the stream reader, timers, the cache file and
// callbacks. It also sends the engine's flag usage counts to `POST /sdk/usage` on a timer, as
// core's usage sender (`UsageSender`) decides.
import { LitmusError, asLitmusError, notify, optionalFunction, positive, reportError, seed } from "./common.mjs";

const MODES = ["stream", "poll"];
// The actions that do I/O other than reading the stream: an open stream is closed before them.
const IO = new Set(["fetch", "open_stream", "wait", "read_cache"]);
const LONGEST_TIMER = 2 ** 31 - 1;

const now = () => (globalThis.performance?.now ? globalThis.performance.now() : Date.now());

/** The text of a bootstrap config: a string, bytes or an object. */
function bootstrapText(bootstrap) {
  if (typeof bootstrap === "string") return bootstrap;
  if (bootstrap instanceof Uint8Array) return new TextDecoder().decode(bootstrap);
  return JSON.stringify(bootstrap);
}

/**
 * Builds the ConfigClient class over `Engine` and the engine module's bindings `sdk`
 * ({ b, call, epoch }); `fileCache` ({ read, write }) enables cachePath.
 */
export function makeConfigClient(Engine, sdk, fileCache) {
  /**
   * Keeps an Engine in step with a Litmus server: see docs/javascript.md ("Config client").
   */
  class ConfigClient {
    #base;
    #key;
    #timeout;
    #args;
    #bootstrap;
    #engineOptions;
    #onUpdate;
    #onError;
    #fetch;
    #cachePath;
    #sync;
    #epoch;

    #engine = null;
    #text = null;
    #lastError = null;
    #refusal = null;
    #cause = null;
    #started = false;
    #closed = false;
    #ready;
    #resolveReady;
    #controllers = new Set();
    #wake = null;
    #stream = null;
    // Flag usage reports: core's sender (null when off or stopped), its instance generation,
    // the timer, whether a POST is in flight, whether the sender was told about close(), the
    // last usage error reported, and close()'s promise and its resolver.
    #usageInterval;
    #usage = null;
    #usageEpoch;
    #usageTimer = null;
    #usageBusy = false;
    #usageClosing = false;
    #usageError = null;
    #usageClosed = null;
    #usageDone = null;

    /**
     * @param options `{ baseUrl, sdkKey, mode = "stream", pollInterval = 30000, timeout = 5000,
     *   streamIdleTimeout = 45000, retryDelay = 1000, maxRetryDelay = 30000, bootstrap,
     *   engineOptions, onUpdate, onError, fetch = globalThis.fetch, cachePath (Node only),
     *   usageInterval = 60000 (0: no flag usage reports) }`.
     */
    constructor(options) {
      const o = options ?? {};
      if (typeof o.baseUrl !== "string" || o.baseUrl === "") throw new LitmusError("baseUrl must be a URL string", "invalid_argument");
      if (typeof o.sdkKey !== "string" || o.sdkKey === "") throw new LitmusError("sdkKey must be a non-empty string", "invalid_argument");
      this.#base = o.baseUrl.replace(/\/+$/, "");
      this.#key = o.sdkKey;
      const mode = o.mode ?? "stream";
      if (!MODES.includes(mode)) throw new LitmusError(`mode must be "stream" or "poll", not ${String(o.mode)}`, "invalid_argument");
      this.#timeout = positive("timeout", o.timeout ?? 5_000);
      this.#bootstrap = o.bootstrap;
      this.#engineOptions = o.engineOptions ?? {};
      this.#onUpdate = optionalFunction("onUpdate", o.onUpdate);
      this.#onError = optionalFunction("onError", o.onError);
      const fetch = optionalFunction("fetch", o.fetch ?? globalThis.fetch);
      if (fetch === undefined) throw new LitmusError("no fetch: pass options.fetch", "invalid_argument");
      this.#fetch = (url, init) => fetch(url, init);
      if (o.cachePath !== undefined) {
        if (fileCache === undefined) throw new LitmusError("cachePath needs the Node entry point (there is no file system here)", "invalid_argument");
        if (typeof o.cachePath !== "string" || o.cachePath === "") throw new LitmusError("cachePath must be a file path", "invalid_argument");
        this.#cachePath = o.cachePath;
      }
      this.#args = [
        this.#base,
        mode,
        positive("pollInterval", o.pollInterval ?? 30_000),
        positive("streamIdleTimeout", o.streamIdleTimeout ?? 45_000),
        positive("retryDelay", o.retryDelay ?? 1_000),
        positive("maxRetryDelay", o.maxRetryDelay ?? 30_000),
        this.#cachePath !== undefined,
      ];
      this.#sync = this.#build();
      const usageInterval = o.usageInterval ?? 60_000;
      this.#usageInterval = usageInterval === 0 ? 0 : positive("usageInterval", usageInterval);
      if (this.#usageInterval !== 0) this.#usage = this.#buildUsage();
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
      let text;
      if (this.#bootstrap !== undefined) {
        try {
          text = bootstrapText(this.#bootstrap);
        } catch (e) {
          this.#report(new LitmusError(`bootstrap is not a config: ${e.message}`, "invalid_argument"));
        }
      }
      sdk.call(() => this.#sync.start(text));
      this.#drive().catch((e) => this.#report(asLitmusError(e)));
      this.#usageStep();
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
      return this.#machine().source ?? null;
    }

    /**
     * Whether the served config may be behind the server's: true until a config from the
     * server is served, while the server cannot be reached, and while its current config is
     * one that did not load.
     */
    get stale() {
      return this.#machine().stale;
    }

    /** The latest error (a LitmusError), or null; cleared when the client is in step again. */
    get lastError() {
      return this.#lastError;
    }

    /**
     * Stops: aborts requests in flight and clears every timer; then sends the flag usage
     * counted since the last report, if any (best effort, within `timeout`). The engine stays
     * usable. Returns a promise that settles (never rejects) when that last report is done.
     */
    close() {
      if (this.#closed) return this.#usageClosed;
      this.#closed = true;
      sdk.call(() => this.#machine().close());
      for (const c of this.#controllers) c.abort();
      this.#controllers.clear();
      this.#wake?.();
      this.#resolveReady(this.#engine !== null);
      this.#usageClosed = new Promise((resolve) => {
        this.#usageDone = resolve;
      });
      if (this.#usageTimer !== null) clearTimeout(this.#usageTimer);
      this.#usageTimer = null;
      if (this.#usage === null) this.#usageDone();
      else if (!this.#usageBusy) this.#usageStep();
      return this.#usageClosed;
    }

    // -- the driver: carries out the machine's actions -------------------------------------

    #build() {
      this.#epoch = sdk.epoch();
      return sdk.call(() => new sdk.b.ConfigSync(...this.#args, seed()));
    }

    /** The machine; after a trap restarted the WebAssembly instance, a fresh one that starts
     * from the config served. */
    #machine() {
      if (this.#epoch !== sdk.epoch()) {
        this.#sync = this.#build();
        if (this.#closed) this.#sync.close();
        else if (this.#started) this.#sync.start(this.#text ?? undefined);
      }
      return this.#sync;
    }

    async #drive() {
      for (;;) {
        if (this.#closed) return;
        const sync = this.#machine();
        const json = sdk.call(() => sync.pollAction());
        if (json === undefined) return;
        const a = JSON.parse(json);
        if (IO.has(a.type)) this.#endStream();
        switch (a.type) {
          case "fetch":
            await this.#fetchConfig(sync, a.if_none_match);
            break;
          case "open_stream":
            await this.#openStream(sync, a.last_event_id, a.idle_timeout_ms);
            break;
          case "read_stream":
            await this.#readStream(sync);
            break;
          case "wait":
            await this.#sleep(a.ms);
            if (!this.#closed) sdk.call(() => sync.timerFired(now()));
            break;
          case "load":
            this.#load(sync, a.text);
            break;
          case "read_cache": {
            const text = await this.#readCache();
            if (!this.#closed) sdk.call(() => sync.cacheRead(text, now()));
            break;
          }
          case "write_cache":
            this.#writeCache(a.text);
            break;
          case "updated":
            notify(this.#onUpdate, { engine: this.#engine, version: a.version, previousVersion: a.previous_version, source: a.source });
            break;
          case "report": {
            const refused = a.report.kind === "config_refused" && this.#refusal !== null;
            const error = refused ? this.#refusal : reportError(a.report);
            if (a.report.kind === "unavailable" && this.#cause !== null) error.cause = this.#cause;
            this.#refusal = null;
            this.#cause = null;
            this.#report(error);
            break;
          }
          case "recovered":
            this.#lastError = null;
            break;
          case "ready":
            this.#resolveReady(a.has_engine);
            break;
          default:
            break;
        }
      }
    }

    #sleep(ms) {
      return new Promise((resolve) => {
        const t = setTimeout(() => {
          this.#wake = null;
          resolve();
        }, Math.min(Math.max(0, ms), LONGEST_TIMER));
        this.#wake = () => {
          clearTimeout(t);
          this.#wake = null;
          resolve();
        };
      });
    }

    /** Builds the engine from `text` or updates it in place; tells the machine. */
    #load(sync, text) {
      try {
        if (this.#engine === null) this.#engine = new Engine(text, this.#engineOptions);
        else this.#engine.update(text);
      } catch (e) {
        this.#refusal = asLitmusError(e);
        sdk.call(() => sync.refused(this.#refusal.code ?? "internal", this.#refusal.message, now()));
        return;
      }
      this.#text = text;
      sdk.call(() => sync.loaded(this.#engine.version ?? undefined, now()));
    }

    /** fetch(url) with a timeout on the answer; `read(res, controller)` runs within it. */
    async #request(path, headers, read, keep = false) {
      const controller = new AbortController();
      this.#controllers.add(controller);
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        controller.abort();
      }, this.#timeout);
      let kept = false;
      try {
        const res = await this.#fetch(`${this.#base}${path}`, { headers, signal: controller.signal });
        const result = await read(res, controller);
        kept = keep && res.status === 200;
        return result;
      } catch (e) {
        this.#cause = e;
        if (timedOut) return { error: `no answer within ${this.#timeout} ms` };
        const detail = e?.cause?.code ?? e?.cause?.message;
        return { error: `${e?.message ?? e}${detail ? ` (${detail})` : ""}` };
      } finally {
        clearTimeout(timer);
        if (!kept) this.#controllers.delete(controller);
      }
    }

    async #fetchConfig(sync, etag) {
      const headers = { Authorization: `Bearer ${this.#key}`, Accept: "application/json" };
      if (etag !== null && etag !== undefined) headers["If-None-Match"] = etag;
      const answer = await this.#request("/sdk/config", headers, async (res) => ({
        status: res.status,
        etag: res.headers.get("ETag") ?? undefined,
        body: new Uint8Array(await res.arrayBuffer()),
      }));
      if (this.#closed) return;
      sdk.call(() => {
        if (answer.error !== undefined) sync.unreachable(answer.error, now());
        else sync.fetched(answer.status, answer.etag, answer.body, now());
      });
    }

    async #openStream(sync, lastEventId, idleTimeout) {
      const headers = { Authorization: `Bearer ${this.#key}`, Accept: "text/event-stream", "Cache-Control": "no-cache" };
      if (lastEventId !== null && lastEventId !== undefined) headers["Last-Event-ID"] = lastEventId;
      const answer = await this.#request("/sdk/stream", headers, async (res, controller) => {
        const type = res.headers.get("Content-Type") ?? undefined;
        if (res.status !== 200 || res.body === null) {
          return { status: res.status, type, body: new Uint8Array(await res.arrayBuffer()) };
        }
        return { status: 200, type, reader: res.body.getReader(), controller };
      }, true);
      if (this.#closed) {
        answer.controller?.abort();
        return;
      }
      if (answer.reader !== undefined) {
        this.#stream = { reader: answer.reader, controller: answer.controller, idleTimeout };
      }
      sdk.call(() => {
        if (answer.error !== undefined) sync.unreachable(answer.error, now());
        else sync.streamOpened(answer.status, answer.type, answer.body ?? new Uint8Array(0), now());
      });
    }

    /** Reads the next chunk of the open stream for the machine (failing it after the idle timeout). */
    async #readStream(sync) {
      const stream = this.#stream;
      if (stream === null) {
        sdk.call(() => sync.streamFailed("no open stream", false, now()));
        return;
      }
      let idle = false;
      const timer = setTimeout(() => {
        idle = true;
        stream.controller.abort();
      }, Math.min(stream.idleTimeout, LONGEST_TIMER));
      let result;
      try {
        result = await stream.reader.read();
      } catch (e) {
        result = { error: e };
      } finally {
        clearTimeout(timer);
      }
      if (this.#closed) return;
      sdk.call(() => {
        if (result.error !== undefined || idle) {
          this.#endStream();
          sync.streamFailed(String(result.error?.message ?? result.error ?? "aborted"), idle, now());
        } else if (result.done) {
          this.#endStream();
          sync.streamEnded(now());
        } else {
          sync.streamData(result.value, now());
        }
      });
    }

    #endStream() {
      const stream = this.#stream;
      if (stream === null) return;
      this.#stream = null;
      stream.controller.abort();
      this.#controllers.delete(stream.controller);
    }

    async #readCache() {
      try {
        return await fileCache.read(this.#cachePath);
      } catch (e) {
        if (e?.code !== "ENOENT") this.#report(new LitmusError(`cannot read the cache ${this.#cachePath}: ${e?.message ?? e}`, "cache_error"));
        return undefined;
      }
    }

    #writeCache(text) {
      if (this.#cachePath === undefined) return;
      fileCache.write(this.#cachePath, text).catch((e) => {
        this.#report(new LitmusError(`cannot write the cache ${this.#cachePath}: ${e?.message ?? e}`, "cache_error"));
      });
    }

    #report(error) {
      if (this.#closed) return;
      this.#lastError = error;
      notify(this.#onError, error);
    }

    // -- flag usage reports: core's sender decides, this does the POST and the timer --------

    #buildUsage() {
      this.#usageEpoch = sdk.epoch();
      return sdk.call(() => new sdk.b.UsageSender(this.#base, this.#usageInterval));
    }

    /** The sender; after a trap restarted the WebAssembly instance, a fresh one (what it held is lost). */
    #usageMachine() {
      if (this.#usageEpoch !== sdk.epoch()) {
        this.#usage = this.#buildUsage();
        this.#usageClosing = false;
      }
      return this.#usage;
    }

    /** Gives the engine's new counts to the sender and carries out its actions until it waits. */
    #usageStep() {
      if (this.#usage === null || this.#usageBusy) return;
      try {
        const sender = this.#usageMachine();
        if (this.#engine !== null && !this.#usageClosing) {
          const counts = this.#engine.flagUsage();
          for (const flag of Object.keys(counts)) sdk.call(() => sender.record(flag, counts[flag]));
        }
        if (this.#closed && !this.#usageClosing) {
          this.#usageClosing = true;
          sdk.call(() => sender.close(this.#timeout, Date.now()));
        }
        for (;;) {
          const a = JSON.parse(sdk.call(() => sender.tick(Date.now())));
          if (a.type === "send") {
            this.#usageBusy = true;
            this.#postUsage(sender, a.body);
            return;
          }
          if (a.type === "report") {
            this.#usageError = reportError(a.report);
            this.#report(this.#usageError);
          } else if (a.type === "recovered") {
            if (this.#usageError !== null && this.#lastError === this.#usageError) this.#lastError = null;
            this.#usageError = null;
          } else if (a.type === "wait") {
            if (a.until_ms !== null && !this.#closed) {
              if (this.#usageTimer !== null) clearTimeout(this.#usageTimer);
              const t = setTimeout(() => {
                this.#usageTimer = null;
                this.#usageStep();
              }, Math.min(Math.max(0, a.until_ms - Date.now()), LONGEST_TIMER));
              if (typeof t === "object" && typeof t.unref === "function") t.unref();
              this.#usageTimer = t;
            }
            return;
          } else {
            // Stopped: closed, or a server without the route (said once, at debug level).
            if (a.message) globalThis.console?.debug?.(`litmus ConfigClient: ${a.message}`);
            this.#stopUsage();
            return;
          }
        }
      } catch (e) {
        this.#report(asLitmusError(e));
        this.#stopUsage();
      }
    }

    #stopUsage() {
      this.#usage = null;
      this.#usageDone?.();
    }

    /** `POST /sdk/usage` with `body`; the answer goes to the sender, then the next step. */
    async #postUsage(sender, body) {
      const controller = new AbortController();
      const timer = setTimeout(() => controller.abort(), this.#timeout);
      let answer;
      try {
        const res = await this.#fetch(`${this.#base}/sdk/usage`, {
          method: "POST",
          headers: { Authorization: `Bearer ${this.#key}`, "Content-Type": "application/json" },
          body,
          signal: controller.signal,
        });
        answer = { status: res.status, retryAfter: res.headers.get("Retry-After") ?? undefined, body: new Uint8Array(await res.arrayBuffer()) };
      } catch (e) {
        const detail = e?.cause?.code ?? e?.cause?.message;
        answer = { error: controller.signal.aborted ? `no answer within ${this.#timeout} ms` : `${e?.message ?? e}${detail ? ` (${detail})` : ""}` };
      } finally {
        clearTimeout(timer);
      }
      this.#usageBusy = false;
      if (this.#usageEpoch !== sdk.epoch()) return this.#usageStep(); // the answer's machine is gone
      try {
        sdk.call(() => {
          // Status 0: no answer, the body says why.
          if (answer.error !== undefined) sender.sent(0, undefined, new TextEncoder().encode(answer.error), Date.now());
          else sender.sent(answer.status, answer.retryAfter, answer.body, Date.now());
        });
      } catch (e) {
        this.#report(asLitmusError(e));
      }
      this.#usageStep();
    }
  }

  return ConfigClient;
}
