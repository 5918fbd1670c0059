"""A real browser for the tests of tinygen's HTML pages: headless Chromium driven by Selenium.

Debian: ``apt-get install chromium chromium-driver``; ``pip install selenium`` (in the test extras). Where the
browser, its driver or Selenium is missing, the tests that use the ``browser`` fixture skip, saying which.
The flags keep Chromium from reaching for the network (these machines have none: it would stall) and from
touching any profile but a fresh one.
"""
import shutil
import tempfile

import pytest

BROWSERS = ("chromium", "chromium-browser", "google-chrome")
DRIVERS = ("chromedriver",)
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--window-size=1400,900")


def _first_installed(names):
    return next((path for path in map(shutil.which, names) if path), None)


@pytest.fixture(scope="module")
def browser():
    """A headless Chromium (Selenium WebDriver) that keeps its console log; one per test module."""
    webdriver = pytest.importorskip("selenium.webdriver", reason="Selenium is not installed (pip install selenium)")
    from selenium.webdriver.chrome.service import Service

    binary, driver_path = _first_installed(BROWSERS), _first_installed(DRIVERS)
    if binary is None or driver_path is None:
        pytest.skip("Chromium or its driver is not installed (Debian: apt-get install chromium chromium-driver)")
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    profile = tempfile.mkdtemp(prefix="tinygen-chromium-")
    for flag in FLAGS + (f"--user-data-dir={profile}",):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(executable_path=driver_path))
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def console_problems(driver):
    """The console's errors and warnings since the last call (each read empties the log)."""
    return [entry for entry in driver.get_log("browser") if entry["level"] in ("SEVERE", "WARNING")]
