"""A pytest plugin for mutation runs (``-p tests.mutation_plugin``, set in setup.cfg's
[mutmut] section): the CI profile's Hypothesis settings without shrinking.

Against a mutant only whether a test fails matters, not the smallest failing example, and
shrinking one takes most of a failing property test's time. The examples drawn are the CI
profile's (derandomized), so every verdict is the one a CI run would give. Not a test
module (no ``test_`` prefix): pytest does not collect it.
"""

from hypothesis import Phase, settings


def pytest_configure(config):
    # NOTE: runs after tests/conftest.py has loaded its profile, so this one wins.
    settings.register_profile(
        "mutation", settings.get_profile("ci"),
        phases=[p for p in Phase if p not in (Phase.shrink, Phase.explain)])
    settings.load_profile("mutation")
