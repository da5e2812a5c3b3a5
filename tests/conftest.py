"""Hypothesis profiles (deterministic in CI, a little wider when developing) and the
``browser`` fixture: headless Chromium driven by Selenium, for the step viewer's page."""

import importlib.util
import os
import shutil

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci",
    derandomize=True,
    deadline=None,
    max_examples=25,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "dev",
    deadline=None,
    max_examples=40,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile("ci" if os.environ.get("CI") else os.environ.get("HYPOTHESIS_PROFILE", "dev"))


def missing_in_ci_fails(message: str) -> None:
    """Something a test needs is missing: a failure in CI (CI=true), where nothing may be
    skipped, and a skip naming what to install elsewhere."""
    if os.environ.get("CI") == "true":
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


# ----------------------------------------------------------------------------------------
# A real browser
# ----------------------------------------------------------------------------------------

INSTALL_BROWSER = ("`make chromium` installs the browser and its driver (or run `apt-get "
                   "install chromium chromium-driver`); selenium is in the dev extra "
                   "(`pip install -e '.[dev]'`)")

# NOTE: the network may be closed, so Chromium must not phone home (background
# networking, component updates, sync, QUIC), and it runs as root in CI (no sandbox).
CHROMIUM_FLAGS = ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic",
                  "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
                  "--window-size=1200,900")


@pytest.fixture(scope="session")
def browser(tmp_path_factory):
    """A headless Chromium WebDriver, shared by the session and quit at its end.

    Selenium drives the Chromium and chromedriver found on PATH (Debian's ``chromium``
    and ``chromium-driver``, the same version), so Selenium Manager downloads nothing.
    Without them the browser tests are skipped, or fail when CI=true. The browser's
    console is recorded: ``browser.get_log("browser")`` returns (and clears) its entries.
    """
    chromium, chromedriver = shutil.which("chromium"), shutil.which("chromedriver")
    missing = [name for name, found in (("chromium", chromium),
                                        ("chromedriver", chromedriver),
                                        ("selenium", importlib.util.find_spec("selenium")))
               if found is None]
    if missing:
        missing_in_ci_fails(f"the browser tests need {', '.join(missing)}, not found. "
                            f"{INSTALL_BROWSER}")

    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(executable_path=chromedriver))
    try:
        yield driver
    finally:
        driver.quit()
