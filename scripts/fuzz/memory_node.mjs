#!/usr/bin/env node
// Memory of the litmus-experiments npm package under Node over 10 million distinct unit ids:
// does any per-unit state grow without bound?
//
// The per-unit state the package keeps: the engine's exposure memory inside the WebAssembly
// instance (at most exposureDedupeSize (experiment, unit) pairs, 8-byte hashes in a table that grows to that),
// the engine's per-experiment caches (variants, time windows: bounded by the config, and by
// 10,000 keys for unknown experiment keys), and the event tracker's queue (at most maxQueue
// events). Sticky stores are the application's own (one entry per unit by design) and are not
// used here.
//
// Each unit is assigned to two experiments (one with targeting attributes), every exposure goes
// to an EventTracker through onExposure, and every fourth unit also tracks a purchase. The
// tracker posts to a local sink server (node:http in this process, answering {}), so its queue,
// batches and gzip cycle as in production; the loop yields to the event loop every 1,000
// units so that they can. Every --every units (after a full GC when run with --expose-gc) the
// script samples process.memoryUsage(): rss, heapUsed and arrayBuffers (the wasm memory
// included), prints a table and ends with a verdict: bounded when the RSS at the last sample is
// within --margin-mib (64 MiB) of the RSS at the first.
//
//   node --expose-gc scripts/fuzz/memory_node.mjs                       # 10M units
//   node --expose-gc scripts/fuzz/memory_node.mjs --units 2000000 --every 200000
// Default package: target/npm/litmus-experiments (--package DIR).
import { createServer } from "node:http";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const args = process.argv.slice(2);
const opt = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : fallback;
};
const repo = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const pkg = resolve(opt("--package", join(repo, "target/npm/litmus-experiments")));
const units = Number(opt("--units", 10_000_000));
const every = Number(opt("--every", 1_000_000));
const margin = Number(opt("--margin-mib", 64));
const withTracker = !args.includes("--no-tracker");
const { Engine, EventTracker, version } = await import(pathToFileURL(join(pkg, "node.mjs")).href);

const CONFIG = {
  schema_version: 1,
  version: "v1",
  experiments: [
    { key: "checkout", status: "running", variants: [{ key: "control" }, { key: "treatment" }] },
    {
      key: "search",
      status: "running",
      traffic: 0.8,
      variants: [{ key: "a" }, { key: "b" }, { key: "c" }],
      targeting: { attribute: "country", op: "in", value: ["DE", "AT", "CH", "US"] },
    },
  ],
};
const COUNTRIES = ["DE", "AT", "CH", "US", "FR"];

let requests = 0;
const server = createServer((req, res) => {
  req.resume();
  req.on("end", () => {
    requests++;
    res.writeHead(200, { "Content-Type": "application/json", "Content-Length": 2 });
    res.end("{}");
  });
});
await new Promise((r) => server.listen(0, "127.0.0.1", r));
const tracker = withTracker
  ? new EventTracker({ baseUrl: `http://127.0.0.1:${server.address().port}`, sdkKey: "memory-check", maxQueue: 10_000, onError: () => {} })
  : null;
const engine = new Engine(CONFIG, tracker ? { onExposure: tracker.onExposure } : {});

const mib = (b) => b / 2 ** 20;
const gc = globalThis.gc;
console.log(`litmus-experiments ${version} (Node ${process.version}${gc ? ", --expose-gc" : ", no --expose-gc: heap figures include garbage"}): ${units.toLocaleString("en")} distinct unit ids, exposureDedupeSize 250,000, tracker maxQueue ${tracker ? "10,000" : "-"}`);
const header = `${"units".padStart(12)} ${"RSS MiB".padStart(9)} ${"vs first".padStart(9)} ${"heapUsed".padStart(9)} ${"arrayBuf".padStart(9)} ${"queued".padStart(7)} ${"sent".padStart(11)} ${"dropped".padStart(11)} ${"requests".padStart(9)} ${"s".padStart(6)}`;
console.log(header);
console.log("-".repeat(header.length));
const samples = [];
const start = performance.now();
const yieldNow = () => new Promise((r) => setImmediate(r));
for (let i = 0; i < units; i++) {
  const unit = `unit-${String(i).padStart(9, "0")}`;
  engine.assign("checkout", unit);
  engine.assign("search", unit, { country: COUNTRIES[i % 5], plan: "pro" });
  if (tracker && i % 4 === 0) tracker.track(unit, "purchase", { value: 9.99, properties: { currency: "EUR" } });
  if ((i + 1) % 1_000 === 0) await yieldNow();
  if ((i + 1) % every === 0) {
    if (gc) gc();
    const m = process.memoryUsage();
    samples.push([i + 1, mib(m.rss)]);
    const delta = mib(m.rss) - samples[0][1];
    const t = tracker ?? { queued: 0, sent: 0, dropped: 0 };
    console.log(
      `${(i + 1).toLocaleString("en").padStart(12)} ${mib(m.rss).toFixed(1).padStart(9)} ${(delta >= 0 ? "+" : "") + delta.toFixed(1).padStart(8)} ${mib(m.heapUsed).toFixed(1).padStart(9)} ${mib(m.arrayBuffers).toFixed(1).padStart(9)} ${t.queued.toLocaleString("en").padStart(7)} ${t.sent.toLocaleString("en").padStart(11)} ${t.dropped.toLocaleString("en").padStart(11)} ${requests.toLocaleString("en").padStart(9)} ${((performance.now() - start) / 1000).toFixed(0).padStart(6)}`,
    );
  }
}
if (tracker) await tracker.close();
server.close();
if (samples.length < 2) {
  console.log("verdict: too few samples (raise --units or lower --every)");
  process.exit(2);
}
const growth = samples.at(-1)[1] - samples[0][1];
const bounded = growth < margin;
console.log(`verdict: ${bounded ? "BOUNDED" : "GROWING"}: RSS ${samples[0][1].toFixed(1)} MiB at ${samples[0][0].toLocaleString("en")} units, ${samples.at(-1)[1].toFixed(1)} MiB at ${samples.at(-1)[0].toLocaleString("en")} (${growth >= 0 ? "+" : ""}${growth.toFixed(1)} MiB; margin ${margin} MiB)`);
process.exit(bounded ? 0 : 1);
