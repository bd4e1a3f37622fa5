// Node, ESM: the engine module's nodejs build (loaded synchronously), wrapped by the API.
import { createRequire } from "node:module";
import { makeApi } from "./api.mjs";

const require = createRequire(import.meta.url);
const api = makeApi(require("./node/litmus_engine.js"));
export const { Engine, LitmusError, hashing, LocalStorageStickyStore, version } = api;
export default api;
