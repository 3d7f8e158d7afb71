"""TikTok API for Business `report/integrated/get` bodies → unified rows.

TikTok answers HTTP 200 even for errors and puts the verdict in `code` (0 = ok), so `check`
must run on every body before anything reads `data`. Rows are `data.list[]` of
`{"dimensions": {...}, "metrics": {...}}`; metrics are mostly strings ("20.00"), a few numbers,
and "-" or null when not applicable.

Mapping: advertiser → account (from the `advertiser_id` dimension, else the caller's
`account_id`), ad group → ad set. `conversion` is conversions (the optimisation event);
leads = `onsite_form` (instant forms) + `form` (website form event) — distinct events, so added;
revenue = `total_purchase_value`, else `total_complete_payment_rate` (which, despite its name, is
the complete-payment value). The report has no currency: pass the advertiser's currency from
`advertiser/info`. `stat_time_day` / `stat_time_hour` are advertiser-time-zone stamps without an
offset and are kept as they are.
"""
from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from typing import Any

from jobs.sources.base import (
    AccountInfo, Capabilities, Connector, FetchResult, Progress, Row, chunks, halving, no_progress,
)
from jobs.sources.http import HttpClient
from jobs.sources.parsing import (
    PayloadError, age_label, classify, date_and_hour, gender_label, optional_int, to_count, to_float, to_int,
    unified_row,
)

PLATFORM = "tiktok"

_RATE_LIMIT_CODES = {40100, 40133}
_AUTH_CODES = {40001, 40002, 40104, 40105}
_TOO_LARGE_CODES = {40067}
_TRANSIENT_CODES = range(50000, 60000)
_REVENUE_METRICS = ("total_purchase_value", "total_complete_payment_rate")


def check(payload: Any) -> None:
    """Raise the typed error when `code` is not 0 (TikTok's errors arrive with HTTP 200)."""
    if not isinstance(payload, Mapping) or "code" not in payload:
        raise PayloadError("TikTok body without 'code'", platform=PLATFORM)
    try:
        code = int(payload["code"])
    except (TypeError, ValueError):
        raise PayloadError(f"TikTok code is not a number: {payload['code']!r}", platform=PLATFORM) from None
    if code == 0:
        return
    raise classify(code, f"TikTok error {code}: {payload.get('message', '')}", PLATFORM, auth=_AUTH_CODES,
                   rate_limit=_RATE_LIMIT_CODES, too_large=_TOO_LARGE_CODES, transient=_TRANSIENT_CODES)


def next_page(payload: Mapping[str, Any]) -> int | None:
    """The page number to request next, or None on the last page."""
    info = (payload.get("data") or {}).get("page_info") or {}
    page, total = info.get("page"), info.get("total_page")
    if page is None or total is None or int(page) >= int(total):
        return None
    return int(page) + 1


def _row(item: Mapping[str, Any], account_id: str | None, currency: str | None) -> dict[str, Any]:
    dims = item.get("dimensions") or {}
    metrics = item.get("metrics") or {}
    stamp = dims.get("stat_time_hour") or dims.get("stat_time_day")
    if not stamp:
        raise PayloadError("report row without stat_time_day / stat_time_hour", platform=PLATFORM)
    date, hour = date_and_hour(stamp)
    revenue = next((metrics[name] for name in _REVENUE_METRICS if name in metrics), None)
    row = unified_row(
        PLATFORM, date,
        account_id=dims.get("advertiser_id") or account_id, campaign_id=dims.get("campaign_id"),
        ad_set_id=dims.get("adgroup_id"), ad_id=dims.get("ad_id"), currency=currency,
        spend=to_float(metrics.get("spend")), impressions=to_int(metrics.get("impressions")),
        reach=optional_int(metrics.get("reach")), clicks=to_int(metrics.get("clicks")),
        leads=to_count(metrics.get("onsite_form")) + to_count(metrics.get("form")),
        conversions=to_count(metrics.get("conversion")), revenue=to_float(revenue),
    )
    if "stat_time_hour" in dims:
        row["hour"] = hour
    for key in ("campaign_name", "adgroup_name", "ad_name"):
        if metrics.get(key):
            row["ad_set_name" if key == "adgroup_name" else key] = metrics[key]
    if "age" in dims:
        row["age"] = age_label(dims["age"])
    if "gender" in dims:
        row["gender"] = gender_label(dims["gender"])
    if dims.get("country_code"):
        row["geo"] = dims["country_code"]
    return row


def parse(payload: Mapping[str, Any], *, account_id: str | None = None,
          currency: str | None = None) -> list[dict[str, Any]]:
    """One report page → unified rows; raises the typed error for a non-zero `code`."""
    check(payload)
    rows = (payload.get("data") or {}).get("list")
    if not isinstance(rows, list):
        raise PayloadError("TikTok report body has no data.list", platform=PLATFORM)
    return [_row(item, account_id, currency) for item in rows]


