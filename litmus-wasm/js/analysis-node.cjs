// Node, CommonJS, "litmus-experiments/analysis": statistics and bandits.
"use strict";
const { makeAnalysis } = require("./analysis.cjs");
module.exports = makeAnalysis(require("./node/litmus_analysis.js"));
