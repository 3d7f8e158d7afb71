"""Uploaded CSV / XLSX files → unified rows, with every problem reported instead of raised.

A file comes from a person, not an API, so it may be in any encoding (UTF-8, UTF-8 with BOM,
Windows-1251 from Russian Excel), use commas, semicolons or tabs, and write money as "$1,234.56",
"1 234,56 ₽" or "1.234,56 €". `parse_upload` is the entry point: it reads the table, recognises
the columns through a synonym table and returns `UploadResult(rows, problems)`. A few bad rows are
skipped and listed; a file that is unreadable, lacks a required column or has more than
`MAX_BAD_SHARE` of unreadable rows is refused as a whole (no rows), so a half-wrong file never
lands in the dashboard. Row numbers in messages are spreadsheet lines (the header is row 1).

Kaggle "Social Media Advertising" files have no spend column, so figures are derived:

* spend = `Acquisition_Cost` (`CPA` in the cleaned derivative), read as the campaign's total
  acquisition spend. The other reading, cost per acquisition × conversions, is incoherent with
  the data: in the 5,832-row derivative the median Acquisition_Cost is $7,703 and the median
  conversions (Clicks × Conversion_Rate) 1,117, which would make the median spend $8.3M on ~56k
  impressions (CPM ≈ $157,000); as a total it gives CPC ≈ $0.39 and CPM ≈ $126.
* conversions = round(Clicks × Conversion_Rate) when no conversions column exists.
* revenue = spend × (1 + ROI), from ROI = (revenue − spend) / spend, when no revenue column exists.
* `Target_Audience` "Men 35-44" → gender "male" + age "35-44"; "All Ages" / "Both" → no value.
* `Engagement_Score` is a score, not a count, so it is kept as `engagement_score` and never
  added to `engagements` (likes, comments, shares).

Counts are kept as given: a derivative with fractional clicks (1236.7168) keeps them fractional
rather than silently rounding its totals.
"""
from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import math
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from jobs.sources.parsing import PayloadError, age_label, as_id, date_and_hour, gender_label

MAX_UPLOAD_BYTES = 50 * 1024 * 1024
#: Refuse the whole file when more than this share of its rows has unreadable values.
MAX_BAD_SHARE = 0.05
#: Messages listed one by one; the rest are summarised so the page stays readable.
MAX_LISTED_PROBLEMS = 20


class UploadError(ValueError):
    """The file cannot be read as a table; the message is written for the person uploading it."""


