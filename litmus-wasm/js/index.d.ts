// Types of the litmus-experiments package (browsers, Node ESM and CommonJS): the engine and
// the config client.
// Statistics and bandits: "litmus-experiments/analysis" (analysis.d.ts).

/** Thrown by Litmus: `code` is stable (docs/errors.md); `path` names a config field. */
export declare class LitmusError extends Error {
  readonly name: "LitmusError";
  readonly code: string;
  readonly path: string | null;
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
}

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
  readonly problems: LitmusError[];
  readonly version: string | null;
  experimentKeys(): string[];
}

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
  /** Aborts requests in flight and clears all timers; the engine stays usable. */
  close(): void;
}

export declare const version: string;

/** Default export: the same API as one object. */
declare const api: {
  Engine: typeof Engine;
  LitmusError: typeof LitmusError;
  hashing: typeof hashing;
  LocalStorageStickyStore: typeof LocalStorageStickyStore;
  ConfigClient: typeof ConfigClient;
  version: string;
};
export default api;
