"""Multi-armed bandits, decided by the Rust core: Thompson sampling (Beta and Normal-Gamma),
UCB1, KL-UCB and epsilon-greedy, with priors, burn-in, floors and optimistic starts.

>>> from litmus.bandit import Bandit, Policy
>>> b = Bandit(Policy.thompson_beta(), ["red", "blue"], seed=7)
>>> arm = b.choose()
>>> b.update(arm, 1.0)
>>> sorted(b.weights())
['blue', 'red']

Low level: :class:`Arm` (a mergeable reward summary), :class:`Policy` (``choose``,
``weights``) and :class:`Random` (the portable seeded generator: the same seed draws the same
numbers in every Litmus language).

Inference: :func:`stratified` estimates each arm within the periods of constant weights and
combines them, so a metric drifting while the weights move does not bias the comparison (the
figures the server shows for a bandit's results).
"""

from typing import Any, Union

from ._litmus import Arm, Bandit, Policy, Random, bandit_stratified

__all__ = ["Arm", "Bandit", "Policy", "Random", "stratified"]


def stratified(request: Union[str, bytes, dict[str, Any]]) -> dict[str, Any]:
    """A bandit's inference stratified by its periods of constant weights.

    ``request``: ``variants`` (the control first), ``units`` (columns, one entry per unit: ``{"variant": [...], "first_ms": [...],
    "value": [...]}``, its first exposure and its total of the metric), ``changes_ms`` (when
    the weights changed), ``metric`` (``{"key", "kind": "conversion" | "mean", "goal"}``) and
    ``analysis`` (``alpha``, ``correction``). Returns ``{"method", "metric", "kind",
    "periods", "arms", "comparisons"}``.

    Raises:
        ConfigError: a bad field, with its code and path (``units.variant[3]``).
    """
    return bandit_stratified(request)
