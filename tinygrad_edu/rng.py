"""One seedable source of randomness for initializers, dropout and data.

Nothing in tinygrad_edu touches NumPy's global random state. Every function that draws
random numbers takes ``seed=`` (an int, a ``np.random.Generator``, or None) and resolves it
with ``generator``; None means the library's default generator, which
``manual_seed(n)`` replaces so that a whole script is reproducible.
"""

from __future__ import annotations

import numpy as np

from ._checks import is_int

_default = np.random.default_rng()


def manual_seed(seed: int) -> np.random.Generator:
    """Reseed the default generator (as ``torch.manual_seed``); returns it."""
    global _default
    if not (is_int(seed) and seed >= 0):
        raise ValueError(f"manual_seed: seed must be an int >= 0; got {seed!r}")
    _default = np.random.default_rng(int(seed))
    return _default


def generator(seed: int | np.random.Generator | None = None) -> np.random.Generator:
    """The generator to draw from: the default one for None, a new one seeded with an int,
    or the given ``np.random.Generator`` itself."""
    if seed is None:
        return _default
    if isinstance(seed, np.random.Generator):
        return seed
    if not (is_int(seed) and seed >= 0):
        raise ValueError(f"seed must be None, an int >= 0 or a np.random.Generator; got "
                         f"{seed!r}")
    return np.random.default_rng(int(seed))


def own_generator(seed: int | np.random.Generator | None) -> np.random.Generator | None:
    """What a layer, loader or transform keeps from its ``seed=``: None stays None, so each
    call draws from the default generator of that moment (``manual_seed`` applies); an int
    becomes a generator of its own, so successive calls draw new numbers rather than
    repeating the seed's first draw."""
    return None if seed is None else generator(seed)
