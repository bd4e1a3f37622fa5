// Browsers (and bundlers): the engine module's web build, instantiated once with top-level
// await. Statistics and bandits are in "litmus-experiments/analysis", a separate module an
// application that only assigns never downloads.
import init, * as bindings from "./web/litmus_engine.js";
import { makeApi } from "./api.mjs";

await init({ module_or_path: new URL("./web/litmus_engine_bg.wasm", import.meta.url) });
const api = makeApi(bindings);
export const { Engine, LitmusError, hashing, LocalStorageStickyStore, version } = api;
export default api;
