"""The Data sources page through Dash's own HTTP endpoint, as the browser calls it: uploads are
previewed before anything is written and written exactly as previewed, bad files change nothing,
credentials are stored encrypted and shown masked, the admin token guards changes, and a sync's
progress is polled until it ends.

These tests commit (the page opens its own transactions), so every row they create belongs to a
random account or source name and is deleted afterwards.
"""
from __future__ import annotations

import base64
import datetime as dt
import json
import os
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest
from redis.exceptions import ConnectionError as RedisConnectionError
from rq import SimpleWorker
from sqlalchemy import delete, func, select

from dashboard.components.admin import REFUSED
from db import models as m
from db import queries
from db.config import get_settings
from db.filters import Filters
from db.secrets import decrypt
from db.session import unit_of_work
from db.sources import create_source, get_source, set_status
from jobs.queue import get_queue, redis_connection

sys.path.insert(0, str(Path(__file__).resolve().parent / "sources"))
from servers import FakeTikTok  # noqa: E402  (the platforms' local stand-ins, shared with tests/sources)

KAGGLE_HEADER = ("Campaign_ID,Target_Audience,Campaign_Goal,Duration,Channel_Used,Conversion_Rate,"
                 "Acquisition_Cost,ROI,Location,Language,Clicks,Impressions,Engagement_Score,Customer_Segment,"
                 "Date,Company")
DAYS = Filters(dt.date(2019, 2, 1), dt.date(2019, 3, 31))


def uid() -> str:
    return uuid.uuid4().hex[:10]


def uid_digits() -> str:
    """Platforms' account ids are numeric."""
    return str(uuid.uuid4().int % 10**12).rjust(12, "1")


def source_record(source_id: int):
    with unit_of_work() as c:
        return get_source(c, source_id)


def kaggle_csv(company: str) -> bytes:
    """Three rows in the original Kaggle file's format ($-amounts, "15 Days", "Men 35-44")."""
    return "\n".join([
        KAGGLE_HEADER,
        f'529013,Men 35-44,Product Launch,15 Days,Instagram,0.15,$500.00,5.79,Las Vegas,Spanish,500,3000,7,'
        f'Health,2019-02-25,{company}',
        f'275370,Women 25-34,Market Expansion,30 Days,Facebook,0.01,"$12,500.00",7.21,New York,German,400,'
        f'2500,5,Home,2019-02-26,{company}',
        f'045208,All Ages,Brand Awareness,45 Days,Instagram,0.08,"$3,079.00",6.48,Miami,French,300,2000,9,'
        f'Fashion,2019-02-27,{company}',
    ]).encode()


EXPECTED = {"rows": 3, "spend": {"USD": 16079.0}, "impressions": 7500.0, "clicks": 1200.0,
            "conversions": 75.0 + 4.0 + 24.0}


def data_url(content: bytes) -> str:
    return "data:text/csv;base64," + base64.b64encode(content).decode()


def _id_key(component_id: Any) -> str:
    return json.dumps(component_id, sort_keys=True, separators=(",", ":")) if isinstance(component_id, dict) \
        else component_id


