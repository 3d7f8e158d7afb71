"""Telegram: Telegram Ads statistics exports and channel post counters → unified rows.

Telegram Ads has no public statistics API; the cabinet (and each ad's shared stats page) offers
CSV downloads, which is what `parse` reads. Columns assumed, as seen in exports handled by public
collectors (tab-separated, one header line):

* statistics file: `date`, `Views`, `Clicks` and the ad's target action under one of
  `Actions` / `Started bot` / `Joined` / `Joined channel` (counted as conversions); other
  columns such as `Opened video` are ignored;
* budget file: `date`, `Spent budget, TON` (or `Amount, <currency>`): the currency is read from
  the column title.

Dates look like "16 Jan 2026" (ISO and "16.01.2026" are accepted too); a time part
("16 Jan 2026 14:05") makes the rows hourly, and 5-minute rows are summed into their hour. Lines
whose first cell starts with "Total" are summaries and skipped. Pass the statistics and budget
files of the same ad together (`parse([stats, budget])`): their rows are merged by date. The
files carry no ids, so the caller supplies account / campaign / ad ids. Reach is not exported.

`parse_posts` reads channel messages as MTProto returns them (e.g. Telethon's `to_dict()` of
`messages.getHistory`): `id`, `date`, `views`, `forwards`, `replies.replies`,
`reactions.results[].count`. The MTProto `stats.broadcastStats` object has per-post counters
but no publish dates, which is why messages are the input.

What can be automated, and why there is no client class here:

* Telegram Ads: no public statistics API. The cabinet (ads.telegram.org) talks to an internal RPC
  authenticated by browser cookies; collecting through it is scraping and breaks without notice.
  Its statistics and budget exports come in through the upload page (`jobs.sources.sync.
  preview_telegram_export` / `commit_upload`), parsed by `parse` above.
* Channel post statistics: the Bot API has none (a bot sees new posts, not their view counts).
  MTProto does, for a *user* account that administers the channel: `messages.getHistory` gives
  views / forwards / replies / reactions per message (what `parse_posts` reads) and
  `stats.getBroadcastStats` (when `channelFull.can_view_stats`, on `stats_dc`) gives channel-level
  graphs. That needs an MTProto library (Telethon / Pyrogram, not a dependency of this project)
  and an interactive login that stores a user session — a credential far more powerful than an
  ads token. `parse_posts` is ready for the messages such a collector returns; the collector is
  not built until a deployment accepts storing that session.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Mapping, Sequence
from typing import Any

from jobs.sources.parsing import (
    PayloadError, date_and_hour, dig, to_float, to_int, unified_row,
)

PLATFORM = "telegram"

_ACTION_COLUMNS = ("actions", "started bot", "joined", "joined channel")
_SPEND_RE = re.compile(r"^(?:spent budget|spent|amount)(?:\s*,\s*(?P<currency>[A-Za-z]{3,4}))?$", re.IGNORECASE)


def _count(value: str) -> int:
    """Counts never have decimals, so commas and spaces in them are thousands separators."""
    return to_int(re.sub(r"[,\s\u00a0\u202f]", "", value))


def _table(text: str) -> list[dict[str, str]]:
    text = text.lstrip("\ufeff")
    first = text.split("\n", 1)[0]
    delimiter = "\t" if "\t" in first else (";" if ";" in first else ",")
    reader = csv.DictReader(io.StringIO(text), delimiter=delimiter)
    if not reader.fieldnames or "date" not in [name.strip().lower() for name in reader.fieldnames]:
        raise PayloadError("Telegram Ads export without a 'date' column", platform=PLATFORM)
    return [{(key or "").strip(): (value or "").strip() for key, value in row.items()} for row in reader]


def parse(payload: str | Sequence[str], *, account_id: str | None = None, campaign_id: str | None = None,
          ad_id: str | None = None) -> list[dict[str, Any]]:
    """One export, or the statistics and budget exports of one ad, → unified rows by date (and hour)."""
    texts = [payload] if isinstance(payload, str) else list(payload)
    merged: dict[tuple[str, int | None], dict[str, Any]] = {}
    for text in texts:
        for values in _table(text):
            lowered = {key.lower(): value for key, value in values.items()}
            if not lowered["date"] or lowered["date"].lower().startswith("total"):
                continue
            date, hour = date_and_hour(lowered["date"])
            row = merged.get((date, hour))
            if row is None:
                row = unified_row(PLATFORM, date, account_id=account_id, campaign_id=campaign_id, ad_id=ad_id)
                if hour is not None:
                    row["hour"] = hour
                merged[(date, hour)] = row
            row["impressions"] += _count(lowered.get("views", ""))
            row["clicks"] += _count(lowered.get("clicks", ""))
            action = next((name for name in _ACTION_COLUMNS if name in lowered), None)
            if action:
                row["conversions"] += _count(lowered[action])
            for column, value in values.items():
                match = _SPEND_RE.match(column)
                if match:
                    row["spend"] += to_float(value)
                    if match["currency"]:
                        row["currency"] = match["currency"].upper()
    return [merged[key] for key in sorted(merged, key=lambda k: (k[0], k[1] if k[1] is not None else -1))]


def _published_at(value: object) -> str:
    """MTProto dates are UTC (unix seconds, or a datetime once decoded); stamps without an offset are UTC."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        stamp = dt.datetime.fromtimestamp(value, tz=dt.timezone.utc)
    elif isinstance(value, dt.datetime):
        stamp = value
    else:
        try:
            stamp = dt.datetime.fromisoformat(str(value).strip().replace("Z", "+00:00"))
        except ValueError:
            raise PayloadError(f"message date is not a timestamp: {value!r}", platform=PLATFORM) from None
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=dt.timezone.utc)
    return stamp.astimezone(dt.timezone.utc).isoformat()


def parse_posts(payload: Mapping[str, Any] | Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Channel messages → organic-post dicts; service messages (joins, pins) are skipped."""
    messages = payload.get("messages") if isinstance(payload, Mapping) else payload
    if not isinstance(messages, Sequence):
        raise PayloadError("expected a list of channel messages", platform=PLATFORM)
    posts = []
    for message in messages:
        if message.get("_") in ("MessageService", "MessageEmpty") or message.get("date") is None:
            continue
        channel_id = dig(message, "peer_id", "channel_id")
        posts.append({
            "platform": PLATFORM,
            "external_id": f"{channel_id}/{message['id']}" if channel_id else str(message["id"]),
            "published_at": _published_at(message["date"]),
            "views": to_int(message.get("views")),
            "reach": None,
            "reactions": sum(to_int(item.get("count")) for item in dig(message, "reactions", "results") or ()),
            "shares": to_int(message.get("forwards")),
            "comments": to_int(dig(message, "replies", "replies")),
        })
    return posts
