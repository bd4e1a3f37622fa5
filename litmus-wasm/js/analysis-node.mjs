// Node, ESM, "litmus-experiments/analysis": statistics, bandits and webhook signatures (loaded
// synchronously).
import { createRequire } from "node:module";
import { makeAnalysis } from "./analysis.mjs";

const require = createRequire(import.meta.url);
const api = makeAnalysis(require("./node/litmus_analysis.js"));
export const { stats, bandit, QuantileSketch, LitmusError, validateAnalysis, planExperiment, signWebhook, verifyWebhook, version } = api;
export default api;
