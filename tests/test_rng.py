"""The default generator and seeds."""

import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu.rng import generator, own_generator


def test_manual_seed_makes_draws_reproducible():
    tg.manual_seed(3)
    a = generator().standard_normal(4)
    tg.manual_seed(3)
    assert np.array_equal(a, generator().standard_normal(4))


def test_generator_accepts_int_generator_or_none():
    g = np.random.default_rng(1)
    assert generator(g) is g
    assert np.array_equal(generator(5).random(3), np.random.default_rng(5).random(3))


@pytest.mark.parametrize("bad", [-1, 1.5, "7", True])
def test_bad_seeds_are_clear_errors(bad):
    with pytest.raises(ValueError, match="seed must be"):
        generator(bad)
    with pytest.raises(ValueError, match="manual_seed: seed must be an int >= 0"):
        tg.manual_seed(bad)


def test_own_generator_keeps_none_and_makes_one_stream_from_an_int():
    assert own_generator(None) is None
    g = np.random.default_rng(1)
    assert own_generator(g) is g
    kept = own_generator(5)
    first, second = kept.random(3), kept.random(3)
    assert np.array_equal(first, np.random.default_rng(5).random(3))
    assert not np.array_equal(first, second)
    with pytest.raises(ValueError, match="seed must be None, an int >= 0"):
        own_generator(-1)
