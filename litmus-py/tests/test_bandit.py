"""litmus.bandit on the installed wheel: the shared determinism fixture (the same seeded
numbers as native Rust and wasm32), the Bandit API, and error codes."""

from __future__ import annotations

import threading

import pytest

import litmus
from litmus.bandit import Arm, Bandit, Policy, Random

from conftest import load

FIXTURE = load("determinism/v1.json")
ARMS = [Arm.from_counts(s, n) for s, n in FIXTURE["arms"]]
NORMAL = Policy.thompson_normal(0.0, 1.0, 1.0, 1.0)


@pytest.mark.parametrize("entry", FIXTURE["seeds"], ids=lambda e: e["seed"])
def test_seeded_numbers_match_rust_and_wasm(entry: dict) -> None:
    seed = int(entry["seed"])
    rng = Random(seed)
    assert [str(rng.next_u64()) for _ in entry["next_u64"]] == entry["next_u64"]
    rng = Random(seed)
    assert [rng.random() for _ in entry["next_f64"]] == entry["next_f64"]
    rng = Random(seed)
    thompson = Policy.thompson_beta()
    assert [thompson.choose(ARMS, rng) for _ in entry["thompson_choices"]] == entry["thompson_choices"]
    assert thompson.weights_monte_carlo(ARMS, 2_000, seed) == entry["thompson_weights_monte_carlo"]
    assert NORMAL.weights_monte_carlo(ARMS, 2_000, seed) == entry["normal_weights_monte_carlo"]


def test_quadrature_weights_match() -> None:
    assert Policy.thompson_beta().weights(ARMS, 1, 0) == FIXTURE["thompson_weights_quadrature"]


def test_bandit_learns_and_is_thread_safe() -> None:
    bandit = Bandit(Policy.thompson_beta(floor=0.01), ["a", "b", "c"], seed=3)
    truth = {"a": 0.2, "b": 0.5, "c": 0.3}
    coin = Random(99)

    def play(n: int) -> None:
        for _ in range(n):
            arm = bandit.choose()
            bandit.update(arm, 1.0 if coin.random() < truth[arm] else 0.0)

    threads = [threading.Thread(target=play, args=(1000,)) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    arms = bandit.arms()
    assert sum(a.pulls for a in arms.values()) == 4000
    assert max(arms, key=lambda k: arms[k].pulls) == "b"
    weights = bandit.weights()
    assert abs(sum(weights.values()) - 1.0) < 1e-9
    assert weights["b"] > 0.9 and min(weights.values()) >= 0.01 - 1e-12
    assert bandit.keys == ["a", "b", "c"]


def test_arm_state_round_trips_and_merges() -> None:
    a = Arm()
    a.update_batch([1.0, 2.0, 3.0])
    b = Arm.from_dict(a.to_dict())
    assert (b.pulls, b.mean, b.m2) == (3, 2.0, 2.0)
    b.merge(Arm.from_counts(1, 2))
    assert b.pulls == 5 and abs(b.reward_sum - 7.0) < 1e-12


def test_policies_and_errors() -> None:
    for policy in (Policy.ucb1(), Policy.kl_ucb(), Policy.epsilon_greedy(0.1, decay=1.0)):
        w = policy.weights(ARMS)
        assert abs(sum(w) - 1.0) < 1e-9
        assert 0 <= policy.choose(ARMS, Random(1)) < len(ARMS)
    with pytest.raises(litmus.InvalidArgumentError) as e:
        Policy.thompson_beta(-1.0)
    assert e.value.code == "invalid_argument"
    with pytest.raises(litmus.InvalidArgumentError):
        Arm().update(float("nan"))
    with pytest.raises(litmus.InvalidArgumentError):
        Policy.thompson_beta().choose([], Random(0))
    with pytest.raises(litmus.InvalidArgumentError):
        Bandit(Policy.ucb1(), ["x", "x"])
    with pytest.raises(litmus.InvalidArgumentError):
        Bandit(Policy.ucb1(), ["x"]).update("y", 1.0)
    with pytest.raises(litmus.InvalidArgumentError):
        Policy.thompson_beta(floor=2.0)