@dataclass
class UploadResult:
    rows: list[dict[str, Any]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    mapping: dict[str, str] = field(default_factory=dict)


# --------------------------------------------------------------------------------------------
# Numbers

_SPACES = re.compile(r"[\s\u00a0\u202f\u2009\u2007']")
#: Currency signs and codes allowed before or after an amount; any other letters make it unreadable.
_MONEY_TOKEN = r"(?:[$€£₽₸₴¥]|руб\.?|р\.|USD|EUR|RUB|GBP|KZT|UAH|BYN|TON|CNY|TRY)"
_PLAIN_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")
_LEADING_TOKEN = re.compile("^" + _MONEY_TOKEN, re.IGNORECASE)
_TRAILING_TOKEN = re.compile(_MONEY_TOKEN + "$", re.IGNORECASE)
_CURRENCY_MARKS = (("₽", "RUB"), ("руб", "RUB"), ("€", "EUR"), ("£", "GBP"), ("₸", "KZT"), ("₴", "UAH"),
                   ("$", "USD"))
_CODE_RE = re.compile(r"\b(USD|EUR|RUB|GBP|KZT|UAH|BYN|TON|CNY|TRY)\b", re.IGNORECASE)


def parse_number(value: object) -> float:
    """A number from a spreadsheet cell: "1,234.56", "1 234,56", "1.234,56", "(12)", "12.5%" → 0.125.

    With one kind of separator the last one decides: a comma followed by exactly three digits
    ("12,500") groups thousands, otherwise it is a decimal comma ("0,5", "1234,56"); several
    identical separators ("1.234.567") always group thousands.
    """
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a number")
    if isinstance(value, (int, float)):
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError(f"{value!r} is not a number")
        return float(value)
    text = str(value).strip()
    if _PLAIN_NUMBER.fullmatch(text):  # the common case, ~10× faster than the general path
        return float(text)
    core = _SPACES.sub("", text).replace("\u2212", "-")
    percent = core.endswith("%")
    core = core.removesuffix("%")
    negative = core.startswith("(") and core.endswith(")")
    core = core.strip("()")
    if core.startswith("-"):
        negative, core = True, core[1:]
    core = _LEADING_TOKEN.sub("", core)
    if core.startswith("-"):  # "$-5"
        negative, core = True, core[1:]
    core = _TRAILING_TOKEN.sub("", core)
    if not re.fullmatch(r"\d[\d.,]*|[.,]\d+", core):
        raise ValueError(f"{value!r} is not a number")
    number = float(_decimal_point(core))
    number = -number if negative else number
    return number / 100 if percent else number


def _decimal_point(core: str) -> str:
    dots, commas = core.count("."), core.count(",")
    if dots and commas:
        decimal = "." if core.rfind(".") > core.rfind(",") else ","
        if core.count(decimal) > 1:
            raise ValueError(f"{core!r} is not a number")
        return core.replace("," if decimal == "." else ".", "").replace(decimal, ".")
    separator = "," if commas else "."
    count = commas or dots
    if count > 1:
        return core.replace(separator, "")
    if count == 1:
        head, tail = core.split(separator)
        if separator == "," and len(tail) == 3 and head and head != "0":
            return head + tail
        return head + "." + tail
    return core


def parse_money(value: object) -> float:
    """An amount in any common spelling ("$12,500.00", "1 234,56 ₽", "1.234,56 €"); never a percentage."""
    if isinstance(value, str) and value.strip().endswith("%"):
        raise ValueError(f"{value!r} is a percentage, not an amount")
    return parse_number(value)


def money_currency(value: object) -> str | None:
    """The currency a money cell names by symbol or code ("$" → USD, "₽" → RUB), if any."""
    text = str(value)
    code = _CODE_RE.search(text)
    if code:
        return code.group(1).upper()
    return next((currency for mark, currency in _CURRENCY_MARKS if mark in text.lower()), None)


# --------------------------------------------------------------------------------------------
# Reading the table

_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_DELIMITERS = ("\t", ";", ",", "|")


def _megabytes(size: int) -> str:
    return f"{size / 1024 / 1024:.1f} MB"


def _decode(data: bytes) -> str:
    """UTF-8 (with or without BOM) or UTF-16 with BOM; otherwise Windows-1251 vs -1252 by the words.

    Both single-byte code pages decode any byte, so the choice looks at words: Russian text gives
    whole Cyrillic words, a Western file read as 1251 gives Latin words with a stray Cyrillic
    letter where an accented one was ("Cafй").
    """
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8):]
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    cyrillic = data.decode("cp1251", errors="replace")
    words = re.findall(r"[^\W\d_]+", cyrillic)
    pure = sum(1 for w in words if all("\u0400" <= ch <= "\u04ff" for ch in w))
    mixed = sum(1 for w in words if any("\u0400" <= ch <= "\u04ff" for ch in w) and re.search(r"[A-Za-z]", w))
    return cyrillic if pure >= mixed else data.decode("cp1252", errors="replace")


def _looks_binary(text: str) -> bool:
    sample = text[:8192]
    controls = sum(1 for ch in sample if ord(ch) < 32 and ch not in "\t\r\n")
    return "\x00" in sample or controls > len(sample) * 0.01


def _sniff(text: str) -> str:
    """The delimiter whose header splits into the most columns that most lines agree with."""
    lines = [line for line in text.splitlines() if line.strip()][:50]
    best, best_width = None, 1
    for delimiter in _DELIMITERS:
        rows = list(csv.reader(lines, delimiter=delimiter))
        width = len(rows[0])
        agreeing = sum(1 for row in rows[1:] if len(row) == width)
        if width > best_width and agreeing >= 0.8 * (len(rows) - 1):
            best, best_width = delimiter, width
    if best is None:
        raise UploadError("no columns found: the file needs a header row and values separated by "
                          "commas, semicolons or tabs")
    return best


def _read_csv(text: str) -> pd.DataFrame:
    try:
        return pd.read_csv(io.StringIO(text), sep=_sniff(text), dtype=str, keep_default_na=False,
                           skip_blank_lines=True)
    except pd.errors.EmptyDataError:
        raise UploadError("the file is empty") from None
    except (pd.errors.ParserError, csv.Error) as error:
        match = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", str(error))
        if match:
            expected, line, saw = match.groups()
            raise UploadError(f"row {line} has {saw} values but the header has {expected} columns") from None
        raise UploadError(f"the file is not a readable table ({error})") from None


