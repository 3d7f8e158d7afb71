"""File uploads: the shared Kaggle derivatives and Fivetran seeds, encodings, separators, XLSX, bad files."""
from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

import pytest
from openpyxl import Workbook

from jobs.sources import upload
from jobs.sources.upload import detect_mapping, parse_money, parse_number, parse_upload

DATA = Path(__file__).resolve().parents[3] / "shared" / "data"
KAGGLE = DATA / "kaggle_social_media_advertising"
SEEDS = DATA / "fivetran_ad_reporting_seeds"


def column_sums(path: Path, delimiter: str, *columns: str) -> list[float]:
    """Reference totals read with the csv module, independently of the code under test."""
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle, delimiter=delimiter))
    return [sum(float(row[c]) for row in rows) for c in columns]


# --- numbers ------------------------------------------------------------------------------------

@pytest.mark.parametrize("raw, expected", [
    ("$1,234.56", 1234.56), ("$12,500.00", 12500.0), ("1 234,56 ₽", 1234.56),
    ("1\u00a0234,56\u00a0₽", 1234.56), ("1\u202f234,56 ₽", 1234.56), ("1.234,56 €", 1234.56),
    ("1000 руб.", 1000.0), ("(12.00)", -12.0), ("500.0", 500.0), ("144.", 144.0), ("0,5", 0.5),
    (7, 7.0),
])
def test_parse_money(raw, expected):
    assert parse_money(raw) == pytest.approx(expected)


def test_parse_number_percent_and_refusals():
    assert parse_number("12.5%") == pytest.approx(0.125)
    assert parse_number("1,234,567") == 1234567
    for bad in ("abc", "15 Days", "12abc", "", "1.2.3,4,5"):
        with pytest.raises(ValueError):
            parse_number(bad)
    with pytest.raises(ValueError):
        parse_money("12.5%")


# --- the Kaggle derivatives in /work/shared/data ------------------------------------------------

def test_sagisagi_derivative_semicolons_cpa_gender_age():
    path = KAGGLE / "sagisagi95_Social_Media_Ads_CleanedData.csv"
    result = parse_upload(path.read_bytes(), path.name)
    assert result.problems == []
    assert len(result.rows) == 5832
    clicks, impressions = column_sums(path, ";", "Clicks", "Impressions")
    assert sum(r["clicks"] for r in result.rows) == clicks
    assert sum(r["impressions"] for r in result.rows) == impressions

    first = result.rows[0]  # 712060;Product Launch;15 Days;Instagram;0.14;500.0;0.2;Austin;512;3036;...;Male;35-44
    assert first == {
        "date": "2022-05-04", "platform": "instagram", "account_id": "Cozy Corners", "campaign_id": "712060",
        "ad_set_id": None, "ad_id": None, "currency": None,
        "spend": 500.0, "impressions": 3036, "reach": None, "clicks": 512, "leads": 0,
        "conversions": 72,  # round(512 × 0.14 = 71.68)
        "revenue": pytest.approx(600.0),  # 500 × (1 + 0.2)
        "geo": "Austin", "objective": "Product Launch", "gender": "male", "age": "35-44",
        "engagement_score": 10.0, "duration_days": 15,
    }
    both = result.rows[11]  # line 13: 475656;...;0.12;500.0;0.4;...;567;3199;...;Both;All ages
    assert (both["campaign_id"], both["gender"], both["age"]) == ("475656", None, None)
    assert (both["conversions"], both["revenue"]) == (68, pytest.approx(700.0))  # round(68.04); 500 × 1.4