class Page:
    """Calls a callback the way the Dash renderer does, built from /_dash-dependencies.

    `values` maps "component.prop" to a value; for a pattern-matched (ALL) dependency the key is
    "type.prop" and the value a list of (id, value) pairs. `trigger` names the changed input.
    """

    def __init__(self, client) -> None:
        self.client = client
        self.deps = client.get("/_dash-dependencies").get_json()

    def _dep(self, output: str, trigger: Any) -> dict:
        """The callback whose first output is `output` and which `trigger` (an id) is an input of."""
        wanted = trigger["type"] if isinstance(trigger, dict) else trigger
        for dep in self.deps:
            first = dep["output"].strip(".").split("...")[0]
            inputs = {json.loads(i["id"])["type"] if i["id"].startswith("{") else i["id"] for i in dep["inputs"]}
            if first.split("@")[0] == output and wanted in inputs:
                return dep
        raise KeyError(f"no callback with first output {output} and input {wanted}")

    @staticmethod
    def _spec(item: dict, values: dict[str, Any]) -> Any:
        raw, prop = item["id"], item["property"]
        if raw.startswith("{"):
            kind = json.loads(raw)["type"]
            return [{"id": cid, "property": prop, "value": value} for cid, value in values.get(f"{kind}.{prop}", [])]
        return {"id": raw, "property": prop, "value": values.get(f"{raw}.{prop}")}

    def call(self, output: str, trigger: tuple[Any, str], values: dict[str, Any]) -> dict:
        dep = self._dep(output, trigger[0])
        outputs = []
        for part in dep["output"].strip(".").split("..."):
            cid, prop = part.rsplit(".", 1)
            outputs.append({"id": cid, "property": prop})
        body = {"output": dep["output"], "outputs": outputs if len(outputs) > 1 else outputs[0],
                "inputs": [self._spec(i, values) for i in dep["inputs"]],
                "state": [self._spec(s, values) for s in dep["state"]],
                "changedPropIds": [f"{_id_key(trigger[0])}.{trigger[1]}"]}
        resp = self.client.post("/_dash-update-component", data=json.dumps(body), content_type="application/json")
        assert resp.status_code in (200, 204), resp.get_data(as_text=True)
        text = resp.get_data(as_text=True)
        assert "Traceback" not in text
        return json.loads(text) if resp.status_code == 200 else {}


def prop(response: dict, component: str, name: str) -> Any:
    return response["response"][component][name]


def said(response: dict) -> str:
    """The page's message line, which callbacks set with set_props (a "side update")."""
    return response["sideUpdate"]["src-message"]["children"]


def texts(tree: Any) -> str:
    """Every string in a rendered component tree, for asserting what a person reads."""
    if isinstance(tree, str):
        return tree
    if isinstance(tree, dict):
        return " ".join(texts(v) for k, v in tree.items() if k in ("props", "children") or isinstance(v, (list, dict)))
    if isinstance(tree, list):
        return " ".join(texts(v) for v in tree)
    return ""


@pytest.fixture(scope="module")
def page(engine):
    from dashboard.app import create_app

    return Page(create_app().server.test_client())


@pytest.fixture()
def page_module(page):
    """The page as Dash loaded it: from its file, as module "pages.sources" (importing
    dashboard.pages.sources would make a second copy and register its callbacks twice)."""
    return sys.modules["pages.sources"]


@pytest.fixture()
def accounts(engine):
    """Account external ids a test writes facts for; their facts and dimensions go afterwards."""
    made: list[str] = []
    yield made
    with unit_of_work(engine) as c:
        ids = c.execute(select(m.AdAccount.id).where(m.AdAccount.external_id.in_(made))).scalars().all()
        campaigns = select(m.Campaign.id).where(m.Campaign.account_id.in_(ids))
        for table in (m.FactAdDaily, m.FactHourly, m.FactAudienceDaily, m.AggChannelDaily):
            c.execute(delete(table).where(table.account_id.in_(ids)))
        c.execute(delete(m.Ad).where(m.Ad.ad_set_id.in_(select(m.AdSet.id).where(m.AdSet.campaign_id.in_(campaigns)))))
        c.execute(delete(m.AdSet).where(m.AdSet.campaign_id.in_(campaigns)))
        c.execute(delete(m.Campaign).where(m.Campaign.account_id.in_(ids)))
        c.execute(delete(m.AdAccount).where(m.AdAccount.id.in_(ids)))


@pytest.fixture()
def sources(engine):
    """sources(kind, account_ref, credentials, **settings) → id of a committed source, removed
    afterwards — as are sources the page adds, once the test appends their names to `sources.names`."""
    made: list[int] = []
    names: list[str] = []

    def add(kind: str = "tiktok", account_ref: str | None = None, credentials: dict | None = None,
            **settings: Any) -> int:
        if credentials is None:
            credentials = {"access_token": "tok-" + uid()}
        with unit_of_work(engine) as c:
            source_id = create_source(c, kind=kind, name=f"page test {uid()}", account_ref=account_ref or uid(),
                                      credentials=credentials, settings=settings)
        made.append(source_id)
        return source_id

    add.names = names  # type: ignore[attr-defined]
    yield add
    with unit_of_work(engine) as c:
        c.execute(delete(m.Source).where(m.Source.id.in_(made) | m.Source.name.in_(names)))


