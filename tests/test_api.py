"""The JSON API and /healthz: same numbers as the query layer, clear errors for bad input."""
import datetime as dt

import pytest

from db import queries
from db.filters import Filters


@pytest.fixture(scope="module")
def client(demo_db):
    from dashboard.app import create_app

    return create_app().server.test_client()


def test_kpis_equal_the_query_layer(client, demo_db):
    end = demo_db["end"]
    start = end - dt.timedelta(days=13)
    resp = client.get(f"/api/v1/kpis?date_from={start}&date_to={end}&channels=vk_ads,facebook&currency=EUR")
    assert resp.status_code == 200
    body = resp.get_json()
    expected = queries.kpis(None, Filters(start, end, channels=("vk_ads", "facebook"), currency="EUR"))
    for slug in ("spend", "revenue", "roas", "cpl", "ctr", "leads"):
        assert body["kpis"][slug] == pytest.approx(expected[slug], rel=1e-9)
    assert body["filters"]["currency"] == "EUR"


def test_timeseries_by_channel(client, demo_db):
    end = demo_db["end"]
    start = end - dt.timedelta(days=6)
    body = client.get(f"/api/v1/timeseries?date_from={start}&date_to={end}&metrics=spend,roas").get_json()
    rows = body["rows"]
    assert {r["date"] for r in rows} == {(start + dt.timedelta(days=i)).isoformat() for i in range(7)}
    total = sum(r["spend"] for r in rows)
    assert total == pytest.approx(queries.totals(None, Filters(start, end))["spend"], rel=1e-9)
    assert all(set(r) == {"date", "channel", "spend", "roas"} for r in rows)


@pytest.mark.parametrize("query,message", [
    ("date_from=2026-13-01", "ISO date"),
    ("date_from=2026-02-01&date_to=2026-01-01", "after"),
    ("metrics=spend,bogus", "unknown metrics"),
    ("currency=XYZ", "unknown currency"),
])
def test_bad_parameters_get_a_clear_400(client, query, message):
    resp = client.get(f"/api/v1/kpis?{query}")
    assert resp.status_code == 400
    assert message in resp.get_json()["error"]


def test_healthz_reports_database_redis_and_last_cycle(client):
    body = client.get("/healthz").get_json()
    assert body["database"]["ok"] is True
    assert body["redis"]["ok"] is True
    assert "last_cycle" in body and body["status"] in ("ok", "degraded")
