"""The Explain page in headless Chromium at desktop and phone widths, against stored scores.

The waterfall's campaign comes from the URL, and the drivers the browser shows must be exactly
what modeling.explain_text says for the SHAP values stored in the database.
"""
from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait
from sqlalchemy import delete

from dashboard.state import ViewState
from db import model_queries as mq
from db import models as m
from db.config import get_settings
from db.session import unit_of_work
from jobs import modeling_tasks
from modeling import roi_model
from modeling.explain_text import drivers

pytestmark = pytest.mark.browser
SHOTS = Path(os.environ.get("DEMETRA_SCREENSHOTS", Path(__file__).resolve().parents[1] / "data" / "screenshots"))
TARGET = modeling_tasks.ModelJobConfig().target
#: The filter bar rewrites a URL without its query, which renders the page a second time; links
#: from the app carry it, and so do the URLs opened here, so elements are not replaced under us.
QUERY = ViewState().to_query()


def _clear_registry() -> None:
    with unit_of_work() as c:
        c.execute(delete(m.CampaignScore))
        c.execute(delete(m.ModelVersion))


@pytest.fixture(scope="module")
def scored(demo_db):
    """The demo data with a promoted, scored model (trained here if no earlier test left one)."""
    modeling_tasks.retrain("browser-setup", attempt=1)
    modeling_tasks.score("browser-setup", attempt=1)
    record = mq.model_record(None, mq.score_stamp(None, TARGET)[0])
    return record, mq.scores(None, record.id)


def _expected_drivers(record: mq.ModelRecord, row: pd.Series) -> list[str]:
    model = roi_model.from_bytes(mq.model_artefact(None, record.id))
    return drivers(model, pd.Series(row["features"], dtype=object), pd.Series(row["shap"], dtype="float64"),
                   top=5, currency=get_settings().reporting_currency)


def _open(browser, url: str, width: int, height: int, ready: str) -> WebDriverWait:
    browser.set_window_size(width, height)
    browser.get(url)
    wait = WebDriverWait(browser, 60, ignored_exceptions=(StaleElementReferenceException,))  # re-renders
    wait.until(EC.visibility_of_element_located((By.CSS_SELECTOR, ready)))
    return wait


def _charts_drawn(wait: WebDriverWait) -> None:
    """Every chart has drawn its data (an empty dcc.Graph draws its svg too) and the table rows."""
    for graph, mark in (("ex-waterfall", ".waterfalllayer .point"), ("ex-importance", ".bars .point"),
                        ("ex-beeswarm", ".point"), ("ex-dependence", ".point")):
        wait.until(lambda d, g=graph, k=mark: d.find_elements(By.CSS_SELECTOR, f"#{g} {k}"))
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#ex-table td.dash-cell"))


def _click_when_still(browser, locate: Callable[[], WebElement]) -> None:
    """Click once no callback is pending and the element has stopped moving: a table whose data
    arrives mid-click replaces the link under the pointer, charts drawing above shift it, and a
    chart redrawn on resize replaces its points (so the element is looked up afresh each time).

    "Moving" is judged where the pointer lands, in the viewport, as well as in the page:
    WebElement.rect is page-relative, so it stays put while the page scrolls, and Bootstrap's
    `scroll-behavior: smooth` animates a scrollIntoView for over half a second; the click's
    coordinates, taken mid-animation, then land beside a 15px-high link, on its table cell."""
    seen: list[tuple] = []

    def still(driver) -> bool:
        element = locate()
        busy, viewport = driver.execute_script("""
            arguments[0].scrollIntoView({block: 'center', behavior: 'instant'});
            const r = arguments[0].getBoundingClientRect();
            return [document.querySelectorAll('[data-dash-is-loading]').length,
                    [r.left, r.top, r.width, r.height, window.scrollX, window.scrollY]];""", element)
        seen.append((busy, element.rect, viewport))
        if not (len(seen) > 2 and seen[-1] == seen[-2] == seen[-3] and busy == 0):
            return False
        ActionChains(driver).move_to_element(element).click().perform()
        return True

    WebDriverWait(browser, 30, poll_frequency=0.25, ignored_exceptions=(StaleElementReferenceException,)) \
        .until(still)


