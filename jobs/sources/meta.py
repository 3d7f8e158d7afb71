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

import datetime as dt
import hashlib
import hmac
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import httpx

from jobs.sources.base import (
    AccountInfo, Capabilities, Connector, FetchResult, Progress, Row, halving, no_progress,
)
from jobs.sources.http import HttpClient
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


# ---------------------------------------------------------------------------------------------
# The Marketing API client

GRAPH_URL = "https://graph.facebook.com"
API_VERSION = "v21.0"
PAGE_LIMIT = 500
_ID_FIELDS = "account_id,account_currency,campaign_id,campaign_name,date_start,date_stop"
_MEASURES = "spend,impressions,clicks,inline_link_clicks,actions,action_values"
DAILY_FIELDS = f"{_ID_FIELDS},adset_id,adset_name,ad_id,ad_name,reach,{_MEASURES}"
BREAKDOWN_FIELDS = f"{_ID_FIELDS},{_MEASURES}"
#: Include deleted and archived ads, or their history disappears from restated windows.
_ALL_STATUSES = ["ACTIVE", "ADSET_PAUSED", "ARCHIVED", "CAMPAIGN_PAUSED", "DELETED", "DISAPPROVED", "IN_PROCESS",
                 "PAUSED", "PENDING_BILLING_INFO", "PENDING_REVIEW", "PREAPPROVED", "WITH_ISSUES"]
#: Utilisation (percent) from which Meta starts refusing calls; pause before getting there.
HIGH_USAGE_PCT = 90.0
HIGH_USAGE_PAUSE_S = 60.0


def _json_header(response: httpx.Response, name: str) -> Any:
    raw = response.headers.get(name)
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return None


def _pct(entry: Mapping[str, Any], *keys: str) -> float:
    values = [entry.get(key) for key in keys]
    return max((float(v) for v in values if isinstance(v, (int, float))), default=0.0)


def usage_wait(response: httpx.Response) -> float | None:
    """Seconds to pause, read from Meta's usage headers (present on errors and successes alike).

    `X-Business-Use-Case-Usage` gives `estimated_time_to_regain_access` in minutes once an account
    is throttled, and call_count / total_time percentages before that; `x-fb-ads-insights-throttle`
    gives app and account utilisation of the insights quota.
    """
    wait = 0.0
    buc = _json_header(response, "X-Business-Use-Case-Usage")
    for entries in (buc.values() if isinstance(buc, Mapping) else ()):
        for entry in entries if isinstance(entries, list) else ():
            if not isinstance(entry, Mapping):
                continue
            wait = max(wait, 60.0 * float(entry.get("estimated_time_to_regain_access") or 0))
            if _pct(entry, "call_count", "total_cputime", "total_time") >= HIGH_USAGE_PCT:
                wait = max(wait, HIGH_USAGE_PAUSE_S)
    throttle = _json_header(response, "x-fb-ads-insights-throttle")
    if isinstance(throttle, Mapping) and _pct(throttle, "app_id_util_pct", "acc_id_util_pct") >= HIGH_USAGE_PCT:
        wait = max(wait, HIGH_USAGE_PAUSE_S)
    return wait or None


def _dominant_channels(rows: list[Row]) -> dict[str | None, str]:
    """campaign id → the channel (facebook / instagram) that carried most of its spend."""
    spend: dict[tuple[str | None, str], float] = {}
    for row in rows:
        key = (row["campaign_id"], row["platform"])
        spend[key] = spend.get(key, 0.0) + row["spend"]
    best: dict[str | None, tuple[float, str]] = {}
    for (campaign, channel_slug), total in sorted(spend.items(), key=lambda item: item[0][1]):
        if campaign not in best or total > best[campaign][0]:
            best[campaign] = (total, channel_slug)
    return {campaign: slug for campaign, (_, slug) in best.items()}


