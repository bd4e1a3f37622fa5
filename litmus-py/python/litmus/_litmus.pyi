"""Type stubs of the native module (``litmus-py/src``)."""

import datetime
import os
from typing import Any, Callable, Literal, Optional, Union, final

from typing_extensions import Self

__version__: str
ERROR_CODES: list[str]
__all__ = [
    "__version__",
    "ERROR_CODES",
    "Engine",
    "Assignment",
    "Arm",
    "Random",
    "Policy",
    "Bandit",
    "_panic_for_tests",
    "seed",
    "unit_hash",
    "bucket",
    "pick_variant",
    "in_traffic",
    "moments_from_f64_bytes",
    "ttest_ind_from_stats",
    "ttest_ind_moments",
    "proportions_ztest",
    "proportion_confint",
    "chisquare",
    "chi2_contingency",
    "multipletests",
    "distribution",
    "comoments_from_f64_bytes",
    "srm_check",
    "f_oneway",
    "factorial_anova",
    "mean_confint",
    "diff_means_confint",
    "relative_lift_confint",
    "newcombe_confint",
    "planning",
    "msprt_means",
    "msprt_proportions",
    "cuped",
    "ratio_ztest",
    "beta_compare",
    "beta_prob_best",
    "normal_compare",
]

_Config = Union[str, bytes, dict[str, Any]]
_Attributes = Optional[dict[str, Any]]
_Now = Union[None, Literal[False], datetime.datetime, float, int, str]

@final
class Assignment:
    """The result of one assignment."""

    @property
    def experiment(self) -> str: ...
    @property
    def unit_id(self) -> str: ...
    @property
    def variant(self) -> Optional[str]: ...
    @property
    def in_experiment(self) -> bool: ...
    @property
    def reason(self) -> str: ...
    @property
    def miss(self) -> Optional[str]: ...
    @property
    def payload(self) -> Any: ...
    @property
    def factors(self) -> dict[str, str]: ...
    def to_dict(self) -> dict[str, Any]: ...
    def __eq__(self, other: object, /) -> bool: ...
    def __hash__(self) -> int: ...

@final
class Engine:
    """The assignment engine."""

    def __new__(
        cls,
        config: _Config,
        *,
        on_exposure: Optional[Callable[[dict[str, Any]], Any]] = None,
        exposure_dedupe_size: int = 250_000,
        strict: bool = False,
        sticky_store: Optional[Any] = None,
    ) -> Self: ...
    @staticmethod
    def from_file(
        path: Union[str, "os.PathLike[str]"],
        *,
        on_exposure: Optional[Callable[[dict[str, Any]], Any]] = None,
        exposure_dedupe_size: int = 250_000,
        strict: bool = False,
        sticky_store: Optional[Any] = None,
    ) -> Engine: ...
    def update(self, config: _Config) -> None: ...
    def assign(
        self,
        experiment: str,
        unit_id: str,
        attributes: _Attributes = None,
        *,
        now: _Now = None,
    ) -> Assignment: ...
    def assign_all(
        self, unit_id: str, attributes: _Attributes = None, *, now: _Now = None
    ) -> list[Assignment]: ...
    @property
    def problems(self) -> list[Exception]: ...
    @property
    def version(self) -> Optional[str]: ...
    def experiment_keys(self) -> list[str]: ...
    @property
    def exposures_remembered(self) -> int: ...

def seed(salt: str, purpose: str) -> int: ...
def unit_hash(salt: str, purpose: str, unit_id: str) -> int: ...
def bucket(salt: str, purpose: str, unit_id: str) -> int: ...
def pick_variant(bucket: int, weights: list[float]) -> int: ...
def in_traffic(bucket: int, traffic: float) -> bool: ...

def _panic_for_tests(message: str) -> None: ...
def moments_from_f64_bytes(data: bytes) -> tuple[int, float, float]: ...
def ttest_ind_from_stats(
    mean1: float,
    std1: float,
    nobs1: int,
    mean2: float,
    std2: float,
    nobs2: int,
    equal_var: bool,
    alternative: str,
) -> tuple[float, float, float]: ...
def ttest_ind_moments(
    a: tuple[int, float, float], b: tuple[int, float, float], equal_var: bool, alternative: str
) -> tuple[float, float, float]: ...
def proportions_ztest(
    count1: int, nobs1: int, count2: int, nobs2: int, alternative: str, pooled: bool
) -> tuple[float, float]: ...
def proportion_confint(count: int, nobs: int, alpha: float, method: str) -> tuple[float, float]: ...
def chisquare(observed: list[float], weights: list[float]) -> tuple[float, float]: ...
def chi2_contingency(
    observed: list[float], rows: int, correction: bool
) -> tuple[float, float, int, list[float]]: ...
def multipletests(pvals: list[float], alpha: float, method: str) -> tuple[list[bool], list[float]]: ...
def distribution(name: str, args: list[float]) -> float: ...

