"""Screenshots of running pages for the README, in Debian's headless Chromium.

    .venv/bin/python tools/screenshots.py http://127.0.0.1:8050 / /explain
"""
from __future__ import annotations

import shutil
import sys
import tempfile
import time
from pathlib import Path

from selenium import webdriver
from selenium.webdriver.chrome.service import Service

OUT = Path(__file__).resolve().parents[1] / "docs" / "screenshots"
SIZES = {"desktop": (1440, 1000), "phone": (390, 844)}


def main(base: str, paths: list[str]) -> None:
    opts = webdriver.ChromeOptions()
    opts.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--hide-scrollbars",
                 "--disable-background-networking", f"--user-data-dir={tempfile.mkdtemp()}"):
        opts.add_argument(flag)
    driver = webdriver.Chrome(service=Service(shutil.which("chromedriver") or "/usr/bin/chromedriver"), options=opts)
    OUT.mkdir(parents=True, exist_ok=True)
    try:
        for path in paths:
            name = path.strip("/").split("?")[0].split("/")[0] or "overview"
            for label, (width, height) in SIZES.items():
                driver.set_window_size(width, height)
                driver.get(base + path)
                time.sleep(8)
                full = driver.execute_script("return document.documentElement.scrollHeight")
                driver.set_window_size(width, min(full, 2600 if label == "phone" else 1500))
                time.sleep(2)
                driver.save_screenshot(str(OUT / f"{name}-{label}.png"))
                print(OUT / f"{name}-{label}.png")
    finally:
        driver.quit()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2:] or ["/"])
