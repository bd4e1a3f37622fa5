#!/usr/bin/env node
// A copy of ../shared/peers/node/bench_assign.js with a litmus() entry: the packed npm package
// (scripts/wasm/build-package.sh), installed here with `npm install ../../../target/npm/litmus-experiments-*.tgz`.
// Per-SDK assignment benchmark for Node (one SDK per process; see ../README.md#workload).
// usage: node bench_assign.js {floor,growthbook,eppo,unleash,statsig_core,statsig_legacy,all}
// Timed op for every SDK: op(uid, country) -> variation key; per-call context objects are built
// inside op. Exposure logging: no-op logger/callback where the SDK takes one; nothing leaves the
// process. Configs: ../workload/*.json (no network).
'use strict';
const fs = require('fs');
const path = require('path');
const { spawnSync } = require('child_process');

const ROOT = path.resolve(__dirname, '..');
const WL = JSON.parse(fs.readFileSync(path.join(ROOT, 'workload', 'workload.json'), 'utf8'));
const RESULTS = path.join(ROOT, 'results');
fs.mkdirSync(RESULTS, { recursive: true });
const N = parseInt(process.env.N || WL.calls_per_rep.node, 10);
const REPS = parseInt(process.env.REPS || WL.reps, 10);
const FP = WL.flags.plain, FT = WL.flags.targeted;
const pad = (i) => String(i).padStart(6, '0');
const IDS = Array.from({ length: WL.n_users }, (_, i) => `user-${pad(i)}`);
const MASK = WL.n_users - 1; // n_users is a power of two
const cfg = (name) => fs.readFileSync(path.join(ROOT, 'workload', `${name}.json`), 'utf8');
const rssMb = () => process.memoryUsage().rss / 1048576;

// Calls run in chunks of CHUNK; between chunks the loop awaits setImmediate so promises,
// microtasks and timers the SDK scheduled (tracking callbacks, event queues) run as they
// would between requests. That drain time is INSIDE the timed region (it is SDK work).
const CHUNK = 10000;
const tick = () => new Promise((r) => setImmediate(r));

async function bench(op, { n = N, reps = REPS, country = 'US' } = {}) {
  const warm = Math.max(1, Math.floor(n * WL.warmup_fraction));
  let sink = 0;
  for (let i = 0; i < warm; i++) {
    if (op(IDS[i & MASK], country) === 'treatment') sink++;
    if (i % CHUNK === CHUNK - 1) await tick();
  }
  await tick();
  const samples = [];
  for (let r = 0; r < reps; r++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < n; i++) {
      if (op(IDS[i & MASK], country) === 'treatment') sink++;
      if (i % CHUNK === CHUNK - 1) await tick();
    }
    await tick();
    samples.push(Number(process.hrtime.bigint() - t0) / n);
  }
  const sorted = [...samples].sort((a, b) => a - b);
  const med = sorted[Math.floor(sorted.length / 2)];
  const counts = {};
  for (let i = 0; i < 20000; i++) { const v = String(op(IDS[i], country)); counts[v] = (counts[v] || 0) + 1; }
  await tick();
  for (const k in counts) counts[k] = +(counts[k] / 20000).toFixed(4);
  const sanity = Object.keys(counts).length <= 10 ? counts : `${Object.keys(counts).length} distinct values`;
  return { n, reps, ns_min: sorted[0], ns_median: med, samples_ns: samples,
    calls_per_s_median: 1e9 / med, sanity, sink, rss_after_mb: rssMb() };
}

function versions(pkgs) {
  const out = {};
  for (const p of pkgs) {
    try { out[p] = require(path.join(__dirname, 'node_modules', p, 'package.json')).version; } catch { out[p] = null; }
  }
  return out;
}

