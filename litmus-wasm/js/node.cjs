// Node, CommonJS: the engine module, and the config client with its cache file.
"use strict";
const { makeApi } = require("./api.cjs");
const { makeConfigClient } = require("./client.cjs");
const { fileCache } = require("./client-node.cjs");
const api = makeApi(require("./node/litmus_engine.js"));
api.ConfigClient = makeConfigClient(api.Engine, fileCache);
module.exports = api;