@final
class Arm:
    """The reward history of one arm."""

    def __new__(cls) -> Self: ...
    @staticmethod
    def from_counts(successes: int, pulls: int) -> Arm: ...
    @staticmethod
    def from_dict(state: dict[str, Any]) -> Arm: ...
    def update(self, reward: float) -> None: ...
    def update_batch(self, rewards: list[float]) -> None: ...
    def merge(self, other: Arm) -> None: ...
    @property
    def pulls(self) -> int: ...
    @property
    def mean(self) -> float: ...
    @property
    def reward_sum(self) -> float: ...
    @property
    def m2(self) -> float: ...
    def to_dict(self) -> dict[str, Any]: ...

@final
class Random:
    """The portable seeded generator (xoshiro256++)."""

    def __new__(cls, seed: int) -> Self: ...
    def next_u64(self) -> int: ...
    def random(self) -> float: ...

@final
class Policy:
    """A bandit policy."""

    @staticmethod
    def thompson_beta(
        prior_alpha: float = 1.0,
        prior_beta: float = 1.0,
        *,
        burn_in: int = 0,
        floor: float = 0.0,
        optimistic: Optional[float] = None,
    ) -> Policy: ...
    @staticmethod
    def thompson_normal(
        prior_mean: float = 0.0,
        prior_kappa: float = 1.0,
        prior_alpha: float = 1.0,
        prior_beta: float = 1.0,
        *,
        burn_in: int = 0,
        floor: float = 0.0,
        optimistic: Optional[float] = None,
    ) -> Policy: ...
    @staticmethod
    def ucb1(
        exploration: float = 2.0, *, burn_in: int = 0, floor: float = 0.0, optimistic: Optional[float] = None
    ) -> Policy: ...
    @staticmethod
    def kl_ucb(
        c: float = 0.0, *, burn_in: int = 0, floor: float = 0.0, optimistic: Optional[float] = None
    ) -> Policy: ...
    @staticmethod
    def epsilon_greedy(
        epsilon: float = 0.1,
        decay: Optional[float] = None,
        *,
        burn_in: int = 0,
        floor: float = 0.0,
        optimistic: Optional[float] = None,
    ) -> Policy: ...
    def choose(self, arms: list[Arm], rng: Random) -> int: ...
    def weights(self, arms: list[Arm], draws: int = 10_000, seed: int = 0) -> list[float]: ...
    def weights_monte_carlo(self, arms: list[Arm], draws: int = 10_000, seed: int = 0) -> list[float]: ...

@final
class Bandit:
    """Arms by key under one policy, thread-safe."""

    def __new__(cls, policy: Policy, keys: list[str], seed: int = 0) -> Self: ...
    def choose(self) -> str: ...
    def update(self, key: str, reward: float) -> None: ...
    def weights(self, draws: int = 10_000, seed: int = 0) -> dict[str, float]: ...
    def arms(self) -> dict[str, Arm]: ...
    @property
    def keys(self) -> list[str]: ...

_M = tuple[int, float, float]
_Co = tuple[int, float, float, float, float, float]

def comoments_from_f64_bytes(x: bytes, y: bytes) -> _Co: ...
def srm_check(
    observed: list[float], weights: list[float], threshold: float
) -> tuple[float, float, bool, list[float], list[float]]: ...
def f_oneway(groups: list[_M]) -> tuple[float, float, float, float]: ...
def factorial_anova(
    levels: list[int], cells: list[_M]
) -> tuple[float, float, list[tuple[list[int], float, float, float, float]]]: ...
def mean_confint(m: _M, alpha: float) -> tuple[float, float, float]: ...
def diff_means_confint(a: _M, b: _M, alpha: float, equal_var: bool) -> tuple[float, float, float]: ...
def relative_lift_confint(t: _M, c: _M, alpha: float) -> tuple[float, float, float]: ...
def newcombe_confint(
    count1: int, nobs1: int, count2: int, nobs2: int, alpha: float
) -> tuple[float, float, float]: ...
def planning(what: str, a: float, b: float, ratio: float, alpha: float, alternative: str) -> float: ...
def msprt_means(t: _M, c: _M, tau2: float, alpha: float) -> tuple[float, float, float, float]: ...
def msprt_proportions(
    count_t: int, nobs_t: int, count_c: int, nobs_c: int, tau2: float, alpha: float
) -> tuple[float, float, float, float]: ...
def cuped(
    t: _Co, c: _Co, alpha: float, alternative: str
) -> tuple[float, float, float, float, float, float, float]: ...
def ratio_ztest(
    t: _Co, c: _Co, alpha: float, alternative: str
) -> tuple[float, float, float, float, float, float, float, float, float, float]: ...
def beta_compare(a1: float, b1: float, a2: float, b2: float) -> tuple[float, float]: ...
def beta_prob_best(posteriors: list[tuple[float, float]]) -> list[float]: ...
def normal_compare(mean1: float, var1: float, mean2: float, var2: float) -> tuple[float, float]: ...