def _read_xlsx(data: bytes) -> pd.DataFrame:
    from openpyxl import load_workbook  # only uploads of workbooks pay for the import

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        try:
            cells = [row for row in book.worksheets[0].iter_rows(values_only=True)
                     if any(value not in (None, "") for value in row)]
        finally:
            book.close()
    except Exception:  # openpyxl signals a broken workbook with many exception types
        raise UploadError("the file is not a readable Excel workbook (.xlsx)") from None
    if not cells:
        raise UploadError("the workbook's first sheet is empty")
    header = [str(value).strip() if value is not None else "" for value in cells[0]]
    while header and not header[-1]:
        header.pop()
    columns = [name or f"column {i + 1}" for i, name in enumerate(header)]
    body = [list(row[:len(columns)]) + [None] * (len(columns) - len(row)) for row in cells[1:]]
    return pd.DataFrame(body, columns=columns, dtype=object)


def read_table(data: bytes, filename: str, *, max_bytes: int = MAX_UPLOAD_BYTES) -> pd.DataFrame:
    """The uploaded file as a frame of raw cells (text for CSV, Excel's values for XLSX).

    Raises `UploadError` with a readable message for anything that is not a table.
    """
    if len(data) > max_bytes:
        raise UploadError(f"{filename} is {_megabytes(len(data))}; files up to {_megabytes(max_bytes)} "
                          "can be uploaded")
    if not data.strip():
        raise UploadError("the file is empty")
    if data.startswith(_OLE_MAGIC) or filename.lower().endswith(".xls"):
        raise UploadError("old Excel .xls files are not supported: save the sheet as .xlsx or CSV")
    if data.startswith(b"PK\x03\x04") or filename.lower().endswith((".xlsx", ".xlsm")):
        frame = _read_xlsx(data)
    else:
        text = _decode(data)
        if _looks_binary(text):
            raise UploadError("the file does not look like a table (binary content); upload CSV or XLSX")
        frame = _read_csv(text)
    frame.columns = [str(name).strip().lstrip("\ufeff") for name in frame.columns]
    return frame


# --------------------------------------------------------------------------------------------
# Recognising columns

SYNONYMS: dict[str, tuple[str, ...]] = {
    "date": ("date", "day", "date_start", "reporting_starts", "stat_time_day", "segments_date", "report_date",
             "stat_date", "дата", "день"),
    "datetime": ("stat_time_hour", "date_hour", "hour_start", "datetime"),
    "hour": ("hour", "hour_of_day", "час"),
    "platform": ("channel_used", "channel", "platform", "publisher_platform", "network", "source", "площадка",
                 "канал", "источник"),
    "account_id": ("account_id", "customer_id", "advertiser_id", "account", "account_name", "company",
                   "advertiser", "аккаунт", "кабинет", "клиент"),
    "campaign_id": ("campaign_id", "campaignid", "id_кампании", "id"),
    "campaign_name": ("campaign_name", "campaign", "кампания", "название_кампании"),
    "ad_set_id": ("ad_set_id", "adset_id", "ad_group_id", "adgroup_id"),
    "ad_set_name": ("ad_set_name", "adset_name", "ad_group_name", "adgroup_name", "ad_set", "ad_group",
                    "группа_объявлений"),
    "ad_id": ("ad_id", "banner_id", "creative_id"),
    "ad_name": ("ad_name", "ad", "creative", "banner", "объявление"),
    "currency": ("currency", "account_currency", "currency_code", "валюта"),
    "spend": ("spend", "cost", "amount_spent", "spent", "spent_budget", "amount", "расход", "расходы",
              "затраты", "стоимость"),
    "spend_micros": ("cost_micros", "spend_micros"),
    "acquisition_cost": ("acquisition_cost", "cpa"),
    "impressions": ("impressions", "impr", "shows", "views", "показы"),
    "reach": ("reach", "unique_users", "охват"),
    "clicks": ("clicks", "link_clicks", "inline_link_clicks", "клики"),
    "leads": ("leads", "лиды", "заявки"),
    "conversions": ("conversions", "conversion", "purchases", "results", "result", "конверсии"),
    "conversion_rate": ("conversion_rate", "cr", "cvr"),
    "revenue": ("revenue", "conversions_value", "conversion_value", "total_purchase_value", "purchase_value",
                "доход", "выручка"),
    "roi": ("roi", "romi"),
    "audience": ("target_audience", "audience", "аудитория"),
    "age": ("age", "age_range", "age_group", "возраст"),
    "gender": ("gender", "sex", "пол"),
    "geo": ("location", "geo", "country", "country_code", "region", "city", "регион", "город", "страна"),
    "language": ("language", "язык"),
    "objective": ("campaign_goal", "objective", "goal", "цель"),
    "segment": ("customer_segment", "segment", "сегмент"),
    "duration_days": ("duration", "duration_days", "длительность"),
    "engagements": ("engagements", "post_engagement"),
    "engagement_score": ("engagement_score",),
}