@pytest.fixture()
def admin_token():
    """DEMETRA_ADMIN_TOKEN set for one test (settings are cached per process, so re-read them)."""
    os.environ["DEMETRA_ADMIN_TOKEN"] = "open-sesame-42"
    get_settings.cache_clear()
    yield "open-sesame-42"
    del os.environ["DEMETRA_ADMIN_TOKEN"]
    get_settings.cache_clear()


def fact_rows(engine) -> int:
    with engine.connect() as c:
        return c.execute(select(func.count()).select_from(m.FactAdDaily)).scalar()


def preview(page: Page, content: bytes, filename: str = "ads.csv", **defaults: Any) -> dict:
    values = {"src-upload.contents": data_url(content), "src-upload.filename": filename,
              **{f"src-u-{k}.value": v for k, v in defaults.items()}}
    return page.call("src-preview.children", ("src-upload", "contents"), values)


def write(page: Page, content: bytes, previewed: dict | None, filename: str = "ads.csv", token: str | None = None,
          **defaults: Any) -> dict:
    values = {"src-upload.contents": data_url(content), "src-upload.filename": filename,
              "src-preview-key.data": previewed, "src-write.n_clicks": 1, "src-admin-token.value": token,
              "src-refresh.data": 0, **{f"src-u-{k}.value": v for k, v in defaults.items()}}
    return page.call("src-upload-result.children", ("src-write", "n_clicks"), values)


# --- uploads --------------------------------------------------------------------------------

def test_a_kaggle_csv_is_previewed_with_rows_totals_mapping_and_no_problems(page):
    company = f"Kaggle Co {uid()}"
    resp = preview(page, kaggle_csv(company))
    shown = texts(prop(resp, "src-preview", "children"))
    assert "No problems found." in shown
    assert "3 rows · spend USD 16,079.00 · 7,500 impressions · 1,200 clicks · 103 conversions" in shown
    assert "Acquisition_Cost" in shown and "Channel_Used" in shown  # the detected mapping
    assert prop(resp, "src-write", "disabled") is False
    assert prop(resp, "src-write", "children") == "Write 3 rows"
    assert prop(resp, "src-preview-key", "data")["totals"] == EXPECTED
    table = json.dumps(prop(resp, "src-preview", "children"))
    assert company in table and "instagram" in table  # the parsed rows themselves


@pytest.mark.parametrize("content,filename,problem", [
    (b"Date,Clicks\n2019-02-25,10\n", "no-spend.csv", "missing required column for spend"),
    (bytes(range(256)) * 8, "binary.csv", "binary content"),
    (b"", "empty.csv", "the file is empty"),
    (b"PK\x03\x04 not really a workbook", "broken.xlsx", "not a readable Excel workbook"),
])
def test_a_bad_file_lists_its_problems_and_writes_nothing(page, page_module, engine, content, filename, problem):
    before = fact_rows(engine)
    resp = preview(page, content, filename)
    assert problem in texts(prop(resp, "src-preview", "children"))
    assert prop(resp, "src-write", "disabled") is True
    assert prop(resp, "src-preview-key", "data") is None
    # A forged click (button enabled by hand, preview key made up) is refused on the server too.
    forged = {"digest": page_module.upload_digest(content, {}), "filename": filename, "totals": EXPECTED}
    refused = texts(prop(write(page, content, forged, filename), "src-upload-result", "children"))
    assert problem in refused
    assert fact_rows(engine) == before


def test_writing_commits_exactly_the_previewed_totals(page, engine, accounts):
    company = f"Kaggle Co {uid()}"
    accounts.append(company)
    content = kaggle_csv(company)
    previewed = prop(preview(page, content), "src-preview-key", "data")
    before = queries.totals(None, DAYS)
    resp = write(page, content, previewed)
    assert "Wrote 3 daily rows from ads.csv" in texts(prop(resp, "src-upload-result", "children"))
    assert prop(resp, "src-write", "disabled") is True
    after = queries.totals(None, DAYS)
    added = {k: round(after[k] - before[k], 6) for k in ("spend", "impressions", "clicks", "conversions")}
    totals = previewed["totals"]
    assert added == {"spend": totals["spend"]["USD"], "impressions": totals["impressions"],
                     "clicks": totals["clicks"], "conversions": totals["conversions"]}


