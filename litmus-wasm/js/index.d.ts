// Types of the litmus-experiments package (browsers, Node ESM and CommonJS): the engine, the
// config client and the event tracker.
// Statistics and bandits: "litmus-experiments/analysis" (analysis.d.ts).

/** Thrown by Litmus: `code` is stable (docs/errors.md); `path` names a config field. */
export declare class LitmusError extends Error {
  readonly name: "LitmusError";
  readonly code: string;
  readonly path: string | null;
  /** For code "multiple" (strict validation found several problems): each one, in document order. */
  readonly problems?: LitmusError[];
  constructor(message: string, code: string, path?: string | null);
}

export type Config = string | Uint8Array | Record<string, unknown>;
export type Attributes = Record<string, unknown>;
export type Now = Date | number | string | false;

export interface Assignment {
  experiment: string;
  unitId: string;
  variant: string | null;
  inExperiment: boolean;
  reason:
    | "assigned" | "sticky" | "override" | "not_running" | "targeting_miss" | "holdout"
    | "other_layer_member" | "not_in_traffic" | "unknown_experiment" | "invalid_config";
  miss: "false" | "attribute_missing" | "type_mismatch" | null;
  payload: unknown;
  factors: Record<string, string>;
}

export interface ExposureEvent {
  experiment: string;
  unitId: string;
  variant: string | null;
  reason: string;
  timestamp: number;
  configVersion: string | null;
  /** The unit's values of the experiment's dimensions, from its attributes (its segments). */
  dimensions: Record<string, string>;
  /**
   * Set for a holdout exposure: the holdout's key (`variant` is then its arm: `holdout` for a
   * unit it held out of `experiment`, `exposed` for a unit that entered `experiment`).
   */
  holdout?: string;
}

export type FlagType = "boolean" | "string" | "number" | "json";
export type FlagReason = "STATIC" | "TARGETING_MATCH" | "SPLIT" | "DISABLED" | "DEFAULT" | "ERROR";

/** One flag evaluated for one unit. */
export interface FlagEvaluation<T = unknown> {
  flag: string;
  unitId: string;
  /** The value served (frozen when it is an object); null on error. */
  value: T | null;
  reason: FlagReason;
  /** The id of the rule that served the value (null for the default). */
  rule: string | null;
  /** OpenFeature's variant: the experiment's variant, the rule's id, or "default". */
  variant: string | null;
  error: "flag_not_found" | "invalid_config" | "type_mismatch" | null;
  /** When an experiment rule served the value: the unit's assignment to it. */
  assignment: { experiment: string; unitId: string; variant: string; inExperiment: boolean; reason: Assignment["reason"] } | null;
}

export interface FlagMetadata {
  type?: FlagType;
  description?: string;
  tags?: string;
}

/**
 * A sticky-assignment store (`EngineOptions.stickyStore`, synchronous): the variant each unit
 * got in each experiment, under one key per (experiment, unit). `assign` and the flags'
 * experiment rules (`evaluate`, `evaluateAll`, `booleanValue`, ...) share it: a unit keeps its
 * variant (reason "sticky") when weights or traffic change, whichever path assigned it first.
 */
export interface StickyStore {
  get(key: string): string | null | undefined;
  set(key: string, value: string): void;
}

export interface EngineOptions {
  onExposure?: (event: ExposureEvent) => void;
  exposureDedupeSize?: number;
  strict?: boolean;
  stickyStore?: StickyStore;
}

export declare class Engine {
  constructor(config: Config, options?: EngineOptions);
  update(config: Config): void;
  assign(experiment: string, unitId: string, attributes?: Attributes | null, options?: { now?: Now }): Assignment;
  assignAll(unitId: string, attributes?: Attributes | null, options?: { now?: Now }): Assignment[];
  /**
   * Evaluates a flag for a unit. When an experiment rule serves the value, its exposure is
   * reported as `assign` reports it, and with a `stickyStore` the unit keeps the variant the
   * store remembers for that experiment (a fresh assignment is remembered).
   */
  evaluate(flag: string, unitId: string, attributes?: Attributes | null, options?: { now?: Now; type?: FlagType }): FlagEvaluation;
  evaluateAll(unitId: string, attributes?: Attributes | null, options?: { now?: Now }): Record<string, FlagEvaluation>;
  booleanValue(flag: string, unitId: string, attributes?: Attributes | null, options?: { now?: Now; default?: boolean }): boolean;
  stringValue(flag: string, unitId: string, attributes?: Attributes | null, options?: { now?: Now; default?: string }): string;
  numberValue(flag: string, unitId: string, attributes?: Attributes | null, options?: { now?: Now; default?: number }): number;
  jsonValue<T = unknown>(flag: string, unitId: string, attributes?: Attributes | null, options?: { now?: Now; default?: T }): T;
  /**
   * Evaluations per flag key since the engine was made or the counts were last reset (only
   * flags evaluated at least once; an unknown key is not counted); `reset` (default true) sets
   * them back to zero. Counts of flags still in the config survive `update`.
   */
  flagUsage(reset?: boolean): Record<string, number>;
  flagKeys(): string[];
  flagMetadata(flag: string): FlagMetadata;
  readonly problems: LitmusError[];
  readonly version: string | null;
  experimentKeys(): string[];
}

