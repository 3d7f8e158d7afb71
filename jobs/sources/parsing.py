"""Shared pieces of the source parsers: the unified row, value coercion and the error types.

Every ad platform encodes the same facts differently (numbers as strings, money in micros, "--"
for nothing, several date spellings), so the coercion rules live here once and each platform
module only knows its own wire format. Nothing here does I/O: the HTTP clients that come later
raise the same error types, so a sync job can decide retry / back off / ask for re-authorisation
without knowing which platform it talks to.
"""
from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Container, Mapping
from typing import Any

#: Metrics every unified row carries; absent in the body means 0 (except reach, see below).
METRICS = ("spend", "impressions", "clicks", "leads", "conversions", "revenue")

#: Spellings that platforms use for "no value" (Yandex prints "--", TikTok and exports "-").
_ABSENT = {"", "-", "--"}


class SourceError(Exception):
    """A platform refused or failed the request; not retryable unless a subclass says so."""

    def __init__(self, message: str, *, platform: str | None = None, code: object = None) -> None:
        super().__init__(message)
        self.platform = platform
        self.code = code


class AuthError(SourceError):
    """The token is expired, revoked or lacks rights: a person has to re-authorise the account."""


class RateLimitError(SourceError):
    """Too many calls: back off for `retry_after` seconds when the platform says how long."""

    def __init__(self, message: str, *, retry_after: float | None = None, platform: str | None = None,
                 code: object = None) -> None:
        super().__init__(message, platform=platform, code=code)
        self.retry_after = retry_after


class TransientError(SourceError):
    """Server-side hiccup (5xx, timeout, "try again later"): retrying the same request is right."""


class QueryTooLargeError(SourceError):
    """The platform refuses the amount of data asked for: split the date range or level, then retry."""


class PayloadError(SourceError):
    """The body is not what the parser expects (truncated, wrong report, unknown shape)."""


def classify(code: object, message: str, platform: str, *, auth: Container[object] = (),
             rate_limit: Container[object] = (), too_large: Container[object] = (),
             transient: Container[object] = (), retry_after: float | None = None) -> SourceError:
    """The typed error for a platform error code, looked up in that platform's code tables.

    Returned rather than raised so a module can still adjust it (Meta's `is_transient` flag).
    """
    if code in auth:
        return AuthError(message, platform=platform, code=code)
    if code in rate_limit:
        return RateLimitError(message, retry_after=retry_after, platform=platform, code=code)
    if code in too_large:
        return QueryTooLargeError(message, platform=platform, code=code)
    if code in transient:
        return TransientError(message, platform=platform, code=code)
    return SourceError(message, platform=platform, code=code)


def unified_row(platform: str, date: str, **values: Any) -> dict[str, Any]:
    """One row in the unified shape, so every parser fills the same keys with the same defaults.

    Reach stays None when the body has none: it is a deduplicated count that cannot be invented
    or summed, unlike the additive metrics whose absence means zero.
    """
    row: dict[str, Any] = {
        "date": date, "platform": platform, "account_id": None, "campaign_id": None,
        "ad_set_id": None, "ad_id": None, "currency": None, "reach": None,
        **{metric: 0 for metric in METRICS},
    }
    row.update(values)
    for key in ("account_id", "campaign_id", "ad_set_id", "ad_id"):
        row[key] = as_id(row[key])
    return row


