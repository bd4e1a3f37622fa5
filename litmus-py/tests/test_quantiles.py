"""litmus.QuantileSketch and the quantile functions of litmus.stats on the installed wheel: the
sketch's API (add, extend, remove, merge, buckets and back), what its keys mean, and the error
contract: NaN, infinities and other bad input raise typed Litmus errors, never a panic, and
leave the sketch as it was."""

from __future__ import annotations

import array
import math
import pickle
import threading

import numpy as np
import pytest

import litmus
from litmus import stats

NAN, INF = float("nan"), float("inf")


def test_a_sketch_adds_removes_merges_and_round_trips_through_its_buckets() -> None:
    s = litmus.QuantileSketch()
    assert (s.alpha, s.count, s.buckets()) == (0.01, 0, [])
    s.extend(range(1, 101))
    s.add(1_000.0)
    s.remove(1_000.0)
    assert s.count == 100
    assert abs(s.quantile(0.5) - 50) <= 0.01 * 50
    assert abs(s.quantile(1.0) - 100) <= 0.01 * 100
    keys = [k for k, _ in s.buckets()]
    assert keys == sorted(keys) and sum(c for _, c in s.buckets()) == 100
    back = litmus.QuantileSketch.from_buckets(s.buckets())
    assert back.buckets() == s.buckets() and back.quantile(0.9) == s.quantile(0.9)
    # Lists (as JSON gives them back) are pairs too.
    assert litmus.QuantileSketch.from_buckets([list(b) for b in s.buckets()]).buckets() == s.buckets()
    other = litmus.QuantileSketch()
    other.extend(np.arange(101, 201, dtype=np.float64))
    s.merge(other)
    assert s.count == 200 and abs(s.quantile(0.5) - 100) <= 1
    s.merge(s)  # itself: every bucket doubles
    assert s.count == 400
    assert "QuantileSketch(alpha=0.01, count=400" in repr(s)
    assert stats.QuantileSketch is litmus.QuantileSketch


def test_extend_takes_any_iterable_of_numbers() -> None:
    want = litmus.QuantileSketch(0.001)
    for x in (0.5, -2.0, 0.0, 3.0):
        want.add(x)
    for values in ([0.5, -2.0, 0, 3], (0.5, -2.0, 0.0, 3.0), array.array("d", [0.5, -2.0, 0.0, 3.0]),
                   np.array([0.5, -2.0, 0.0, 3.0]), np.array([0.5, -2.0, 0.0, 3.0], dtype=np.float32),
                   (x for x in [0.5, -2.0, 0.0, 3.0])):
        s = litmus.QuantileSketch(0.001)
        s.extend(values)
        assert s.buckets() == want.buckets(), values
    strided = np.array([[0.5, 9.0], [-2.0, 9.0], [0.0, 9.0], [3.0, 9.0]])[:, 0]  # not contiguous
    s = litmus.QuantileSketch(0.001)
    s.extend(strided)
    assert s.buckets() == want.buckets()


def test_keys_sort_like_values_and_stand_for_them_within_alpha() -> None:
    assert stats.sketch_key(0.0) == 0 and stats.sketch_value(0) == 0.0
    xs = [-1e6, -3.5, -1e-3, 0.0, 1e-3, 1.0, 2.5, 1e12]
    keys = [stats.sketch_key(x, 0.02) for x in xs]
    assert keys == sorted(keys)
    for x, k in zip(xs, keys):
        assert abs(stats.sketch_value(k, 0.02) - x) <= 0.02 * abs(x) * (1 + 1e-12)
    s = litmus.QuantileSketch(0.02)
    s.extend(xs)
    assert [k for k, _ in s.buckets()] == keys


def test_raw_values_and_sketches_give_the_same_answers() -> None:
    rng = np.random.default_rng(3)
    t, c = rng.lognormal(0.1, 1, 2_000), rng.lognormal(0, 1, 2_000)
    st_, sc = litmus.QuantileSketch(), litmus.QuantileSketch()
    st_.extend(t)
    sc.extend(c)
    assert stats.quantile_ztest(t, c, 0.9) == stats.quantile_ztest(st_, sc, 0.9)
    assert stats.quantile_ztest(st_, c.tolist(), 0.9) == stats.quantile_ztest(st_, sc, 0.9)
    assert stats.quantile_interval(t, 0.5) == stats.quantile_interval(st_, 0.5)
    r = stats.quantile_ztest(t, c, 0.9, 0.1, relative_accuracy=0.001)
    assert r.diff_lower <= r.difference <= r.diff_upper
    e = stats.quantile_interval(t, 0.5)
    estimate, lower, upper, *_ = e
    assert lower <= estimate <= upper and e.nobs == 2_000