class MetaClient(Connector):
    """Graph API insights for one ad account, Facebook and Instagram told apart by publisher_platform.

    Three reports per window: ad × day × publisher_platform (the facts), campaign × day ×
    age × gender (audience) and campaign × day × hour (advertiser time zone). Ranges longer than
    `settings.async_after_days` (default 7) run as async report runs (POST → poll the run until
    "Job Completed" → read its insights), shorter ones synchronously; a "too much data" error or a
    failed async run splits the range in halves. Demographic and hourly breakdowns cannot be
    combined with publisher_platform [unverified: Meta documents no such combination], so those
    rows go to the campaign's dominant channel in the window. `settings.action_map` sets which
    action types count as leads / conversions / revenue for this account (see `ActionMap`).
    Tokens: a System User token (does not expire) is the one to store; `app_secret`, when given,
    adds `appsecret_proof` to every call.
    """

    kind = "meta"
    label = "Meta (Facebook + Instagram)"
    channels = ("facebook", "instagram")
    capabilities = Capabilities(hourly=True, audience=True, period_reach=True)
    default_lookback_days = 28
    default_base_url = GRAPH_URL
    credential_fields = ("access_token", "app_secret")
    required_credentials = ("access_token",)

    @property
    def _version(self) -> str:
        return str(self.settings.get("api_version") or API_VERSION)

    @property
    def _account_path(self) -> str:
        return f"/{self._version}/act_{self.account_ref.removeprefix('act_')}"

    def _make_http(self) -> HttpClient:
        return self.http_client(check, headers={"Authorization": f"Bearer {self.secrets['access_token']}"},
                                usage=usage_wait)

    def _signed(self, params: Mapping[str, Any]) -> dict[str, Any]:
        signed = dict(params)
        secret = self.secrets.get("app_secret")
        if secret:
            signed["appsecret_proof"] = hmac.new(secret.encode(), self.secrets["access_token"].encode(),
                                                 hashlib.sha256).hexdigest()
        return signed

    def discover_account(self) -> AccountInfo:
        body = self.http.get(self._account_path,
                             params=self._signed({"fields": "account_id,name,currency,timezone_name"})).body or {}
        return AccountInfo(account_id=str(body.get("account_id") or self.account_ref.removeprefix("act_")),
                           name=body.get("name", ""), currency=body.get("currency"),
                           timezone=body.get("timezone_name"))

    def fetch(self, date_from: dt.date, date_to: dt.date, progress: Progress = no_progress) -> FetchResult:
        actions = ActionMap.from_settings(self.settings.get("action_map") or {})
        progress(0.0, "Meta: ad × day × placement")
        daily = self._insights(date_from, date_to, actions, level="ad", fields=DAILY_FIELDS,
                               breakdowns="publisher_platform")
        progress(0.4, "Meta: age × gender")
        audience = self._insights(date_from, date_to, actions, level="campaign", fields=BREAKDOWN_FIELDS,
                                  breakdowns="age,gender")
        progress(0.7, "Meta: hour of day")
        hourly = self._insights(date_from, date_to, actions, level="campaign", fields=BREAKDOWN_FIELDS,
                                breakdowns="hourly_stats_aggregated_by_advertiser_time_zone")
        dominant = _dominant_channels(daily)
        for row in audience + hourly:
            row["platform"] = dominant.get(row["campaign_id"], row["platform"])
        return FetchResult(daily=daily, hourly=hourly, audience=audience)

    def _insights(self, date_from: dt.date, date_to: dt.date, actions: ActionMap, **params: Any) -> list[Row]:
        def one_range(since: dt.date, until: dt.date) -> list[Row]:
            query = {**params, "time_range": json.dumps({"since": since.isoformat(), "until": until.isoformat()}),
                     "time_increment": 1, "limit": PAGE_LIMIT, "use_unified_attribution_setting": "true",
                     "filtering": json.dumps([{"field": "ad.effective_status", "operator": "IN",
                                               "value": _ALL_STATUSES}])}
            if (until - since).days + 1 > int(self.settings.get("async_after_days", 7)):
                return self._async_report(query, actions)
            return self._pages(f"{self._account_path}/insights", query, actions)

        return halving(one_range, date_from, date_to)

    def _pages(self, path: str, params: Mapping[str, Any], actions: ActionMap) -> list[Row]:
        body = self.http.get(path, params=self._signed(params)).body
        rows = parse(body, action_map=actions)
        while (url := next_page_url(body)) is not None:
            body = self.http.get(url).body  # `next` already carries every parameter
            rows.extend(parse(body, action_map=actions))
        return rows

    def _async_report(self, params: Mapping[str, Any], actions: ActionMap) -> list[Row]:
        """POST the report, poll its run until "Job Completed", then page through its insights."""
        body = self.http.post(f"{self._account_path}/insights", data=self._signed(params)).body or {}
        run_id = body.get("report_run_id")
        if not run_id:
            raise PayloadError("async insights request returned no report_run_id", platform=SOURCE)
        polls = int(self.settings.get("async_max_polls", 360))
        for _ in range(polls):
            run = self.http.get(f"/{self._version}/{run_id}", params=self._signed({})).body or {}
            state = run.get("async_status")
            if state == "Job Completed":
                return self._pages(f"/{self._version}/{run_id}/insights", {"limit": PAGE_LIMIT}, actions)
            if state in ("Job Failed", "Job Skipped"):
                # Meta's advice for failed runs is to ask for less: `halving` resubmits both halves.
                raise QueryTooLargeError(f"Meta async report {run_id}: {state}", platform=SOURCE)
            self.options.sleep(float(self.settings.get("async_poll_seconds", 10)))
        raise TransientError(f"Meta async report {run_id} not finished after {polls} polls", platform=SOURCE)
