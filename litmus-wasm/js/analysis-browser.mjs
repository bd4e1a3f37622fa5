// Browsers (and bundlers), "litmus-experiments/analysis": statistics, bandits and webhook
// signatures, from the analysis module's web build, instantiated once with top-level await.
import init, * as bindings from "./web/litmus_analysis.js";
import { makeAnalysis } from "./analysis.mjs";

await init({ module_or_path: new URL("./web/litmus_analysis_bg.wasm", import.meta.url) });
const api = makeAnalysis(bindings);
export const { stats, bandit, QuantileSketch, LitmusError, validateAnalysis, planExperiment, signWebhook, verifyWebhook, version } = api;
export default api;