/** A metric of a checked catalogue: its key, kind and the id its rollup rows carry. */
export interface CheckedMetric {
  key: string;
  kind: "conversion" | "mean" | "ratio" | "quantile" | "retention" | "funnel";
  rollup: string;
}

/**
 * Checks a metric catalogue (an array of definitions, or its JSON text) as the server's admin
 * API does; throws a LitmusError with the server's code and path for an invalid one.
 */
export declare function validateMetrics(catalogue: Record<string, unknown>[] | string): CheckedMetric[];

export declare const hashing: {
  seed(salt: string, purpose: string): string;
  unitHash(salt: string, purpose: string, unitId: string): string;
  bucket(salt: string, purpose: string, unitId: string): number;
  pickVariant(bucket: number, weights: number[]): number;
  inTraffic(bucket: number, traffic: number): boolean;
};

export declare class LocalStorageStickyStore implements StickyStore {
  constructor(storage?: Storage, prefix?: string);
  get(key: string): string | undefined;
  set(key: string, value: string): void;
}

/** Where a served config came from. */
export type ConfigSource = "server" | "bootstrap" | "cache";

/** What `onUpdate` receives each time a new config is served. */
export interface ConfigUpdate {
  /** The client's engine (the same object every time; it now serves `version`). */
  engine: Engine;
  version: string | null;
  previousVersion: string | null;
  source: ConfigSource;
}

export interface ConfigClientOptions {
  /** The server's base URL, e.g. "https://litmus.example.com" (the client calls `/sdk/config`, `/sdk/stream`). */
  baseUrl: string;
  /** An SDK key (scope sdk:read), sent as `Authorization: Bearer`. */
  sdkKey: string;
  /** "stream" (default): Server-Sent Events, polling while the stream is down; "poll": polling only. */
  mode?: "stream" | "poll";
  /** Milliseconds between polls (±10 % jitter); default 30000. */
  pollInterval?: number;
  /** Milliseconds a request may take to answer; default 5000. */
  timeout?: number;
  /** Milliseconds without any data (keep-alives included) before the stream is reopened; default 45000. */
  streamIdleTimeout?: number;
  /** The first retry delay in milliseconds (doubled per failure, full jitter); default 1000. */
  retryDelay?: number;
  /** The longest retry delay (and the delay after 401/403); default 30000. */
  maxRetryDelay?: number;
  /** A config served from `start()` until the server's arrives, and while the server cannot be reached. */
  bootstrap?: Config;
  /** Options of the client's Engine. */
  engineOptions?: EngineOptions;
  /** Called after each new config is served (not for a config that did not load). */
  onUpdate?: (update: ConfigUpdate) => void;
  /** Called for each error: unreachable server, 401/403, a config that did not load, a cache file error. */
  onError?: (error: LitmusError) => void;
  /** The fetch to use; default globalThis.fetch. */
  fetch?: typeof fetch;
  /**
   * Node entry points only: a file where each good config from the server is written
   * atomically, and read at start when the server cannot be reached and there is no bootstrap.
   */
  cachePath?: string;
  /**
   * Milliseconds between flag usage reports (`POST /sdk/usage`: how many times each flag was
   * evaluated, so the server can show stale flags); at least 1000, default 60000, 0 for none.
   */
  usageInterval?: number;
}

/**
 * Keeps an Engine in step with a Litmus server: the last good config is always served, a new
 * version replaces it atomically, a config that does not load never does (it is reported).
 */
export declare class ConfigClient {
  constructor(options: ConfigClientOptions);
  /** Starts (once) and returns `ready()`; a bootstrap config is served at once. */
  start(): Promise<boolean>;
  /** Starts if needed; resolves after the first request settles: whether an engine is available. */
  ready(): Promise<boolean>;
  /** The current Engine; throws a LitmusError with code "not_ready" before any config. */
  readonly engine: Engine;
  /** The served config's version (the server's "v<N>"), or null. */
  readonly version: string | null;
  /** Where the served config came from, or null before any. */
  readonly source: ConfigSource | null;
  /** Whether the served config may be behind the server's. */
  readonly stale: boolean;
  /** The latest error, or null; cleared when the client is in step again. */
  readonly lastError: LitmusError | null;
  /**
   * Aborts requests in flight and clears all timers, then sends the flag usage counted since
   * the last report (best effort, within `timeout`); the engine stays usable. The promise
   * settles (never rejects) when that last report is done.
   */
  close(): Promise<void>;
}

