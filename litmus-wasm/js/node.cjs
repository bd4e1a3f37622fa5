// Node, CommonJS: the engine module, the config client with its cache file, and the event tracker.
"use strict";
const { makeApi } = require("./api.cjs");
const { makeConfigClient } = require("./client.cjs");
const { fileCache } = require("./client-node.cjs");
const api = makeApi(require("./node/litmus_engine.js"));
api.ConfigClient = makeConfigClient(api.Engine, api.sdk, fileCache);
api.EventTracker = require("./tracker.cjs").makeEventTracker(api.sdk);
module.exports = api;