def test_defaults_fill_what_the_file_lacks_and_a_change_after_the_preview_is_refused(page, engine, accounts):
    account = f"acct-{uid()}"
    accounts.append(account)
    content = b"Date,Campaign,Spend,Clicks\n2019-03-01,Spring,10.50,20\n2019-03-02,Spring,12.25,25\n"
    bare = preview(page, content)
    assert prop(bare, "src-write", "disabled") is True
    assert "or choose the channel for the whole file" in texts(prop(bare, "src-preview", "children"))
    filled = preview(page, content, platform="vk_ads", account=account, currency="usd")
    assert prop(filled, "src-write", "disabled") is False
    previewed = prop(filled, "src-preview-key", "data")
    before = fact_rows(engine)
    stale = write(page, content, previewed, platform="vk_ads", account=account + "-other", currency="USD")
    assert "changed since the preview" in texts(prop(stale, "src-upload-result", "children"))
    assert fact_rows(engine) == before
    done = write(page, content, previewed, platform="vk_ads", account=account, currency="USD")
    assert "Wrote 2 daily rows" in texts(prop(done, "src-upload-result", "children"))
    assert fact_rows(engine) == before + 2


def test_an_upload_recorded_under_an_upload_source_shows_on_its_card(page, engine, accounts, sources):
    company = f"Kaggle Co {uid()}"
    accounts.append(company)
    content = kaggle_csv(company)
    previewed = prop(preview(page, content), "src-preview-key", "data")
    api_source, upload_source = sources("tiktok"), sources("upload", credentials={})
    before = fact_rows(engine)
    refused = write(page, content, previewed, source=api_source)
    assert "only be recorded under an upload source" in texts(prop(refused, "src-upload-result", "children"))
    assert fact_rows(engine) == before
    done = write(page, content, previewed, source=upload_source)
    assert prop(done, "src-refresh", "data") == 1  # the list re-reads the source
    record = source_record(upload_source)
    assert (record.status, record.rows_last_sync, record.cursor_date) == ("active", 3, dt.date(2019, 2, 27))


def test_a_currency_without_exchange_rates_is_a_problem_before_writing(page):
    content = b"Date,Channel,Account,Campaign,Currency,Spend\n2019-03-01,vk,a1,Spring,XAU,10\n"
    resp = preview(page, content)
    assert "no exchange rate to USD for XAU" in texts(prop(resp, "src-preview", "children"))
    assert prop(resp, "src-write", "disabled") is True


def test_a_dead_database_gives_a_readable_alert_not_a_traceback(page, page_module, monkeypatch):
    from sqlalchemy.exc import OperationalError

    def dead(_conn):
        raise OperationalError("SELECT 1", {}, ConnectionRefusedError("connection refused"))

    monkeypatch.setattr(page_module, "list_sources", dead)
    resp = page.call("src-list.children", ("src-refresh", "data"),
                     {"src-refresh.data": 1, "src-notes.data": {}, "src-progress.data": {}})
    alert = resp["sideUpdate"]["global-alert"]
    assert alert["is_open"] is True and alert["children"].startswith("The database is not reachable right now")
    assert "OperationalError" not in json.dumps(resp)


# --- add / edit / remove ----------------------------------------------------------------------

