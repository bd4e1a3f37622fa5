// Types of the litmus-experiments package (browsers, Node ESM and CommonJS): the engine.
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

export declare const version: string;

/** Default export: the same API as one object. */
declare const api: {
  Engine: typeof Engine;
  LitmusError: typeof LitmusError;
  hashing: typeof hashing;
  LocalStorageStickyStore: typeof LocalStorageStickyStore;
  version: string;
};
export default api;
