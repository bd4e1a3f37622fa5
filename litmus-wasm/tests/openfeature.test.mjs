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
