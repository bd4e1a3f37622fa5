// Types of "litmus-experiments/openfeature": an OpenFeature provider for @openfeature/web-sdk.
import type { EvaluationContext, JsonValue, Provider, ProviderMetadata, ResolutionDetails } from "@openfeature/web-sdk";
import type { Engine } from "./index.js";

/**
 * Flag key = experiment key, targetingKey = unit id, other context fields = attributes.
 * String flags resolve to a string payload or the variant key; boolean, number and object
 * flags to the variant's payload of that type.
 */
export declare class LitmusWebProvider implements Provider {
  readonly metadata: ProviderMetadata;
  readonly runsOn: "client";
  readonly engine: Engine;
  constructor(engine: Engine);
  resolveBooleanEvaluation(flagKey: string, defaultValue: boolean, context: EvaluationContext): ResolutionDetails<boolean>;
  resolveStringEvaluation(flagKey: string, defaultValue: string, context: EvaluationContext): ResolutionDetails<string>;
  resolveNumberEvaluation(flagKey: string, defaultValue: number, context: EvaluationContext): ResolutionDetails<number>;
  resolveObjectEvaluation<T extends JsonValue>(flagKey: string, defaultValue: T, context: EvaluationContext): ResolutionDetails<T>;
}