#: A currency code at the end of a column title: "Amount Spent (USD)", "Spent budget, TON".
_TITLE_CURRENCY = re.compile(r"_(usd|eur|rub|gbp|kzt|uah|byn|ton|cny|try)$")

#: How a missing required key is explained, naming the columns people usually have.
_REQUIRED = {
    "date": (("date", "datetime"), "Date/Day"),
    "spend": (("spend", "spend_micros", "acquisition_cost"), "Acquisition_Cost/Spend/Cost"),
}


def normalise_title(title: str) -> str:
    return re.sub(r"[\W_]+", "_", title.lower().replace("ё", "е")).strip("_")


def detect_mapping(columns: Iterable[str]) -> dict[str, str]:
    """Unified key → source column, by synonyms; each column is used for one key at most."""
    titles: dict[str, str] = {}
    for column in columns:
        title = normalise_title(str(column))
        for name in (title, _TITLE_CURRENCY.sub("", title)):
            titles.setdefault(name, column)
    mapping: dict[str, str] = {}
    used: set[str] = set()
    for key, synonyms in SYNONYMS.items():
        for synonym in synonyms:
            column = titles.get(synonym)
            if column is not None and column not in used:
                mapping[key] = column
                used.add(column)
                break
    return mapping


# --------------------------------------------------------------------------------------------
# Cells → unified values

_PLATFORMS = {
    "instagram": "instagram", "ig": "instagram", "facebook": "facebook", "fb": "facebook", "meta": "facebook",
    "google_ads": "google_ads", "google": "google_ads", "adwords": "google_ads", "tiktok": "tiktok",
    "telegram": "telegram", "telegram_ads": "telegram", "yandex": "yandex_direct", "yandex_direct": "yandex_direct",
    "яндекс": "yandex_direct", "яндекс_директ": "yandex_direct", "директ": "yandex_direct", "vk": "vk_ads",
    "vk_ads": "vk_ads", "vkontakte": "vk_ads", "вконтакте": "vk_ads", "вк": "vk_ads", "mytarget": "vk_ads",
    "vk_реклама": "vk_ads", "x": "twitter",
}
_EVERYONE = {"all", "all_ages", "all_genders", "both", "any", "все", "любой", "everyone"}
_AUDIENCE_RE = re.compile(r"^(?P<who>[^\d]*?)\s*(?P<age>\d+\s*[-–]\s*\d+|\d+\s*\+)?$")
_DURATION_RE = re.compile(r"^(?P<n>\d+(?:[.,]\d+)?)\s*(?P<unit>days?|d|weeks?|w|дн\w*|день|нед\w*)?$", re.I)
_SLASH_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})")


def platform_slug(value: object) -> str:
    """Known channels to their slug; anything else to a lowercase slug ("Email" → "email")."""
    slug = normalise_title(str(value))
    return _PLATFORMS.get(slug, slug)


def _text(value: object) -> str | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    text = str(value).strip()
    return text or None


def _age(value: str) -> str | None:
    return None if normalise_title(value) in _EVERYONE else age_label(value.replace(" ", "").replace("–", "-"))


def _gender(value: str) -> str | None:
    return None if normalise_title(value) in _EVERYONE else gender_label(value)


def _audience(value: str) -> tuple[str | None, str | None]:
    """"Men 35-44" → ("male", "35-44"); "All Ages" → (None, None)."""
    if normalise_title(value) in _EVERYONE:
        return None, None
    match = _AUDIENCE_RE.match(value.strip())
    if not match:
        return None, None
    who, age = match["who"].strip(), match["age"]
    return (_gender(who) if who else None), (_age(age) if age else None)


def _duration_days(value: str) -> int | float:
    match = _DURATION_RE.match(value.strip())
    if not match:
        raise ValueError
    days = float(match["n"].replace(",", "."))
    unit = (match["unit"] or "d").lower()
    days = days * 7 if unit.startswith(("w", "нед")) else days
    return int(days) if days.is_integer() else days


