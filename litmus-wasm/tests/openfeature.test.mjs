// The OpenFeature web provider through the real @openfeature/web-sdk: values, variants,
// reasons and error codes follow litmus.openfeature in Python.
import { test } from "node:test";
import assert from "node:assert/strict";
import { OpenFeature } from "@openfeature/web-sdk";
import { Engine } from "litmus-experiments";
import { LitmusWebProvider } from "litmus-experiments/openfeature";

const CONFIG = {
  schema_version: 1,
  experiments: [
    { key: "cta-text", status: "running", variants: [{ key: "a", payload: "Buy now" }, { key: "b" }] },
    { key: "new-nav", status: "running", variants: [{ key: "on", payload: true }] },
    { key: "discount", status: "running", variants: [{ key: "ten", payload: 0.1 }] },
    { key: "theme", status: "running", variants: [{ key: "dark", payload: { bg: "#000" } }] },
    { key: "de-only", status: "running", targeting: { attribute: "country", op: "eq", value: "DE" },
      variants: [{ key: "x", payload: "de" }] },
    { key: "paused", status: "paused", variants: [{ key: "x" }] },
  ],
};

test("flags resolve through OpenFeature to the engine's assignments", async () => {
  const exposures = [];
  const engine = new Engine(CONFIG, { onExposure: (e) => exposures.push(e) });
  await OpenFeature.setProviderAndWait(new LitmusWebProvider(engine));
  await OpenFeature.setContext({ targetingKey: "user-1", country: "DE" });
  const client = OpenFeature.getClient();

  for (let i = 0; i < 50; i++) {
    await OpenFeature.setContext({ targetingKey: `user-${i}`, country: "DE" });
    const want = engine.assign("cta-text", `user-${i}`, { country: "DE" });
    const d = client.getStringDetails("cta-text", "default");
    assert.equal(d.variant, want.variant);
    assert.equal(d.value, want.variant === "a" ? "Buy now" : "b");
    assert.equal(d.reason, "SPLIT");
    assert.equal(d.flagMetadata.litmusReason, "assigned");
  }
  assert.equal(client.getBooleanValue("new-nav", false), true);
  assert.equal(client.getNumberValue("discount", 0), 0.1);
  assert.deepEqual(client.getObjectValue("theme", {}), { bg: "#000" });
  assert.equal(client.getStringValue("de-only", "none"), "de");
  assert.ok(exposures.length > 0);

  const mismatch = client.getBooleanDetails("cta-text", false);
  assert.equal(mismatch.value, false);
  assert.equal(mismatch.errorCode, "TYPE_MISMATCH");
  const missing = client.getStringDetails("nope", "fallback");
  assert.equal(missing.value, "fallback");
  assert.equal(missing.errorCode, "FLAG_NOT_FOUND");
  const disabled = client.getStringDetails("paused", "off");
  assert.equal(disabled.value, "off");
  assert.equal(disabled.reason, "DISABLED");

  await OpenFeature.setContext({ targetingKey: "user-9", country: "US" });
  const miss = client.getStringDetails("de-only", "none");
  assert.equal(miss.value, "none");
  assert.equal(miss.reason, "DEFAULT");
  assert.equal(miss.flagMetadata.litmusReason, "targeting_miss");

  await OpenFeature.setContext({ country: "DE" });
  assert.equal(client.getStringDetails("cta-text", "d").errorCode, "TARGETING_KEY_MISSING");
  await OpenFeature.close();
});

const FLAGS = {
  schema_version: 1,
  experiments: [{ key: "color-test", status: "running", variants: [{ key: "control" }, { key: "green" }] }],
  flags: [
    { key: "new-checkout", type: "boolean", default: false, description: "one-page checkout", tags: ["checkout"],
      rules: [{ id: "staff", kind: "force", condition: { attribute: "email", op: "ends_with", value: "@litmus.dev" }, value: true }] },
    { key: "off", type: "boolean", default: true, enabled: false },
    { key: "button-color", type: "string", default: "grey",
      rules: [{ id: "test", kind: "experiment", experiment: "color-test", values: { control: "grey", green: "green" } }] },
    { key: "limit", type: "number", default: 10 },
    { key: "theme", type: "json", default: { dark: true } },
    { key: "broken", type: "boolean", default: "no" },
  ],
};

test("Litmus flags resolve through OpenFeature with reasons, variants and metadata", async () => {
  const exposures = [];
  const engine = new Engine(FLAGS, { onExposure: (e) => exposures.push(e) });
  await OpenFeature.setProviderAndWait(new LitmusWebProvider(engine));
  const client = OpenFeature.getClient();

  await OpenFeature.setContext({ targetingKey: "u-1", email: "ada@litmus.dev" });
  let d = client.getBooleanDetails("new-checkout", false);
  assert.deepEqual([d.value, d.reason, d.variant, d.errorCode], [true, "TARGETING_MATCH", "staff", undefined]);
  assert.deepEqual(d.flagMetadata, { type: "boolean", description: "one-page checkout", tags: "checkout", rule: "staff" });
  await OpenFeature.setContext({ targetingKey: "u-5", email: "x@example.com" });
  d = client.getBooleanDetails("new-checkout", true);
  assert.deepEqual([d.value, d.reason, d.variant], [false, "DEFAULT", "default"]);
  d = client.getBooleanDetails("off", false);
  assert.deepEqual([d.value, d.reason], [true, "DISABLED"]);
  d = client.getStringDetails("button-color", "x");
  assert.equal(d.reason, "SPLIT");
  assert.equal(d.value, { control: "grey", green: "green" }[d.variant]);
  assert.equal(d.flagMetadata.experiment, "color-test");
  assert.equal(d.flagMetadata.inExperiment, true);
  assert.deepEqual(exposures.map((e) => [e.experiment, e.unitId]), [["color-test", "u-5"]]);
  assert.equal(client.getNumberValue("limit", 0), 10);
  assert.deepEqual(client.getObjectValue("theme", {}), { dark: true });

  d = client.getStringDetails("limit", "fallback");
  assert.deepEqual([d.value, d.reason, d.errorCode], ["fallback", "ERROR", "TYPE_MISMATCH"]);
  d = client.getBooleanDetails("broken", true);
  assert.deepEqual([d.value, d.errorCode], [true, "PARSE_ERROR"]);
  d = client.getBooleanDetails("nothing-by-that-name", true);
  assert.deepEqual([d.value, d.errorCode], [true, "FLAG_NOT_FOUND"]);
  await OpenFeature.clearProviders();
});
