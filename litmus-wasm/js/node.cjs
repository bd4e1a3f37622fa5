// Node, CommonJS.
"use strict";
const { makeApi } = require("./api.cjs");
module.exports = makeApi(require("./node/litmus_wasm.js"));
