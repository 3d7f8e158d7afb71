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


def _dead_database(*_a, **_k):
    from sqlalchemy.exc import OperationalError

    raise OperationalError("SELECT 1", {}, ConnectionRefusedError("connection refused"))


def test_dead_database_gives_a_readable_503(client, monkeypatch):
    from dashboard import data

    monkeypatch.setattr(data, "kpi_comparison", _dead_database)
    resp = client.get("/api/v1/kpis")
    assert resp.status_code == 503
    assert resp.get_json() == {"error": "the database is not reachable right now; try again shortly"}


def test_dead_database_in_a_callback_shows_an_alert_not_a_traceback(client, monkeypatch, demo_db):
    import json

    from dashboard import data
    from dashboard.state import ViewState

    monkeypatch.setattr(data, "kpi_comparison", _dead_database)
    store = ViewState(period="28d").resolved(demo_db["end"]).to_store()
    body = {"output": "ov-kpis.children", "outputs": {"id": "ov-kpis", "property": "children"},
            "inputs": [{"id": "view-state", "property": "data", "value": store}], "changedPropIds": [],
            "state": []}
    resp = client.post("/_dash-update-component", data=json.dumps(body), content_type="application/json")
    text = resp.get_data(as_text=True)
    assert "Traceback" not in text and "OperationalError" not in text
    assert "The database is not reachable right now" in text


@pytest.mark.parametrize("path", ["/", "/budget", "/forecast", "/explain", "/alerts", "/audience",
                                  "/drilldown/all", "/sources"])
def test_dead_database_while_opening_a_page_shows_an_alert_not_a_traceback(client, monkeypatch, path):
    """Pages whose layout reads stored results (recommendations, curves, the model) fail over to
    the global alert; the others render and leave it to their callbacks."""
    import json

    from dashboard import data

    for name in ("planning_run", "alerts", "channel_labels", "available_channels", "score_stamp",
                 "has_active_model"):
        monkeypatch.setattr(data, name, _dead_database)
    body = {"output": ".._pages_content.children..._pages_store.data..",
            "outputs": [{"id": "_pages_content", "property": "children"},
                        {"id": "_pages_store", "property": "data"}],
            "inputs": [{"id": "_pages_location", "property": "pathname", "value": path},
                       {"id": "_pages_location", "property": "search", "value": ""}],
            "changedPropIds": ["_pages_location.pathname"], "state": []}
    resp = client.post("/_dash-update-component", data=json.dumps(body), content_type="application/json")
    text = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "Traceback" not in text and "OperationalError" not in text
    reads_at_layout = path in ("/", "/budget", "/forecast", "/explain")
    assert ("The database is not reachable right now" in text) == reads_at_layout