async function runSdk(name, pkgs, init, ops) {
  const rss0 = rssMb();
  const t0 = process.hrtime.bigint();
  const client = await init();
  const initMs = Number(process.hrtime.bigint() - t0) / 1e6;
  const rssInit = rssMb();
  const res = { sdk: name, env: { node: process.version, packages: versions(pkgs) }, init_ms: initMs,
    rss_before_init_mb: rss0, rss_after_init_mb: rssInit, runs: {} };
  console.log(`[${name}] init ${initMs.toFixed(1)} ms, RSS ${rss0.toFixed(0)} -> ${rssInit.toFixed(0)} MB`);
  for (const [label, mk] of Object.entries(ops)) {
    const r = await bench(mk(client));
    res.runs[label] = r;
    console.log(`${(name + '/' + label).padEnd(52)} min=${r.ns_min.toFixed(0).padStart(8)} ns  median=${r.ns_median.toFixed(0).padStart(8)} ns  (${Math.round(r.calls_per_s_median).toLocaleString().padStart(12)} calls/s)  ${JSON.stringify(r.sanity)} rss=${r.rss_after_mb.toFixed(0)}MB`);
  }
  res.rss_after_bench_mb = rssMb();
  console.log(`[${name}] RSS after bench ${res.rss_after_bench_mb.toFixed(0)} MB`);
  fs.writeFileSync(path.join(RESULTS, `node_assign_${name}.json`), JSON.stringify(res, null, 2));
  return res;
}

// ------------------------------------------------------------------------------------ floor
async function floor() {
  const crypto = require('crypto');
  const xxhash = await require('xxhash-wasm')();
  const sep = ':' + WL.salt;
  const cum = []; let acc = 0;
  for (const w of WL.weights) { acc += w; cum.push(Math.round(acc * WL.buckets)); }
  // FNV-1a 32 (GrowthBook's hash) in plain JS
  function fnv1a32(s) {
    let h = 0x811c9dc5;
    for (let i = 0; i < s.length; i++) { h ^= s.charCodeAt(i); h = Math.imul(h, 0x01000193) >>> 0; }
    return h >>> 0;
  }
  const V = WL.variations;
  const jsAssign = (targeted) => (uid, country) => {
    if (targeted && country !== 'US') return null;
    const b = fnv1a32(uid + sep) % WL.buckets;
    for (let i = 0; i < cum.length; i++) if (b < cum[i]) return V[i];
    return V[V.length - 1];
  };
  const wasmAssign = (uid, country) => {
    const b = Number(xxhash.h64(uid + sep) % 10000n);
    for (let i = 0; i < cum.length; i++) if (b < cum[i]) return V[i];
    return V[V.length - 1];
  };
  function f(x) { return 1; }
  return runSdk('floor', ['xxhash-wasm'], async () => null, {
    'loop only': () => (uid, c) => null,
    'call f(x){return 1}': () => (uid, c) => f(uid),
    'pure-JS assign: fnv1a32 %10000 -> cum weights': () => jsAssign(false),
    'pure-JS assign + country==US': () => jsAssign(true),
    'xxhash-wasm h64(uid+salt) (JS->WASM, BigInt)': () => (uid, c) => xxhash.h64(uid + sep),
    'xxhash-wasm h32(uid+salt) (JS->WASM)': () => (uid, c) => xxhash.h32(uid + sep),
    'wasm assign: h64 %10000 -> cum weights': () => wasmAssign,
    'crypto md5(uid+salt) digest': () => (uid, c) => crypto.createHash('md5').update(uid + sep).digest(),
  });
}

// ------------------------------------------------------------------------------- growthbook
async function growthbook() {
  const { GrowthBook, GrowthBookClient } = require('@growthbook/growthbook');
  const features = JSON.parse(cfg('growthbook_features'));
  const noop = () => {};
  return runSdk('growthbook', ['@growthbook/growthbook'], async () => {
    const c = new GrowthBookClient({ trackingCallback: noop });
    c.initSync({ payload: { features } });
    return c;
  }, {
    'plain (GrowthBookClient.getFeatureValue)': (c) => (uid, country) =>
      c.getFeatureValue(FP, 'off', { attributes: { id: uid, country } }),
    'targeted (GrowthBookClient.getFeatureValue)': (c) => (uid, country) =>
      c.getFeatureValue(FT, 'off', { attributes: { id: uid, country } }),
    'plain (runInlineExperiment)': (c) => {
      const exp = { key: FP, variations: WL.variations, weights: WL.weights, seed: WL.salt, hashVersion: 2 };
      return (uid, country) => c.runInlineExperiment(exp, { attributes: { id: uid, country } }).value;
    },
    'targeted (runInlineExperiment)': (c) => {
      const exp = { key: FT, variations: WL.variations, weights: WL.weights, seed: WL.salt, hashVersion: 2,
        condition: { country: 'US' } };
      return (uid, country) => c.runInlineExperiment(exp, { attributes: { id: uid, country } }).value;
    },
    'plain (new GrowthBook per request)': () => (uid, country) => {
      const gb = new GrowthBook({ attributes: { id: uid, country }, features, trackingCallback: noop });
      const v = gb.getFeatureValue(FP, 'off');
      gb.destroy();
      return v;
    },
  });
}