def test_sketches_from_other_processes_merge_like_one() -> None:
    parts = [np.random.default_rng(i).exponential(size=500) for i in range(4)]
    whole = litmus.QuantileSketch()
    whole.extend(np.concatenate(parts))
    merged = litmus.QuantileSketch()
    for part in parts:
        s = litmus.QuantileSketch()
        s.extend(part)
        # What another process would store and send: plain (key, count) pairs.
        merged.merge(litmus.QuantileSketch.from_buckets(pickle.loads(pickle.dumps(s.buckets()))))
    assert merged.buckets() == whole.buckets()


def test_a_sketch_is_safe_to_share_between_threads() -> None:
    s = litmus.QuantileSketch()

    def work() -> None:
        for i in range(2_000):
            s.add(float(i))

    threads = [threading.Thread(target=work) for _ in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert s.count == 8_000


# ---- the error contract -----------------------------------------------------------------------


def test_nan_and_infinities_raise_invalid_argument_and_change_nothing() -> None:
    s = litmus.QuantileSketch()
    s.extend([1.0, 2.0, 3.0])
    before = s.buckets()
    for bad in (NAN, INF, -INF):
        for call in (lambda: s.add(bad), lambda: s.remove(bad), lambda: s.extend([4.0, bad, 5.0]),
                     lambda: s.extend(np.array([4.0, bad])), lambda: s.quantile(bad),
                     lambda: stats.exact_quantile([1.0, bad], 0.5), lambda: stats.exact_quantile([1.0, 2.0], bad),
                     lambda: stats.quantile_interval([1.0, 2.0, bad], 0.5), lambda: stats.quantile_interval(s, bad),
                     lambda: stats.quantile_interval(s, 0.5, bad), lambda: stats.quantile_ztest(s, [1.0, bad], 0.5),
                     lambda: stats.quantile_ztest(s, s, 0.5, bad), lambda: stats.sketch_key(bad),
                     lambda: stats.sketch_value(0, bad), lambda: litmus.QuantileSketch(bad)):
            with pytest.raises(litmus.InvalidArgumentError) as e:
                call()
            assert e.value.code == "invalid_argument"
        assert s.buckets() == before, "a failed call left the sketch as it was"
    assert s.count == 3 and s.quantile(0.5) == pytest.approx(2.0, rel=0.01)


def test_other_bad_input_raises_typed_errors() -> None:
    s = litmus.QuantileSketch()
    with pytest.raises(litmus.DegenerateDataError):
        s.quantile(0.5)  # empty
    s.add(1.0)
    with pytest.raises(litmus.DegenerateDataError):
        stats.quantile_interval(s, 0.5)  # one value
    with pytest.raises(litmus.DegenerateDataError):
        stats.exact_quantile([], 0.5)
    for q in (-0.1, 1.5):
        with pytest.raises(litmus.InvalidArgumentError):
            s.quantile(q)
    for accuracy in (0.0, 0.0001, 0.2, -1.0):
        with pytest.raises(litmus.InvalidArgumentError):
            litmus.QuantileSketch(accuracy)
    with pytest.raises(litmus.InvalidArgumentError):
        s.merge(litmus.QuantileSketch(0.02))  # another accuracy
    with pytest.raises(litmus.InvalidArgumentError):
        litmus.QuantileSketch.from_buckets([(7, 1)])  # no value has key 7
    with pytest.raises(litmus.InvalidArgumentError):
        litmus.QuantileSketch.from_buckets([(1, 2, 3)])
    with pytest.raises(litmus.InvalidArgumentError):
        litmus.QuantileSketch.from_buckets("buckets")
    with pytest.raises(litmus.InvalidArgumentError):
        stats.sketch_value(7)
    with pytest.raises(litmus.InvalidArgumentError):
        stats.sketch_value(2**40)
    with pytest.raises(litmus.InvalidArgumentError):
        s.extend("123")
    with pytest.raises(TypeError):
        s.extend([1.0, "x"])
    with pytest.raises(TypeError):
        s.merge([1.0])  # type: ignore[arg-type]
    # Changes whose removals came first: consistent again once the additions arrive.
    changes = litmus.QuantileSketch.from_buckets([(stats.sketch_key(5.0), -1)])
    with pytest.raises(litmus.DegenerateDataError):
        changes.quantile(0.5)
    changes.add(5.0)
    changes.add(6.0)
    assert changes.count == 1 and changes.quantile(0.5) == pytest.approx(6.0, rel=0.01)
    assert s.count == 1 and not math.isnan(s.quantile(0.5))
