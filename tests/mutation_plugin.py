"""A pytest plugin for mutation runs (``-p tests.mutation_plugin``, set in setup.cfg's
[mutmut] section): the CI profile's Hypothesis settings without shrinking, and the
fastest tests first.

Against a mutant only whether a test fails matters, not the smallest failing example, and
shrinking one takes most of a failing property test's time. The examples drawn are the CI
profile's (derandomized), so every verdict is the one a CI run would give. Not a test
module (no ``test_`` prefix): pytest does not collect it.
"""

import json
from pathlib import Path

from hypothesis import Phase, settings

# mutmut runs pytest inside mutants/, where it keeps each test's duration from its first,
# recording run.
STATS = Path("mutmut-stats.json")


def pytest_configure(config):
    # NOTE: runs after tests/conftest.py has loaded its profile, so this one wins.
    settings.register_profile(
        "mutation", settings.get_profile("ci"),
        phases=[p for p in Phase if p not in (Phase.shrink, Phase.explain)])
    settings.load_profile("mutation")


def pytest_collection_modifyitems(items):
    """Run a mutant's tests in the order of their recorded durations, fastest first.

    mutmut stops at the first failure (``-x``), and hands pytest a mutant's tests in no
    particular order: a mutant that a quick test kills then often waits for a slow one
    first. The order cannot change a verdict: mutmut passes the tests as a set, whose order
    changes from one run to the next, so no verdict could rely on an order. A test with no
    recorded duration (new since the recording) runs first.
    """
    if not STATS.exists():
        return
    durations = json.loads(STATS.read_text())["duration_by_test"]
    items.sort(key=lambda item: durations.get(item.nodeid, 0.0))