// ------------------------------------------------------------------------------------- eppo
async function eppo() {
  const { EppoClient, MemoryOnlyConfigurationStore } = require('@eppo/js-client-sdk-common');
  const ufc = JSON.parse(cfg('eppo_ufc'));
  return runSdk('eppo', ['@eppo/js-client-sdk-common', '@eppo/node-server-sdk'], async () => {
    const store = new MemoryOnlyConfigurationStore();
    await store.setEntries(ufc.flags);
    store.setEnvironment(ufc.environment);
    if (store.setFormat) store.setFormat(ufc.format);
    const c = new EppoClient({ flagConfigurationStore: store });
    c.setAssignmentLogger({ logAssignment() {} });
    c.useLRUInMemoryAssignmentCache(50000); // what @eppo/node-server-sdk init() does
    c.setIsGracefulFailureMode(false);
    return c;
  }, {
    plain: (c) => (uid, country) => c.getStringAssignment(FP, uid, { country }, 'off'),
    targeted: (c) => (uid, country) => c.getStringAssignment(FT, uid, { country }, 'off'),
  });
}

// ---------------------------------------------------------------------------------- unleash
async function unleash() {
  const { Unleash, InMemStorageProvider } = require('unleash-client');
  const data = JSON.parse(cfg('unleash_features')).features;
  return runSdk('unleash', ['unleash-client'], async () => {
    // url points at a closed loopback port: the single startup fetch fails locally; bootstrap
    // provides the toggles. refreshInterval 0 = no polling, metrics disabled.
    const u = new Unleash({ url: 'http://127.0.0.1:9/api/', appName: 'bench', refreshInterval: 0,
      disableMetrics: true, bootstrap: { data }, storageProvider: new InMemStorageProvider(),
      skipInstanceCountWarning: true });
    u.on('error', () => {});
    u.on('warn', () => {});
    await new Promise((resolve) => { if (u.isSynchronized && u.isSynchronized()) resolve(); u.once('ready', resolve); });
    return u;
  }, {
    plain: (u) => (uid, country) => u.getVariant(FP, { userId: uid, properties: { country } }).name,
    targeted: (u) => (uid, country) => u.getVariant(FT, { userId: uid, properties: { country } }).name,
  });
}

// ---------------------------------------------------------------------------------- statsig
async function statsigCore() {
  const { Statsig, StatsigUser } = require('@statsig/statsig-node-core');
  const dcs = cfg('statsig_dcs_v2');
  const logExposures = process.env.STATSIG_LOG_EXPOSURES === '1';
  return runSdk('statsig_core', ['@statsig/statsig-node-core'], async () => {
    const s = new Statsig('secret-offline-bench', {
      disableNetwork: true, disableCountryLookup: true, disableAllLogging: !logExposures, outputLogLevel: 'error',
      dataStore: {
        initialize: async () => {}, shutdown: async () => {}, set: async () => {},
        get: async () => ({ result: dcs, time: 1767225600000 }), supportPollingUpdatesFor: async () => false,
      },
    });
    await s.initialize();
    return s;
  }, {
    plain: (s) => (uid, country) => s.getExperiment(new StatsigUser({ userID: uid, country }), FP).getValue('variant', 'off'),
    targeted: (s) => (uid, country) => s.getExperiment(new StatsigUser({ userID: uid, country }), FT).getValue('variant', 'off'),
  });
}

