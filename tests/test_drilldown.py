"""Drill-down channel → campaign → ad: every level reconciles with the level above."""
import datetime as dt

import pytest
from dash_client import post, view_store

from db import queries
from db.filters import Filters


@pytest.fixture(scope="module")
def app(engine):
    from dashboard.app import create_app

    return create_app()


@pytest.fixture(scope="module")
def window(demo_db) -> Filters:
    end = demo_db["end"]
    return Filters(end - dt.timedelta(days=27), end)


def test_channel_level_links_each_channel_down(app, window):
    shown = post(app, "dd-crumbs.children", {"view-state.data": view_store(window), "dd-channel.data": "all"})
    rows = shown["dd-table"]["children"]["props"]["data"]
    expected = queries.breakdown(None, window, by="channel").set_index("channel")
    assert len(rows) == len(expected)
    for row in rows:
        slug = row["name"].split("](/drilldown/")[1].split("?")[0]
        assert row["spend"] == pytest.approx(expected.loc[slug, "spend"])


def test_campaigns_of_a_channel_reconcile_and_open_their_explanation(app, window):
    shown = post(app, "dd-crumbs.children", {"view-state.data": view_store(window), "dd-channel.data": "facebook"})
    rows = shown["dd-table"]["children"]["props"]["data"]
    channel = Filters(window.date_from, window.date_to, channels=("facebook",))
    campaigns = queries.breakdown(None, channel, by="campaign")
    assert sum(r["spend"] for r in rows) == pytest.approx(queries.totals(None, channel)["spend"])  # < 50 campaigns
    assert len(rows) == len(campaigns)
    ids = {int(r["name"].split("](/explain/")[1].split("?")[0]) for r in rows}
    assert ids == set(campaigns["campaign_id"].astype(int))
    assert {o["value"] for o in shown["dd-campaign"]["options"]} == ids


def test_ads_of_a_campaign_add_up_to_the_campaign(app, window):
    channel = Filters(window.date_from, window.date_to, channels=("facebook",))
    campaign = queries.breakdown(None, channel, by="campaign").nlargest(1, "spend").iloc[0]
    shown = post(app, "dd-ads.children", {"view-state.data": view_store(window),
                                          "dd-campaign.value": int(campaign["campaign_id"])})
    ads = shown["dd-ads"]["children"]["props"]["data"]
    assert len(ads) >= 2
    assert sum(a["spend"] for a in ads) == pytest.approx(campaign["spend"])
    assert sum(a["leads"] for a in ads) == pytest.approx(campaign["leads"])
    assert sum(a["conversions"] for a in ads) == pytest.approx(campaign["conversions"])
