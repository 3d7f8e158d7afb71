"""The one small interface every API connector implements, and what they share.

A connector is built from a stored source (`from_source(source, secrets)`), can prove its
credentials (`test_connection`), and fetches an inclusive date range into memory
(`fetch(date_from, date_to) -> FetchResult`) as unified rows — it never writes. The sync layer
decides the window and writes the whole result in one transaction, so a connector failing half
way leaves nothing behind.

`capabilities` tell the pages what to offer: hour-of-day facts, audience (age × gender)
breakdowns, and period reach — whether the platform can count unique reach over an arbitrary
range. That last one is a declaration only: no connector fetches period reach yet, so pages keep
showing "Σ daily reach" and can say where a true figure would be available.
"""
from __future__ import annotations

import datetime as dt
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, ClassVar, Protocol, Self

from jobs.sources.http import Check, HttpClient, RetryPolicy, Sleep, UsageHook
from jobs.sources.parsing import AuthError, QueryTooLargeError

Row = dict[str, Any]
#: progress(fraction 0..1, message) — the sync job writes it to the RQ job's meta.
Progress = Callable[[float, str], None]


def no_progress(_fraction: float, _message: str) -> None:
    """The default progress sink when nobody is watching."""


@dataclass(frozen=True)
class Capabilities:
    hourly: bool = False
    audience: bool = False
    period_reach: bool = False


@dataclass(frozen=True)
class AccountInfo:
    """What the platform says about the account; stored on ad_account with the facts."""

    account_id: str
    name: str = ""
    currency: str | None = None
    timezone: str | None = None


@dataclass
class FetchResult:
    daily: list[Row] = field(default_factory=list)
    hourly: list[Row] = field(default_factory=list)
    audience: list[Row] = field(default_factory=list)
    posts: list[Row] = field(default_factory=list)


@dataclass(frozen=True)
class ClientOptions:
    """How connectors pace their HTTP calls; tests pass a fast policy and a sleep that does not wait."""

    policy: RetryPolicy = field(default_factory=RetryPolicy)
    sleep: Sleep = time.sleep


class SourceLike(Protocol):
    """The fields of db.sources.SourceRecord a connector reads (so tests can pass a stub)."""

    kind: str
    account_ref: str
    settings: Mapping[str, Any]


class Connector(ABC):
    """One platform account. Subclasses set the class attributes and implement `_make_http`,
    `discover_account` and `fetch`; one instance serves one sync and is closed after it."""

    kind: ClassVar[str]
    label: ClassVar[str]
    #: Platform slugs its rows carry (Meta's account is split into facebook and instagram).
    channels: ClassVar[tuple[str, ...]]
    capabilities: ClassVar[Capabilities]
    #: Days re-fetched behind the cursor on every sync, for restated (late-attributed) numbers.
    default_lookback_days: ClassVar[int] = 14
    default_base_url: ClassVar[str]
    #: What the "add source" form asks for, and which of those a sync cannot start without.
    credential_fields: ClassVar[tuple[str, ...]]
    required_credentials: ClassVar[tuple[str, ...]]

    def __init__(self, account_ref: str, secrets: Mapping[str, str], settings: Mapping[str, Any],
                 options: ClientOptions | None = None) -> None:
        self.account_ref = account_ref.strip()
        self.secrets = dict(secrets)
        self.settings = dict(settings)
        self.options = options or ClientOptions()
        #: Set when the connector refreshed tokens that the sync must store back (encrypted).
        self.secrets_changed = False
        self._account: AccountInfo | None = None
        self._http: HttpClient | None = None

    @classmethod
    def from_source(cls, source: SourceLike, secrets: Mapping[str, str],
                    options: ClientOptions | None = None) -> Self:
        missing = [name for name in cls.required_credentials if not secrets.get(name)]
        if missing:
            raise AuthError(f"missing credentials: {', '.join(missing)}", platform=cls.kind)
        return cls(source.account_ref, secrets, source.settings, options)

    # -- HTTP ---------------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        """`settings.base_url` points a source at a proxy, a sandbox or the test servers."""
        return str(self.settings.get("base_url") or self.default_base_url).rstrip("/")

    def http_client(self, check: Check, headers: Mapping[str, str] | None = None,
                    usage: UsageHook | None = None) -> HttpClient:
        return HttpClient(self.kind, check, base_url=self.base_url, headers=headers, policy=self.options.policy,
                          sleep=self.options.sleep, usage=usage)

    @property
    def http(self) -> HttpClient:
        """Built on first use, since building may cost a call (Google's token exchange)."""
        if self._http is None:
            self._http = self._make_http()
        return self._http

    @abstractmethod
    def _make_http(self) -> HttpClient:
        """The platform's client with its auth headers and error check."""

    def close(self) -> None:
        if self._http is not None:
            self._http.close()
            self._http = None

    # -- the interface ------------------------------------------------------------------------

    @abstractmethod
    def discover_account(self) -> AccountInfo:
        """Ask the platform for the account's name, currency and time zone (one cheap call)."""

    def account(self) -> AccountInfo:
        """The account as discovered, with `settings.currency` / `settings.timezone` winning."""
        if self._account is None:
            found = self.discover_account()
            self._account = replace(found, currency=self.settings.get("currency") or found.currency,
                                    timezone=self.settings.get("timezone") or found.timezone)
        return self._account

    def test_connection(self) -> AccountInfo:
        """One authenticated call; raises AuthError / SourceError with a readable message."""
        self._account = None
        return self.account()

    @abstractmethod
    def fetch(self, date_from: dt.date, date_to: dt.date, progress: Progress = no_progress) -> FetchResult:
        """Unified rows for the inclusive range, in memory; dates are in the account's time zone."""


# ---------------------------------------------------------------------------------------------
# Date-range helpers shared by the connectors

def chunks(date_from: dt.date, date_to: dt.date, days: int) -> Iterator[tuple[dt.date, dt.date]]:
    """Consecutive inclusive sub-ranges of at most `days` days (platform window limits)."""
    start = date_from
    while start <= date_to:
        end = min(date_to, start + dt.timedelta(days=days - 1))
        yield start, end
        start = end + dt.timedelta(days=1)


def halving(fetch_range: Callable[[dt.date, dt.date], list[Row]], date_from: dt.date,
            date_to: dt.date) -> list[Row]:
    """Fetch a range; when the platform says it is too large, fetch both halves instead."""
    try:
        return fetch_range(date_from, date_to)
    except QueryTooLargeError:
        if date_from >= date_to:
            raise
        middle = date_from + (date_to - date_from) // 2
        return (halving(fetch_range, date_from, middle)
                + halving(fetch_range, middle + dt.timedelta(days=1), date_to))
