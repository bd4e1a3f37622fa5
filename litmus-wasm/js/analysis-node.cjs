// Node, CommonJS, "litmus-experiments/analysis": statistics, bandits and webhook signatures.
"use strict";
const { makeAnalysis } = require("./analysis.cjs");
module.exports = makeAnalysis(require("./node/litmus_analysis.js"));
