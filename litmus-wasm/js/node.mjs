// Node, ESM: the nodejs build (loaded synchronously), wrapped by the same API.
import { createRequire } from "node:module";
import { makeApi } from "./api.mjs";

const require = createRequire(import.meta.url);
const api = makeApi(require("./node/litmus_wasm.js"));
export const { Engine, LitmusError, hashing, bandit, stats, LocalStorageStickyStore, version } = api;
export default api;
