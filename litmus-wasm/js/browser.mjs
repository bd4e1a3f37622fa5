// Browsers (and bundlers): the engine module's web build, instantiated once with top-level
// await. Statistics and bandits are in "litmus-experiments/analysis", a separate module an
// application that only assigns never downloads.
import init, * as bindings from "./web/litmus_engine.js";
import { makeApi } from "./api.mjs";
import { makeConfigClient } from "./client.mjs";
import { makeEventTracker } from "./tracker.mjs";

await init({ module_or_path: new URL("./web/litmus_engine_bg.wasm", import.meta.url) });
const api = makeApi(bindings);
// The config client (no cache file in browsers).
api.ConfigClient = makeConfigClient(api.Engine, api.sdk);
// The event tracker (POST /events; keep-alive requests when the page is hidden).
const EventTracker = makeEventTracker(api.sdk);
api.EventTracker = EventTracker;
export const { Engine, LitmusError, hashing, LocalStorageStickyStore, ConfigClient, validateMetrics, version } = api;
export { EventTracker };
export default api;
