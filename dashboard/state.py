"""The global filter state and its URL form, so any view can be shared and reloaded.

URL: ?period=28d&from=2026-01-01&to=2026-01-28&compare=previous&channels=facebook,tiktok&currency=EUR
"""
from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field
from urllib.parse import parse_qs, urlencode

from db.config import get_settings
from db.filters import COMPARISONS, PRESETS, Filters, preset_range

DEFAULT_PERIOD = "28d"
DEFAULT_COMPARE = "previous"


@dataclass(frozen=True)
class ViewState:
    period: str = DEFAULT_PERIOD
    date_from: str | None = None
    date_to: str | None = None
    compare: str = DEFAULT_COMPARE
    channels: tuple[str, ...] = field(default_factory=tuple)
    currency: str | None = None

    def resolved(self, last_day: dt.date) -> ViewState:
        """Fill concrete dates: presets count back from the last day that has data."""
        if self.period != "custom" or not (self.date_from and self.date_to):
            period = self.period if self.period in PRESETS and self.period != "custom" else DEFAULT_PERIOD
            lo, hi = preset_range(period, last_day)
            return ViewState(period, lo.isoformat(), hi.isoformat(), self.compare, self.channels, self.currency)
        return self

    @property
    def display_currency(self) -> str:
        """The currency money is shown in: the one picked in the filter bar, else the reporting one."""
        return self.currency or get_settings().reporting_currency

    def filters(self) -> Filters:
        if not (self.date_from and self.date_to):
            raise ValueError("resolve the state before building filters")
        return Filters(dt.date.fromisoformat(self.date_from), dt.date.fromisoformat(self.date_to),
                       channels=tuple(self.channels), currency=self.currency)

    def to_query(self) -> str:
        params: dict[str, str] = {"period": self.period}
        if self.period == "custom":
            params["from"], params["to"] = self.date_from or "", self.date_to or ""
        if self.compare != DEFAULT_COMPARE:
            params["compare"] = self.compare
        if self.channels:
            params["channels"] = ",".join(self.channels)
        if self.currency:
            params["currency"] = self.currency
        return "?" + urlencode(params, safe=",")

    def to_store(self) -> dict:
        data = asdict(self)
        data["channels"] = list(self.channels)
        return data

    @classmethod
    def from_store(cls, data: dict | None) -> ViewState:
        if not data:
            return cls()
        return cls(data.get("period", DEFAULT_PERIOD), data.get("date_from"), data.get("date_to"),
                   data.get("compare", DEFAULT_COMPARE), tuple(data.get("channels") or ()), data.get("currency"))


def _valid_date(value: str | None) -> str | None:
    try:
        return dt.date.fromisoformat(value).isoformat() if value else None
    except ValueError:
        return None


def from_query(search: str | None) -> ViewState:
    """Parse a URL query; anything malformed falls back to the default instead of failing."""
    q = {k: v[-1] for k, v in parse_qs((search or "").lstrip("?")).items()}
    period = q.get("period", DEFAULT_PERIOD)
    if period not in PRESETS:
        period = DEFAULT_PERIOD
    compare = q.get("compare", DEFAULT_COMPARE)
    if compare not in COMPARISONS:
        compare = DEFAULT_COMPARE
    channels = tuple(c for c in q.get("channels", "").split(",") if c)
    currency = (q.get("currency") or "").upper() or None
    lo, hi = _valid_date(q.get("from")), _valid_date(q.get("to"))
    if period == "custom" and not (lo and hi and lo <= hi):
        period, lo, hi = DEFAULT_PERIOD, None, None
    return ViewState(period, lo, hi, compare, channels, currency)
