// Feature flags over the engine module's exports: unpacks an evaluation (engine flags.rs
// `pack`) into a plain object, with each flag's possible values cached per config. Written
// once as ESM; build-package.sh derives flags.cjs. Every decision is the Rust core's.

import { LitmusError } from "./common.mjs";

const ERRORS = [null, "flag_not_found", "invalid_config", "type_mismatch"];
const TYPES = { boolean: 1, string: 2, number: 3, json: 4 };
// Packing (engine flags.rs): bits 0-2 reason, 3-4 error, 5 assigned, 6 in experiment,
// 7 report, 8 holdouts, 9-12 the assignment's reason, then the outcome * 8192.
const ASSIGNED = 32;
const IN_EXPERIMENT = 64;
/** The packed bit that asks to report the experiment's exposure. */
export const FLAG_REPORT = 128;
/** The packed bit that asks for holdout exposures. */
export const FLAG_HOLDOUTS = 256;
/** The outcome number's factor in a packed evaluation. */
export const FLAG_OUTCOME = 8192;
// Flags whose outcomes are cached: at most as many as a config may hold, and never a key
// longer than a config allows, so evaluating arbitrary keys cannot grow the cache unbounded.
const MAX_CACHED_FLAGS = 20_000;
const MAX_KEY_LENGTH = 128;

/** Freezes a JSON value deeply: cached values are shared by every evaluation. */
function freeze(value) {
  if (value !== null && typeof value === "object") {
    for (const v of Object.values(value)) freeze(v);
    Object.freeze(value);
  }
  return value;
}

/** The code of a requested type (`type` option), 0 for none. */
export function typeCode(type) {
  if (type === undefined || type === null) return 0;
  const code = TYPES[type];
  if (code === undefined) {
    throw new LitmusError(`type must be "boolean", "string", "number" or "json", not ${String(type)}`, "invalid_argument");
  }
  return code;
}

/**
 * The flag caches of one loaded config: each flag's outcomes and whether it needs the time.
 * `core()` returns the live engine core (rebuilt after a trap).
 */
export class FlagCache {
  #outcomes = new Map();
  #timed = new Map();
  #read = new Map();

  constructor(reasons, assignmentReasons) {
    this.reasons = reasons;
    this.assignmentReasons = assignmentReasons;
  }

  #remember(map, flag, value) {
    if (flag.length <= MAX_KEY_LENGTH) {
      if (map.size >= MAX_CACHED_FLAGS) map.clear();
      map.set(flag, value);
    }
    return value;
  }

  /** Whether `flag`'s value can depend on the time. */
  timed(core, flag) {
    return this.#timed.get(flag) ?? this.#remember(this.#timed, flag, core.flagNeedsTime(flag));
  }

  /** `{ position, names }`: the flag's position (-1: none) and the attributes it can read. */
  reads(core, flag) {
    let read = this.#read.get(flag);
    if (read === undefined) {
      const position = core.flagPosition(flag);
      read = this.#remember(this.#read, flag, { position, names: position < 0 ? [] : JSON.parse(core.flagAttributeNames(position)) });
    }
    return read;
  }

  #outcomesOf(core, flag) {
    return this.#outcomes.get(flag) ?? this.#remember(this.#outcomes, flag, freeze(JSON.parse(core.flagOutcomes(flag))));
  }

  /**
   * The evaluation of `packed` (whose low bits are `bits`): `{ flag, unitId, value, reason,
   * rule, variant, error, assignment }`.
   */
  unpack(core, flag, unitId, packed, bits) {
    const reason = this.reasons[bits & 7];
    const error = ERRORS[(bits >>> 3) & 3];
    if (error !== null) {
      return { flag, unitId, value: null, reason, rule: null, variant: null, error, assignment: null };
    }
    const o = this.#outcomesOf(core, flag)[(packed - bits) / FLAG_OUTCOME] ?? { value: null, rule: null, variant: null, experiment: null };
    let assignment = null;
    if (bits & ASSIGNED) {
      assignment = {
        experiment: o.experiment,
        unitId,
        variant: o.variant,
        inExperiment: (bits & IN_EXPERIMENT) !== 0,
        reason: this.assignmentReasons[(bits >>> 9) & 15],
      };
    }
    return { flag, unitId, value: o.value, reason, rule: o.rule, variant: o.variant, error: null, assignment };
  }
}
