// The JavaScript API of litmus-experiments over the engine module's wasm-bindgen exports.
// Written once as ESM; scripts/wasm/build-package.sh derives api.cjs from it for require().
// This layer only converts values and caches strings: every decision is the Rust core's.

import { LitmusError, guard } from "./common.mjs";

const MISSES = [null, "false", "attribute_missing", "type_mismatch"];

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

function stickyKey(experiment, unitId) {
  return `${experiment.length}:${experiment}:${unitId}`;
}

/** Builds the public API over a wasm-bindgen module `b`. */
export function makeApi(b) {
  const REASONS = JSON.parse(b.reasonCodes());
  const g = guard(b);
  const call = (f) => g.call(f);

  class Engine {
    #core;
    // The config text and the instance generation the core was built in: after a trap the
    // guard starts a fresh instance and the engine rebuilds its core from the text.
    #text;
    #epoch;
    #variants = new Map();
    #onExposure;
    // Exposures reported, as experiment -> Set of unit ids, in two generations (the current
    // one holds at most `generation` pairs); keyed without building a string per call.
    #seen = new Map();
    #previous = new Map();
    #seenCount = 0;
    #generation;
    #sticky;
    #strict;

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
      this.#core = call(() => new b.EngineCore(this.#text, strict));
      this.#onExposure = onExposure;
      this.#generation = Math.max(1, Math.floor(exposureDedupeSize / 2));
      this.#sticky = stickyStore;
    }

    /** Replaces the config; a config that cannot load throws and changes nothing. */
    update(config) {
      const text = configText(config);
      const fresh = call(() => new b.EngineCore(text, this.#strict));
      const old = this.#core;
      const oldEpoch = this.#epoch;
      this.#core = fresh;
      this.#text = text;
      this.#epoch = g.epoch;
      this.#variants = new Map();
      if (oldEpoch === g.epoch) old.free();
    }

    /** The core, rebuilt first if a trap restarted the instance since it was made. */
    #live() {
      if (this.#epoch !== g.epoch) {
        this.#core = call(() => new b.EngineCore(this.#text, this.#strict));
        this.#epoch = g.epoch;
      }
      return this.#core;
    }

    #variantsOf(experiment) {
      let list = this.#variants.get(experiment);
      if (list === undefined) {
        list = JSON.parse(this.#live().variants(experiment));
        this.#variants.set(experiment, list);
      }
      return list;
    }

    #result(experiment, unitId, packed) {
      const reason = REASONS[packed & 15];
      const inExperiment = (packed & 16) !== 0;
      const miss = MISSES[(packed >>> 5) & 3];
      const index = packed >>> 7;
      const v = index === 0 ? null : this.#variantsOf(experiment)[index - 1];
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

    #expose(a) {
      if (!this.#onExposure || !a.inExperiment) return;
      const { experiment, unitId } = a;
      if (this.#seen.get(experiment)?.has(unitId) || this.#previous.get(experiment)?.has(unitId)) return;
      if (this.#seenCount >= this.#generation) {
        this.#previous = this.#seen;
        this.#seen = new Map();
        this.#seenCount = 0;
      }
      let units = this.#seen.get(experiment);
      if (units === undefined) {
        units = new Set();
        this.#seen.set(experiment, units);
      }
      units.add(unitId);
      this.#seenCount++;
      try {
        this.#onExposure({
          experiment: a.experiment,
          unitId: a.unitId,
          variant: a.variant,
          reason: a.reason,
          timestamp: Date.now(),
          configVersion: this.version,
        });
      } catch (e) {
        // A failing logger must not break assignment.
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
      const now = nowMs(options?.now);
      let packed;
      const remembered = this.#sticky ? this.#sticky.get(stickyKey(experiment, unitId)) ?? undefined : undefined;
      if (attributes === undefined && remembered === undefined) {
        const core = this.#live();
        packed = call(() => core.assignPlain(experiment, unitId, now));
      } else {
        const attrs = attributes === undefined || attributes === null ? undefined : JSON.stringify(attributes);
        const core = this.#live();
        packed = call(() => core.assign(experiment, unitId, attrs, now, remembered === undefined ? undefined : String(remembered)));
      }
      const a = this.#result(experiment, unitId, packed);
      if (this.#sticky && a.reason === "assigned") this.#sticky.set(stickyKey(experiment, unitId), a.variant);
      this.#expose(a);
      return a;
    }

    /** Assigns `unitId` to every running experiment, in config order. */
    assignAll(unitId, attributes, options) {
      const now = nowMs(options?.now);
      const attrs = attributes === undefined || attributes === null ? undefined : JSON.stringify(attributes);
      const core = this.#live();
      const list = JSON.parse(call(() => core.assignAll(unitId, attrs, now)));
      return list.map(([experiment]) => this.assign(experiment, unitId, attributes, options));
    }

    /** The problems found in the config, as LitmusError objects. */
    get problems() {
      return JSON.parse(this.#live().problems()).map((p) => new LitmusError(p.message, p.code, p.path));
    }

    /** The config's version, if any. */
    get version() {
      return this.#live().version() ?? null;
    }

    /** Every experiment key in the config. */
    experimentKeys() {
      return JSON.parse(this.#live().experimentKeys());
    }
  }

  const hashing = {
    seed: (salt, purpose) => call(() => b.seedHex(salt, purpose)),
    unitHash: (salt, purpose, unitId) => call(() => b.unitHashHex(salt, purpose, unitId)),
    bucket: (salt, purpose, unitId) => call(() => b.bucket(salt, purpose, unitId)),
    pickVariant: (bucket, weights) => call(() => b.pickVariant(bucket, Float64Array.from(weights))),
    inTraffic: (bucket, traffic) => b.inTraffic(bucket, traffic),
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

  return { Engine, LitmusError, hashing, LocalStorageStickyStore, version: b.version(), __testTrap: () => g.call(() => b.__testTrap()) };
}