def form_values(name: str, token: str | None = None, editing: dict | None = None, kind: str = "tiktok",
                credentials: dict | None = None, **settings: Any) -> dict:
    fields = ("access_token",) if kind == "tiktok" else ()
    return {
        "src-editing.data": editing or {"id": None, "masked": {}}, "src-f-kind.value": kind,
        "src-f-name.value": name, "src-f-account.value": "7001234567",
        "src-cred.id": [({"type": "src-cred", "field": f}, {"type": "src-cred", "field": f}) for f in fields],
        "src-cred.value": [({"type": "src-cred", "field": f}, (credentials or {}).get(f, "")) for f in fields],
        "src-f-lookback.value": settings.get("lookback"), "src-f-timezone.value": settings.get("timezone", ""),
        "src-f-currency.value": settings.get("currency", ""), "src-f-base-url.value": "",
        "src-admin-token.value": token, "src-refresh.data": 0, "src-notes.data": {}, "src-f-save.n_clicks": 1,
    }


def save(page: Page, values: dict) -> dict:
    return page.call("src-form.is_open", ("src-f-save", "n_clicks"), values)


def stored(engine, name: str) -> m.Source | None:
    with engine.connect() as c:
        return c.execute(select(m.Source.__table__).where(m.Source.name == name)).first()


def render(page: Page, progress: dict | None = None) -> str:
    resp = page.call("src-list.children", ("src-refresh", "data"),
                     {"src-refresh.data": 1, "src-notes.data": {}, "src-progress.data": progress or {}})
    return json.dumps(prop(resp, "src-list", "children"), ensure_ascii=False)


def test_an_added_source_is_stored_encrypted_and_shown_masked(page, engine, sources):
    name = f"TikTok page test {uid()}"
    sources.names.append(name)
    secret = "tt-" + uuid.uuid4().hex
    resp = save(page, form_values(name, credentials={"access_token": secret}, lookback=7, timezone="Europe/Moscow",
                                  currency="rub"))
    assert prop(resp, "src-form", "is_open") is False
    row = stored(engine, name)
    assert secret not in row.credentials and decrypt(row.credentials) == {"access_token": secret}
    assert json.loads(row.settings) == {"currency": "RUB", "lookback_days": 7, "timezone": "Europe/Moscow"}
    shown = render(page)
    assert name in shown and "••••" + secret[-4:] in shown and secret not in shown
    # Editing with the credential left blank keeps it; the page never sends it back.
    editing = {"id": row.id, "masked": {"access_token": "••••" + secret[-4:]}}
    save(page, form_values(name + " renamed", editing=editing))
    sources.names.append(name + " renamed")
    assert decrypt(stored(engine, name + " renamed").credentials) == {"access_token": secret}


@pytest.mark.parametrize("settings,credentials,message", [
    ({"lookback": 1000}, {"access_token": "tok-12345678"}, "Look-back days must be a whole number"),
    ({"timezone": "Mars/Olympus"}, {"access_token": "tok-12345678"}, "Unknown time zone"),
    ({"currency": "dollars"}, {"access_token": "tok-12345678"}, "three-letter code"),
    ({}, {}, "Enter access token"),
])
def test_invalid_form_values_are_explained_and_store_nothing(page, engine, settings, credentials, message):
    name = f"invalid {uid()}"
    resp = save(page, form_values(name, credentials=credentials, **settings))
    assert message in prop(resp, "src-f-alert", "children")
    assert "src-form" not in resp["response"]  # the form stays open
    assert stored(engine, name) is None


def test_the_admin_token_guards_every_change_when_set(page, engine, sources, admin_token):
    from dashboard.components.admin import admin_panel

    assert "Local mode" not in json.dumps(admin_panel("x").to_plotly_json(), default=str)
    name = f"guarded {uid()}"
    sources.names.append(name)
    creds = {"access_token": "tok-" + uid()}
    for token in (None, "wrong"):
        resp = save(page, form_values(name, token=token, credentials=creds))
        assert prop(resp, "src-f-alert", "children") == REFUSED
        assert stored(engine, name) is None
    existing = sources()
    removal = {"src-remove.n_clicks": [({"type": "src-remove", "id": existing}, 1)], "src-admin-token.value": "wrong"}
    resp = page.call("src-remove-modal.is_open", ({"type": "src-remove", "id": existing}, "n_clicks"), removal)
    assert said(resp) == REFUSED
    confirm = {"src-removing.data": existing, "src-admin-token.value": "nope", "src-remove-confirm.n_clicks": 1}
    page.call("src-remove-modal.is_open", ("src-remove-confirm", "n_clicks"), confirm)
    with engine.connect() as c:
        assert get_source(c, existing)  # still there
    content = kaggle_csv(f"Kaggle Co {uid()}")
    previewed = prop(preview(page, content), "src-preview-key", "data")
    before = fact_rows(engine)
    assert texts(prop(write(page, content, previewed, token="wrong"), "src-upload-result", "children")) == REFUSED
    assert fact_rows(engine) == before
    save(page, form_values(name, token=admin_token, credentials=creds))
    assert stored(engine, name) is not None


