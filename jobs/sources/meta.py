"""Meta (Facebook + Instagram) Marketing API insights bodies → unified rows.

Wire format (Graph API /insights): `{"data": [...], "paging": {...}}`, every number a string,
`actions` / `action_values` as lists of `{"action_type", "value"}`. Choices made here:

* Conversions: Meta reports one purchase under several aliases (`omni_purchase`,
  `offsite_conversion.fb_pixel_purchase`, `purchase`, ...). An `ActionMap` lists, per metric,
  groups of aliases; within a group the first alias present wins (never summed), and distinct
  groups (say purchases and registrations) are added. The defaults count purchases as
  conversions and their value as revenue, and all-leads as leads; accounts can override them.
* Clicks: `inline_link_clicks` when the body has it (clicks to the advertised destination, the
  number comparable with other platforms' clicks), otherwise `clicks` (all clicks).
* Facebook vs Instagram: rows broken down by `publisher_platform` are `instagram` when that
  value is "instagram" and `facebook` otherwise (audience_network and messenger are bought and
  billed through the Facebook side); rows without the breakdown are `facebook`.
* One row per day: a row whose `date_start` ≠ `date_stop` is refused, because summing such rows
  double-counts days (request `time_increment=1`).
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from jobs.sources.parsing import (
    PayloadError, QueryTooLargeError, SourceError, TransientError, age_label, classify, gender_label,
    iso_date, optional_int, to_count, to_float, to_int, unified_row,
)

#: Errors name the API; rows name the channel (facebook / instagram).
SOURCE = "meta"

AliasGroups = tuple[tuple[str, ...], ...]


def _groups(value: str | Sequence[str] | Sequence[Sequence[str]]) -> AliasGroups:
    """Accept "lead", ["a", "b"] (one alias group) or [["a", "b"], ["c"]] (several events)."""
    if isinstance(value, str):
        return ((value,),)
    items = list(value)
    if all(isinstance(item, str) for item in items):
        return (tuple(items),)
    return tuple((item,) if isinstance(item, str) else tuple(item) for item in items)


@dataclass(frozen=True)
class ActionMap:
    """Which action types count as leads, conversions and revenue for one ad account.

    Each metric is a tuple of alias groups; see the module docstring for how they combine.
    """

    leads: AliasGroups = (("lead", "onsite_conversion.lead_grouped", "offsite_conversion.fb_pixel_lead"),)
    conversions: AliasGroups = (("omni_purchase", "offsite_conversion.fb_pixel_purchase", "purchase"),)
    revenue: AliasGroups = (("omni_purchase", "offsite_conversion.fb_pixel_purchase", "purchase"),)

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> ActionMap:
        """Build from a stored per-account setting such as {"conversions": [["purchase"], ["lead"]]}."""
        default = cls()
        return cls(**{name: _groups(settings[name]) if name in settings else getattr(default, name)
                      for name in ("leads", "conversions", "revenue")})


def _pick(items: Iterable[Mapping[str, Any]] | None, groups: AliasGroups,
          convert: Callable[[object], int | float]) -> int | float:
    """Sum over groups of the first alias present in each group."""
    by_type = {item.get("action_type"): item.get("value") for item in items or ()}
    total: int | float = 0
    for aliases in groups:
        for alias in aliases:
            if alias in by_type:
                total += convert(by_type[alias])
                break
    return total


def channel(publisher_platform: str | None) -> str:
    """The channel slug for a `publisher_platform` breakdown value."""
    return "instagram" if (publisher_platform or "").lower() == "instagram" else "facebook"


_RATE_LIMIT_CODES = {4, 17, 32, 613} | set(range(80000, 80015))
_AUTH_CODES = {102, 190}
_TRANSIENT_CODES = {1, 2}
#: (code, subcode) pairs that mean "ask for less data".
_TOO_LARGE = {(100, 1487534), (100, 1504018), (2, 1504038), (1, 99)}


def check(payload: Any) -> None:
    """Raise the typed error for a Graph API error body; return quietly for anything else."""
    if not isinstance(payload, Mapping) or "error" not in payload:
        return
    body = payload["error"] if isinstance(payload["error"], Mapping) else {"message": str(payload["error"])}
    code = body.get("code")
    subcode = body.get("error_subcode")
    message = f"Meta error {code}/{subcode}: {body.get('message', '')}".strip()
    try:
        code = int(code)
    except (TypeError, ValueError):
        raise SourceError(message, platform=SOURCE, code=code) from None
    if (code, subcode) in _TOO_LARGE:
        raise QueryTooLargeError(message, platform=SOURCE, code=code)
    error = classify(code, message, SOURCE, auth=_AUTH_CODES, rate_limit=_RATE_LIMIT_CODES,
                     transient=_TRANSIENT_CODES)
    if type(error) is SourceError and body.get("is_transient"):
        error = TransientError(message, platform=SOURCE, code=code)
    raise error


def next_page_url(payload: Mapping[str, Any]) -> str | None:
    """The URL of the next page; Meta omits `paging.next` on the last one."""
    paging = payload.get("paging") or {}
    return paging.get("next")


def _hour(value: object) -> int | None:
    """`hourly_stats_aggregated_by_advertiser_time_zone` looks like "13:00:00 - 13:59:59"."""
    if not value:
        return None
    try:
        return int(str(value).split(":", 1)[0])
    except ValueError:
        raise PayloadError(f"not an hour range: {value!r}", platform=SOURCE) from None


def _row(item: Mapping[str, Any], actions: ActionMap) -> dict[str, Any]:
    start, stop = item.get("date_start"), item.get("date_stop")
    if not start:
        raise PayloadError("insights row without date_start", platform=SOURCE)
    if stop and stop != start:
        raise PayloadError(f"row covers {start}..{stop}; request time_increment=1", platform=SOURCE)
    clicks = item["inline_link_clicks"] if "inline_link_clicks" in item else item.get("clicks")
    row = unified_row(
        channel(item.get("publisher_platform")), iso_date(start),
        account_id=item.get("account_id"), campaign_id=item.get("campaign_id"),
        ad_set_id=item.get("adset_id"), ad_id=item.get("ad_id"), currency=item.get("account_currency"),
        spend=to_float(item.get("spend")), impressions=to_int(item.get("impressions")),
        reach=optional_int(item.get("reach")), clicks=to_int(clicks),
        leads=_pick(item.get("actions"), actions.leads, to_count),
        conversions=_pick(item.get("actions"), actions.conversions, to_count),
        revenue=float(_pick(item.get("action_values"), actions.revenue, to_float)),
    )
    hour = _hour(item.get("hourly_stats_aggregated_by_advertiser_time_zone"))
    if hour is not None:
        row["hour"] = hour
    for source, key in (("campaign_name", "campaign_name"), ("adset_name", "ad_set_name"), ("ad_name", "ad_name")):
        if item.get(source):
            row[key] = item[source]
    if "age" in item:
        row["age"] = age_label(item["age"])
    if "gender" in item:
        row["gender"] = gender_label(item["gender"])
    geo = item.get("country") or item.get("region")
    if geo:
        row["geo"] = geo
    return row


def parse(payload: Mapping[str, Any], *, action_map: ActionMap | None = None) -> list[dict[str, Any]]:
    """One insights page → unified rows (follow `next_page_url` for the rest)."""
    check(payload)
    data = payload.get("data") if isinstance(payload, Mapping) else None
    if not isinstance(data, list):
        raise PayloadError("insights body has no 'data' list", platform=SOURCE)
    actions = action_map or ActionMap()
    return [_row(item, actions) for item in data]
