"""The hourly recommend step on committed demo data: it stores the ranked facts of what the
earlier steps computed, written up, skips unchanged data, and the Overview shows them."""

from __future__ import annotations

import datetime as dt
import sys

import pytest
from sqlalchemy import delete

from db import models as m
from db import planning_queries as pq
from db.ingest import bump_data_version
from db.model_queries import last_complete_day
from db.session import unit_of_work
from jobs.alert_tasks import detect_alerts
from jobs.planning_tasks import PlanningJobConfig, fit_curves, forecast
from jobs.recommend_tasks import RecommendJobConfig, gather_facts, recommend
from modeling import llm
from modeling import recommend as rc

FAST = PlanningJobConfig(n_boot=4, max_folds=1)


@pytest.fixture(scope="module")
def computed(demo_db):
    with unit_of_work() as c:
        c.execute(delete(m.PlanningForecast))
        c.execute(delete(m.PlanningArtefact))
        bump_data_version(c)
    fit_curves("t-rec", attempt=1, config=FAST)
    forecast("t-rec", attempt=1, config=FAST)
    detect_alerts("t-rec", attempt=1)
    return demo_db


class Paraphrase:
    """A writer that rewrites the facts' sentences, as a language model would, keeping them."""

    def write(self, facts: list[rc.Fact]) -> llm.Written:
        return llm.Written(text=" ".join(f"Advice: {f.text}" for f in facts), source="llm", model="stub")


def test_stores_the_ranked_facts_and_skips_unchanged_data(computed):
    end = last_complete_day(None, dt.datetime.now(dt.timezone.utc).date())  # as the step sees it
    config = RecommendJobConfig()
    expected = rc.rank(gather_facts(end, config), top=config.top)
    assert expected and any(f.kind == "budget" for f in expected)  # curves exist on the demo
    assert recommend("t-rec", attempt=1, config=config) == len(expected)
    run = pq.latest(None, pq.RECOMMENDATIONS)
    stored = run.summary
    assert [f["key"] for f in stored["facts"]] == [f.key for f in expected]
    assert stored["source"] == "template" and stored["model"] is None
    for fact in expected:
        assert fact.text in stored["text"]
    assert recommend("t-rec-again", attempt=1, config=config) == 0
    assert pq.latest(None, pq.RECOMMENDATIONS).id == run.id

    with unit_of_work() as c:
        bump_data_version(c)
    assert recommend("t-rec-llm", attempt=1, config=config, writer=Paraphrase()) == len(expected)
    written = pq.latest(None, pq.RECOMMENDATIONS).summary
    assert written["source"] == "llm" and written["text"].startswith("Advice: ")


@pytest.fixture(scope="module")
def app(engine):
    from dashboard.app import create_app

    return create_app()


def test_overview_shows_the_recommendations(app, computed):
    overview = sys.modules["pages.overview"]
    for writer in (llm.TemplateWriter(), Paraphrase()):
        with unit_of_work() as c:
            bump_data_version(c)
        recommend("t-rec-page", attempt=1, writer=writer)
        run = pq.latest(None, pq.RECOMMENDATIONS)
        shown = str(overview.layout().to_plotly_json())
        assert "Recommendations" in shown and run.summary["facts"]
        assert ("Written by stub" in shown) == (run.summary["source"] == "llm")
        if run.summary["source"] == "llm":
            assert run.summary["text"] in shown
        for fact in run.summary["facts"]:
            assert fact["action"] in shown and fact["text"] in shown
