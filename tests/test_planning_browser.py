"""The Compare, Forecast and Budget pages in headless Chromium at desktop and phone widths:
each renders its charts and tables from the stored runs, and none scrolls sideways."""
from __future__ import annotations

import os
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait
from sqlalchemy import delete

from db import models as m
from db.session import unit_of_work
from jobs.planning_tasks import PlanningJobConfig, fit_curves, forecast

pytestmark = pytest.mark.browser
SHOTS = Path(os.environ.get("DEMETRA_SCREENSHOTS", Path(__file__).resolve().parents[1] / "data" / "screenshots"))
#: page path → what shows it has rendered its data, not just its shell
READY = {
    "compare": ["#cmp-table .dash-cell", "#cmp-forest .main-svg", ".verdict-badge"],
    "forecast": ["#fc-chart .main-svg", "#fc-quality-card"],
    "budget": ["#bu-returns .main-svg", "#bu-curves .main-svg", "#bu-plan-table .dash-cell", "#bu-whatif-mean"],
}


@pytest.fixture(scope="module")
def stored(demo_db):
    with unit_of_work() as c:
        c.execute(delete(m.PlanningForecast))
        c.execute(delete(m.PlanningArtefact))
    config = PlanningJobConfig(n_boot=4, max_folds=1)
    fit_curves("t-browser", attempt=1, config=config)
    forecast("t-browser", attempt=1, config=config)
    return demo_db


@pytest.mark.parametrize("width,height", [(1440, 1000), (375, 812)])
@pytest.mark.parametrize("name", list(READY))
def test_page_renders_without_sideways_scroll(live_server, browser, stored, name, width, height):
    browser.set_window_size(width, height)
    browser.get(f"{live_server}/{name}?period=90d")
    wait = WebDriverWait(browser, 60)
    for selector in READY[name]:
        wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, selector)))
    assert not browser.find_elements(By.ID, "planning-empty")
    assert not [a.text for a in browser.find_elements(By.ID, "global-alert") if a.is_displayed()]
    SHOTS.mkdir(parents=True, exist_ok=True)
    browser.save_screenshot(str(SHOTS / f"{name}-{width}.png"))
    overflow = browser.execute_script("return document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 1, f"{name} scrolls sideways by {overflow}px at {width}px"


def _data_value(browser, element_id: str) -> float | None:
    """The element's data-value, read in one script call: Dash re-renders these elements, so a
    found element can go stale before its attribute is read."""
    value = browser.execute_script(
        "const e = document.getElementById(arguments[0]); return e && e.getAttribute('data-value');", element_id)
    return float(value) if value else None


def test_reset_to_recommended_moves_the_sliders_to_the_plan(live_server, browser, stored):
    browser.set_window_size(1440, 1000)
    browser.get(f"{live_server}/budget")
    wait = WebDriverWait(browser, 60)
    wait.until(lambda d: _data_value(d, "bu-expected") and _data_value(d, "bu-whatif-mean"))
    planned = _data_value(browser, "bu-expected")
    assert _data_value(browser, "bu-whatif-mean") != pytest.approx(planned, rel=1e-9)
    browser.execute_script("arguments[0].click()", browser.find_element(By.ID, "bu-reset"))
    # The what-if at the recommended split is the plan's expected outcome, to the cent.
    wait.until(lambda d: _data_value(d, "bu-whatif-mean") == pytest.approx(planned, rel=1e-9))
