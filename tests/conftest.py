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
