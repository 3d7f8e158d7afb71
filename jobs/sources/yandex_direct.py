"""Yandex Direct Reports service (API v5) TSV bodies → unified rows.

Layout of a report body: an optional title line (the ReportName and period; absent with
`skipReportHeader: true`), the column header (the FieldNames; the parser needs it, so the client
must not send `skipColumnHeader`), tab-separated data rows, and an optional summary line
"Total rows: N" (absent with `skipReportSummary: true`). When the summary is present its count
is checked, so a truncated download is refused instead of stored short.

Values: money (`Cost`, `Revenue`) is in micro-units unless the request sent
`returnMoneyInMicros: false`; "--" means no value (0 for metrics); enums stay English whatever the
`Accept-Language` (`AGE_25_34`, `GENDER_MALE`) while names may be Russian. With `Goals` in the
request Direct prints one `Conversions_<goal>_<model>` / `Revenue_<goal>_<model>` column per goal;
goals are distinct events, so they are added. Reports have no currency column and no reach:
pass the account currency (Clients.get) and reach stays None.
"""
from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from jobs.sources.parsing import (
    PayloadError, SourceError, age_label, classify, gender_label, iso_date, micros, to_count, to_float,
    to_int, unified_row,
)

PLATFORM = "yandex_direct"

_SUMMARY_RE = re.compile(r"^(?:Total rows|Всего строк)\s*:\s*(\d+)\s*$", re.IGNORECASE)

_AUTH_CODES = {53, 513}
_RATE_LIMIT_CODES = {56, 152, 506, 9000}
_TRANSIENT_CODES = {52, 1000, 1001, 1002}


def check(payload: Any) -> None:
    """Raise the typed error for a Reports error body (decoded dict or raw text); TSV passes."""
    if isinstance(payload, (str, bytes)):
        text = payload.decode("utf-8", "replace") if isinstance(payload, bytes) else payload
        text = text.lstrip("\ufeff \r\n\t")
        if not text.startswith("{"):
            return
        try:
            payload = json.loads(text)
        except ValueError:
            raise PayloadError("body looks like JSON but does not parse", platform=PLATFORM) from None
    if not isinstance(payload, Mapping) or "error" not in payload:
        return
    error = payload["error"] or {}
    raw_code = error.get("error_code")
    message = (f"Yandex Direct error {raw_code}: {error.get('error_string', '')}"
               f" {error.get('error_detail', '')}").strip()
    try:
        code = int(raw_code)
    except (TypeError, ValueError):
        raise SourceError(message, platform=PLATFORM, code=raw_code) from None
    raise classify(code, message, PLATFORM, auth=_AUTH_CODES, rate_limit=_RATE_LIMIT_CODES,
                   transient=_TRANSIENT_CODES)


def _sum_columns(values: Mapping[str, str], name: str, money: Any) -> float | int:
    """`Conversions` itself, or the sum of its per-goal `Conversions_<goal>_<model>` columns."""
    if name in values:
        return money(values[name])
    total: float | int = 0
    for column, value in values.items():
        if column.startswith(name + "_"):
            total += money(value)
    return total


def parse(payload: str, *, money_in_micros: bool = True, account_id: str | None = None,
          currency: str | None = None) -> list[dict[str, Any]]:
    """One report body → unified rows; `money_in_micros` mirrors the returnMoneyInMicros header."""
    check(payload)
    money = micros if money_in_micros else to_float
    lines = [line.rstrip("\r") for line in payload.lstrip("\ufeff").split("\n")]
    while lines and not lines[-1].strip():
        lines.pop()
    expected = None
    if lines and (match := _SUMMARY_RE.match(lines[-1].strip())):
        expected = int(match.group(1))
        lines.pop()
    header_at = next((i for i, line in enumerate(lines[:2]) if "Date" in line.split("\t")), None)
    if header_at is None:
        raise PayloadError("report has no column header with a Date column", platform=PLATFORM)
    columns = lines[header_at].split("\t")
    rows = []
    for number, line in enumerate(lines[header_at + 1:], start=header_at + 2):
        cells = line.split("\t")
        if len(cells) != len(columns):
            raise PayloadError(f"line {number}: {len(cells)} fields, header has {len(columns)}",
                               platform=PLATFORM)
        values = dict(zip(columns, cells))
        row = unified_row(
            PLATFORM, iso_date(values["Date"]), account_id=account_id,
            campaign_id=values.get("CampaignId"), ad_set_id=values.get("AdGroupId"), ad_id=values.get("AdId"),
            currency=currency, spend=money(values.get("Cost")), impressions=to_int(values.get("Impressions")),
            clicks=to_int(values.get("Clicks")), conversions=_sum_columns(values, "Conversions", to_count),
            revenue=float(_sum_columns(values, "Revenue", money)),
        )
        for column, key in (("CampaignName", "campaign_name"), ("AdGroupName", "ad_set_name")):
            if values.get(column, "--") != "--":
                row[key] = values[column]
        if "Age" in values:
            row["age"] = age_label(values["Age"])
        if "Gender" in values:
            row["gender"] = gender_label(values["Gender"])
        geo = values.get("LocationOfPresenceName") or values.get("TargetingLocationName")
        if geo and geo != "--":
            row["geo"] = geo
        rows.append(row)
    if expected is not None and expected != len(rows):
        raise PayloadError(f"summary says {expected} rows, body has {len(rows)}", platform=PLATFORM)
    return rows
