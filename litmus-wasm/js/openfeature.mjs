// "litmus-experiments/openfeature": an OpenFeature provider for @openfeature/web-sdk (the
// client-side, static-context paradigm) backed by a Litmus Engine. It implements the SDK's
// Provider interface structurally, so this package does not depend on the SDK. Written once as
// ESM; build-package.sh derives the CommonJS copy.
//
// The context's targetingKey is the unit id; the other context fields are the targeting
// attributes. A flag key names a Litmus flag (docs/flags.md) when the config has one: it
// resolves with the core's value, rule, variant and OpenFeature reason; a flag of another type
// gives the default with TYPE_MISMATCH, a rejected one PARSE_ERROR; flagMetadata carries the
// flag's type, description and tags, the rule that served, and for an experiment rule the
// experiment and whether the unit counts in it. Otherwise the key names an experiment: a string
// flag resolves to the variant's payload when that is a string, else to the variant key;
// boolean, number and object flags resolve to the payload, which must have the flag's type
// (otherwise the default, with TYPE_MISMATCH). A unit that gets no variant (not running,
// targeting miss, holdout, outside the traffic) gets the default. Reasons: SPLIT for an
// assignment, TARGETING_MATCH for an override, DISABLED when the experiment is not running,
// DEFAULT otherwise; flagMetadata carries Litmus' own reason and whether the unit counts in the
// experiment. The same rules as litmus.openfeature in Python.

const REASONS = {
  assigned: "SPLIT",
  sticky: "SPLIT",
  override: "TARGETING_MATCH",
  not_running: "DISABLED",
};

function attribute(value) {
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map(attribute);
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, attribute(v)]));
  }
  return value;
}

// OpenFeature's resolution kinds as Litmus flag types, and flag errors as its error codes.
const FLAG_TYPES = { boolean: "boolean", string: "string", number: "number", object: "json" };
const FLAG_ERRORS = { invalid_config: "PARSE_ERROR", type_mismatch: "TYPE_MISMATCH" };

/** A Litmus flag's evaluation as OpenFeature's resolution. */
function fromFlag(e, defaultValue, flagMetadata) {
  if (e.rule !== null) flagMetadata.rule = e.rule;
  if (e.assignment !== null) {
    flagMetadata.experiment = e.assignment.experiment;
    flagMetadata.inExperiment = e.assignment.inExperiment;
  }
  if (e.error !== null) {
    return { value: defaultValue, reason: "ERROR", errorCode: FLAG_ERRORS[e.error] ?? "GENERAL", errorMessage: `flag ${JSON.stringify(e.flag)}: ${e.error}`, flagMetadata };
  }
  return { value: e.value, variant: e.variant, reason: e.reason, flagMetadata };
}

const PAYLOAD = {
  string: (payload, variant) => (typeof payload === "string" ? payload : variant),
  boolean: (payload) => (typeof payload === "boolean" ? payload : undefined),
  number: (payload) => (typeof payload === "number" ? payload : undefined),
  object: (payload) => (payload !== null && typeof payload === "object" ? payload : undefined),
};

/** An OpenFeature web provider: every evaluation is `engine.assign(flagKey, targetingKey, attributes)`. */
export class LitmusWebProvider {
  metadata = { name: "litmus" };
  runsOn = "client";

  /** @param engine a Litmus `Engine`; exposures, sticky assignment and updates work as usual. */
  constructor(engine) {
    if (!engine || typeof engine.assign !== "function") {
      throw new TypeError("LitmusWebProvider needs a litmus-experiments Engine");
    }
    this.engine = engine;
  }

  resolveBooleanEvaluation(flagKey, defaultValue, context) {
    return this.#resolve(flagKey, defaultValue, context, "boolean");
  }

  resolveStringEvaluation(flagKey, defaultValue, context) {
    return this.#resolve(flagKey, defaultValue, context, "string");
  }

  resolveNumberEvaluation(flagKey, defaultValue, context) {
    return this.#resolve(flagKey, defaultValue, context, "number");
  }

  resolveObjectEvaluation(flagKey, defaultValue, context) {
    return this.#resolve(flagKey, defaultValue, context, "object");
  }

  #resolve(flagKey, defaultValue, context, kind) {
    const { targetingKey, ...rest } = context ?? {};
    if (typeof targetingKey !== "string" || targetingKey === "") {
      return {
        value: defaultValue,
        reason: "ERROR",
        errorCode: "TARGETING_KEY_MISSING",
        errorMessage: "a targetingKey (the unit id) is required",
      };
    }
    let a;
    try {
      const attributes = attribute(rest);
      const flag = this.engine.evaluate(flagKey, targetingKey, attributes, { type: FLAG_TYPES[kind] });
      if (flag.error !== "flag_not_found") return fromFlag(flag, defaultValue, this.engine.flagMetadata(flagKey));
      a = this.engine.assign(flagKey, targetingKey, attributes);
    } catch (e) {
      return { value: defaultValue, reason: "ERROR", errorCode: "INVALID_CONTEXT", errorMessage: String(e?.message ?? e) };
    }
    const flagMetadata = { litmusReason: a.reason, inExperiment: a.inExperiment };
    const error = (errorCode, errorMessage, variant) => ({
      value: defaultValue,
      reason: "ERROR",
      errorCode,
      errorMessage,
      variant,
      flagMetadata,
    });
    if (a.reason === "unknown_experiment") return error("FLAG_NOT_FOUND", `no experiment ${JSON.stringify(flagKey)}`);
    if (a.reason === "invalid_config") return error("PARSE_ERROR", `experiment ${JSON.stringify(flagKey)} was rejected by the config`);
    if (a.variant === null) return { value: defaultValue, reason: REASONS[a.reason] ?? "DEFAULT", flagMetadata };
    const value = PAYLOAD[kind](a.payload, a.variant);
    if (value === undefined) {
      return error("TYPE_MISMATCH", `variant ${JSON.stringify(a.variant)} of ${JSON.stringify(flagKey)} has no ${kind} payload`, a.variant);
    }
    return { value, variant: a.variant, reason: REASONS[a.reason] ?? "DEFAULT", flagMetadata };
  }
}
