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
"""

from ._litmus import Arm, Bandit, Policy, Random

__all__ = ["Arm", "Bandit", "Policy", "Random"]
