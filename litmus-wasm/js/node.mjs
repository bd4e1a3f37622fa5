// Node, ESM: the engine module's nodejs build (loaded synchronously), wrapped by the API.
import { createRequire } from "node:module";
import { makeApi } from "./api.mjs";
import { makeConfigClient } from "./client.mjs";
import { fileCache } from "./client-node.mjs";
import { makeEventTracker } from "./tracker.mjs";

const require = createRequire(import.meta.url);
const api = makeApi(require("./node/litmus_engine.js"));
// The config client, with its cache file (options.cachePath).
api.ConfigClient = makeConfigClient(api.Engine, api.sdk, fileCache);
// The event tracker (POST /events; its timers never keep the process alive).
const EventTracker = makeEventTracker(api.sdk);
api.EventTracker = EventTracker;
export const { Engine, LitmusError, hashing, LocalStorageStickyStore, ConfigClient, validateMetrics, version } = api;
export { EventTracker };
export default api;
