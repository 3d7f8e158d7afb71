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

import datetime as dt
import hashlib
import json
import re
from collections.abc import Mapping
from typing import Any

from jobs.sources.base import AccountInfo, Capabilities, Connector, FetchResult, Progress, Row, no_progress
from jobs.sources.http import HttpClient
from jobs.sources.parsing import (
    PayloadError, SourceError, TransientError, age_label, classify, gender_label, iso_date, micros, to_count, to_float,
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


# ---------------------------------------------------------------------------------------------
# The Reports API client

API_URL = "https://api.direct.yandex.com"
REPORTS_PATH = "/json/v5/reports"
#: Direct's own accounts live in Moscow time; Reports do not say which zone `Date` uses [unverified].
DEFAULT_TIMEZONE = "Europe/Moscow"
_MEASURES = ["Impressions", "Clicks", "Cost", "Conversions", "Revenue"]


class YandexDirectClient(Connector):
    """Reports service v5 (TSV) for one advertiser login (`account_ref`, sent as Client-Login).

    Facts: AD_PERFORMANCE_REPORT by Date × ad; audience: CUSTOM_REPORT by Date × campaign ×
    Age × Gender. `processingMode: auto` lets Direct choose: 200 is the report, 201/202 mean
    "queued / still building" and the *identical* request (same ReportName, which is derived from
    the request body) is repeated after `retryIn` seconds until 200. Money comes in micro-units
    (`returnMoneyInMicros: true`); the column header and the "Total rows" summary are kept so a
    truncated body is refused. Reports have no hour-of-day and no reach. `settings.goals`
    (Metrica goal ids) and `settings.attribution` (default LC) select which conversions count;
    `settings.include_vat` (default false) says whether cost includes VAT. A report still not
    ready after `settings.max_polls` fails this sync; Direct keeps offline reports for hours and
    the next cycle sends the same ReportName for the same window, so it picks the report up.
    `Client-Login` is sent for every account (required for agencies; for a direct advertiser it
    names the token's own login) [unverified against a non-agency live account].
    """

    kind = "yandex_direct"
    label = "Yandex.Direct"
    channels = (PLATFORM,)
    capabilities = Capabilities(hourly=False, audience=True, period_reach=False)
    default_base_url = API_URL
    credential_fields = ("access_token",)
    required_credentials = credential_fields

    def _make_http(self) -> HttpClient:
        return self.http_client(check, headers={
            "Authorization": f"Bearer {self.secrets['access_token']}",
            "Client-Login": str(self.settings.get("client_login") or self.account_ref),
            "Accept-Language": "en", "processingMode": "auto", "returnMoneyInMicros": "true",
            "skipReportHeader": "true",
        })

    def discover_account(self) -> AccountInfo:
        body = self.http.post("/json/v5/clients", json_body={
            "method": "get", "params": {"FieldNames": ["Login", "ClientInfo", "Currency"]}}).body or {}
        found = ((body.get("result") or {}).get("Clients") or [{}])[0]
        return AccountInfo(account_id=str(found.get("Login") or self.account_ref),
                           name=found.get("ClientInfo") or "", currency=found.get("Currency"),
                           timezone=DEFAULT_TIMEZONE)

    def _report(self, report_type: str, fields: list[str], since: dt.date, until: dt.date) -> list[Row]:
        params: dict[str, Any] = {
            "SelectionCriteria": {"DateFrom": since.isoformat(), "DateTo": until.isoformat()},
            "FieldNames": fields, "ReportType": report_type, "DateRangeType": "CUSTOM_DATE", "Format": "TSV",
            "IncludeVAT": "YES" if self.settings.get("include_vat") else "NO",
        }
        if self.settings.get("goals"):
            params["Goals"] = [str(goal) for goal in self.settings["goals"]]
            params["AttributionModels"] = [str(self.settings.get("attribution") or "LC")]
        digest = hashlib.sha1(json.dumps(params, sort_keys=True).encode()).hexdigest()[:16]
        params["ReportName"] = f"demetra-{report_type.lower()}-{since}-{until}-{digest}"
        max_polls = int(self.settings.get("max_polls", 120))
        for _ in range(max_polls):
            reply = self.http.post(REPORTS_PATH, json_body={"params": params}, expect="text")
            if reply.status == 200:
                return parse(reply.body, money_in_micros=True, account_id=self.account_ref,
                             currency=self.account().currency)
            self.options.sleep(float(reply.headers.get("retryIn") or 5))
        raise TransientError(f"report {params['ReportName']} not ready after {max_polls} polls", platform=PLATFORM)

    def fetch(self, date_from: dt.date, date_to: dt.date, progress: Progress = no_progress) -> FetchResult:
        progress(0.0, "Yandex.Direct: ad × day")
        daily = self._report("AD_PERFORMANCE_REPORT", ["Date", "CampaignId", "CampaignName", "AdGroupId",
                                                       "AdGroupName", "AdId", *_MEASURES], date_from, date_to)
        progress(0.5, "Yandex.Direct: age × gender")
        audience = self._report("CUSTOM_REPORT", ["Date", "CampaignId", "Age", "Gender", *_MEASURES],
                                date_from, date_to)
        return FetchResult(daily=daily, audience=audience)
