"""Google Ads API (GAQL over REST) bodies → unified rows.

`googleAds:searchStream` answers with a JSON array of batches, `googleAds:search` with one page
object; both carry `results`, each result a nested object per resource in lowerCamelCase
(`metrics.costMicros`). int64 values arrive as strings, doubles as numbers, and proto3 omits
zero values entirely — so a missing metric is 0, never an error.

Mapping: customer → account (its id from `customer.id`, else from the campaign's resource name),
ad group → ad set, `adGroupAd.ad` → ad; `metrics.conversions` / `metrics.conversionsValue` are
conversions / revenue (Google has no separate lead count, leads stay 0); reach is
`metrics.uniqueUsers` when selected. Age and gender come from `age_range_view` / `gender_view`
queries (`adGroupCriterion.ageRange.type`, `adGroupCriterion.gender.type`). Geographic views
report criterion ids that need a geo-target lookup, so they are not mapped to `geo` here.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from jobs.sources.base import AccountInfo, Capabilities, Connector, FetchResult, Progress, no_progress
from jobs.sources.http import HttpClient
from jobs.sources.parsing import (
    PayloadError, age_label, classify, dig, gender_label, iso_date, micros, optional_int, parse_retry_delay,
    to_count, to_float, to_int, unified_row,
)

PLATFORM = "google_ads"

_TRANSIENT = {"UNAVAILABLE", "INTERNAL", "DEADLINE_EXCEEDED", "ABORTED", "UNKNOWN"}
#: OAuth token-endpoint errors (`{"error": "invalid_grant", ...}`) that need a new consent.
_OAUTH_AUTH = {"invalid_grant", "invalid_token", "unauthorized_client"}


def _retry_after(error: Mapping[str, Any]) -> float | None:
    """The `retryDelay` Google puts in GoogleAdsFailure quota details, when present."""
    for detail in error.get("details") or ():
        for failure in detail.get("errors") or ():
            delay = parse_retry_delay(dig(failure, "details", "quotaErrorDetails", "retryDelay"))
            if delay is not None:
                return delay
    return None


def _raise_for(error: object) -> None:
    if not isinstance(error, Mapping):
        raise classify(str(error), f"Google error: {error}", PLATFORM, auth=_OAUTH_AUTH)
    status = error.get("status")
    message = f"Google Ads {status or error.get('code')}: {error.get('message', '')}"
    # PERMISSION_DENIED (developer token not approved, user lost access) and INVALID_ARGUMENT
    # (bad GAQL) fall through to a plain SourceError: a person must change the configuration.
    raise classify(status, message, PLATFORM, auth={"UNAUTHENTICATED"}, rate_limit={"RESOURCE_EXHAUSTED"},
                   transient=_TRANSIENT, retry_after=_retry_after(error))


def check(payload: Any) -> None:
    """Raise the typed error for an error body (plain, or inside a searchStream batch array)."""
    batches = payload if isinstance(payload, list) else [payload]
    for batch in batches:
        if isinstance(batch, Mapping) and "error" in batch:
            _raise_for(batch["error"])


def _account_id(result: Mapping[str, Any]) -> str | None:
    customer_id = dig(result, "customer", "id")
    if customer_id:
        return str(customer_id)
    for resource in ("campaign", "adGroup", "adGroupAd", "customer"):
        name = dig(result, resource, "resourceName")
        if name and str(name).startswith("customers/"):
            return str(name).split("/")[1]
    return None


def _row(result: Mapping[str, Any], currency: str | None) -> dict[str, Any]:
    metrics = result.get("metrics") or {}
    date = dig(result, "segments", "date")
    if not date:
        raise PayloadError("result without segments.date; select it in the query", platform=PLATFORM)
    row = unified_row(
        PLATFORM, iso_date(date),
        account_id=_account_id(result), campaign_id=dig(result, "campaign", "id"),
        ad_set_id=dig(result, "adGroup", "id"), ad_id=dig(result, "adGroupAd", "ad", "id"),
        currency=dig(result, "customer", "currencyCode") or currency,
        spend=micros(metrics.get("costMicros")), impressions=to_int(metrics.get("impressions")),
        reach=optional_int(metrics.get("uniqueUsers")), clicks=to_int(metrics.get("clicks")),
        conversions=to_count(metrics.get("conversions")), revenue=to_float(metrics.get("conversionsValue")),
    )
    hour = dig(result, "segments", "hour")
    if hour is not None:
        row["hour"] = to_int(hour)
    for path, key in ((("campaign", "name"), "campaign_name"), (("adGroup", "name"), "ad_set_name"),
                      (("adGroupAd", "ad", "name"), "ad_name")):
        name = dig(result, *path)
        if name:
            row[key] = name
    age = dig(result, "adGroupCriterion", "ageRange", "type")
    if age:
        row["age"] = age_label(age)
    gender = dig(result, "adGroupCriterion", "gender", "type")
    if gender:
        row["gender"] = gender_label(gender)
    return row


def _results(payload: Any) -> Iterable[Mapping[str, Any]]:
    batches = payload if isinstance(payload, list) else [payload]
    for batch in batches:
        if not isinstance(batch, Mapping):
            raise PayloadError("searchStream batch is not an object", platform=PLATFORM)
        yield from batch.get("results") or ()


def parse(payload: list[Any] | Mapping[str, Any], *, currency: str | None = None) -> list[dict[str, Any]]:
    """A searchStream array or a search page → unified rows.

    `currency` is the account currency to use when the query did not select
    `customer.currency_code`; rows then carry it instead of None.
    """
    check(payload)
    if not isinstance(payload, (list, Mapping)):
        raise PayloadError("expected a searchStream array or a search page", platform=PLATFORM)
    return [_row(result, currency) for result in _results(payload)]


def next_page_token(payload: Mapping[str, Any]) -> str | None:
    """`googleAds:search` pages carry `nextPageToken` until the last one (searchStream never does)."""
    return payload.get("nextPageToken") if isinstance(payload, Mapping) else None


# ---------------------------------------------------------------------------------------------
# The Google Ads API client

API_URL = "https://googleads.googleapis.com"
TOKEN_URL = "https://oauth2.googleapis.com/token"
API_VERSION = "v20"
_METRICS = "metrics.impressions, metrics.clicks, metrics.cost_micros, metrics.conversions, metrics.conversions_value"


class GoogleAdsClient(Connector):
    """`googleAds:searchStream` with GAQL for one customer (account), over REST.

    Auth: the stored OAuth refresh token is exchanged for an access token at the start of every
    sync (`settings.token_url`, default Google's endpoint), then sent as `Authorization: Bearer`
    with the `developer-token` and, for access through a manager account,
    `login-customer-id` (`settings.login_customer_id`). Facts are read at campaign level:
    ad-level resources (`ad_group_ad`) leave out Performance Max and other campaign types, so
    their sum would not match the account's spend. Dates are `segments.date`, always in the
    customer's time zone (which the API cannot change). Age and gender live in two separate views
    that cannot be crossed, so no audience facts are taken from Google.
    """

    kind = "google_ads"
    label = "Google Ads"
    channels = (PLATFORM,)
    capabilities = Capabilities(hourly=True, audience=False, period_reach=False)
    default_base_url = API_URL
    credential_fields = ("developer_token", "client_id", "client_secret", "refresh_token")
    required_credentials = credential_fields

    @property
    def _customer(self) -> str:
        return self.account_ref.replace("-", "")

    def _make_http(self) -> HttpClient:
        client = self.http_client(check, headers={"developer-token": self.secrets["developer_token"]})
        token = client.post(str(self.settings.get("token_url") or TOKEN_URL), data={
            "grant_type": "refresh_token", "client_id": self.secrets["client_id"],
            "client_secret": self.secrets["client_secret"], "refresh_token": self.secrets["refresh_token"],
        }).body or {}
        if not token.get("access_token"):
            client.close()
            raise PayloadError("the OAuth token endpoint returned no access_token", platform=PLATFORM)
        client.headers["Authorization"] = f"Bearer {token['access_token']}"
        login = str(self.settings.get("login_customer_id") or "").replace("-", "")
        if login:
            client.headers["login-customer-id"] = login
        return client

    def _stream(self, query: str) -> Any:
        version = self.settings.get("api_version") or API_VERSION
        return self.http.post(f"/{version}/customers/{self._customer}/googleAds:searchStream",
                              json_body={"query": query}).body

    def discover_account(self) -> AccountInfo:
        body = self._stream("SELECT customer.id, customer.descriptive_name, customer.currency_code, "
                            "customer.time_zone FROM customer LIMIT 1")
        check(body)
        customer = next(iter(_results(body)), {}).get("customer") or {}
        return AccountInfo(account_id=str(customer.get("id") or self._customer),
                           name=customer.get("descriptiveName", ""), currency=customer.get("currencyCode"),
                           timezone=customer.get("timeZone"))

    def fetch(self, date_from: dt.date, date_to: dt.date, progress: Progress = no_progress) -> FetchResult:
        currency = self.account().currency
        where = f"WHERE segments.date BETWEEN '{date_from.isoformat()}' AND '{date_to.isoformat()}'"
        progress(0.0, "Google Ads: campaign × day")
        daily = parse(self._stream(
            f"SELECT customer.id, campaign.id, campaign.name, segments.date, {_METRICS} "
            f"FROM campaign {where} ORDER BY segments.date ASC"), currency=currency)
        progress(0.5, "Google Ads: hour of day")
        hourly = parse(self._stream(
            f"SELECT customer.id, campaign.id, segments.date, segments.hour, {_METRICS} "
            f"FROM campaign {where} ORDER BY segments.date ASC"), currency=currency)
        return FetchResult(daily=daily, hourly=hourly)
