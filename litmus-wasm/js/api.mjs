// The JavaScript API of litmus-experiments over the engine module's wasm-bindgen exports.
// Written once as ESM; scripts/wasm/build-package.sh derives api.cjs from it for require().
// This layer only converts values and caches strings: every decision is the Rust core's.

import { LitmusError, guard } from "./common.mjs";
import { FLAG_HOLDOUTS, FLAG_OUTCOME, FLAG_REPORT, FlagCache, typeCode } from "./flags.mjs";
import { CallBuffer, NO_ATTRIBUTES } from "./scratch.mjs";

const MISSES = [null, "false", "attribute_missing", "type_mismatch"];
// What the engine needs of an experiment (its position, whether it has a time window, the
// attributes it reads, its variants) is cached per experiment key: at most as many keys as a
// config may hold experiments, and never a key longer than a config allows (it names no
// experiment), so assigning under arbitrary experiment keys cannot grow the cache without bound.
const MAX_CACHED_EXPERIMENTS = 10_000;
const MAX_KEY_LENGTH = 128;
// Bit 31 of a packed assignment: an exposure to report (in the experiment, not reported
// while remembered by the core's exposure memory).
const REPORT = 0x80000000;
/** The packed bit that asks for holdout exposures (engine.rs `HOLDOUTS`). */
const HOLDOUTS = 0x40000000;

/** What `assignAt` returns for a call buffer it could not read (engine.rs `UNREADABLE`). */
const UNREADABLE = 0xffffffff;
/** What `assignAt` returns when an attribute's JSON does not parse (engine.rs `NOT_JSON`). */
const NOT_JSON = 0xfffffffe;

/** A random seed for the exposure memory's hashes (53 bits; any number will do). */
function randomSeed() {
  const c = globalThis.crypto;
  if (typeof c?.getRandomValues !== "function") return Math.floor(Math.random() * 2 ** 53);
  const [high, low] = c.getRandomValues(new Uint32Array(2));
  return high * 2 ** 21 + (low >>> 11);
}

function configText(config) {
  if (typeof config === "string") return config;
  if (config instanceof Uint8Array) return new TextDecoder().decode(config);
  if (config !== null && typeof config === "object") return JSON.stringify(config);
  throw new LitmusError("config must be a JSON string, bytes or an object", "invalid_argument");
}

function nowMs(now) {
  if (now === undefined || now === null) return Date.now();
  if (now === false) return NaN; // no time known
  if (now instanceof Date) return now.getTime();
  if (typeof now === "number" && Number.isFinite(now)) return now;
  if (typeof now === "string") {
    const t = Date.parse(now);
    if (Number.isFinite(t)) return t;
  }
  throw new LitmusError(`now must be a Date, milliseconds, an ISO string or false, not ${String(now)}`, "invalid_argument");
}

/**
 * `value`, which must be a string. wasm-bindgen's release glue passes a string argument by
 * its length and characters without checking its type: a number or an object there was read
 * as a bogus allocation and trapped the instance (found by scripts/fuzz/js_bindings.mjs).
 */
function str(name, value) {
  if (typeof value !== "string") throw new LitmusError(`${name} must be a string, not ${typeof value}`, "invalid_argument");
  return value;
}

/** A bucket: an integer in [0, 2^32) (the glue would wrap anything else modulo 2^32). */
function bucketOf(value) {
  if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) {
    throw new LitmusError(`bucket must be an integer from 0 to 2^32 - 1, not ${typeof value === "number" ? value : typeof value}`, "invalid_argument");
  }
  return value;
}

