"""The Data sources page in headless Chromium at desktop and phone widths: the list renders with
its badge and masked credentials, nothing scrolls sideways, and a real Kaggle derivative chosen
through the file input is previewed (rows, no problems, the write button enabled) — not written.
"""
from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait
from sqlalchemy import delete

from db import models as m
from db.session import unit_of_work
from db.sources import create_source, set_status

pytestmark = pytest.mark.browser
SHOTS = Path(os.environ.get("DEMETRA_SCREENSHOTS", Path(__file__).resolve().parents[1] / "data" / "screenshots"))
KAGGLE = (Path(__file__).resolve().parents[2] / "shared" / "data" / "kaggle_social_media_advertising"
          / "sagisagi95_Social_Media_Ads_CleanedData.csv")
SECRET = "tiktok-token-" + uuid.uuid4().hex


@pytest.fixture(scope="module")
def broken_source(engine):
    """A TikTok source whose token was revoked, with a long error that must wrap on a phone."""
    name = f"TikTok browser test {uuid.uuid4().hex[:8]}"
    with unit_of_work(engine) as c:
        source_id = create_source(c, kind="tiktok", name=name, account_ref="7000000000000000001",
                                  credentials={"access_token": SECRET})
        set_status(c, source_id, "needs_reauth", "Needs re-authorisation: TikTok says the access token is "
                   "invalid or has expired (code 40105); reconnect the advertiser account to continue syncing.")
    yield name
    with unit_of_work(engine) as c:
        c.execute(delete(m.Source).where(m.Source.id == source_id))


def no_sideways_scroll(browser) -> bool:
    return browser.execute_script("return document.documentElement.scrollWidth <= window.innerWidth + 1")


@pytest.mark.parametrize("width,height", [(1440, 1000), (375, 812)])
def test_sources_list_and_upload_preview(live_server, browser, broken_source, width, height):
    browser.set_window_size(width, height)
    browser.get(f"{live_server}/sources")
    wait = WebDriverWait(browser, 60)
    wait.until(EC.text_to_be_present_in_element((By.ID, "src-list"), broken_source))
    listed = browser.find_element(By.ID, "src-list").text
    assert "needs re-authorisation" in listed and "Reconnect" in listed
    assert "••••" + SECRET[-4:] in listed and SECRET not in browser.page_source
    assert "Local mode" in browser.find_element(By.CLASS_NAME, "sources-page").text
    assert no_sideways_scroll(browser), "the list scrolls sideways"

    currency = browser.find_element(By.ID, "src-u-currency")
    currency.send_keys("USD", Keys.ENTER)  # the derivative's amounts carry no currency sign
    browser.find_element(By.CSS_SELECTOR, "#src-upload input[type=file]").send_keys(str(KAGGLE))
    wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, "#src-preview-table .dash-cell")))
    write = browser.find_element(By.ID, "src-write")
    wait.until(lambda _: write.is_enabled())
    preview = browser.find_element(By.ID, "src-preview").text
    assert "No problems found." in preview and "5,832 rows" in preview and "First 20 of 5,832 rows" in preview
    assert write.text == "Write 5,832 rows"
    rows = browser.find_elements(By.CSS_SELECTOR, "#src-preview-table tbody tr")
    assert len(rows) == 21  # the header row and the first 20
    SHOTS.mkdir(parents=True, exist_ok=True)
    browser.save_screenshot(str(SHOTS / f"sources-{width}.png"))
    assert no_sideways_scroll(browser), "the preview scrolls the page sideways (the table must scroll in its card)"