def test_local_mode_says_everyone_is_admin():
    from dashboard.components.admin import admin_panel, is_admin

    assert "Local mode" in json.dumps(admin_panel("x").to_plotly_json(), default=str)
    assert is_admin(None)


def test_remove_asks_first_then_deletes(page, engine, sources):
    source_id = sources()
    ask = page.call("src-remove-modal.is_open", ({"type": "src-remove", "id": source_id}, "n_clicks"),
                    {"src-remove.n_clicks": [({"type": "src-remove", "id": source_id}, 1)]})
    assert prop(ask, "src-remove-modal", "is_open") is True and prop(ask, "src-removing", "data") == source_id
    with engine.connect() as c:
        assert get_source(c, source_id)
    done = page.call("src-remove-modal.is_open", ("src-remove-confirm", "n_clicks"),
                     {"src-removing.data": source_id, "src-remove-confirm.n_clicks": 1, "src-refresh.data": 0})
    assert said(done).startswith("Removed page test")
    with engine.connect() as c:
        assert c.execute(select(m.Source.id).where(m.Source.id == source_id)).first() is None


# --- status, test connection, sync now ---------------------------------------------------------

def test_statuses_read_as_badges_with_reconnect_for_needs_reauth(page, engine, sources):
    broken = sources()
    with unit_of_work(engine) as c:
        set_status(c, broken, "needs_reauth", "Needs re-authorisation: token expired")
    shown = render(page)
    assert "needs re-authorisation" in shown and "token expired" in shown
    assert json.dumps({"type": "src-reconnect", "id": broken}) in shown


def sync_values(source_id: int, jobs: dict | None = None, progress: dict | None = None, clicks: int = 1) -> dict:
    """The sync callback's inputs: the card's button (clicked or not) and the stores."""
    return {"src-sync.n_clicks": [({"type": "src-sync", "id": source_id}, clicks)], "src-poll.n_intervals": 0,
            "src-jobs.data": jobs or {}, "src-progress.data": progress or {}, "src-notes.data": {}}


def test_sync_now_runs_on_rq_and_the_page_polls_it_to_the_end(page, sources, accounts):
    redis = redis_connection()
    assert redis is not None, "the test suite needs the real Redis"
    get_queue(redis).empty()  # the tests' own Redis database: only this test's job should run
    with FakeTikTok(advertiser=uid_digits()) as server:
        accounts.append(server.advertiser)
        source_id = sources("tiktok", server.advertiser, {"access_token": server.token}, base_url=server.url,
                            history_days=3)
        key = str(source_id)
        started = page.call("src-jobs.data", ({"type": "src-sync", "id": source_id}, "n_clicks"),
                            sync_values(source_id))
        jobs = prop(started, "src-jobs", "data")
        assert list(jobs) == [key] and prop(started, "src-poll", "disabled") is False
        waiting = page.call("src-jobs.data", ("src-poll", "n_intervals"), sync_values(source_id, jobs, clicks=0))
        progress = prop(waiting, "src-progress", "data")
        assert progress[key]["status"] == "queued" and prop(waiting, "src-poll", "disabled") is False
        assert "queued: queued" in render(page, progress)  # the bar and its message on the card
        SimpleWorker([get_queue(redis)], connection=redis).work(burst=True)
        done = page.call("src-jobs.data", ("src-poll", "n_intervals"), sync_values(source_id, jobs, progress, 0))
    assert prop(done, "src-jobs", "data") == {} and prop(done, "src-poll", "disabled") is True
    note = prop(done, "src-notes", "data")[key]
    assert note["ok"] is True and note["text"].startswith("Sync finished: 18 rows for")
    assert source_record(source_id).rows_last_sync == 18


