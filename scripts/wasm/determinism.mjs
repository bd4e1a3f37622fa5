// node scripts/wasm/determinism.mjs WASM FIXTURE
// Instantiates the wasm32 build of scripts/wasm/determinism (no imports, no bindings), reads
// its fixture text through the fixture_len/fixture_byte exports and requires it to equal the
// committed fixture, which the native build also equals: seeded draws are bit-identical.
import { readFileSync } from "node:fs";
import assert from "node:assert/strict";

const [wasmPath, fixturePath] = process.argv.slice(2);
if (!wasmPath || !fixturePath) {
  console.error("usage: node determinism.mjs WASM FIXTURE");
  process.exit(2);
}
const { instance } = await WebAssembly.instantiate(readFileSync(wasmPath), {});
const { fixture_len: len, fixture_byte: byte } = instance.exports;
const bytes = new Uint8Array(len());
for (let i = 0; i < bytes.length; i++) bytes[i] = byte(i);
const fromWasm = new TextDecoder().decode(bytes);
const committed = readFileSync(fixturePath, "utf8");
const wasmDoc = JSON.parse(fromWasm);
const committedDoc = JSON.parse(committed);
assert.deepEqual(wasmDoc, committedDoc, "wasm draws differ from the fixture");
assert.equal(fromWasm, committed, "wasm fixture text differs from the committed text");
let values = 0;
const count = (v) => {
  if (Array.isArray(v)) v.forEach(count);
  else if (v && typeof v === "object") Object.values(v).forEach(count);
  else values++;
};
count(wasmDoc);
console.log(`wasm32 determinism: ${values} values identical to ${fixturePath}`);
