"""Ingestion on a real database: idempotent upserts, FX conversion, rollup and query totals."""
import datetime as dt

import pandas as pd
import pytest

from db import ingest, queries
from db.filters import Filters


def rows(days=3, spend=10.0, currency="USD", platform="facebook", account="act_1"):
    out = []
    for d in range(days):
        for ad in ("a1", "a2"):
            out.append({"date": dt.date(2026, 1, 1) + dt.timedelta(days=d), "platform": platform,
                        "account_id": account, "currency": currency, "campaign_id": "c1", "campaign_name": "Camp",
                        "ad_set_id": "s1", "ad_id": ad, "spend": spend, "impressions": 1000, "reach": 400,
                        "clicks": 50, "leads": 5, "conversions": 2, "revenue": 3 * spend, "engagements": 7,
                        "video_views": 0})
    return pd.DataFrame(out)


F = Filters(dt.date(2026, 1, 1), dt.date(2026, 1, 31))


def test_loading_twice_gives_the_same_totals(conn):
    ingest.ingest_ad_daily(conn, rows(), "USD")
    first = queries.totals(conn, F)
    ingest.ingest_ad_daily(conn, rows(), "USD")
    assert queries.totals(conn, F) == first
    assert first["spend"] == pytest.approx(3 * 2 * 10.0)
    assert first["clicks"] == 3 * 2 * 50


def test_restated_values_replace_old_ones(conn):
    ingest.ingest_ad_daily(conn, rows(spend=10.0), "USD")
    ingest.ingest_ad_daily(conn, rows(days=1, spend=20.0), "USD")  # day 1 restated
    assert queries.totals(conn, F)["spend"] == pytest.approx(2 * 20.0 + 4 * 10.0)


def test_money_converted_with_the_days_fx_rate(conn):
    ingest.ingest_fx(conn, pd.DataFrame({"date": [dt.date(2026, 1, 1), dt.date(2026, 1, 3)],
                                         "currency": ["RUB", "RUB"], "rate": [0.01, 0.02]}))
    ingest.ingest_ad_daily(conn, rows(spend=1000.0, currency="RUB", platform="vk_ads"), "USD")
    t = queries.totals(conn, F)
    # day 1 and day 2 (carried forward) at 0.01, day 3 at 0.02; two ads per day
    assert t["spend"] == pytest.approx(2 * (10 + 10 + 20))
    assert t["revenue"] == pytest.approx(3 * t["spend"])


def test_unknown_currency_is_refused_and_nothing_written(conn):
    with pytest.raises(ingest.IngestError, match="No FX rate for JPY"):
        ingest.ingest_ad_daily(conn, rows(currency="JPY"), "USD")


def test_kpis_and_breakdown_agree_with_hand_sums(conn):
    ingest.ingest_ad_daily(conn, rows(spend=10.0), "USD")
    ingest.ingest_ad_daily(conn, rows(spend=30.0, platform="tiktok", account="adv_9"), "USD")
    k = queries.kpis(conn, F, ["spend", "roas", "ctr", "cpl"])
    assert k["spend"] == pytest.approx(6 * 10 + 6 * 30)
    assert k["roas"] == pytest.approx(3.0)
    assert k["ctr"] == pytest.approx(50 / 1000)
    assert k["cpl"] == pytest.approx((6 * 40) / (12 * 5))
    by = queries.breakdown(conn, F).set_index("channel")
    assert by.loc["tiktok", "spend"] == pytest.approx(180)
    only = queries.kpis(conn, Filters(F.date_from, F.date_to, channels=("facebook",)), ["spend"])
    assert only["spend"] == pytest.approx(60)


def test_timeseries_recomputes_ratios_per_period(conn):
    ingest.ingest_ad_daily(conn, rows(spend=10.0), "USD")
    ts = queries.timeseries(conn, F, "cpc", by="channel", interval="day")
    assert list(ts["cpc"]) == pytest.approx([20 / 100] * 3)
    weekly = queries.timeseries(conn, F, "spend", by=None, interval="week")
    assert weekly["spend"].sum() == pytest.approx(60)


def test_campaign_filter_reads_the_fact_table(conn):
    ingest.ingest_ad_daily(conn, rows(spend=10.0), "USD")
    ingest.ingest_ad_daily(conn, rows(spend=5.0, account="act_2"), "USD")
    camps = queries.breakdown(conn, F, by="campaign")
    assert len(camps) == 2
    one = int(camps.sort_values("spend").iloc[0]["campaign_id"])
    assert queries.totals(conn, Filters(F.date_from, F.date_to, campaign_ids=(one,)))["spend"] == pytest.approx(30)