/** Builds the public API over a wasm-bindgen module `b`. */
export function makeApi(b) {
  const REASONS = JSON.parse(b.reasonCodes());
  const FLAG_REASONS = JSON.parse(b.flagReasonCodes());
  const g = guard(b);
  const call = (f) => g.call(f);

  class Engine {
    #core;
    // The core's call buffer (units and attributes written into WebAssembly memory).
    #buffer;
    // Set while an assignment writes the call buffer: a call that the caller's getters make
    // meanwhile takes the JSON path instead.
    #busy = false;
    // The lengths the last buffered call wrote (#buffered).
    #unitLength = 0;
    #attributesLength = 0;
    // Per experiment key: { position, windowed, names, variants } (#experiment).
    #experiments = new Map();
    // The config text and the instance generation the core was built in: after a trap the
    // guard starts a fresh instance and the engine rebuilds its core from the text.
    #text;
    #epoch;
    // The config's version, read once per core.
    #version;
    #onExposure;
    // The most pairs the exposure memory holds (0: no callback, no memory).
    #dedupe;
    #sticky;
    // The sticky store's reader for flag evaluations: the engine module calls get(key) with
    // core's key when an experiment rule is reached (undefined: no store, the plain paths).
    #lookup;
    #strict;
    // Each flag's possible values and whether it needs the time, per loaded config.
    #flags = new FlagCache(FLAG_REASONS, REASONS);

    /**
     * @param config JSON text, bytes or an object.
     * @param options `{ onExposure, exposureDedupeSize = 250000, strict = false, stickyStore }`.
     */
    constructor(config, options = {}) {
      const { onExposure, exposureDedupeSize = 250_000, strict = false, stickyStore } = options;
      if (onExposure !== undefined && typeof onExposure !== "function") {
        throw new LitmusError("onExposure must be a function", "invalid_argument");
      }
      if (stickyStore !== undefined && (typeof stickyStore.get !== "function" || typeof stickyStore.set !== "function")) {
        throw new LitmusError("stickyStore needs get(key) and set(key, value)", "invalid_argument");
      }
      this.#strict = strict;
      this.#text = configText(config);
      this.#epoch = g.epoch;
      if (!(exposureDedupeSize >= 2)) throw new LitmusError("exposureDedupeSize must be at least 2", "invalid_argument");
      this.#onExposure = onExposure;
      this.#dedupe = onExposure ? Math.min(Math.floor(exposureDedupeSize), 0xffffffff) : 0;
      this.#core = this.#build();
      this.#version = this.#core.version() ?? null;
      this.#sticky = stickyStore;
      if (stickyStore !== undefined) {
        this.#lookup = {
          get(key) {
            const v = stickyStore.get(key);
            return v === undefined || v === null ? undefined : String(v);
          },
        };
      }
    }

    /** Replaces the config; a config that cannot load throws and changes nothing. */
    update(config) {
      const text = configText(config);
      const core = this.#live();
      call(() => core.update(text, this.#strict));
      this.#text = text;
      this.#version = core.version() ?? null;
      this.#experiments = new Map();
      this.#flags = new FlagCache(FLAG_REASONS, REASONS);
    }

    /** A core for the config text, remembering exposures when there is a callback. */
    #build() {
      const core = call(() => new b.EngineCore(this.#text, this.#strict));
      if (this.#dedupe > 0) core.trackExposures(this.#dedupe, randomSeed());
      this.#buffer = new CallBuffer(core, b.wasmMemory());
      return core;
    }

    /** What the engine needs of `experiment` (cached; position -1 when the config has none). */
    #experiment(experiment) {
      let info = this.#experiments.get(experiment);
      if (info === undefined) {
        const core = this.#live();
        const position = core.experimentPosition(experiment);
        info = {
          position,
          windowed: core.windowed(experiment),
          names: position < 0 ? [] : JSON.parse(core.attributeNames(position)),
          variants: undefined,
        };
        if (experiment.length <= MAX_KEY_LENGTH) {
          if (this.#experiments.size >= MAX_CACHED_EXPERIMENTS) this.#experiments.clear();
          this.#experiments.set(experiment, info);
        }
      }
      return info;
    }

    /**
     * Writes the unit and the attributes `names` name (none when `attributes` is undefined or
     * null) into the call buffer, then returns `call(unitLength, attributesLength)`; the
     * lengths stay in #unitLength and #attributesLength. Meanwhile no other call of this engine
     * writes the buffer (#busy: one that the caller's getters make takes the JSON path).
     */
    #buffered(names, unitId, attributes, call) {
      const buffer = this.#buffer;
      this.#busy = true;
      try {
        const n = buffer.unit(unitId);
        const m = attributes === undefined || attributes === null ? NO_ATTRIBUTES : buffer.attributes(names, attributes, n);
        this.#unitLength = n;
        this.#attributesLength = m;
        return call(n, m);
      } catch (e) {
        throw g.failed(e);
      } finally {
        this.#busy = false;
      }
    }

    /** The error of a call that could not read its buffer: an attribute's JSON, or the layout. */
    #bufferError(core, notJson) {
      if (notJson) return new LitmusError(`attributes are not JSON: ${core.lastJsonError()}`, "invalid_argument");
      return new LitmusError("internal error in litmus (please report it): the call buffer could not be read", "internal");
    }

    /** The instant to assign at: as given, else now if the experiment has a time window. */
    #instant(info, options) {
      if (options !== undefined && options !== null && options.now !== undefined) return nowMs(options.now);
      return info.windowed ? Date.now() : NaN;
    }

    /** The core, rebuilt first if a trap restarted the instance since it was made. */
    #live() {
      if (this.#epoch !== g.epoch) {
        this.#core = this.#build();
        this.#epoch = g.epoch;
      }
      return this.#core;
    }

    #result(experiment, info, unitId, packed) {
      const reason = REASONS[packed & 15];
      const inExperiment = (packed & 16) !== 0;
      const miss = MISSES[(packed >>> 5) & 3];
      const index = (packed >>> 7) & 0x7fffff;
      if (index !== 0 && info.variants === undefined) info.variants = JSON.parse(this.#live().variants(experiment));
      const v = index === 0 ? null : info.variants[index - 1];
      return {
        experiment,
        unitId,
        variant: v ? v.key : null,
        inExperiment,
        reason,
        miss,
        payload: v && v.payload !== undefined ? v.payload : null,
        factors: v ? v.factors : {},
      };
    }

    /**
     * Reports `a`'s exposure. `attrs`: the attributes as JSON text, or a function giving the
     * experiment's dimension values (the call buffer's path).
     */
    #report(a, attrs) {
      try {
        // The experiment's dimension values, for its segments (none without attributes).
        let dimensions;
        if (typeof attrs === "function") dimensions = attrs(a.experiment);
        else dimensions = attrs === undefined ? {} : JSON.parse(this.#live().dimensionValues(a.experiment, attrs));
        this.#onExposure({
          experiment: a.experiment,
          unitId: a.unitId,
          variant: a.variant,
          reason: a.reason,
          timestamp: Date.now(),
          configVersion: this.version,
          dimensions,
        });
      } catch (e) {
        // A failing logger must not break assignment.
        queueMicrotask(() => {
          throw e;
        });
      }
    }

    /** Reports the holdout exposures of `a` the engine has not reported yet. */
    #reportHoldouts(a) {
      try {
        const fresh = JSON.parse(this.#live().reportHoldouts(a.experiment, a.unitId, a.reason));
        for (const [holdout, variant] of fresh) {
          this.#onExposure({
            holdout,
            experiment: a.experiment,
            unitId: a.unitId,
            variant,
            reason: a.reason,
            timestamp: Date.now(),
            configVersion: this.version,
            dimensions: {},
          });
        }
      } catch (e) {
        queueMicrotask(() => {
          throw e;
        });
      }
    }

    /**
     * Assigns `unitId` to `experiment`: `{ variant, inExperiment, reason, miss, payload, factors }`.
     * `options.now`: a Date, milliseconds, an ISO string, or false for "no time known";
     * the current time by default.
     */
    assign(experiment, unitId, attributes, options) {
      if (typeof experiment !== "string" || typeof unitId !== "string") {
        throw new LitmusError("experiment and unitId must be strings", "invalid_argument");
      }
      const info = this.#experiment(experiment);
      const now = this.#instant(info, options);
      let packed;
      let attrs;
      const remembered = this.#sticky ? this.#sticky.get(b.stickyKey(experiment, unitId)) ?? undefined : undefined;
      const plainAttributes = attributes === undefined || attributes === null || (typeof attributes === "object" && !Array.isArray(attributes));
      if (remembered === undefined && info.position >= 0 && plainAttributes && !this.#busy) {
        // The fast path: the unit and the attributes the experiment reads go through the call
        // buffer, and the call passes numbers only.
        const core = this.#live();
        packed = this.#buffered(info.names, unitId, attributes, (n, m) => core.assignAt(info.position, n, m, now));
        if (packed >= NOT_JSON) throw this.#bufferError(core, packed === NOT_JSON);
        const n = this.#unitLength;
        const m = this.#attributesLength;
        if (m !== NO_ATTRIBUTES && packed >= REPORT) attrs = () => JSON.parse(core.dimensionValuesAt(info.position, n, m));
      } else if (attributes === undefined && remembered === undefined) {
        const core = this.#live();
        packed = call(() => core.assignPlain(experiment, unitId, now));
      } else {
        attrs = attributes === undefined || attributes === null ? undefined : JSON.stringify(attributes);
        const core = this.#live();
        packed = call(() => core.assign(experiment, unitId, attrs, now, remembered === undefined ? undefined : String(remembered)));
      }
      const a = this.#result(experiment, info, unitId, packed);
      if (this.#sticky && b.shouldRemember(a.reason)) this.#sticky.set(b.stickyKey(experiment, unitId), a.variant);
      if (packed >= REPORT) this.#report(a, attrs);
      if (packed & HOLDOUTS) this.#reportHoldouts(a);
      return a;
    }

    /** Assigns `unitId` to every running experiment, in config order. */
    assignAll(unitId, attributes, options) {
      str("unitId", unitId);
      const now = nowMs(options?.now);
      const attrs = attributes === undefined || attributes === null ? undefined : JSON.stringify(attributes);
      const core = this.#live();
      const list = JSON.parse(call(() => core.assignAll(unitId, attrs, now)));
      return list.map(([experiment]) => this.assign(experiment, unitId, attributes, options));
    }

    /**
     * Evaluates the flag `flag` for `unitId`: `{ flag, unitId, value, reason, rule, variant,
     * error, assignment }` (`reason` is OpenFeature's: STATIC, TARGETING_MATCH, SPLIT, DISABLED,
     * DEFAULT or ERROR; JSON values are frozen, shared by every evaluation). `options.now` as
     * for `assign`; `options.type` ("boolean", "string", "number", "json") asks for a type, and
     * a flag of another type evaluates to the error `type_mismatch`. When an experiment serves
     * the value, its exposure is reported as `assign` reports it, and with a sticky store the
     * unit keeps the variant the store remembers for that experiment (assignment reason
     * "sticky"; a fresh "assigned" one is remembered), whichever of `assign` and the flags
     * assigned it.
     */
    evaluate(flag, unitId, attributes, options) {
      if (typeof flag !== "string" || typeof unitId !== "string") {
        throw new LitmusError("flag and unitId must be strings", "invalid_argument");
      }
      const type = typeCode(options?.type);
      const core = this.#live();
      const given = options !== undefined && options !== null && options.now !== undefined;
      const now = given ? nowMs(options.now) : this.#flags.timed(core, flag) ? Date.now() : NaN;
      let packed;
      let attrs;
      const lookup = this.#lookup;
      const read = lookup === undefined && attributes !== null && typeof attributes === "object" && !Array.isArray(attributes) && !this.#busy ? this.#flags.reads(core, flag) : undefined;
      if (lookup !== undefined) {
        attrs = attributes === undefined || attributes === null ? undefined : JSON.stringify(attributes);
        packed = call(() => core.evaluateSticky(flag, unitId, attrs, now, type, lookup));
      } else if (attributes === undefined || attributes === null) {
        packed = call(() => core.evaluatePlain(flag, unitId, now, type));
      } else if (read !== undefined && read.position >= 0) {
        // The call buffer, as for assign: the unit and the attributes the flag can read.
        packed = this.#buffered(read.names, unitId, attributes, (n, m) => core.evaluateAt(flag, read.position, n, m, now, type));
        if (packed < 0) throw this.#bufferError(core, packed === -2);
        const n = this.#unitLength;
        const m = this.#attributesLength;
        attrs = (experiment) => JSON.parse(core.flagDimensionValuesAt(read.position, experiment, n, m));
      } else {
        attrs = JSON.stringify(attributes);
        packed = call(() => core.evaluate(flag, unitId, attrs, now, type));
      }
      const bits = packed % FLAG_OUTCOME;
      const e = this.#flags.unpack(this.#live(), flag, unitId, packed, bits);
      const a = e.assignment;
      if (lookup !== undefined && a !== null && b.shouldRemember(a.reason)) this.#sticky.set(b.stickyKey(a.experiment, unitId), a.variant);
      if (bits & FLAG_REPORT) this.#report(e.assignment, attrs);
      if (bits & FLAG_HOLDOUTS) this.#reportHoldouts(e.assignment);
      return e;
    }

    /** Evaluates every flag for `unitId`: an object of flag key to evaluation, in config order. */
    evaluateAll(unitId, attributes, options) {
      str("unitId", unitId);
      const now = nowMs(options?.now);
      const out = {};
      for (const flag of this.flagKeys()) out[flag] = this.evaluate(flag, unitId, attributes, { now });
      return out;
    }

    #typed(type, fallback, flag, unitId, attributes, options) {
      const e = this.evaluate(flag, unitId, attributes, { now: options?.now, type });
      return e.error === null ? e.value : options?.default ?? fallback;
    }

    /** The boolean flag's value, or `options.default` (false) when it cannot be evaluated as one. */
    booleanValue(flag, unitId, attributes, options) {
      return this.#typed("boolean", false, flag, unitId, attributes, options);
    }

    /** The string flag's value, or `options.default` (""). */
    stringValue(flag, unitId, attributes, options) {
      return this.#typed("string", "", flag, unitId, attributes, options);
    }

    /** The number flag's value, or `options.default` (0). */
    numberValue(flag, unitId, attributes, options) {
      return this.#typed("number", 0, flag, unitId, attributes, options);
    }

    /** The json flag's value (frozen), or `options.default` (null). */
    jsonValue(flag, unitId, attributes, options) {
      return this.#typed("json", null, flag, unitId, attributes, options);
    }

    /**
     * How many times each flag was evaluated (`evaluate`, `evaluateAll`, the typed values and
     * the OpenFeature provider) since the engine was made or the counts were last reset:
     * `{ [flag]: evaluations }`, only flags evaluated at least once (an unknown key is not
     * counted). `reset` (default true) sets them back to zero as they are read. The counts of
     * flags still in the config survive `update`. A ConfigClient reads them for its usage
     * reports (`POST /sdk/usage`): read them with `reset = false` when a client owns the engine.
     */
    flagUsage(reset = true) {
      return JSON.parse(call(() => this.#live().flagUsage(Boolean(reset))));
    }

    /** Every flag key in the config (valid or not), in config order. */
    flagKeys() {
      return JSON.parse(this.#live().flagKeys());
    }

    /** A flag's metadata: `{ type, description?, tags? }` ({} for an unknown or rejected flag). */
    flagMetadata(flag) {
      return JSON.parse(this.#live().flagMetadata(str("flag", flag)));
    }

    /** The problems found in the config, as LitmusError objects. */
    get problems() {
      return JSON.parse(this.#live().problems()).map((p) => new LitmusError(p.message, p.code, p.path));
    }

    /** The config's version, if any. */
    get version() {
      return this.#version;
    }

    /** Every experiment key in the config. */
    experimentKeys() {
      return JSON.parse(this.#live().experimentKeys());
    }
  }

  const hashing = {
    seed: (salt, purpose) => call(() => b.seedHex(str("salt", salt), str("purpose", purpose))),
    unitHash: (salt, purpose, unitId) => call(() => b.unitHashHex(str("salt", salt), str("purpose", purpose), str("unitId", unitId))),
    bucket: (salt, purpose, unitId) => call(() => b.bucket(str("salt", salt), str("purpose", purpose), str("unitId", unitId))),
    pickVariant: (bucket, weights) => call(() => b.pickVariant(bucketOf(bucket), Float64Array.from(weights))),
    inTraffic: (bucket, traffic) => b.inTraffic(bucketOf(bucket), traffic),
  };

  /** A sticky store in the browser's localStorage (or any Storage). */
  class LocalStorageStickyStore {
    constructor(storage = globalThis.localStorage, prefix = "litmus:sticky:") {
      this.storage = storage;
      this.prefix = prefix;
    }
    get(key) {
      return this.storage.getItem(this.prefix + key) ?? undefined;
    }
    set(key, value) {
      this.storage.setItem(this.prefix + key, value);
    }
  }

  /**
   * Checks a metric catalogue (an array of definitions, or its JSON text) as the server's admin
   * API does: `[{ key, kind, rollup }]`, one per metric in the order written, or a thrown
   * LitmusError with the server's code and path (`metrics[revenue].cap.absolute`).
   */
  function validateMetrics(catalogue) {
    let text;
    if (typeof catalogue === "string") text = catalogue;
    else if (Array.isArray(catalogue)) text = JSON.stringify(catalogue);
    else throw new LitmusError("the catalogue is an array of metric definitions or its JSON text", "invalid_argument");
    return JSON.parse(call(() => b.validateMetrics(text)));
  }

  const api = { Engine, LitmusError, hashing, LocalStorageStickyStore, validateMetrics, version: b.version(), __testTrap: () => g.call(() => b.__testTrap()) };
  // For the config client and event tracker: the module's SDK protocol machines, called
  // through the trap guard (not part of the public API).
  Object.defineProperty(api, "sdk", { value: { b, call, epoch: () => g.epoch }, enumerable: false });
  return api;
}
