// Browsers (and bundlers): the web build, instantiated once with top-level await.
import init, * as bindings from "./web/litmus_wasm.js";
import { makeApi } from "./api.mjs";

await init({ module_or_path: new URL("./web/litmus_wasm_bg.wasm", import.meta.url) });
const api = makeApi(bindings);
export const { Engine, LitmusError, hashing, bandit, stats, LocalStorageStickyStore, version } = api;
export default api;