def _no_sideways_scroll(browser) -> bool:
    return browser.execute_script("return document.documentElement.scrollWidth <= window.innerWidth + 1")


@pytest.mark.parametrize("width,height", [(1440, 1000), (375, 812)])
def test_campaign_in_the_url_is_explained_in_the_stored_words(live_server, browser, scored, width, height):
    record, stored = scored
    row = stored.sort_values("spend", ascending=False).iloc[1]  # not the page's default campaign
    wait = _open(browser, f"{live_server}/explain/{row['campaign_id']}{QUERY}", width, height, "#ex-drivers li")
    assert browser.find_element(By.ID, "ex-campaign-name").text == row["campaign"]
    shown = [li.text for li in browser.find_elements(By.CSS_SELECTOR, "#ex-drivers li")]
    assert shown == _expected_drivers(record, row)
    card = browser.find_element(By.ID, "ex-card")
    assert card.is_displayed() and f"ROI model v{record.version}" in card.text
    assert browser.find_element(By.ID, "ex-verdict").text == f"Verdict: {record.card['verdict']}."
    _charts_drawn(wait)
    SHOTS.mkdir(parents=True, exist_ok=True)
    browser.save_screenshot(str(SHOTS / f"explain-{width}.png"))
    assert _no_sideways_scroll(browser), "the page scrolls sideways"


def test_table_rows_and_chart_points_open_their_campaign(live_server, browser, scored):
    _, stored = scored
    names = stored.set_index("campaign_id")["campaign"]
    wait = _open(browser, f"{live_server}/explain{QUERY}", 1440, 1000, "#ex-table a")
    _charts_drawn(wait)
    link = browser.find_elements(By.CSS_SELECTOR, "#ex-table a")[1]  # the first is the default
    target = int(link.get_attribute("href").split("/explain/")[1].split("?")[0])
    _click_when_still(browser, lambda: browser.find_elements(By.CSS_SELECTOR, "#ex-table a")[1])
    wait.until(lambda d: f"/explain/{target}" in d.current_url)
    wait.until(lambda d: d.find_element(By.ID, "ex-campaign-name").text == names[target])
    _charts_drawn(wait)

    # The rightmost dot of another campaign (isolated, so the click cannot land on a neighbour).
    index = browser.execute_script("""
        const trace = document.querySelector('#ex-beeswarm .js-plotly-plot').data[0];
        let best = -1;
        trace.x.forEach((x, i) => { if (trace.customdata[i] !== arguments[0]
                                        && (best < 0 || x > trace.x[best])) best = i; });
        return best;""", target)
    _click_when_still(browser, lambda: browser.find_elements(
        By.CSS_SELECTOR, "#ex-beeswarm .scatterlayer .trace")[0].find_elements(By.CSS_SELECTOR, ".point")[index])
    wait.until(lambda d: f"/explain/{target}" not in d.current_url)
    clicked = int(browser.current_url.split("/explain/")[1].split("?")[0])
    wait.until(lambda d: d.find_element(By.ID, "ex-campaign-name").text == names[clicked])


def test_query_string_link_lands_on_the_campaign(live_server, browser, scored):
    _, stored = scored
    row = stored.iloc[0]
    browser.set_window_size(1440, 1000)
    browser.get(f"{live_server}/explain?campaign={row['campaign_id']}&period=90d")
    landed = WebDriverWait(browser, 60, ignored_exceptions=(WebDriverException,))  # it reloads
    landed.until(lambda d: d.find_element(By.ID, "ex-campaign-name").text == row["campaign"])
    assert f"/explain/{row['campaign_id']}?" in browser.current_url and "period=90d" in browser.current_url


def test_empty_state_before_the_first_model(live_server, browser, demo_db):
    _clear_registry()
    try:
        _open(browser, f"{live_server}/explain", 375, 812, "#ex-empty")
        assert browser.find_element(By.ID, "ex-empty").text == "The first model is trained in the next hourly cycle."
        assert not browser.find_elements(By.ID, "ex-card")
        assert _no_sideways_scroll(browser)
    finally:  # leave a scored model for whoever runs next, as the hourly cycle would
        modeling_tasks.retrain("browser-restore", attempt=1)
        modeling_tasks.score("browser-restore", attempt=1)
