"""Alerts end to end: the hourly step stores what the detector finds for the re-checked days,
a dismissal survives the re-check, and the Alerts page lists, charts and dismisses them."""

from __future__ import annotations

import datetime as dt
import sys

import pandas as pd
import pytest
from sqlalchemy import delete, select

from db import alert_queries as aq
from db import models as m
from db.ingest import bump_data_version
from db.session import unit_of_work


def _found(day: dt.date, campaign_id: int, metric: str = "conversions", score: float = -9.0) -> dict:
    return {"date": pd.Timestamp(day), "channel": "facebook", "campaign_id": campaign_id, "metric": metric,
            "direction": "drop" if score < 0 else "spike", "days": 1, "observed": 0.0, "expected": 12.0, "lo": 6.0,
            "hi": 18.0, "score": score, "severity": "high", "message": "Conversions fell to 0."}


def _listed(conn, status: str | None = None) -> pd.DataFrame:
    return aq.alerts(conn, dt.date(2026, 1, 1), dt.date(2026, 1, 31), status=status)


def test_a_recheck_replaces_its_window_and_keeps_dismissals(conn) -> None:
    day = dt.date(2026, 1, 10)
    first = pd.DataFrame([_found(day, 1), _found(day, 2, "spend", 7.0), _found(dt.date(2026, 1, 2), 3)])
    assert aq.replace_window(conn, first, dt.date(2026, 1, 1), dt.date(2026, 1, 14)) == 3
    listed = _listed(conn)
    assert len(listed) == 3 and set(listed["status"]) == {aq.OPEN}
    dismissed = int(listed.loc[listed["campaign_id"] == 1, "id"].iloc[0])
    assert aq.set_status(conn, dismissed, aq.DISMISSED)

    # The re-check covers the 5th to the 14th: the alert of the 2nd stays, the spend alert is
    # gone (restated data), the dismissed one is found again and stays dismissed.
    again = pd.DataFrame([_found(day, 1, score=-8.0), _found(dt.date(2026, 1, 12), 4)])
    aq.replace_window(conn, again, dt.date(2026, 1, 5), dt.date(2026, 1, 14))
    listed = _listed(conn).set_index("campaign_id")
    assert sorted(listed.index) == [1, 3, 4]
    assert listed.loc[1, "status"] == aq.DISMISSED and listed.loc[1, "score"] == -8.0
    assert listed.loc[1, "id"] == dismissed  # the same alert: a page holding its id still reaches it
    assert listed.loc[4, "status"] == aq.OPEN
    assert list(_listed(conn, aq.OPEN)["campaign_id"]) == [4, 3]  # newest first
    assert not aq.set_status(conn, 10_000, aq.DISMISSED)
    from modeling.anomaly import empty

    assert aq.replace_window(conn, empty(), dt.date(2026, 1, 11), dt.date(2026, 1, 14)) == 0
    assert sorted(_listed(conn)["campaign_id"]) == [1, 3]  # nothing found again on the 11th–14th
    with pytest.raises(ValueError):
        aq.set_status(conn, int(listed.loc[4, "id"]), "snoozed")


# --- the hourly step and the page, on the committed demo data ---------------------------------

@pytest.fixture()
def detected(demo_db):
    from jobs.alert_tasks import AlertJobConfig, detect_alerts

    with unit_of_work() as c:
        c.execute(delete(m.Alert))
        bump_data_version(c)
    config = AlertJobConfig(recheck_days=60, history_days=56)
    rows = detect_alerts("t-alerts", attempt=1, config=config)
    return demo_db, config, rows


def test_the_step_stores_what_the_detector_finds_and_skips_unchanged_data(detected) -> None:
    from jobs.alert_tasks import campaign_days, detect_alerts
    from modeling import anomaly

    demo, config, rows = detected
    end = demo["end"]
    since = end - dt.timedelta(days=config.recheck_days - 1)
    expected = anomaly.detect(campaign_days(since - dt.timedelta(days=config.history_days), end), since=since)
    assert rows == len(expected) > 0  # the demo's 120 days hold labelled incidents
    stored = aq.alerts(None, since, end)
    key = ["campaign_id", "metric"]
    got = stored.assign(date=stored["date"].dt.date).sort_values(["date", *key])
    want = expected.assign(date=pd.to_datetime(expected["date"]).dt.date).sort_values(["date", *key])
    assert got[["date", *key, "severity", "message"]].to_numpy().tolist() == \
        want[["date", *key, "severity", "message"]].to_numpy().tolist()
    assert set(stored["channel"]) <= {"instagram", "facebook", "google_ads", "tiktok", "telegram",
                                      "yandex_direct", "vk_ads"}
    assert detect_alerts("t-alerts-again", attempt=1, config=config) == 0  # data unchanged

    # Every labelled incident of the checked window is among the alerts (campaign and day).
    truth = pd.DataFrame(demo_truth()["anomalies"])
    keys = campaign_ids()
    truth = truth[pd.to_datetime(truth["end_date"]).dt.date >= since]
    for incident in truth.itertuples():
        days = pd.date_range(incident.start_date, incident.end_date).date
        hits = stored[(stored["campaign_id"] == keys[incident.campaign_key])
                      & stored["date"].dt.date.isin(days)]
        assert not hits.empty, incident


