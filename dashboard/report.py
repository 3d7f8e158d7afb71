"""The Overview's downloadable report: the filter bar's selection as an Excel workbook.

Analysts take numbers elsewhere (a deck, a finance sheet); a workbook with one sheet per view
keeps them as numbers, not screenshots. Every figure comes through ``dashboard.data`` — the
same cached reads the pages use — so the report shows what the dashboard shows.

Sheets: Summary (the period, currency and KPI cards with their comparison), Channels and
Campaigns (every registry metric), Daily (base measures per day and channel), Alerts (the
period's alerts) and Recommendations (the latest written facts).
"""
from __future__ import annotations

import datetime as dt
import io

import pandas as pd

from dashboard import data
from db import metrics as mx
from db.filters import Filters
from db.planning_queries import RECOMMENDATIONS

TOP_CAMPAIGNS = 100
def _labelled(frame: pd.DataFrame, keys: dict[str, str]) -> pd.DataFrame:
    """Keys first, then every registry metric, under display labels."""
    columns = {**keys, **{s: mx.get(s).label for s in mx.METRICS if s in frame}}
    return frame[list(columns)].rename(columns=columns)


def _summary(f: Filters, comparison: str) -> pd.DataFrame:
    table = data.kpi_comparison(f, comparison, tuple(mx.METRICS))
    return pd.DataFrame({"Metric": [mx.get(s).label for s in table["metric"]], "Value": table["value"],
                         "Previous": table["previous"], "Change": table["delta"]})


def _recommendations() -> pd.DataFrame:
    run = data.planning_run(RECOMMENDATIONS)
    facts = run.summary.get("facts", []) if run else []
    return pd.DataFrame([{"Action": x["action"], "Fact": x["text"]} for x in facts],
                        columns=["Action", "Fact"])


def build(f: Filters, comparison: str, currency: str) -> bytes:
    """The workbook's bytes for a selection (dates, channels, display currency)."""
    labels = data.channel_labels()
    channels = data.breakdown(f, "channel")
    channels = channels.assign(name=channels["channel"].map(labels).fillna(channels["channel"]))
    campaigns = data.drill(f, "campaign", top=TOP_CAMPAIGNS)
    campaigns = campaigns.assign(channel=campaigns["parent"].map(labels).fillna(campaigns["parent"]))
    base = data.daily_base(f)
    alerts = data.alerts(f.date_from, f.date_to, f.channels)
    head = pd.DataFrame({"": ["Period", "Channels", "Currency", "Compared with", "Generated"],
                         " ": [f"{f.date_from} – {f.date_to}", ", ".join(f.channels) or "all", currency,
                               comparison, dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")]})
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as book:
        head.to_excel(book, sheet_name="Summary", index=False)
        _summary(f, comparison).to_excel(book, sheet_name="Summary", index=False, startrow=len(head) + 2)
        _labelled(channels.sort_values("spend", ascending=False), {"name": "Channel"}).to_excel(
            book, sheet_name="Channels", index=False)
        _labelled(campaigns, {"name": "Campaign", "channel": "Channel"}).to_excel(
            book, sheet_name="Campaigns", index=False)
        base.assign(channel=base["channel"].map(labels).fillna(base["channel"]),
                    date=base["date"].dt.date).to_excel(book, sheet_name="Daily", index=False)
        alerts.assign(date=alerts["date"].dt.date)[
            ["date", "severity", "channel", "campaign", "metric", "message", "status"]].to_excel(
            book, sheet_name="Alerts", index=False)
        _recommendations().to_excel(book, sheet_name="Recommendations", index=False)
    return buffer.getvalue()