async function statsigLegacy() {
  const statsig = require('statsig-node');
  const dcs = cfg('statsig_dcs');
  return runSdk('statsig_legacy', ['statsig-node'], async () => {
    await statsig.initialize('secret-offline-bench', { localMode: true, bootstrapValues: dcs, disableDiagnostics: true });
    return statsig;
  }, {
    plain: (s) => (uid, country) => s.getExperimentSync({ userID: uid, country }, FP).get('variant', 'off'),
    targeted: (s) => (uid, country) => s.getExperimentSync({ userID: uid, country }, FT).get('variant', 'off'),
  });
}

async function litmus() {
  const { Engine } = require('litmus-experiments');
  const experiment = (key, targeted) => ({
    key, salt: WL.salt, status: 'running',
    variants: WL.variations.map((v, i) => ({ key: v, weight: WL.weights[i] })),
    ...(targeted ? { targeting: { attribute: WL.targeting.attribute, op: WL.targeting.op, value: WL.targeting.value } } : {}),
  });
  // Flags (docs/flags.md): a boolean with one 50% rollout rule, and one with a targeted rule.
  const flags = [
    { key: 'flag-rollout', type: 'boolean', default: false, salt: WL.salt, rules: [{ kind: 'rollout', percentage: 50, value: true }] },
    { key: 'flag-targeted', type: 'boolean', default: false, salt: WL.salt,
      rules: [{ kind: 'rollout', percentage: 50, value: true, condition: { attribute: WL.targeting.attribute, op: WL.targeting.op, value: WL.targeting.value } }] },
  ];
  const config = { schema_version: 1, experiments: [experiment(FP, false), experiment(FT, true)], flags };
  const side = (on) => (on ? 'treatment' : 'control');
  const res = await runSdk('litmus', ['litmus-experiments'], async () => new Engine(config, { onExposure: () => {} }), {
    plain: (e) => (uid, c) => e.assign(FP, uid).variant,
    targeted: (e) => (uid, c) => e.assign(FT, uid, { country: c }).variant,
    'plain (no exposure callback)': () => { const e = new Engine(config); return (uid, c) => e.assign(FP, uid).variant; },
    'flag evaluate (1 rollout rule)': (e) => (uid, c) => side(e.evaluate('flag-rollout', uid).value),
    'flag booleanValue (1 rollout rule)': (e) => (uid, c) => side(e.booleanValue('flag-rollout', uid)),
    'flag evaluate targeted': (e) => (uid, c) => side(e.evaluate('flag-targeted', uid, { country: c }).value),
  });
  const ratio = (a, b) => (res.runs[a].ns_median / res.runs[b].ns_median).toFixed(2);
  console.log(`[litmus] flag evaluate / plain assign ${ratio('flag evaluate (1 rollout rule)', 'plain')}x, booleanValue / plain ${ratio('flag booleanValue (1 rollout rule)', 'plain')}x, targeted evaluate / targeted assign ${ratio('flag evaluate targeted', 'targeted')}x (goal <= 1.5x)`);
  return res;
}

// Loading a document of 10,000 flags and 2,000 experiments (the Rust benches' flag_document,
// printed by `cargo run --release -p litmus-benches --bin flag-doc`), and evaluate's cost at
// 10 and 10,000 flags in the same run.
async function litmusFlagDocument() {
  const { Engine } = require('litmus-experiments');
  const bin = path.join(ROOT, '..', '..', 'target', 'release', 'flag-doc');
  const doc = (flags, exps) => spawnSync(bin, [String(flags), String(exps)], { encoding: 'utf8', maxBuffer: 1 << 28 }).stdout;
  const large = doc(10000, 2000);
  if (!large) throw new Error(`build ${bin} first: cargo build --release -p litmus-benches --bin flag-doc`);
  const loads = [];
  for (let i = 0; i < 7; i++) {
    const t0 = process.hrtime.bigint();
    const e = new Engine(large);
    loads.push(Number(process.hrtime.bigint() - t0) / 1e6);
    if (e.problems.length) throw new Error(`the document has problems: ${e.problems[0].message}`);
  }
  loads.sort((a, b) => a - b);
  console.log(`[litmus] load 10k flags + 2k experiments (${(large.length / 1e6).toFixed(1)} MB): median ${loads[3].toFixed(1)} ms, min ${loads[0].toFixed(1)} ms`);
  const small = new Engine(doc(10, 10));
  const big = new Engine(large);
  const r10 = await bench((uid) => (small.evaluate('flag-0', uid).value ? 'treatment' : 'control'));
  const r10k = await bench((uid) => (big.evaluate('flag-0', uid).value ? 'treatment' : 'control'));
  console.log(`[litmus] evaluate at 10 flags ${r10.ns_median.toFixed(0)} ns, at 10k flags ${r10k.ns_median.toFixed(0)} ns: ${(r10k.ns_median / r10.ns_median).toFixed(2)}x (goal: flat)`);
}

