"""The Overview's report download: a workbook whose numbers are the dashboard's numbers."""
from __future__ import annotations

import base64
import datetime as dt
import io
import sys

import pandas as pd
import pytest

from dash_client import view_store

from db import alert_queries as aq
from db import metrics as mx
from db import queries
from db.filters import Filters


@pytest.fixture(scope="module")
def app(engine):
    from dashboard.app import create_app

    return create_app()


def _download(f: Filters) -> tuple[str, dict[str, pd.DataFrame]]:
    sent = sys.modules["pages.overview"].download_report(1, view_store(f))
    content = base64.b64decode(sent["content"]) if sent.get("base64") else sent["content"].encode()
    return sent["filename"], pd.read_excel(io.BytesIO(content), sheet_name=None)


@pytest.mark.parametrize("channels", [(), ("facebook", "tiktok")])
def test_report_holds_the_selections_numbers(app, demo_db, channels):
    end = demo_db["end"]
    f = Filters(end - dt.timedelta(days=27), end, channels=channels)
    name, sheets = _download(f)
    assert name == f"demetra-report-{f.date_from}-{f.date_to}.xlsx"
    assert set(sheets) == {"Summary", "Channels", "Campaigns", "Daily", "Alerts", "Recommendations"}

    totals = queries.totals(None, f)
    kpis = queries.kpis(None, f)
    summary = sheets["Summary"]
    start = summary.index[summary.iloc[:, 0] == "Metric"][0] + 1  # the KPI table under the header block
    table = pd.DataFrame(summary.iloc[start:, :4].to_numpy(), columns=["Metric", "Value", "Previous", "Change"])
    shown = dict(zip(table["Metric"], table["Value"].astype(float)))
    for slug in ("spend", "revenue", "roas", "cpa", "ctr"):
        assert shown[mx.get(slug).label] == pytest.approx(kpis[slug], rel=1e-9)

    by_channel = sheets["Channels"]
    assert by_channel[mx.get("spend").label].sum() == pytest.approx(totals["spend"], rel=1e-9)
    ratio = by_channel[mx.get("revenue").label] / by_channel[mx.get("spend").label]
    assert by_channel[mx.get("roas").label].tolist() == pytest.approx(ratio.tolist(), rel=1e-9)
    labels = dict(queries.channels().itertuples(index=False, name=None))
    assert set(by_channel["Channel"]) == {labels[c] for c in (channels or labels)}
    assert sheets["Daily"]["spend"].sum() == pytest.approx(totals["spend"], rel=1e-9)
    assert sheets["Campaigns"][mx.get("spend").label].sum() <= totals["spend"] * (1 + 1e-9)
    assert len(sheets["Alerts"]) == len(aq.alerts(None, f.date_from, f.date_to, f.channels))