def test_josephrios_derivative_with_index_column_and_fractional_clicks():
    path = KAGGLE / "josephrios_Sample_Advertising_Data_V2.csv"
    result = parse_upload(path.read_bytes(), path.name)
    assert result.problems == []
    assert len(result.rows) == 20023
    clicks, impressions = column_sums(path, ",", "Clicks", "Impressions")
    assert sum(r["clicks"] for r in result.rows) == pytest.approx(clicks)
    assert sum(r["impressions"] for r in result.rows) == pytest.approx(impressions)

    first = result.rows[0]  # 972649,"Women 25-34","Increase Sales",23,"Facebook",0.0466,6368,22.18,...
    assert (first["campaign_id"], first["platform"], first["gender"], first["age"]) == \
        ("972649", "facebook", "female", "25-34")
    assert (first["spend"], first["clicks"], first["impressions"]) == (6368.0, 1236.7168, 8100)
    assert first["conversions"] == 58  # round(1236.7168 × 0.04659640 = 57.63)
    assert first["revenue"] == pytest.approx(6368 * (1 + 22.1786275505468))
    assert (first["language"], first["segment"], first["duration_days"]) == ("French", "Technology", 23)
    assert first["account_id"] == "Silicon Saga"


def test_original_kaggle_format_with_dollar_amounts():
    text = (
        "Campaign_ID,Target_Audience,Campaign_Goal,Duration,Channel_Used,Conversion_Rate,Acquisition_Cost,ROI,"
        "Location,Language,Clicks,Impressions,Engagement_Score,Customer_Segment,Date,Company\n"
        '529013,Men 35-44,Product Launch,15 Days,Instagram,0.15,"$500.00",5.79,Las Vegas,Spanish,500,3000,7,'
        "Health,2022-02-25,Aura Align\n"
        '275352,All Ages,Brand Awareness,60 Days,Google Ads,0.08,"$12,500.00",1.5,New York,English,1200,9000,3,'
        "Fashion,2022-03-01,Aura Align\n"
        '811003,Women 18-24,Market Expansion,30 Days,Email,0.1,"$1,000.00",0,Miami,French,40,400,5,'
        "Food,2022-03-02,Aura Align\n"
    )
    result = parse_upload(text.encode(), "social_media_advertising.csv")
    assert result.problems == []
    a, b, c = result.rows
    assert (a["spend"], a["conversions"], a["revenue"]) == (500.0, 75, pytest.approx(500 * 6.79))
    assert (a["gender"], a["age"], a["duration_days"], a["currency"]) == ("male", "35-44", 15, "USD")
    assert (a["objective"], a["language"], a["segment"], a["geo"]) == ("Product Launch", "Spanish", "Health",
                                                                       "Las Vegas")
    assert (b["spend"], b["conversions"], b["revenue"], b["platform"]) == (12500.0, 96, pytest.approx(31250.0),
                                                                          "google_ads")
    assert (b["gender"], b["age"], b["duration_days"]) == (None, None, 60)
    assert (c["platform"], c["gender"], c["age"], c["revenue"]) == ("email", "female", "18-24", 1000.0)


# --- Fivetran seeds: column synonyms ------------------------------------------------------------

def test_fivetran_seed_mappings():
    def columns(name: str) -> list[str]:
        return (SEEDS / name).read_text(encoding="utf-8").splitlines()[0].split(",")

    fb = detect_mapping(columns("facebook_ads_basic_ad_data.csv"))
    assert fb == {"date": "date", "account_id": "account_id", "ad_id": "ad_id", "spend": "spend",
                  "impressions": "impressions", "clicks": "inline_link_clicks"}
    google = detect_mapping(columns("google_ads_campaign_stats_data.csv"))
    assert (google["spend_micros"], google["account_id"], google["revenue"], google["campaign_id"]) == \
        ("cost_micros", "customer_id", "conversions_value", "id")
    tt = detect_mapping(columns("tiktok_campaign_report_hourly_data.csv"))
    assert (tt["datetime"], tt["spend"], tt["reach"], tt["conversions"], tt["revenue"]) == \
        ("STAT_TIME_HOUR", "SPEND", "REACH", "CONVERSION", "TOTAL_PURCHASE_VALUE")