def test_progress_shows_on_the_card_while_a_job_runs(page, sources):
    source_id = sources()
    shown = render(page, {str(source_id): {"status": "started", "progress": 0.45,
                                           "message": "fetching 2024-03-01 … 2024-03-10"}})
    assert "started: fetching 2024-03-01 … 2024-03-10" in shown and '"value": 45.0' in shown
    assert '"children": "syncing"' in shown


def test_without_redis_the_sync_runs_inline_and_its_result_is_shown(page, engine, sources, monkeypatch):
    from jobs.sources import sync

    source_id = sources()

    def inline(sid: int) -> None:  # what run_sync_job leaves behind when the platform refuses
        with unit_of_work(engine) as c:
            set_status(c, sid, "error", "TikTok: HTTP 500 after 3 attempts")

    monkeypatch.setattr(sync, "sync_now", inline)
    resp = page.call("src-jobs.data", ({"type": "src-sync", "id": source_id}, "n_clicks"), sync_values(source_id))
    assert prop(resp, "src-poll", "disabled") is True
    assert prop(resp, "src-notes", "data")[str(source_id)] == {"ok": False, "text": "Sync failed: TikTok: HTTP 500 "
                                                                                    "after 3 attempts"}


def test_a_dead_queue_gives_a_message_not_a_traceback(page, sources, monkeypatch):
    from jobs.sources import sync

    def dead(_sid: int) -> None:
        raise RedisConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(sync, "sync_now", dead)
    source_id = sources()
    resp = page.call("src-jobs.data", ({"type": "src-sync", "id": source_id}, "n_clicks"), sync_values(source_id))
    assert "Redis) is not reachable" in prop(resp, "src-notes", "data")[str(source_id)]["text"]


def test_a_rerendered_button_does_not_act_without_a_click(page, sources, monkeypatch):
    from jobs.sources import sync

    monkeypatch.setattr(sync, "sync_now", lambda sid: pytest.fail("synced without a click"))
    source_id = sources()
    assert page.call("src-jobs.data", ({"type": "src-sync", "id": source_id}, "n_clicks"),
                     sync_values(source_id, clicks=0)) == {}


def connection_test(page: Page, source_id: int) -> dict:
    values = {"src-test.n_clicks": [({"type": "src-test", "id": source_id}, 1)], "src-notes.data": {}}
    resp = page.call("src-notes.data", ({"type": "src-test", "id": source_id}, "n_clicks"), values)
    return prop(resp, "src-notes", "data")[str(source_id)]


def test_a_passing_connection_test_lifts_needs_reauth(page, engine, sources):
    with FakeTikTok(advertiser=uid_digits()) as server:
        source_id = sources("tiktok", server.advertiser, {"access_token": server.token}, base_url=server.url)
        with unit_of_work(engine) as c:
            set_status(c, source_id, "needs_reauth", "Needs re-authorisation: token revoked")
        note = connection_test(page, source_id)
    assert note["ok"] is True and note["text"].startswith("Connected to")
    assert source_record(source_id).status == "active"


def test_missing_credentials_fail_the_connection_test_in_words(page, sources):
    source_id = sources("tiktok", credentials={"note": "not a token at all"})
    assert connection_test(page, source_id) == {"ok": False, "text": "missing credentials: access_token"}


def test_relative_times_read_like_a_person_says_them():
    from dashboard.components.status import relative_time

    now = dt.datetime(2026, 6, 30, 12, 0, tzinfo=dt.timezone.utc)
    ago = [relative_time(now - delta, now) for delta in (
        dt.timedelta(seconds=20), dt.timedelta(minutes=12), dt.timedelta(hours=3), dt.timedelta(hours=30),
        dt.timedelta(days=5), dt.timedelta(days=45), dt.timedelta(minutes=-5))]
    assert ago == ["just now", "12 min ago", "3 h ago", "yesterday", "5 days ago", "16 May 2026", "just now"]
    assert relative_time(None, now) == "never"