# ---------------------------------------------------------------------------------------------
# The Business API client

API_URL = "https://business-api.tiktok.com"
REPORT_PATH = "/open_api/v1.3/report/integrated/get/"
PAGE_SIZE = 1000
#: Daily reports are asked for 30 days at a time (Airbyte's step), hourly ones a day at a time (API limit).
DAILY_WINDOW_DAYS = 30
_MEASURES = ["spend", "impressions", "clicks", "conversion", "onsite_form", "form", "total_purchase_value"]
#: With data_level AUCTION_AD the parent ids are attribute metrics, not dimensions.
_PARENT_IDS = ("campaign_id", "adgroup_id")


def _lift_parent_ids(payload: Any) -> Any:
    """Copy campaign/ad group ids from `metrics` into `dimensions`, where `parse` reads ids."""
    for item in ((payload.get("data") or {}).get("list") or ()) if isinstance(payload, Mapping) else ():
        dims, metrics = item.setdefault("dimensions", {}), item.get("metrics") or {}
        for key in _PARENT_IDS:
            if metrics.get(key) and not dims.get(key):
                dims[key] = metrics[key]
    return payload


class TikTokClient(Connector):
    """`report/integrated/get` for one advertiser, with the raw token in `Access-Token`.

    Facts: BASIC × AUCTION_AD × (ad_id, stat_time_day) with the parent ids and names as attribute
    metrics; audience: AUDIENCE × AUCTION_CAMPAIGN × (campaign_id, stat_time_day, age, gender);
    hours: BASIC × AUCTION_CAMPAIGN × (campaign_id, stat_time_hour), one day per request. Every
    body is checked for a non-zero `code` (errors come with HTTP 200); 40067 "query too large"
    halves the range. Dates are in the advertiser's time zone, as the API reports them; currency
    and time zone come from `advertiser/info`.
    """

    kind = "tiktok"
    label = "TikTok"
    channels = (PLATFORM,)
    capabilities = Capabilities(hourly=True, audience=True, period_reach=True)
    default_base_url = API_URL
    credential_fields = ("access_token",)
    required_credentials = credential_fields

    def _make_http(self) -> HttpClient:
        return self.http_client(check, headers={"Access-Token": self.secrets["access_token"]})

    def discover_account(self) -> AccountInfo:
        body = self.http.get("/open_api/v1.3/advertiser/info/", params={
            "advertiser_ids": json.dumps([self.account_ref]),
            "fields": json.dumps(["advertiser_id", "name", "currency", "timezone", "display_timezone"]),
        }).body
        found = ((body.get("data") or {}).get("list") or [{}])[0]
        return AccountInfo(account_id=str(found.get("advertiser_id") or self.account_ref), name=found.get("name", ""),
                           currency=found.get("currency"),
                           timezone=found.get("display_timezone") or found.get("timezone"))

    def _report(self, since: dt.date, until: dt.date, **params: Any) -> list[Row]:
        query = {"advertiser_id": self.account_ref, "service_type": "AUCTION", "start_date": since.isoformat(),
                 "end_date": until.isoformat(), "page_size": PAGE_SIZE,
                 **{key: json.dumps(value) if isinstance(value, list) else value for key, value in params.items()}}
        currency = self.account().currency
        rows: list[Row] = []
        page: int | None = 1
        while page is not None:
            body = _lift_parent_ids(self.http.get(REPORT_PATH, params={**query, "page": page}).body)
            rows.extend(parse(body, account_id=self.account_ref, currency=currency))
            page = next_page(body)
        return rows

    def fetch(self, date_from: dt.date, date_to: dt.date, progress: Progress = no_progress) -> FetchResult:
        result = FetchResult()
        progress(0.0, "TikTok: ad × day")
        for since, until in chunks(date_from, date_to, DAILY_WINDOW_DAYS):
            result.daily += halving(lambda a, b: self._report(
                a, b, report_type="BASIC", data_level="AUCTION_AD", dimensions=["ad_id", "stat_time_day"],
                metrics=["campaign_id", "campaign_name", "adgroup_id", "adgroup_name", "ad_name", "reach", *_MEASURES],
            ), since, until)
            result.audience += halving(lambda a, b: self._report(
                a, b, report_type="AUDIENCE", data_level="AUCTION_CAMPAIGN",
                dimensions=["campaign_id", "stat_time_day", "age", "gender"], metrics=_MEASURES,
            ), since, until)
        days = (date_to - date_from).days + 1
        for number, (day, _) in enumerate(chunks(date_from, date_to, 1)):
            progress(0.5 + 0.5 * number / days, f"TikTok: hours of {day.isoformat()}")
            result.hourly += self._report(day, day, report_type="BASIC", data_level="AUCTION_CAMPAIGN",
                                          dimensions=["campaign_id", "stat_time_hour"], metrics=_MEASURES)
        return result
