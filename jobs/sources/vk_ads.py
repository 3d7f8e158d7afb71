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

from collections.abc import Mapping
from typing import Any, Literal

from jobs.sources.parsing import (
    AuthError, PayloadError, classify, dig, iso_date, optional_int, to_count, to_float, to_int, unified_row,
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