def test_fivetran_google_seed_micros_and_default_platform():
    path = SEEDS / "google_ads_campaign_stats_data.csv"
    result = parse_upload(path.read_bytes(), path.name, defaults={"platform": "google_ads", "currency": "USD"})
    assert result.problems == []
    micros, clicks = column_sums(path, ",", "cost_micros", "clicks")
    assert len(result.rows) == 16
    assert sum(r["spend"] for r in result.rows) == pytest.approx(micros / 1_000_000)
    assert sum(r["clicks"] for r in result.rows) == clicks
    assert result.rows[0]["spend"] == pytest.approx(36.15)  # 36150000 micros
    assert {r["platform"] for r in result.rows} == {"google_ads"}
    assert {r["currency"] for r in result.rows} == {"USD"}


def test_fivetran_tiktok_hourly_seed():
    path = SEEDS / "tiktok_campaign_report_hourly_data.csv"
    result = parse_upload(path.read_bytes(), path.name, defaults={"platform": "tiktok"})
    assert result.problems == []
    assert [(r["date"], r["hour"]) for r in result.rows] == [("2021-09-15", 5), ("2021-09-15", 4),
                                                             ("2021-09-15", 8), ("2021-09-15", 10)]
    assert result.rows[0]["spend"] == pytest.approx(222.12)
    assert result.rows[0]["reach"] == 22413


def test_missing_platform_needs_a_default():
    path = SEEDS / "facebook_ads_basic_ad_data.csv"
    refused = parse_upload(path.read_bytes(), path.name)
    assert refused.rows == []
    assert any("platform" in p for p in refused.problems)
    accepted = parse_upload(path.read_bytes(), path.name, defaults={"platform": "facebook"})
    assert len(accepted.rows) == 10 and accepted.problems == []
    assert accepted.rows[4]["spend"] == 144.0  # the seed writes "144."


# --- encodings, separators, workbooks -------------------------------------------------------------

def test_utf8_bom_header():
    data = "\ufeffDate,Channel,Spend,Clicks\n2024-05-01,TikTok,10.5,3\n".encode("utf-8")
    [row] = parse_upload(data, "bom.csv").rows
    assert (row["date"], row["platform"], row["spend"], row["clicks"]) == ("2024-05-01", "tiktok", 10.5, 3)


def test_cp1251_cyrillic_headers_and_values():
    text = ("Дата;Площадка;Кампания;Расход;Показы;Клики;Пол;Возраст\r\n"
            "01.05.2024;Яндекс Директ;Поиск бренд;1\u00a0234,56 руб.;1\u00a0000;45;Женщины;25-34\r\n"
            "02.05.2024;ВКонтакте;Ретаргетинг;99,90 руб.;500;7;Мужчины;18-24\r\n")
    result = parse_upload(text.encode("cp1251"), "выгрузка.csv")
    assert result.problems == []
    first, second = result.rows
    assert (first["date"], first["platform"], first["campaign_name"]) == ("2024-05-01", "yandex_direct",
                                                                          "Поиск бренд")
    assert first["campaign_id"] == "Поиск бренд"  # no id column: the name identifies the campaign
    assert (first["spend"], first["impressions"], first["clicks"], first["currency"]) == (1234.56, 1000, 45, "RUB")
    assert (second["platform"], second["spend"]) == ("vk_ads", 99.9)


def test_semicolon_and_decimal_comma():
    data = ("Date;Platform;Spend;Clicks;Impressions;Revenue\n"
            "2024-05-01;Facebook;1.234,56 €;10;100;2.000,00 €\n"
            "2024-05-02;Facebook;12,5;4;80;0\n").encode("utf-8")
    result = parse_upload(data, "eu.csv")
    assert result.problems == []
    assert [r["spend"] for r in result.rows] == [1234.56, 12.5]
    assert result.rows[0]["revenue"] == 2000.0
    assert result.rows[0]["currency"] == "EUR"


def test_tab_separated_with_slash_dates_day_first():
    data = "Day\tSource\tCost\n25/12/2024\tInstagram\t5\n01/12/2024\tInstagram\t6\n".encode("utf-8")
    rows = parse_upload(data, "report.tsv").rows
    assert [r["date"] for r in rows] == ["2024-12-25", "2024-12-01"]


