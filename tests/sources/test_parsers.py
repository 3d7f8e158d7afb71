"""Platform parsers on recorded bodies; expected numbers are worked out by hand from the fixtures."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from jobs.sources import google_ads, meta, parsing, telegram, tiktok, vk_ads, yandex_direct
from jobs.sources.parsing import (
    AuthError, PayloadError, QueryTooLargeError, RateLimitError, SourceError, TransientError,
)

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "api"


def load(name: str) -> object:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def text(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8")


def total(rows: list[dict], key: str) -> float:
    return sum(row[key] for row in rows)


# --- shared helpers ---------------------------------------------------------------------------

@pytest.mark.parametrize("raw, expected", [("14.35", 14.35), (None, 0.0), ("--", 0.0), ("-", 0.0), ("", 0.0),
                                           (3.5, 3.5), ("0,0402", 0.0402)])
def test_to_float_reads_strings_and_absent_markers(raw, expected):
    assert parsing.to_float(raw) == expected


def test_to_float_refuses_garbage():
    with pytest.raises(PayloadError):
        parsing.to_float("12abc")


@pytest.mark.parametrize("raw, expected", [("2024-09-03 00:00:00", ("2024-09-03", 0)),
                                           ("2024-09-03", ("2024-09-03", None)),
                                           ("16 Jan 2026", ("2026-01-16", None)),
                                           ("16 Jan 2026 14:05", ("2026-01-16", 14)),
                                           ("2021-09-15 5:00:00", ("2021-09-15", 5)),
                                           ("01.05.2024", ("2024-05-01", None))])
def test_date_and_hour_spellings(raw, expected):
    assert parsing.date_and_hour(raw) == expected


@pytest.mark.parametrize("raw, expected", [("AGE_25_34", "25-34"), ("AGE_55", "55+"), ("AGE_55_100", "55+"),
                                           ("AGE_RANGE_65_UP", "65+"), ("18-24", "18-24"), ("65+", "65+"),
                                           ("Unknown", "unknown"), ("NONE", "unknown"), ("--", None)])
def test_age_label(raw, expected):
    assert parsing.age_label(raw) == expected


def test_micros_to_units():
    assert parsing.micros("1200500000") == 1200.5


# --- Meta ---------------------------------------------------------------------------------------

def test_meta_splits_facebook_and_instagram_and_counts_each_purchase_once():
    rows = meta.parse(load("meta/insights_page1.json"))
    assert [r["platform"] for r in rows] == ["facebook", "instagram", "facebook", "facebook"]
    fb = [r for r in rows if r["platform"] == "facebook"]
    ig = [r for r in rows if r["platform"] == "instagram"]
    # facebook = publisher_platform facebook + audience_network + messenger
    assert total(fb, "spend") == pytest.approx(14.35 + 0.55 + 1.00)
    assert total(fb, "impressions") == 185 + 40 + 10
    assert total(fb, "clicks") == 9 + 1 + 0  # inline_link_clicks where present, else clicks
    assert total(fb, "leads") == 3  # lead == onsite_conversion.lead_grouped, counted once
    assert total(fb, "conversions") == 2  # omni_purchase/pixel/purchase all "2" → 2, not 6
    assert total(fb, "revenue") == pytest.approx(120.5)
    assert (total(ig, "spend"), total(ig, "impressions"), total(ig, "clicks")) == (pytest.approx(20.10), 300, 15)
    assert (ig[0]["leads"], ig[0]["conversions"], ig[0]["revenue"]) == (2, 1, 45.0)


def test_meta_row_fields_and_reach_passed_through():
    rows = meta.parse(load("meta/insights_page1.json"))
    first = rows[0]
    assert first["date"] == "2024-05-01"
    assert first["account_id"] == "798085168510957"
    assert first["campaign_id"] == "23854404676180548"
    assert first["campaign_name"] == "Spring Sale - Conversions"
    assert first["currency"] == "USD"
    assert first["ad_set_id"] is None and first["ad_id"] is None
    assert isinstance(first["impressions"], int) and isinstance(first["spend"], float)
    assert [r["reach"] for r in rows] == [160, 250, 38, None]  # messenger row has no reach key
    assert "hour" not in first


def test_meta_paging():
    assert meta.next_page_url(load("meta/insights_page1.json")).endswith("&after=MwZDZD")
    assert meta.next_page_url(load("meta/insights_page2.json")) is None


def test_meta_ad_level_and_custom_action_map():
    body = load("meta/insights_page2.json")
    [row] = meta.parse(body)
    assert (row["ad_set_id"], row["ad_id"]) == ("23854404676190548", "23854404676200548")
    assert (row["ad_set_name"], row["ad_name"]) == ("Lookalike 1%", "Carousel A")
    assert (row["conversions"], row["revenue"], row["leads"]) == (4, 200.0, 0)

    custom = meta.ActionMap.from_settings({"conversions": [["purchase"], ["complete_registration"]]})
    [row] = meta.parse(body, action_map=custom)
    assert row["conversions"] == 4 + 2  # two distinct events add up
    assert row["revenue"] == 200.0  # revenue keeps the default aliases


def test_meta_age_gender_breakdown():
    rows = meta.parse(load("meta/insights_age_gender.json"))
    assert [(r["age"], r["gender"]) for r in rows] == [("25-34", "female"), ("65+", "male"), ("unknown", "unknown")]
    assert rows[0]["leads"] == 1  # offsite_conversion.fb_pixel_lead alone
    assert total(rows, "spend") == pytest.approx(8.20 + 2.05 + 0.40)


def test_meta_hourly_breakdown_and_multi_day_rows():
    item = {"date_start": "2024-05-01", "date_stop": "2024-05-01", "spend": "1.5", "impressions": "10",
            "hourly_stats_aggregated_by_advertiser_time_zone": "13:00:00 - 13:59:59"}
    [row] = meta.parse({"data": [item]})
    assert row["hour"] == 13
    with pytest.raises(PayloadError, match="time_increment"):
        meta.parse({"data": [dict(item, date_stop="2024-05-02")]})


@pytest.mark.parametrize("name, error", [("meta/error_token_expired.json", AuthError),
                                         ("meta/error_user_rate_limit.json", RateLimitError),
                                         ("meta/error_too_many_rows.json", QueryTooLargeError),
                                         ("meta/error_service_unavailable.json", TransientError)])
def test_meta_errors_are_typed(name, error):
    body = load(name)
    with pytest.raises(error):
        meta.check(body)
    with pytest.raises(error):
        meta.parse(body)


def test_meta_check_passes_data_bodies_and_rejects_shapeless_ones():
    meta.check(load("meta/insights_page1.json"))
    with pytest.raises(PayloadError):
        meta.parse({"paging": {}})


# --- Google Ads -----------------------------------------------------------------------------------

def test_google_search_stream_batches_micros_and_omitted_zeros():
    rows = google_ads.parse(load("google_ads/search_stream_campaign_daily.json"))
    assert len(rows) == 3
    assert {r["platform"] for r in rows} == {"google_ads"}
    assert {r["account_id"] for r in rows} == {"1234567890"}
    assert {r["currency"] for r in rows} == {"EUR"}
    assert total(rows, "spend") == pytest.approx(1200.5 + 3.25 + 990.0)
    assert total(rows, "impressions") == 25000 + 800 + 23000
    assert total(rows, "clicks") == 1250 + 0 + 1100
    assert total(rows, "conversions") == pytest.approx(45 + 38.5)
    assert total(rows, "revenue") == pytest.approx(3820.5 + 3001.25)
    display = rows[1]  # the body omits clicks and conversions for it
    assert (display["campaign_id"], display["campaign_name"]) == ("700002", "Display_Retargeting")
    assert (display["clicks"], display["conversions"], display["revenue"]) == (0, 0, 0.0)
    assert all(r["reach"] is None for r in rows)
    assert google_ads.next_page_token(load("google_ads/search_stream_campaign_daily.json")) is None


def test_google_search_page_gender_hour_and_account_from_resource_name():
    body = load("google_ads/search_page_gender_hourly.json")
    rows = google_ads.parse(body, currency="USD")
    assert [r["account_id"] for r in rows] == ["9876543210", "9876543210"]
    assert [r["currency"] for r in rows] == ["USD", "USD"]
    assert [r["gender"] for r in rows] == ["female", "unknown"]
    assert rows[0]["hour"] == 9 and "hour" not in rows[1]
    assert (rows[0]["ad_set_id"], rows[0]["ad_set_name"]) == ("920001", "Women runners")
    assert (rows[0]["spend"], rows[1]["spend"]) == (pytest.approx(7.45), pytest.approx(0.12))
    assert (rows[0]["conversions"], rows[0]["revenue"]) == (1.5, 89.99)
    assert google_ads.next_page_token(body) == "CPii5aS8-4IC"


def test_google_errors_are_typed():
    with pytest.raises(RateLimitError) as caught:
        google_ads.parse(load("google_ads/error_resource_exhausted.json"))
    assert caught.value.retry_after == 60.0
    with pytest.raises(AuthError):
        google_ads.check(load("google_ads/error_unauthenticated.json"))
    with pytest.raises(AuthError):
        google_ads.check({"error": "invalid_grant", "error_description": "Token has been expired or revoked."})
    with pytest.raises(SourceError) as caught:
        google_ads.check(load("google_ads/error_permission_denied.json"))
    assert type(caught.value) is SourceError  # needs a person, not a retry


def test_google_error_in_a_later_stream_batch_is_not_lost():
    body = load("google_ads/search_stream_campaign_daily.json")[:1]
    body.append({"error": {"code": 500, "message": "Internal error encountered.", "status": "INTERNAL"}})
    with pytest.raises(TransientError):
        google_ads.parse(body)


# --- TikTok -----------------------------------------------------------------------------------------

def test_tiktok_daily_report():
    body = load("tiktok/report_campaign_daily.json")
    rows = tiktok.parse(body, account_id="7000000000000000001", currency="USD")
    assert [r["date"] for r in rows] == ["2024-09-01", "2024-09-02", "2024-09-01"]
    assert all("hour" not in r for r in rows)
    assert {r["account_id"] for r in rows} == {"7000000000000000001"}
    assert {r["currency"] for r in rows} == {"USD"}
    assert total(rows, "spend") == pytest.approx(120.45 + 98.10 + 45.00)
    assert total(rows, "impressions") == 10234 + 9011 + 5020
    assert total(rows, "clicks") == 211 + 187 + 64
    assert total(rows, "conversions") == 14 + 11 + 0
    assert [r["leads"] for r in rows] == [0 + 3, 2 + 1, 9]  # onsite_form + form
    assert total(rows, "revenue") == pytest.approx(702.30 + 540.00)  # null value → 0
    assert [r["reach"] for r in rows] == [8120, 7300, None]  # "-" is no reach, not zero
    assert rows[2]["campaign_name"] == "Lead Gen Instant Form"
    assert tiktok.next_page(body) == 2


def test_tiktok_hourly_report():
    body = load("tiktok/report_campaign_hourly.json")
    rows = tiktok.parse(body)
    assert [(r["date"], r["hour"]) for r in rows] == [("2024-01-01", 9), ("2024-01-01", 10)]
    assert total(rows, "spend") == pytest.approx(38.50)
    assert total(rows, "impressions") == 4696 + 4100
    assert [r["reach"] for r in rows] == [3822, 3390]
    assert tiktok.next_page(body) is None


def test_tiktok_audience_report():
    rows = tiktok.parse(load("tiktok/report_audience.json"))
    assert [(r["gender"], r["age"]) for r in rows] == [("male", "35-44"), ("female", "55+"), ("unknown", "unknown")]
    assert {r["account_id"] for r in rows} == {"7000000000000000001"}
    assert total(rows, "spend") == pytest.approx(10.25 + 4.75 + 0.30)


@pytest.mark.parametrize("name, error", [("tiktok/error_rate_limit.json", RateLimitError),
                                         ("tiktok/error_token_revoked.json", AuthError),
                                         ("tiktok/error_query_too_large.json", QueryTooLargeError),
                                         ("tiktok/error_system.json", TransientError)])
def test_tiktok_http_200_errors_are_typed(name, error):
    with pytest.raises(error):
        tiktok.parse(load(name))


def test_tiktok_other_codes_and_missing_code():
    with pytest.raises(SourceError):
        tiktok.check({"code": 40006, "message": "Invalid parameter"})
    with pytest.raises(PayloadError):
        tiktok.check({"data": {"list": []}})


# --- Yandex Direct ----------------------------------------------------------------------------------

def test_yandex_tsv_with_title_summary_micros_and_dashes():
    rows = yandex_direct.parse(text("yandex_direct/campaign_daily_micros.tsv"), account_id="shop-login",
                               currency="RUB")
    assert len(rows) == 3
    assert [r["campaign_name"] for r in rows] == ["Поиск бренд", "РСЯ ретаргетинг", "Поиск бренд"]
    assert [r["spend"] for r in rows] == [pytest.approx(412.35), pytest.approx(380.12), pytest.approx(455.0)]
    assert total(rows, "impressions") == 1532 + 20811 + 1490
    assert total(rows, "clicks") == 48 + 95 + 51
    assert [r["conversions"] for r in rows] == [3, 0, 4]  # "--" → 0
    assert total(rows, "revenue") == pytest.approx(15600.0 + 20800.0)
    assert {r["account_id"] for r in rows} == {"shop-login"}
    assert {r["currency"] for r in rows} == {"RUB"}
    assert all(r["reach"] is None for r in rows)


def test_yandex_truncated_report_is_refused():
    lines = text("yandex_direct/campaign_daily_micros.tsv").splitlines()
    del lines[-2]  # lose a data row, keep "Total rows: 3"
    with pytest.raises(PayloadError, match="3 rows"):
        yandex_direct.parse("\n".join(lines))


def test_yandex_no_title_no_summary_plain_money_demography():
    rows = yandex_direct.parse(text("yandex_direct/adgroup_demography_rub.tsv"), money_in_micros=False)
    assert [(r["age"], r["gender"]) for r in rows] == [("25-34", "female"), ("55+", "male"), ("unknown", "unknown")]
    assert [r.get("geo") for r in rows] == ["Москва", "Санкт-Петербург", None]
    assert total(rows, "spend") == pytest.approx(1850.40 + 310.00)
    assert [r["conversions"] for r in rows] == [2 + 1, 0 + 1, 0]  # per-goal columns added
    assert total(rows, "impressions") == 640 + 212 + 35
    assert {(r["ad_set_id"], r["ad_set_name"]) for r in rows} == {("5550001", "Москва 25-34")}


def test_yandex_errors_are_typed():
    with pytest.raises(AuthError):
        yandex_direct.check(load("yandex_direct/error_auth.json"))
    with pytest.raises(RateLimitError):
        yandex_direct.parse(text("yandex_direct/error_not_enough_units.json"))
    yandex_direct.check(text("yandex_direct/campaign_daily_micros.tsv"))
    with pytest.raises(PayloadError):
        yandex_direct.parse("just some text\nwithout columns\n")


# --- VK Ads --------------------------------------------------------------------------------------------

def test_vk_banner_day_statistics():
    rows = vk_ads.parse(load("vk_ads/banners_day.json"), level="banners", account_id="vk-42")
    assert [(r["ad_id"], r["date"]) for r in rows] == [("17927003", "2024-05-01"), ("17927003", "2024-05-02"),
                                                       ("17927004", "2024-05-01")]
    assert all(r["campaign_id"] is None for r in rows)
    assert total(rows, "spend") == pytest.approx(812.40 + 779.48 + 402.00)  # = body total 1993.88
    assert total(rows, "impressions") == 10234 + 11170 + 5120
    assert total(rows, "clicks") == 31 + 30 + 12
    assert [r["conversions"] for r in rows] == [4, 0, 1]  # base.vk.goals, not base.goals (0)
    assert [r["reach"] for r in rows] == [8100, 8790, 4800]  # uniques.reach, not the cumulative total
    assert {r["currency"] for r in rows} == {"RUB"}


def test_vk_legacy_campaign_level_uses_base_goals():
    [row] = vk_ads.parse(load("vk_ads/legacy_campaigns_day.json"), level="campaigns")
    assert (row["ad_set_id"], row["campaign_id"]) == ("6617841", None)
    assert (row["spend"], row["impressions"], row["conversions"], row["reach"]) == (12.5, 100, 2, None)
    with pytest.raises(ValueError):
        vk_ads.parse(load("vk_ads/legacy_campaigns_day.json"), level="users")


def test_vk_errors_are_typed():
    with pytest.raises(SourceError) as caught:
        vk_ads.parse(load("vk_ads/error_wrong_date.json"))
    assert type(caught.value) is SourceError
    with pytest.raises(AuthError):
        vk_ads.check(load("vk_ads/error_invalid_token.json"))
    with pytest.raises(QueryTooLargeError):
        vk_ads.check({"error": {"code": "ERR_LIMIT_EXCEEDED", "message": "Too many ids"}})


# --- Telegram ----------------------------------------------------------------------------------------

def test_telegram_stats_and_budget_exports_merge_by_date():
    rows = telegram.parse([text("telegram/ad_stats_day.csv"), text("telegram/ad_budget_day.csv")],
                          account_id="tg-owner", ad_id="187")
    assert [r["date"] for r in rows] == ["2026-01-16", "2026-01-17", "2026-01-18"]
    assert [r["impressions"] for r in rows] == [1000, 2450, 0]  # "2,450" groups thousands
    assert [r["clicks"] for r in rows] == [25, 61, 0]
    assert [r["conversions"] for r in rows] == [3, 7, 0]  # "Started bot"
    assert [r["spend"] for r in rows] == [pytest.approx(1.23456), pytest.approx(2.8), 0.0]
    assert {r["currency"] for r in rows} == {"TON"}
    assert {(r["platform"], r["account_id"], r["ad_id"]) for r in rows} == {("telegram", "tg-owner", "187")}
    assert all(r["reach"] is None for r in rows)


def test_telegram_five_minute_rows_sum_into_hours():
    rows = telegram.parse(text("telegram/ad_stats_5min.csv"))
    assert [(r["date"], r["hour"]) for r in rows] == [("2026-01-16", 14), ("2026-01-16", 15)]
    assert [(r["impressions"], r["clicks"], r["conversions"]) for r in rows] == [(120 + 95 + 80, 3 + 2 + 1, 2),
                                                                               (101, 4, 2)]


def test_telegram_amount_column_and_total_line():
    [row] = telegram.parse("date\tAmount, EUR\n16 Jan 2026\t3,50\nTotal in Jan 2026\t3,50\n")
    assert (row["spend"], row["currency"]) == (3.5, "EUR")
    with pytest.raises(PayloadError):
        telegram.parse("Views\tClicks\n1\t2\n")


def test_telegram_channel_posts():
    posts = telegram.parse_posts(load("telegram/channel_messages.json"))
    assert posts == [
        {"platform": "telegram", "external_id": "1234567890/1209", "published_at": "2024-05-01T10:00:00+00:00",
         "views": 15320, "reach": None, "reactions": 230 + 58 + 4, "shares": 41, "comments": 17},
        {"platform": "telegram", "external_id": "1234567890/1207", "published_at": "2024-04-30T15:30:00+00:00",
         "views": 9870, "reach": None, "reactions": 0, "shares": 112, "comments": 0},
    ]
