"""Test set-up: a real database (SQLite file by default, PostgreSQL when DATABASE_URL says so),
migrated once per session; each `conn` test runs inside a transaction that is rolled back.
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

_TMP = Path(tempfile.mkdtemp(prefix="demetra-test-"))
os.environ.setdefault("DEMETRA_DATA_DIR", str(_TMP))
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/15")  # a Redis database of the tests' own
# The cycle's recommend step writes with the facts' own sentences; the language-model path is
# tested on a tiny model built in tests/test_llm.py (there is no model hub here).
os.environ.setdefault("DEMETRA_LLM_MODEL", "none")
if not os.environ.get("DATABASE_URL"):
    os.environ["DATABASE_URL"] = f"sqlite:///{_TMP / 'test.db'}"

SHARED = Path(__file__).resolve().parents[2] / "shared"
DB_FIXTURES = {"engine", "conn", "demo_db", "live_server"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if DB_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.db)


@pytest.fixture(scope="session")
def engine():
    from sqlalchemy import text

    from db.migrate import upgrade
    from db.models import Base
    from db.session import get_engine

    engine = get_engine()
    if engine.dialect.name == "postgresql":  # start from an empty schema every session
        with engine.begin() as c:
            c.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    upgrade()
    yield engine
    del Base


@pytest.fixture()
def conn(engine):
    """A connection whose work is rolled back after the test: tests never see each other's rows."""
    with engine.connect() as connection:
        trans = connection.begin()
        try:
            yield connection
        finally:
            trans.rollback()


@pytest.fixture(scope="session")
def demo_db(engine):
    """A small committed demo data set shared by the read-only tests (pages, API, worker)."""
    import datetime as dt

    from db.session import unit_of_work
    from jobs.sources import demo

    end = dt.date(2026, 6, 30)
    with unit_of_work(engine) as c:
        demo.load_demo(c, days=120, seed=7, scale=0.5, reporting_currency="USD", end_date=end)
    return {"end": end, "days": 120, "seed": 7}


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def live_server(demo_db):
    """The real WSGI app under gunicorn, on the test database with the demo data committed."""
    import subprocess
    import sys
    import time

    import httpx

    port = _free_port()
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    gunicorn = Path(sys.executable).parent / "gunicorn"
    proc = subprocess.Popen([str(gunicorn), "wsgi:server", "--bind", f"127.0.0.1:{port}", "--workers", "1",
                             "--threads", "4", "--timeout", "120"],
                            cwd=Path(__file__).resolve().parents[1], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            if httpx.get(url + "/healthz", timeout=2).status_code in (200, 503):
                break
        except httpx.HTTPError:
            time.sleep(0.3)
    else:
        proc.kill()
        raise RuntimeError("gunicorn did not start:\n" + proc.stdout.read().decode(errors="replace"))
    yield url
    proc.terminate()
    proc.wait(timeout=20)


@pytest.fixture(scope="session")
def browser():
    """Headless Debian Chromium driven by Selenium (no downloaded browser builds)."""
    import shutil

    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    chromium = shutil.which("chromium")
    driver_path = shutil.which("chromedriver")
    if not (chromium and driver_path):
        pytest.fail("Chromium is missing: bin/demetra test installs Debian's chromium and chromium-driver")
    opts = webdriver.ChromeOptions()
    opts.binary_location = chromium
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
                 "--no-first-run", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--hide-scrollbars", f"--user-data-dir={_TMP / 'chromium'}"):
        opts.add_argument(flag)
    driver = webdriver.Chrome(service=Service(driver_path), options=opts)
    yield driver
    driver.quit()