// Loading a document of 10,000 experiments (a quarter targeted, a tenth in layers, a twentieth
// with overrides: `cargo run --release -p litmus-benches --bin flag-doc 0 10000`), the memory
// one loaded engine adds to the process (RSS), and a plain and a targeted assign at 10 and at
// 10,000 experiments in the same run.
async function litmusExperimentDocument() {
  const { Engine } = require('litmus-experiments');
  const bin = path.join(ROOT, '..', '..', 'target', 'release', 'flag-doc');
  const doc = (exps) => spawnSync(bin, ['0', String(exps)], { encoding: 'utf8', maxBuffer: 1 << 28 }).stdout;
  const large = doc(10000);
  if (!large) throw new Error(`build ${bin} first: cargo build --release -p litmus-benches --bin flag-doc`);
  if (global.gc) global.gc();
  const rss0 = process.memoryUsage().rss;
  const kept = new Engine(large);
  const rss1 = process.memoryUsage().rss;
  if (kept.problems.length) throw new Error(`the document has problems: ${kept.problems[0].message}`);
  const loads = [];
  for (let i = 0; i < 7; i++) {
    const t0 = process.hrtime.bigint();
    const e = new Engine(large);
    loads.push(Number(process.hrtime.bigint() - t0) / 1e6);
    void e;
  }
  loads.sort((a, b) => a - b);
  console.log(`[litmus] load 10k experiments (${(large.length / 1e6).toFixed(1)} MB): median ${loads[3].toFixed(1)} ms, min ${loads[0].toFixed(1)} ms (goal < 300 ms); RSS +${((rss1 - rss0) / 1048576).toFixed(1)} MB for one engine: ${((rss1 - rss0) / 10000).toFixed(0)} bytes per experiment`);
  const small = new Engine(doc(10));
  for (const targeted of [false, true]) {
    const op = (e) => (targeted ? (uid) => e.assign('fx-1', uid, { country: 'US' }).variant : (uid) => e.assign('fx-0', uid).variant);
    const rs = await bench(op(small));
    const rb = await bench(op(kept));
    console.log(`[litmus] assign ${targeted ? 'targeted' : 'plain'} at 10 experiments ${rs.ns_median.toFixed(0)} ns, at 10k ${rb.ns_median.toFixed(0)} ns: ${(rb.ns_median / rs.ns_median).toFixed(2)}x (goal: flat)`);
  }
}

const SDKS = { floor, litmus, litmus_flag_document: litmusFlagDocument, litmus_experiment_document: litmusExperimentDocument, growthbook, eppo, unleash, statsig_core: statsigCore, statsig_legacy: statsigLegacy };

(async () => {
  const which = process.argv[2] || 'all';
  if (which === 'all') {
    let rc = 0;
    for (const name of Object.keys(SDKS)) {
      const p = spawnSync(process.execPath, [__filename, name], { stdio: 'inherit' });
      if (p.status) { console.error(`!! ${name} failed (rc=${p.status})`); rc = 1; }
    }
    process.exit(rc);
  }
  await SDKS[which]();
  process.exit(0); // do not wait for SDK timers/handles
})().catch((e) => { console.error(e); process.exit(1); });
