// Node, ESM, "litmus-experiments/analysis": statistics and bandits (loaded synchronously).
import { createRequire } from "node:module";
import { makeAnalysis } from "./analysis.mjs";

const require = createRequire(import.meta.url);
const api = makeAnalysis(require("./node/litmus_analysis.js"));
export const { stats, bandit, QuantileSketch, LitmusError, validateAnalysis, planExperiment, version } = api;
export default api;