@pytest.mark.parametrize("interval", ["week", "month"])
def test_edge_periods_are_flagged_partial(conn, interval):
    ingest.ingest_ad_daily(conn, rows(days=3, spend=10.0), "USD")  # Thu 1 Jan – Sat 3 Jan 2026
    ts = queries.timeseries(conn, Filters(dt.date(2026, 1, 1), dt.date(2026, 1, 3)), "spend", by=None,
                            interval=interval)
    assert ts["spend"].sum() == pytest.approx(60)
    assert ts["partial"].all()


def _sums(conn, table: str, keys: str = "date, hour, account_id") -> pd.DataFrame:
    """Sums per key over the test's two accounts (other tests may have committed data of their own)."""
    from sqlalchemy import select, text

    from db import models as m

    mine = conn.execute(select(m.AdAccount.id).where(m.AdAccount.external_id.in_(list(ACCOUNTS)))).scalars()
    ids = ", ".join(str(i) for i in mine) or "NULL"
    frame = pd.DataFrame(conn.execute(text(
        f"SELECT {keys}, SUM(spend_rc), SUM(clicks), SUM(conversions) FROM {table} WHERE account_id IN ({ids}) "
        f"AND date BETWEEN '2026-01-01' AND '2026-01-31' GROUP BY {keys} ORDER BY {keys}")).all(),
        columns=[*keys.split(", "), "spend", "clicks", "conversions"])
    return frame.assign(date=pd.to_datetime(frame["date"])).astype({c: float for c in ("spend", "clicks", "conversions")})


AUDIENCE_KEYS = "date, account_id, age_band, gender, geo, segment"
#: Account names no other test uses: the rollups are checked account by account.
ACCOUNTS = ("act_rollup_1", "act_rollup_2")


def test_the_breakdown_rollups_follow_their_facts_through_loads_and_cleared_windows(conn):
    from db import audience_queries as aq

    ingest.ingest_ad_daily(conn, rows(days=3, account=ACCOUNTS[0]), "USD")
    ingest.ingest_ad_daily(conn, rows(days=3, account=ACCOUNTS[1]), "USD")
    hours = pd.DataFrame([{"date": dt.date(2026, 1, 1) + dt.timedelta(days=d), "hour": h, "platform": "facebook",
                           "account_id": account, "campaign_id": "c1", "spend": 1.5 + h, "clicks": h, "conversions": 1}
                          for d in range(3) for h in (9, 20) for account in ACCOUNTS])
    ingest.ingest_hourly(conn, hours, "USD")
    people = pd.DataFrame([{"date": dt.date(2026, 1, 1) + dt.timedelta(days=d), "platform": "facebook",
                            "account_id": account, "campaign_id": "c1", "age_band": age, "gender": "female",
                            "geo": "DE", "spend": 2.0, "clicks": 3, "conversions": 1}
                           for d in range(3) for age in ("18-24", "25-34") for account in ACCOUNTS])
    ingest.ingest_audience(conn, people, "USD")
    pd.testing.assert_frame_equal(_sums(conn, "agg_audience", AUDIENCE_KEYS),
                                  _sums(conn, "fact_audience_daily", AUDIENCE_KEYS))
    mine = Filters(F.date_from, F.date_to, account_ids=tuple(int(a) for a in _sums(conn, "agg_hourly")["account_id"].unique()))
    assert aq.audience(conn, mine, "age_band")["spend"].tolist() == pytest.approx([6 * 2.0, 6 * 2.0])
    assert len(_sums(conn, "agg_hourly")) == 12
    pd.testing.assert_frame_equal(_sums(conn, "agg_hourly"), _sums(conn, "fact_campaign_hourly"))
    cells = aq.hourly_cells(conn, mine)
    assert cells["spend"].sum() == pytest.approx(hours["spend"].sum())

    ingest.ingest_hourly(conn, hours.assign(spend=hours["spend"] * 2), "USD")  # restated
    pd.testing.assert_frame_equal(_sums(conn, "agg_hourly"), _sums(conn, "fact_campaign_hourly"))

    # A sync replaces the first account's window: its facts go, and so do their rolled-up rows.
    touched = ingest.clear_window(conn, ["facebook"], [ACCOUNTS[0]], dt.date(2026, 1, 2), dt.date(2026, 1, 3))
    ingest.refresh_rollups(conn, dt.date(2026, 1, 2), dt.date(2026, 1, 3), touched)
    left = _sums(conn, "agg_hourly")
    pd.testing.assert_frame_equal(left, _sums(conn, "fact_campaign_hourly"))
    assert len(left) == 12 - 4
    assert aq.hourly_cells(conn, mine)["spend"].sum() == pytest.approx(left["spend"].sum())
    audience_left = _sums(conn, "agg_audience", AUDIENCE_KEYS)
    pd.testing.assert_frame_equal(audience_left, _sums(conn, "fact_audience_daily", AUDIENCE_KEYS))
    assert len(audience_left) == 12 - 4
