"""The Audience page in headless Chromium at desktop and phone widths: its verdict is the timing
module's, and the page never scrolls sideways (wide tables scroll inside their card)."""
import datetime as dt
import os
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

from dashboard.data import TIMING_DRAWS
from db import audience_queries as aq
from db.filters import Filters
from modeling import timing

pytestmark = pytest.mark.browser
SHOTS = Path(os.environ.get("DEMETRA_SCREENSHOTS", Path(__file__).resolve().parents[1] / "data" / "screenshots"))


@pytest.mark.parametrize("width,height", [(1440, 1000), (375, 812)])
def test_audience_page_says_the_timing_verdict_and_fits(live_server, browser, demo_db, width, height):
    end = demo_db["end"]
    start = end - dt.timedelta(days=89)
    browser.set_window_size(width, height)
    browser.get(f"{live_server}/audience?period=custom&from={start}&to={end}")
    wait = WebDriverWait(browser, 60)
    sentence = wait.until(EC.presence_of_element_located((By.ID, "aud-time-sentence")))
    wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, "#aud-table-data .dash-cell")))
    wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, "#aud-heatmap .heatmaplayer")))
    wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, "#aud-chart .barlayer")))
    expected = timing.analyse(aq.hourly_cells(None, Filters(start, end)), "ctr", n_boot=TIMING_DRAWS)
    assert sentence.text == timing.sentence(expected, "Ads shown")
    SHOTS.mkdir(parents=True, exist_ok=True)
    browser.save_screenshot(str(SHOTS / f"audience-{width}.png"))
    no_overflow = browser.execute_script("return document.documentElement.scrollWidth <= window.innerWidth + 1")
    assert no_overflow, "the page scrolls sideways"
