// Compiled with tsc --strict against the installed package (scripts/wasm/test-package.sh):
// the index.d.ts types cover the public API and catch misuse.
import litmus, { ConfigClient, Engine, EventTracker, LitmusError, hashing, LocalStorageStickyStore, validateMetrics, version, type Assignment, type CheckedMetric, type ConfigUpdate, type EventTrackerError } from "litmus-experiments";
import analysis, { bandit, stats, QuantileSketch, LitmusError as AnalysisError, signWebhook, verifyWebhook, type QuantileComparison, type QuantileEstimate } from "litmus-experiments/analysis";
import { LitmusWebProvider } from "litmus-experiments/openfeature";
import { OpenFeature } from "@openfeature/web-sdk";

const engine = new Engine({ schema_version: 1, experiments: [] }, { onExposure: (e) => console.log(e.unitId), strict: false });
const a: Assignment = engine.assign("exp", "user-1", { country: "DE" }, { now: new Date() });
const v: string | null = a.variant;
const all: Assignment[] = engine.assignAll("user-1");
const problems: LitmusError[] = engine.problems;
const b: number = hashing.bucket("salt", "variant", "u");
const policy = bandit.Policy.thompsonBeta(1, 1, { floor: 0.05 });
const arms = [bandit.Arm.fromCounts(10, 100), bandit.Arm.fromCounts(12, 100)];
const w: number[] = policy.weights(arms, 10_000, 7);
const choice: number = policy.choose(arms, new bandit.Random(7n));
const t = stats.ttestIndFromStats(10, 2, 100, 10.5, 2, 100, false);
const p: number = t.pvalue;
const [z, pz] = stats.proportionsZtest([130, 100], [1000, 1000]);
const srm = stats.srmCheck([100, 102]);
const store = new LocalStorageStickyStore();
// Quantile sketches and metric catalogues.
const sketch = new QuantileSketch(0.01);
sketch.extend([1, 2, 3]);
sketch.add(4);
const restored: QuantileSketch = stats.QuantileSketch.fromBuckets(sketch.buckets(), sketch.alpha);
restored.merge(sketch);
const p90: number = restored.quantile(0.9);
const interval: QuantileEstimate = stats.quantileInterval([1, 2, 3, 4], 0.5);
const cmp: QuantileComparison = stats.quantileZtest(sketch, Float64Array.of(1, 2, 3), 0.5, 0.05, { relativeAccuracy: 0.001 });
const exact: number = stats.exactQuantile([3, 1, 2], 0.5);
const checked: CheckedMetric[] = validateMetrics([{ key: "orders", kind: "mean", event: "purchase", aggregation: "count" }]);
const kind: "conversion" | "mean" | "ratio" | "quantile" | "retention" | "funnel" = checked[0].kind;
const problemsOfMany: LitmusError[] | undefined = new LitmusError("x", "multiple").problems;
console.log(p90, interval.lowerRank, cmp.relativeLower, exact, kind, problemsOfMany, litmus.validateMetrics === validateMetrics, analysis.QuantileSketch === QuantileSketch);
// @ts-expect-error a catalogue is an array of definitions or JSON text
validateMetrics({ key: "orders" });
const sameError: typeof LitmusError = AnalysisError;
console.log(v, all, problems, b, w, choice, p, z, pz, srm.mismatch, store, version, litmus.version, analysis.stats === stats, sameError);
OpenFeature.setProvider(new LitmusWebProvider(engine));
const flag: string = OpenFeature.getClient().getStringValue("exp", "control");
console.log(flag);
const client = new ConfigClient({
  baseUrl: "http://127.0.0.1:8080",
  sdkKey: "key",
  mode: "poll",
  pollInterval: 10_000,
  bootstrap: { schema_version: 1, experiments: [] },
  engineOptions: { strict: false },
  onUpdate: (u: ConfigUpdate) => console.log(u.version, u.previousVersion, u.source, u.engine.version),
  onError: (e: LitmusError) => console.log(e.code),
  cachePath: "/tmp/litmus-config.json",
  usageInterval: 30_000,
});
client.ready().then((ok: boolean) => {
  const stale: boolean = client.stale;
  const err: LitmusError | null = client.lastError;
  const ver: string | null = client.version;
  console.log(ok, stale, err, ver, client.source, client.engine.assign("exp", "user-1").variant);
  const usage: Record<string, number> = client.engine.flagUsage(false);
  console.log(usage["exp"] ?? 0);
  return client.close();
}).then((nothing: void) => console.log(nothing));
// @ts-expect-error mode is "stream" or "poll"
new ConfigClient({ baseUrl: "x", sdkKey: "k", mode: "push" });
const SameClient: typeof ConfigClient = litmus.ConfigClient;
console.log(SameClient);
const tracker = new EventTracker({
  baseUrl: "http://127.0.0.1:8080",
  sdkKey: "key",
  flushInterval: 500,
  maxBatch: 100,
  maxQueue: 5_000,
  timeout: 2_000,
  retryDelay: 500,
  maxRetryDelay: 10_000,
  onError: (e: EventTrackerError) => console.log(e.code, e.dropped, e.rejected?.[0]?.event, e instanceof LitmusError),
});
const tracked: string | null = tracker.track("user-1", "purchase", { value: 9.99, properties: { sku: "A1" }, timestamp: new Date() });
tracker.track("user-1", "signup");
tracker.exposure("user-1", "exp", "control", { timestamp: Date.now() });
const withTracker = new Engine({ schema_version: 1, experiments: [] }, { onExposure: tracker.onExposure });
const counts: number[] = [tracker.queued, tracker.dropped, tracker.sent];
const trackerError: EventTrackerError | null = tracker.lastError;
console.log(tracked, withTracker, counts, trackerError);
tracker.flush().then(() => tracker.close()).then((nothing: void) => console.log(nothing));
// @ts-expect-error value is a number
tracker.track("user-1", "purchase", { value: "9.99" });
// @ts-expect-error the variant is required
tracker.exposure("user-1", "exp");
const SameTracker: typeof EventTracker = litmus.EventTracker;
console.log(SameTracker);
// Webhook signatures (docs/webhooks.md).
const signed: string = signWebhook("whsec_x", new TextEncoder().encode("{}"), 1_767_225_600);
const verifiedAt: number = verifyWebhook("whsec_x", signed, "{}", { now: 1_767_225_600n, tolerance: 60 });
const verifiedNow: number = analysis.verifyWebhook("whsec_x", undefined as string | undefined, new ArrayBuffer(0));
console.log(verifiedAt, verifiedNow);
// @ts-expect-error the timestamp is a number of seconds, not a Date
signWebhook("whsec_x", "{}", new Date());
