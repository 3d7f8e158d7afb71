"""The overview page in headless Chromium at desktop and phone widths.

The KPI numbers the browser shows must equal the SQL aggregates for the same filter.
"""
import datetime as dt
import os
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

from db import metrics as mx
from db import queries
from db.filters import Filters

pytestmark = pytest.mark.browser
SHOTS = Path(os.environ.get("DEMETRA_SCREENSHOTS", Path(__file__).resolve().parents[1] / "data" / "screenshots"))


def _open(browser, url: str, width: int, height: int):
    browser.set_window_size(width, height)
    browser.get(url)
    wait = WebDriverWait(browser, 60)
    wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, ".kpi-value")))
    wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, ".kpi-value")) == len(mx.OVERVIEW_KPIS))
    wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, "#ov-channel-table .dash-cell")))
    return wait


@pytest.mark.parametrize("width,height", [(1440, 1000), (375, 812)])
def test_kpis_shown_equal_sql_aggregates(live_server, browser, demo_db, width, height):
    end = demo_db["end"]
    start = end - dt.timedelta(days=27)
    channels = ("facebook", "google_ads", "tiktok")
    url = f"{live_server}/?period=custom&from={start}&to={end}&channels={','.join(channels)}"
    _open(browser, url, width, height)
    expected = queries.kpis(None, Filters(start, end, channels=channels), mx.OVERVIEW_KPIS)
    shown = {}
    for el in browser.find_elements(By.CSS_SELECTOR, ".kpi-value"):
        slug = el.get_attribute("id").split('"metric":"')[1].split('"')[0]
        shown[slug] = (float(el.get_attribute("data-value")), el.text)
    assert set(shown) == set(mx.OVERVIEW_KPIS)
    for slug, (value, text) in shown.items():
        assert value == pytest.approx(expected[slug], rel=1e-9), slug
        assert text == mx.get(slug).format(expected[slug], "USD")
    SHOTS.mkdir(parents=True, exist_ok=True)
    browser.save_screenshot(str(SHOTS / f"overview-{width}.png"))
    no_overflow = browser.execute_script("return document.documentElement.scrollWidth <= window.innerWidth + 1")
    assert no_overflow, "the page scrolls sideways"
    toggler = browser.find_element(By.CSS_SELECTOR, ".navbar-toggler")
    assert toggler.is_displayed() == (width < 992)


def test_filters_live_in_the_url(live_server, browser, demo_db):
    _open(browser, f"{live_server}/?period=90d&compare=year&currency=EUR", 1440, 1000)
    WebDriverWait(browser, 30).until(lambda d: "currency=EUR" in d.current_url and "compare=year" in d.current_url)
    label = browser.find_element(By.CSS_SELECTOR, ".kpi-value").text
    assert label.startswith("€")