/** A Date, milliseconds since the epoch, or a date string (e.g. RFC 3339). */
export type Timestamp = Date | number | string;

export interface EventTrackerOptions {
  /** The server's base URL (the tracker posts to `{baseUrl}/events`). */
  baseUrl: string;
  /** An SDK key, sent as `Authorization: Bearer`. */
  sdkKey: string;
  /** Milliseconds an event may wait before its batch is sent; default 1000. */
  flushInterval?: number;
  /** Events per request, at most 2500; a batch is sent as soon as this many are queued; default 500. */
  maxBatch?: number;
  /** Events held (queued or in flight); beyond it new events are dropped and counted; default 10000. */
  maxQueue?: number;
  /** Milliseconds a request may take to answer; default 5000. */
  timeout?: number;
  /** The first retry delay in milliseconds (doubled per failure, full jitter); default 1000. */
  retryDelay?: number;
  /** The longest retry delay, and the wait after 401/403; default 30000. */
  maxRetryDelay?: number;
  /** Called for each error (drops for a full queue at most once per second). */
  onError?: (error: EventTrackerError) => void;
  /** The fetch to use; default globalThis.fetch. */
  fetch?: typeof fetch;
}

/** An event the server rejected (in a 200 answer). */
export interface RejectedEvent {
  /** Its index in the request. */
  index: number;
  /** The server's code, message and (when it names a field) path for it. */
  code: string;
  message: string;
  path: string | null;
  /** The event as it was sent. */
  event: Record<string, unknown>;
}

/** What the event tracker reports through `onError`. */
export interface EventTrackerError extends LitmusError {
  /** How many events this error made the tracker give up (0: they stay queued and are retried). */
  dropped: number;
  /** With code "events_rejected": the events the server rejected. */
  rejected?: RejectedEvent[];
}

export interface TrackOptions {
  /** A number to aggregate (revenue, duration, ...). */
  value?: number | null;
  /** Any JSON object. */
  properties?: Record<string, unknown> | null;
  /** When it happened; now by default. */
  timestamp?: Timestamp;
}

/**
 * Sends exposures and custom events to a Litmus server (`POST /events`) in batches: retries
 * keep each event's message_id, the queue is bounded, and in browsers the queue leaves with a
 * keep-alive request when the page is hidden.
 */
export declare class EventTracker {
  constructor(options: EventTrackerOptions);
  /**
   * Queues a custom event: its message_id, or null when it was dropped (full queue, closed).
   * Throws a LitmusError: `invalid_argument`, or `event_too_large` over 32 KB of JSON.
   */
  track(unitId: string, event: string, options?: TrackOptions): string | null;
  /** Queues an exposure: its message_id, or null when it was dropped. */
  exposure(
    unitId: string,
    experiment: string,
    variant: string,
    options?: { timestamp?: Timestamp; dimensions?: Record<string, string> },
  ): string | null;
  /** Queues a holdout exposure: `unitId` in the `arm` (`holdout` or `exposed`) of `holdout`. */
  holdoutExposure(unitId: string, holdout: string, arm: "holdout" | "exposed", options?: { timestamp?: Timestamp }): string | null;
  /** Pass as the Engine's `onExposure` option: each exposure is queued (never throws). */
  readonly onExposure: (event: ExposureEvent) => void;
  /** Events queued or in flight. */
  readonly queued: number;
  /** Events given up: full queue, refused by the server, or undeliverable at close. */
  readonly dropped: number;
  /** Events the server acknowledged. */
  readonly sent: number;
  /** The latest error, or null; cleared when a request is answered without one. */
  readonly lastError: EventTrackerError | null;
  /** Sends everything queued now and waits for the answers (not through a back-off); never rejects. */
  flush(): Promise<void>;
  /**
   * Stops: sends everything queued at once (not through a 401/403 pause), retrying until
   * `timeout` ms (5000) have passed, then drops and reports what is left; never rejects.
   */
  close(timeout?: number): Promise<void>;
}

export declare const version: string;

/** Default export: the same API as one object. */
declare const api: {
  Engine: typeof Engine;
  LitmusError: typeof LitmusError;
  hashing: typeof hashing;
  LocalStorageStickyStore: typeof LocalStorageStickyStore;
  ConfigClient: typeof ConfigClient;
  EventTracker: typeof EventTracker;
  validateMetrics: typeof validateMetrics;
  version: string;
};
export default api;