def demo_truth() -> dict:
    from db.ingest import get_state
    from db.session import get_engine
    from jobs.sources.demo import TRUTH_KEY

    with get_engine().connect() as c:
        return get_state(c, TRUTH_KEY)


def campaign_ids() -> dict[str, int]:
    """Simulator campaign key ("platform:external id") → the campaign's id in the database."""
    from db.session import get_engine

    with get_engine().connect() as c:
        rows = c.execute(select(m.Platform.slug, m.Campaign.external_id, m.Campaign.id)
                         .join(m.Platform, m.Platform.id == m.Campaign.platform_id)).all()
    return {f"{slug}:{external}": cid for slug, external, cid in rows}


def _page():
    return sys.modules["pages.alerts"]


@pytest.fixture(scope="module")
def app(engine):
    from dashboard.app import create_app

    return create_app()


def test_alerts_on_consecutive_days_of_a_campaign_are_one_incident() -> None:
    from modeling.anomaly import group_incidents

    rows = [(1, "2026-01-09", 7, "conversions", "high", "open"), (2, "2026-01-10", 7, "spend", "medium", "open"),
            (3, "2026-01-10", 7, "conversions", "high", "dismissed"), (4, "2026-01-12", 7, "spend", "medium", "open"),
            (5, "2026-01-10", 8, "cpc", "medium", "dismissed")]
    frame = pd.DataFrame(rows, columns=["id", "date", "campaign_id", "metric", "severity", "status"])
    frame["message"] = "m" + frame["id"].astype(str)
    incidents = group_incidents(frame)
    assert [r for r in incidents["ids"]] == [[4], [1, 2, 3], [5]]  # newest first; a gap splits
    two_days = incidents.iloc[1]
    assert (two_days["primary"], two_days["message"]) == (2, "m2")  # spend speaks for the outage
    assert two_days["metrics"] == ["spend", "conversions"] and two_days["severity"] == "high"
    assert two_days["status"] == "open" and incidents.iloc[2]["status"] == "dismissed"
    assert (two_days["date_from"], two_days["date_to"]) == (pd.Timestamp("2026-01-09"), pd.Timestamp("2026-01-10"))
    assert group_incidents(frame.iloc[:0]).empty


def test_the_page_lists_incidents_charts_and_dismisses(app, detected) -> None:
    from dash_client import view_store

    from db.filters import Filters
    from modeling.anomaly import group_incidents

    demo, config, _ = detected
    since = demo["end"] - dt.timedelta(days=config.recheck_days - 1)
    store = view_store(Filters(since, demo["end"]))
    page = _page()
    rows, summary, _ = page.update_list(store, [], None)
    stored = aq.alerts(None, since, demo["end"])
    incidents = group_incidents(stored)
    assert [r["ids"] for r in rows] == incidents["ids"].tolist()
    assert sorted(i for r in rows for i in r["ids"]) == sorted(stored["id"])
    assert f"{len(incidents)} open incident" in str(summary)

    figure, detail, disabled, label = page.show_alert([0], rows)
    first = stored.set_index("id").loc[rows[0]["id"]]
    assert not disabled and label == "Dismiss" and first["message"] in str(detail)
    assert rows[0]["message"].startswith(first["message"])
    marked = next(t for t in figure["data"] if t["name"] == "Alert")
    incident = incidents.iloc[0]
    start = min(incident["date_from"], first["date"] - pd.Timedelta(days=int(first["days"]) - 1))
    assert marked["x"] == pd.date_range(start, incident["date_to"]).strftime("%Y-%m-%d").tolist()
    on_alert_days = dict(zip(marked["x"], marked["y"]))  # a two-day total adds up both days
    alert_days = pd.date_range(end=first["date"], periods=int(first["days"])).strftime("%Y-%m-%d")
    assert sum(on_alert_days[d] for d in alert_days) == pytest.approx(first["observed"], rel=1e-6)
    assert any(t["name"] == "Normal range" for t in figure["data"]) == (first["days"] == 1)

    assert page.toggle_status(1, [0], rows)["status"] == aq.DISMISSED
    after = aq.alerts(None, since, demo["end"]).set_index("id")
    assert (after.loc[rows[0]["ids"], "status"] == aq.DISMISSED).all()  # the whole incident
    rows_after, summary_after, _ = page.update_list(store, [], {"changed": 1})
    assert rows[0]["ids"] not in [r["ids"] for r in rows_after]
    assert "1 dismissed" in str(summary_after)
    shown_all, _, _ = page.update_list(store, ["yes"], None)
    position = [r["ids"] for r in shown_all].index(rows[0]["ids"])
    _, _, _, label = page.show_alert([position], shown_all)
    assert label == "Reopen"
