// litmus-experiments' bandits reproduce fixtures/determinism/v1.json bit for bit (as native
// Rust, the wasm32 determinism crate and the Python wheel do), and the Bandit API works.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { bandit, LitmusError } from "litmus-experiments/analysis";

const { Random, Arm, Policy, Bandit } = bandit;
const fixture = JSON.parse(readFileSync(join(process.env.LITMUS_FIXTURES, "determinism/v1.json"), "utf8"));
const arms = () => fixture.arms.map(([s, n]) => Arm.fromCounts(s, n));

test("seeded numbers equal the Rust and Python ones", () => {
  const thompson = Policy.thompsonBeta();
  const normal = Policy.thompsonNormal(0, 1, 1, 1);
  for (const entry of fixture.seeds) {
    const seed = BigInt(entry.seed);
    let rng = new Random(seed);
    assert.deepEqual(entry.next_u64.map(() => rng.nextU64().toString()), entry.next_u64);
    rng = new Random(seed);
    assert.deepEqual(entry.next_f64.map(() => rng.random()), entry.next_f64);
    rng = new Random(seed);
    assert.deepEqual(entry.thompson_choices.map(() => thompson.choose(arms(), rng)), entry.thompson_choices);
    assert.deepEqual(thompson.weightsMonteCarlo(arms(), 2000, seed), entry.thompson_weights_monte_carlo);
    assert.deepEqual(normal.weightsMonteCarlo(arms(), 2000, seed), entry.normal_weights_monte_carlo);
  }
  assert.deepEqual(thompson.weights(arms(), 1, 0), fixture.thompson_weights_quadrature);
});

test("a Bandit learns the best arm", () => {
  const b = new Bandit(Policy.thompsonBeta(1, 1, { floor: 0.01 }), ["a", "b", "c"], 3);
  const truth = { a: 0.2, b: 0.5, c: 0.3 };
  const coin = new Random(99);
  for (let i = 0; i < 3000; i++) {
    const k = b.choose();
    b.update(k, coin.random() < truth[k] ? 1 : 0);
  }
  const w = b.weights();
  assert.ok(w.b > 0.9, JSON.stringify(w));
  assert.ok(Math.abs(Object.values(w).reduce((x, y) => x + y) - 1) < 1e-9);
  assert.throws(() => Policy.thompsonBeta(-1), (e) => e instanceof LitmusError && e.code === "invalid_argument");
  assert.throws(() => new Arm().update(NaN), (e) => e.code === "invalid_argument");
  assert.throws(() => b.update("zzz", 1), (e) => e.code === "invalid_argument");
});