def as_id(value: object) -> str | None:
    """Ids as strings: VK sends ints, Meta strings, spreadsheets floats such as 972649.0."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    text = str(value).strip()
    return text or None


def _is_absent(value: object) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return isinstance(value, str) and value.strip() in _ABSENT


def to_float(value: object) -> float:
    """A decimal from a JSON number or string; absent markers count as 0.

    A single comma without a dot is a decimal comma (Telegram exports "0,0402"); API bodies never
    use thousands separators, so anything else unparseable is a broken body.
    """
    if _is_absent(value):
        return 0.0
    if isinstance(value, bool):
        raise PayloadError(f"expected a number, got {value!r}")
    if isinstance(value, (int, float)):
        return float(value)
    text = str(value).strip()
    if text.count(",") == 1 and "." not in text:
        text = text.replace(",", ".")
    try:
        number = float(text)
    except ValueError:
        raise PayloadError(f"expected a number, got {value!r}") from None
    if not math.isfinite(number):
        raise PayloadError(f"expected a finite number, got {value!r}")
    return number


def to_int(value: object) -> int:
    """A count; rounding guards against "45.0"-style spellings of whole numbers."""
    return int(round(to_float(value)))


def to_count(value: object) -> int | float:
    """Conversions may be fractional (data-driven attribution); keep ints as ints."""
    number = to_float(value)
    return int(number) if number.is_integer() else number


def optional_int(value: object) -> int | None:
    """Reach and other deduplicated counts: None when the body has no value."""
    return None if _is_absent(value) else to_int(value)


def micros(value: object) -> float:
    """Money in micro-units (Google cost_micros, Yandex by default) → currency units."""
    return to_float(value) / 1_000_000


_DATE_FORMATS = ("%Y-%m-%d", "%d.%m.%Y", "%d %b %Y", "%d %B %Y", "%Y/%m/%d")
_TIME_RE = re.compile(r"^(?P<date>.+?)[ T](?P<hour>\d{1,2}):\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?$")


def iso_date(value: object) -> str:
    """'YYYY-MM-DD' from the spellings platforms use ("2024-09-03 00:00:00", "16 Jan 2026", ...)."""
    return date_and_hour(value)[0]


def date_and_hour(value: object) -> tuple[str, int | None]:
    """Split a day or day-and-hour stamp; the hour is None when the stamp has no time part.

    Stamps are taken at face value (platforms report in the account's time zone, without an
    offset): converting them would move rows across days.
    """
    if isinstance(value, dt.datetime):
        return value.date().isoformat(), value.hour
    if isinstance(value, dt.date):
        return value.isoformat(), None
    text = str(value).strip() if value is not None else ""
    hour: int | None = None
    match = _TIME_RE.match(text)
    if match:
        text, hour = match["date"].strip(), int(match["hour"])
        if hour > 23:
            raise PayloadError(f"not a time of day: {value!r}")
    for fmt in _DATE_FORMATS:
        try:
            return dt.datetime.strptime(text, fmt).date().isoformat(), hour
        except ValueError:
            continue
    raise PayloadError(f"not a date: {value!r}")


_GENDERS = {"male": "male", "female": "female", "men": "male", "women": "female", "m": "male", "f": "female",
            "gender_male": "male", "gender_female": "female", "undetermined": "unknown", "unknown": "unknown",
            "none": "unknown"}


def gender_label(raw: object) -> str | None:
    """One gender vocabulary (male / female / unknown) over MALE, GENDER_MALE, 'Men', ..."""
    if _is_absent(raw):
        return None
    return _GENDERS.get(str(raw).strip().lower(), "unknown")


_AGE_RE = re.compile(r"^(?:age_)?(?:range_)?(\d+)(?:[_\-\s]+(\d+|up))?(\+)?$")


def age_label(raw: object) -> str | None:
    """One age vocabulary ("25-34", "55+", "unknown") over AGE_25_34, AGE_RANGE_65_UP, "25-34", ...

    Open-ended upper bands ("AGE_55", TikTok's "AGE_55_100", Google's "_UP") read as "N+".
    """
    if _is_absent(raw):
        return None
    text = str(raw).strip().lower()
    match = _AGE_RE.match(text)
    if not match:
        return "unknown"
    low, high, plus = match.groups()
    if plus or high in (None, "up", "100"):
        return f"{int(low)}+"
    return f"{int(low)}-{int(high)}"


def dig(mapping: Mapping[str, Any], *path: str) -> Any:
    """Nested lookup that tolerates missing levels (proto3 JSON omits empty messages)."""
    current: Any = mapping
    for key in path:
        if not isinstance(current, Mapping):
            return None
        current = current.get(key)
    return current


def parse_retry_delay(value: object) -> float | None:
    """Seconds from "60s" (Google's Duration JSON) or a plain number; None when unknown."""
    if _is_absent(value):
        return None
    text = str(value).strip().removesuffix("s")
    try:
        return float(text)
    except ValueError:
        return None