def test_xlsx_workbook():
    book = Workbook()
    sheet = book.active
    sheet.append(["Date", "Channel_Used", "Campaign_ID", "Spend", "Impressions", "Clicks", "Reach"])
    sheet.append([dt.datetime(2024, 5, 1), "Instagram", 972649, 12.5, 1000, 20, None])
    sheet.append([dt.date(2024, 5, 2), "Facebook", 972650, "$7.25", 500, 5, 400])
    buffer = io.BytesIO()
    book.save(buffer)
    result = parse_upload(buffer.getvalue(), "campaigns.xlsx")
    assert result.problems == []
    first, second = result.rows
    assert (first["date"], first["campaign_id"], first["spend"], first["reach"]) == ("2024-05-01", "972649",
                                                                                      12.5, None)
    assert "hour" not in first  # a midnight date cell is a day, not hour 0
    assert (second["date"], second["platform"], second["spend"], second["reach"]) == ("2024-05-02", "facebook",
                                                                                       7.25, 400)


# --- bad files ------------------------------------------------------------------------------------------

def good_lines(count: int) -> list[str]:
    return [f"2024-05-{day % 28 + 1:02d},Facebook,{day}.5,{day * 3},{day * 100}" for day in range(count)]


def test_missing_required_column():
    result = parse_upload(b"Date,Channel_Used,Clicks\n2024-05-01,Facebook,3\n", "no_spend.csv")
    assert result.rows == []
    assert result.problems == ["missing required column for spend (Acquisition_Cost/Spend/Cost)"]


def test_a_few_bad_values_skip_their_rows():
    lines = good_lines(30)
    lines[15] = "2024-05-16,Facebook,3.5,abc,100"  # spreadsheet row 17
    data = ("Date,Channel_Used,Spend,Clicks,Impressions\n" + "\n".join(lines) + "\n").encode()
    result = parse_upload(data, "mostly_good.csv")
    assert len(result.rows) == 29
    assert "row 17: Clicks 'abc' is not a number" in result.problems
    assert result.problems[-1] == "1 of 30 rows were skipped because of the problems above"


def test_too_many_bad_values_refuse_the_file():
    lines = good_lines(10)
    lines[2] = "not a date,Facebook,1,2,3"
    lines[5] = "2024-05-06,Facebook,-4,2,3"
    data = ("Date,Channel_Used,Spend,Clicks,Impressions\n" + "\n".join(lines) + "\n").encode()
    result = parse_upload(data, "broken.csv")
    assert result.rows == []
    assert "row 4: Date 'not a date' is not a date" in result.problems
    assert "row 7: Spend '-4' is negative" in result.problems
    assert result.problems[-1].startswith("2 of 10 rows have unreadable values")


@pytest.mark.parametrize("data, filename, expected", [
    (b"", "empty.csv", "the file is empty"),
    (b"  \r\n\n", "blank.csv", "the file is empty"),
    (bytes(range(256)) * 64, "garbage.csv", "binary content"),
    (b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8, "photo.csv", "binary content"),
    (b"PK\x03\x04not really a zip", "book.xlsx", "not a readable Excel workbook"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 64, "old.xls", ".xls files are not supported"),
    (b"Dear team,\nplease find the numbers attached.\n", "letter.txt", "no columns found"),
])
def test_unreadable_files_are_refused_with_a_message(data, filename, expected):
    result = parse_upload(data, filename)
    assert result.rows == []
    assert len(result.problems) == 1 and expected in result.problems[0]


def test_header_without_rows():
    result = parse_upload(b"Date,Channel_Used,Spend\n", "header_only.csv")
    assert (result.rows, result.problems) == ([], ["the file has a header but no data rows"])


def test_size_limit():
    assert upload.MAX_UPLOAD_BYTES == 50 * 1024 * 1024
    big = b"a" * (100 * 1024 * 1024)
    result = parse_upload(big, "huge.csv")
    assert result.rows == []
    assert result.problems == ["huge.csv is 100.0 MB; files up to 50.0 MB can be uploaded"]
    small = parse_upload(b"Date,Channel_Used,Spend\n2024-05-01,Facebook,1\n", "s.csv", max_bytes=10)
    assert small.rows == [] and "can be uploaded" in small.problems[0]
