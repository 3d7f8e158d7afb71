"""VK Ads (ads.vk.com, ex-myTarget) statistics v2 `…/{object}/day.json` bodies → unified rows.

Body: `{"items": [{"id": <object id>, "rows": [{"date", "base": {...}, "uniques": {...}}],
"total": {...}}], "total": {...}}`. Money (`spent`) is a decimal string in the account currency,
counts are ints. The body does not say which object type the ids are, so the caller passes the
endpoint's `level`: `ad_plans` are campaigns, `ad_groups` (and the legacy `campaigns`, which are
today's ad groups) are ad sets, `banners` are ads.

Conversions: VK Ads pixel/lead goals are counted in `base.vk.goals`; the top-level `base.goals`
is the legacy myTarget counter (0 in VK Ads accounts), used only when `vk` is absent. Reach is
`uniques.reach` of the row when the request asked for `metrics=uniques`; `uniques.total` is
reach since the campaign started and is not a daily figure. Totals blocks are ignored: they
are sums the store can rebuild, and reach in them is not additive.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any, Literal

from jobs.sources.base import (
    AccountInfo, Capabilities, Connector, FetchResult, Progress, Row, chunks, no_progress,
)
from jobs.sources.http import HttpClient, Reply
from jobs.sources.parsing import (
    AuthError, PayloadError, SourceError, classify, dig, iso_date, optional_int, to_count, to_float, to_int,
    unified_row,
)

PLATFORM = "vk_ads"

Level = Literal["ad_plans", "ad_groups", "campaigns", "banners"]
_ID_KEY = {"ad_plans": "campaign_id", "ad_groups": "ad_set_id", "campaigns": "ad_set_id", "banners": "ad_id"}


def check(payload: Any) -> None:
    """Raise the typed error for `{"error": {"code": "ERR_…", "message": …}}` bodies.

    HTTP 429 is the rate-limit signal for VK and is handled by the client from the status code.
    `ERR_LIMIT_EXCEEDED` comes with the 400 parameter errors (too many ids / too long a period),
    so it reads as "ask for less", not "slow down" [unverified against a live account].
    """
    if not isinstance(payload, Mapping) or "error" not in payload:
        return
    error = payload["error"]
    if isinstance(error, Mapping):
        code, text = str(error.get("code", "")), error.get("message", "")
    else:  # OAuth endpoint style: {"error": "invalid_token", "error_description": ...}
        code, text = str(error), payload.get("error_description", "")
    message = f"VK Ads error {code}: {text}"
    lowered = code.lower()
    if "token" in lowered or lowered in {"err_access_denied", "invalid_grant", "unauthorized"}:
        raise AuthError(message, platform=PLATFORM, code=code)
    raise classify(code, message, PLATFORM, too_large={"ERR_LIMIT_EXCEEDED"}, transient={"ERR_INTERNAL"})


def _conversions(base: Mapping[str, Any]) -> int | float:
    vk = base.get("vk")
    if isinstance(vk, Mapping):
        return to_count(vk.get("goals"))
    return to_count(base.get("goals"))


def parse(payload: Mapping[str, Any], *, level: Level = "ad_plans", account_id: str | None = None,
          currency: str | None = "RUB") -> list[dict[str, Any]]:
    """One day-statistics body → unified rows, one per object and day."""
    check(payload)
    if level not in _ID_KEY:
        raise ValueError(f"unknown VK statistics level {level!r}")
    items = payload.get("items") if isinstance(payload, Mapping) else None
    if not isinstance(items, list):
        raise PayloadError("statistics body has no 'items' list", platform=PLATFORM)
    rows = []
    for item in items:
        for day in item.get("rows") or ():
            base = day.get("base") or {}
            rows.append(unified_row(
                PLATFORM, iso_date(day.get("date")), account_id=account_id, currency=currency,
                **{_ID_KEY[level]: item.get("id")},
                spend=to_float(base.get("spent")), impressions=to_int(base.get("shows")),
                reach=optional_int(dig(day, "uniques", "reach")), clicks=to_int(base.get("clicks")),
                conversions=_conversions(base),
            ))
    return rows


# ---------------------------------------------------------------------------------------------
# The statistics API client

API_URL = "https://ads.vk.com"
TOKEN_PATH = "/api/v2/oauth2/token.json"
#: ids per statistics request and days per window, both documented limits of stat v2.
MAX_IDS = 200
MAX_DAYS = 90
LIST_LIMIT = 250
#: OAuth error codes meaning the client id/secret pair itself is refused.
_CLIENT_REFUSED = {"invalid_client", "unauthorized_client"}
DEFAULT_TIMEZONE = "Europe/Moscow"


class VkAdsClient(Connector):
    """VK Ads statistics v2 for one cabinet: daily facts per ad plan (campaign).

    Tokens: VK Ads access tokens live about a day and at most five may exist per client, so the
    connector keeps the current `access_token` / `refresh_token` in the source's encrypted
    credentials (`secrets_changed` tells the sync to store them) and only asks for a new one
    when VK refuses the current token: first with the refresh token, then with
    client_credentials. A refused client id/secret means re-authorisation.

    Campaigns come from `ad_plans.json` (offset/limit pages, deleted ones included via
    `_status__in` [unverified filter syntax]); statistics from `statistics/ad_plans/day.json`
    in batches of ≤ 200 ids and ≤ 90 days. Currency defaults to RUB and the time zone to
    Moscow (`settings.currency` / `settings.timezone` override) [unverified: the statistics do not
    state their zone].
    """

    kind = "vk_ads"
    label = "VK Ads"
    channels = (PLATFORM,)
    capabilities = Capabilities(hourly=False, audience=False, period_reach=False)
    default_base_url = API_URL
    credential_fields = ("client_id", "client_secret")
    required_credentials = credential_fields

    def _make_http(self) -> HttpClient:
        return self.http_client(check)

    def _new_token(self) -> None:
        refresh = self.secrets.get("refresh_token")
        grant = ({"grant_type": "refresh_token", "refresh_token": refresh} if refresh
                 else {"grant_type": "client_credentials"})
        try:
            body = self.http.post(TOKEN_PATH, data={**grant, "client_id": self.secrets["client_id"],
                                                    "client_secret": self.secrets["client_secret"]}).body or {}
        except SourceError as exc:
            if refresh and isinstance(exc, AuthError):
                self.secrets.pop("refresh_token", None)  # the refresh token died: start over from the client
                return self._new_token()
            if isinstance(exc, AuthError) or str(exc.code) in _CLIENT_REFUSED:
                raise AuthError(f"VK Ads refused the client id/secret: {exc}", platform=PLATFORM) from exc
            raise
        if not body.get("access_token"):
            raise PayloadError("VK token endpoint returned no access_token", platform=PLATFORM)
        self.secrets.update({key: body[key] for key in ("access_token", "refresh_token") if body.get(key)})
        self.secrets_changed = True

    def _get(self, path: str, params: Mapping[str, Any] | None = None) -> Reply:
        """GET with the current token; one new token and one retry when VK refuses it."""
        if not self.secrets.get("access_token"):
            self._new_token()
        for may_renew in (True, False):
            try:
                return self.http.get(path, params=params,
                                     headers={"Authorization": f"Bearer {self.secrets['access_token']}"})
            except AuthError:
                if not may_renew:
                    raise
                self._new_token()
        raise AssertionError("unreachable: the second attempt returns or raises")

    def discover_account(self) -> AccountInfo:
        body = self._get("/api/v2/user.json").body or {}
        account = body.get("account") if isinstance(body.get("account"), Mapping) else {}
        return AccountInfo(account_id=self.account_ref, name=str(body.get("username") or ""),
                           currency=account.get("currency") or body.get("currency") or "RUB",
                           timezone=DEFAULT_TIMEZONE)

    def _ad_plans(self) -> dict[str, str]:
        """Every ad plan id → name, through the offset/limit pages."""
        plans: dict[str, str] = {}
        offset = 0
        while True:
            body = self._get("/api/v2/ad_plans.json", params={
                "fields": "id,name", "limit": LIST_LIMIT, "offset": offset,
                "_status__in": "active,blocked,deleted"}).body or {}
            items = body.get("items") or []
            plans.update({str(item["id"]): str(item.get("name") or "") for item in items})
            offset += len(items)
            if not items or offset >= int(body.get("count") or 0):
                return plans

    def fetch(self, date_from: dt.date, date_to: dt.date, progress: Progress = no_progress) -> FetchResult:
        progress(0.0, "VK Ads: ad plans")
        plans = self._ad_plans()
        ids = sorted(plans, key=int)
        currency = self.account().currency
        batches = [ids[i:i + MAX_IDS] for i in range(0, len(ids), MAX_IDS)]
        windows = list(chunks(date_from, date_to, MAX_DAYS))
        rows: list[Row] = []
        for number, (batch, (since, until)) in enumerate((b, w) for b in batches for w in windows):
            progress(0.1 + 0.9 * number / (len(batches) * len(windows)), f"VK Ads: statistics {since}..{until}")
            body = self._get("/api/v2/statistics/ad_plans/day.json", params={
                "id": ",".join(batch), "date_from": since.isoformat(), "date_to": until.isoformat(),
                "metrics": "base"}).body
            for row in parse(body, level="ad_plans", account_id=self.account_ref, currency=currency):
                row["campaign_name"] = plans.get(row["campaign_id"], "")
                rows.append(row)
        return FetchResult(daily=rows)
