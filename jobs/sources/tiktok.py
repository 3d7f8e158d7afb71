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

from collections.abc import Mapping
from typing import Any

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