def dates_day_first(values: Iterable[object]) -> bool:
    """Slash dates: day-first when any first part exceeds 12, otherwise month-first (US exports)."""
    for value in values:
        match = _SLASH_DATE.match(str(value).strip())
        if match and int(match.group(1)) > 12:
            return True
    return False


def read_date(value: object, day_first: bool, hourly: bool) -> tuple[str, int | None]:
    """Excel gives dates as midnight datetimes: those are days unless the column is hourly."""
    if isinstance(value, dt.datetime):
        return value.date().isoformat(), (value.hour if hourly or value.time() != dt.time() else None)
    if isinstance(value, dt.date):
        return value.isoformat(), None
    text = str(value).strip()
    match = _SLASH_DATE.match(text)
    if match:
        first, second, year = (int(part) for part in match.groups())
        day, month = (first, second) if day_first else (second, first)
        text = f"{year:04d}-{month:02d}-{day:02d}" + text[match.end():]
    try:
        return date_and_hour(text)
    except PayloadError:
        raise ValueError from None


def _count(value: object) -> int | float:
    number = parse_number(value)
    return int(number) if number.is_integer() else number


@dataclass
class _Row:
    """Reads one source row through the mapping, recording problems instead of raising."""

    cells: Mapping[str, object]
    mapping: Mapping[str, str]
    line: int
    problems: list[str] = field(default_factory=list)

    def raw(self, key: str) -> str | None:
        column = self.mapping.get(key)
        return _text(self.cells.get(column)) if column else None

    def value(self, key: str, convert: Callable[[object], Any], what: str = "a number") -> Any:
        raw = self.raw(key)
        if raw is None:
            return None
        try:
            return convert(self.cells[self.mapping[key]])
        except ValueError:
            self.problems.append(f"row {self.line}: {self.mapping[key]} {raw!r} is not {what}")
            return None

    def metric(self, key: str, convert: Callable[[object], Any] = _count) -> Any:
        number = self.value(key, convert)
        if number is not None and number < 0:
            self.problems.append(f"row {self.line}: {self.mapping[key]} {self.raw(key)!r} is negative")
        return number


def _build_row(row: _Row, defaults: Mapping[str, Any], day_first: bool,
               title_currency: str | None) -> dict[str, Any] | None:
    stamp_key = "datetime" if "datetime" in row.mapping else "date"
    stamp = row.value(stamp_key, lambda cell: read_date(cell, day_first, stamp_key == "datetime"), "a date")
    if stamp is None and row.raw(stamp_key) is None:
        row.problems.append(f"row {row.line}: {row.mapping[stamp_key]} is empty")
    platform = row.raw("platform") or defaults.get("platform")
    if platform is None:
        row.problems.append(f"row {row.line}: {row.mapping['platform']} is empty")

    spend = row.metric("spend", parse_money)
    if spend is None and "spend_micros" in row.mapping:
        micros = row.metric("spend_micros", parse_number)
        spend = None if micros is None else micros / 1_000_000
    if spend is None and "acquisition_cost" in row.mapping:
        spend = row.metric("acquisition_cost", parse_money)
    clicks = row.metric("clicks")
    conversions = row.metric("conversions")
    rate = row.value("conversion_rate", parse_number)
    if conversions is None and rate is not None and clicks is not None:
        conversions = round(clicks * rate)
    revenue = row.metric("revenue", parse_money)
    roi = row.value("roi", parse_number)
    if revenue is None and roi is not None and spend is not None:
        revenue = spend * (1 + roi)
    values: dict[str, Any] = {
        "impressions": row.metric("impressions"), "reach": row.metric("reach"), "leads": row.metric("leads"),
        "engagements": row.metric("engagements"), "engagement_score": row.value("engagement_score", parse_number),
        "duration_days": row.value("duration_days", lambda cell: _duration_days(str(cell)), "a duration"),
        "hour": row.value("hour", lambda cell: int(parse_number(cell))),
    }
    if row.problems:
        return None

    date, hour = stamp
    money_cell = row.raw("spend") or row.raw("acquisition_cost") or ""
    result: dict[str, Any] = {
        "date": date, "platform": platform_slug(platform),
        "account_id": as_id(row.raw("account_id") or defaults.get("account_id")),
        "campaign_id": as_id(row.raw("campaign_id") or row.raw("campaign_name") or defaults.get("campaign_id")),
        "ad_set_id": as_id(row.raw("ad_set_id") or defaults.get("ad_set_id")),
        "ad_id": as_id(row.raw("ad_id") or defaults.get("ad_id")),
        "currency": ((row.raw("currency") or "").upper() or defaults.get("currency") or title_currency
                     or money_currency(money_cell)),
        "spend": spend or 0.0, "impressions": values["impressions"] or 0, "reach": values["reach"],
        "clicks": clicks or 0, "leads": values["leads"] or 0, "conversions": conversions or 0,
        "revenue": revenue or 0.0,
    }
    hour = values["hour"] if values["hour"] is not None else hour
    if hour is not None:
        result["hour"] = hour
    for key in ("campaign_name", "ad_set_name", "ad_name", "geo", "language", "objective", "segment"):
        if key in row.mapping:
            result[key] = row.raw(key)
    if "audience" in row.mapping:
        result["gender"], result["age"] = _audience(row.raw("audience") or "")
    if "gender" in row.mapping:
        result["gender"] = _gender(row.raw("gender") or "")
    if "age" in row.mapping:
        result["age"] = _age(row.raw("age") or "")
    for key in ("engagements", "engagement_score", "duration_days"):
        if key in row.mapping:
            result[key] = values[key]
    return result


