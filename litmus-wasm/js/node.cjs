// Node, CommonJS: the engine module.
"use strict";
const { makeApi } = require("./api.cjs");
module.exports = makeApi(require("./node/litmus_engine.js"));
