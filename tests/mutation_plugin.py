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
    durations = _recorded_durations()
    items.sort(key=lambda item: durations.get(item.nodeid, 0.0))


_durations: dict[str, float] = {}


def _recorded_durations() -> dict[str, float]:
    """Read once there is a recording: mutmut forks each mutant's run from a process that
    has collected the tests, and the copy it inherits is the recording's."""
    if not _durations and STATS.exists():
        _durations.update(json.loads(STATS.read_text())["duration_by_test"])
    return _durations