def _missing(mapping: Mapping[str, str], defaults: Mapping[str, Any]) -> list[str]:
    problems = [f"missing required column for {key} ({names})"
                for key, (keys, names) in _REQUIRED.items() if not any(k in mapping for k in keys)]
    if "platform" not in mapping and not defaults.get("platform"):
        problems.append("missing required column for platform (Channel_Used/Platform) — or choose the "
                        "channel for the whole file")
    return problems


def _listed(problems: list[str]) -> list[str]:
    if len(problems) <= MAX_LISTED_PROBLEMS:
        return problems
    return problems[:MAX_LISTED_PROBLEMS] + [f"… and {len(problems) - MAX_LISTED_PROBLEMS} more problems"]


def normalise(frame: pd.DataFrame, mapping: Mapping[str, str], *, defaults: Mapping[str, Any] | None = None,
              max_bad_share: float = MAX_BAD_SHARE) -> UploadResult:
    """Mapped rows → unified rows; `defaults` fill keys the file lacks (platform, account_id, currency).

    Rows with unreadable values are skipped and listed; above `max_bad_share` of such rows the
    file is refused as a whole.
    """
    defaults = defaults or {}
    result = UploadResult(mapping=dict(mapping))
    missing = _missing(mapping, defaults)
    if missing:
        result.problems = missing
        return result
    if frame.empty:
        result.problems = ["the file has a header but no data rows"]
        return result
    stamp_column = mapping.get("datetime") or mapping["date"]
    day_first = dates_day_first(frame[stamp_column])
    spend_title = normalise_title(mapping.get("spend", ""))
    title_currency = (match.group(1).upper() if (match := _TITLE_CURRENCY.search(spend_title)) else None)
    columns = sorted(set(mapping.values()))
    problems: list[str] = []
    bad = 0
    for line, cells in enumerate(frame[columns].to_dict("records"), start=2):
        row = _Row(cells, mapping, line)
        built = _build_row(row, defaults, day_first, title_currency)
        if built is None:
            bad += 1
            problems.extend(row.problems)
        else:
            result.rows.append(built)
    total = len(frame)
    if bad and bad > max_bad_share * total:
        result.rows = []
        problems.append(f"{bad} of {total} rows have unreadable values (more than {max_bad_share:.0%}); "
                        "nothing was imported — fix the file and upload it again")
    elif bad:
        problems.append(f"{bad} of {total} rows were skipped because of the problems above")
    result.problems = _listed(problems)
    return result


def parse_upload(data: bytes, filename: str, *, defaults: Mapping[str, Any] | None = None,
                 max_bytes: int = MAX_UPLOAD_BYTES, max_bad_share: float = MAX_BAD_SHARE) -> UploadResult:
    """Read, recognise and normalise an uploaded file; bad input gives problems, never an exception."""
    try:
        frame = read_table(data, filename, max_bytes=max_bytes)
    except UploadError as error:
        return UploadResult(problems=[str(error)])
    mapping = detect_mapping(frame.columns)
    return normalise(frame, mapping, defaults=defaults, max_bad_share=max_bad_share)
