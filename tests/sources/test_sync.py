"""Syncing stored sources into the database: exact totals, idempotence, whole-or-nothing windows,
re-authorisation, the lease lock, encrypted credentials, FX import, uploads, and one 90-day sync of
every platform executed by a real `rq worker` against the local servers.

Tests here commit (a sync opens its own transactions), so every source is created through the
`store` fixture, which deletes it and the facts of its (random) accounts afterwards.
"""
from __future__ import annotations

import datetime as dt
import json
import logging
import os
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest
from cryptography.fernet import Fernet
from rq import SimpleWorker
from sqlalchemy import delete, func, select, update

from db import models as m
from db import sources
from db.ingest import IngestError, fx_to_reporting, ingest_fx
from db.session import unit_of_work
from jobs import cycle
from jobs.queue import QUEUE_NAME, get_queue, redis_connection
from db.secrets import REDACTED, SecretsError, decrypt, encrypt
from jobs.sources import sync
from jobs.sources.base import ClientOptions
from jobs.sources.fx import import_ecb_csv, parse_ecb_csv
from jobs.sources.http import RetryPolicy

from servers import FakeGoogle, FakeMeta, FakeTikTok, FakeVk, FakeYandex, FIXTURES

ROOT = Path(__file__).resolve().parents[2]
NOW = dt.datetime(2024, 3, 10, 12, 0, tzinfo=dt.timezone.utc)
OPTIONS = ClientOptions(policy=RetryPolicy(attempts=3, base_delay=0.001, max_delay=0.01, timeout=2.0),
                        sleep=lambda _seconds: None)
FX_DAY = dt.date(2000, 1, 3)
ECB = "Date,USD,JPY,RUB,\n2000-01-03,1.1000,120.00,110.00,\n"


def uid() -> str:
    return str(uuid.uuid4().int % 10**12).rjust(12, "1")


def purge(engine, accounts: list[str]) -> None:
    """Delete every row about the given account external ids: facts, anything later steps derived
    from their campaigns (scores…), then the dimension rows themselves."""
    dimensions = ("ad", "ad_set", "campaign", "ad_account")
    with engine.begin() as c:
        ids = c.execute(select(m.AdAccount.id).where(m.AdAccount.external_id.in_(accounts))).scalars().all()
        if not ids:
            return
        campaigns = select(m.Campaign.id).where(m.Campaign.account_id.in_(ids))
        for table in reversed(m.Base.metadata.sorted_tables):
            if table.name in dimensions:
                continue
            if "account_id" in table.c:
                c.execute(delete(table).where(table.c.account_id.in_(ids)))
            elif "campaign_id" in table.c:
                c.execute(delete(table).where(table.c.campaign_id.in_(campaigns)))
        ad_sets = select(m.AdSet.id).where(m.AdSet.campaign_id.in_(campaigns))
        c.execute(delete(m.Ad).where(m.Ad.ad_set_id.in_(ad_sets)))
        c.execute(delete(m.AdSet).where(m.AdSet.campaign_id.in_(campaigns)))
        c.execute(delete(m.Campaign).where(m.Campaign.account_id.in_(ids)))
        c.execute(delete(m.AdAccount).where(m.AdAccount.id.in_(ids)))


@pytest.fixture()
def store(engine):
    """store(kind, account_ref, credentials, **settings) → source id; removed with its facts afterwards."""
    made: list[int] = []
    accounts: list[str] = []

    def add(kind: str, account_ref: str, credentials: dict[str, str], **settings: object) -> int:
        with unit_of_work(engine) as c:
            source_id = sources.create_source(c, kind=kind, name=f"{kind} {account_ref}", account_ref=account_ref,
                                              credentials=credentials, settings=settings)
        made.append(source_id)
        accounts.append(account_ref.replace("-", ""))
        return source_id

    add.accounts = accounts  # type: ignore[attr-defined]
    yield add
    with unit_of_work(engine) as c:
        c.execute(delete(m.Source).where(m.Source.id.in_(made)))
    purge(engine, accounts)


@pytest.fixture()
def fx(engine):
    """EUR/RUB/TON rates dated long before any test data, so they apply to every later day."""
    with unit_of_work(engine) as c:
        import_ecb_csv(c, ECB, "USD")
        ingest_fx(c, pd.DataFrame({"date": [FX_DAY], "currency": ["TON"], "rate": [5.0]}))
    yield
    with unit_of_work(engine) as c:
        c.execute(delete(m.FxRate).where(m.FxRate.date == FX_DAY))


def db_totals(engine, channel: str, account: str) -> dict[str, float]:
    f = m.FactAdDaily
    q = (select(func.sum(f.spend), func.sum(f.impressions), func.sum(f.clicks), func.sum(f.conversions),
                func.sum(f.spend_rc), func.count(), func.count(func.distinct(f.date)))
         .join(m.AdAccount, m.AdAccount.id == f.account_id).join(m.Platform, m.Platform.id == f.platform_id)
         .where(m.Platform.slug == channel, m.AdAccount.external_id == account))
    with engine.connect() as c:
        spend, impressions, clicks, conversions, spend_rc, rows, days = c.execute(q).one()
    return {"spend": round(float(spend or 0), 4), "impressions": int(impressions or 0), "clicks": int(clicks or 0),
            "conversions": round(float(conversions or 0), 4), "spend_rc": round(float(spend_rc or 0), 4),
            "rows": rows, "days": days}


def measures(totals: dict[str, float]) -> dict[str, float]:
    return {k: totals[k] for k in ("spend", "impressions", "clicks", "conversions")}


def source(engine, source_id: int) -> sources.SourceRecord:
    with engine.connect() as c:
        return sources.get_source(c, source_id)


# --- totals, idempotence, restatement ---------------------------------------------------------

def test_sync_writes_exact_totals_and_a_repeat_adds_no_duplicates(engine, store):
    with FakeTikTok(advertiser=uid()) as server:
        sid = store("tiktok", server.advertiser, {"access_token": server.token}, base_url=server.url, history_days=5)
        first = sync.sync_source(sid, now=NOW, options=OPTIONS)
        assert (first.status, first.rows, first.date_from, first.date_to) == (
            "ok", 30, dt.date(2024, 3, 6), dt.date(2024, 3, 10))
        assert measures(db_totals(engine, "tiktok", server.advertiser)) == server.totals()
        again = sync.sync_source(sid, now=NOW + dt.timedelta(days=1), options=OPTIONS)
    assert again.date_from == dt.date(2024, 2, 25)  # cursor 03-10 minus the 14-day look-back
    after = db_totals(engine, "tiktok", server.advertiser)
    assert measures(after) == server.totals()
    assert after["rows"] == len(server.ledger) == 16 * 6  # every ad-day exactly once
    record = source(engine, sid)
    assert (record.status, record.cursor_date, record.rows_last_sync) == ("active", dt.date(2024, 3, 11), 96)
    assert record.locked_by is None
    with engine.connect() as c:
        hours = c.execute(select(func.count()).select_from(m.FactHourly).join(
            m.AdAccount, m.AdAccount.id == m.FactHourly.account_id).where(
            m.AdAccount.external_id == server.advertiser)).scalar()
    assert hours == 16 * 2 * 2


def test_restated_days_replace_the_old_values(engine, store, fx):
    with FakeMeta(account=uid()) as server:
        sid = store("meta", server.account, {"access_token": server.token}, base_url=server.url, history_days=10,
                    async_poll_seconds=0)
        assert sync.sync_source(sid, now=NOW, options=OPTIONS).status == "ok"
        server.scale = 1.5  # late conversions: the platform restates every day of the window
        assert sync.sync_source(sid, now=NOW + dt.timedelta(days=1), options=OPTIONS).status == "ok"
    for channel in ("facebook", "instagram"):
        got = db_totals(engine, channel, server.account)
        assert measures(got) == server.totals(channel)
        assert got["spend_rc"] == got["spend"]  # USD account, USD reporting
    with engine.connect() as c:
        audience = c.execute(select(m.Campaign.external_id, m.Platform.slug, func.count())
                             .select_from(m.FactAudienceDaily)
                             .join(m.Campaign, m.Campaign.id == m.FactAudienceDaily.campaign_id)
                             .join(m.Platform, m.Platform.id == m.FactAudienceDaily.platform_id)
                             .join(m.AdAccount, m.AdAccount.id == m.FactAudienceDaily.account_id)
                             .where(m.AdAccount.external_id == server.account)
                             .group_by(m.Campaign.external_id, m.Platform.slug)).all()
        zone = c.execute(select(m.AdAccount.timezone).where(m.AdAccount.external_id == server.account)).scalars()
        assert set(zone) == {"America/New_York"}
    # One channel per campaign however the dominant channel moved between windows; the second
    # window reaches back 28 days (Meta's look-back), 02-11 … 03-11, two age bands a day.
    by_campaign = {campaign: (slug, n) for campaign, slug, n in audience}
    assert len(audience) == 2 and {n for _, n in by_campaign.values()} == {30 * 2}
    assert by_campaign[f"{server.account}02"][0] == "instagram"  # campaign 2 runs only on Instagram


def test_rub_source_is_converted_with_the_fx_table(engine, store, fx):
    with FakeYandex(login=uid(), offline_polls=0) as server:
        sid = store("yandex_direct", server.login, {"access_token": server.token}, base_url=server.url,
                    history_days=3)
        assert sync.sync_source(sid, now=NOW, options=OPTIONS).status == "ok"
    got = db_totals(engine, "yandex_direct", server.login)
    assert measures(got) == server.totals()
    assert got["spend_rc"] == pytest.approx(got["spend"] * 1.1 / 110, abs=0.01)  # RUB → USD via EUR


# --- failures -------------------------------------------------------------------------------

@pytest.mark.parametrize("fault", ["500", "malformed"])
def test_a_fault_mid_fetch_writes_nothing_and_keeps_the_cursor(engine, store, fault):
    with FakeTikTok(advertiser=uid()) as server:
        sid = store("tiktok", server.advertiser, {"access_token": server.token}, base_url=server.url, history_days=3)
        assert sync.sync_source(sid, now=NOW, options=OPTIONS).status == "ok"
        before = db_totals(engine, "tiktok", server.advertiser)
        server.scale = 3.0
        server.fault(fault, path="/report/", after=4, times=None)  # daily pages served, then it breaks
        failed = sync.sync_source(sid, now=NOW + dt.timedelta(days=2), options=OPTIONS)
        assert failed.status == "error" and failed.rows == 0
        assert db_totals(engine, "tiktok", server.advertiser) == before  # no half-written window
        record = source(engine, sid)
        assert (record.status, record.cursor_date) == ("error", dt.date(2024, 3, 10))
        assert record.last_error == failed.message and ("HTTP 500" in failed.message or "JSON" in failed.message)
        server.clear_faults()
        assert sync.sync_source(sid, now=NOW + dt.timedelta(days=2), options=OPTIONS).status == "ok"
    assert measures(db_totals(engine, "tiktok", server.advertiser)) == server.totals()
    assert source(engine, sid).status == "active"


def test_expired_token_needs_reauth_while_other_sources_still_sync(engine, store, caplog):
    revoked = "EAAB-revoked-token-secret-0042"
    caplog.set_level(logging.INFO)
    with FakeMeta(account=uid()) as meta, FakeTikTok(advertiser=uid()) as tiktok:
        meta.echo_token = True  # the error body quotes the token back: it must still never surface
        bad = store("meta", meta.account, {"access_token": revoked}, base_url=meta.url)
        good = store("tiktok", tiktok.advertiser, {"access_token": tiktok.token}, base_url=tiktok.url,
                     history_days=2)
        cycle_id = "reauth-" + uid()
        outcomes = {o.source_id: o for o in sync.sync_all(NOW, cycle_id=cycle_id, options=OPTIONS)}
        assert (outcomes[bad].status, outcomes[good].status) == ("needs_reauth", "ok")
        assert measures(db_totals(engine, "tiktok", tiktok.advertiser)) == tiktok.totals()
        record = source(engine, bad)
        assert record.status == "needs_reauth" and record.cursor_date is None
        assert record.last_error.startswith("Needs re-authorisation: Meta error 190/463")
        assert revoked not in record.last_error and REDACTED in record.last_error
        assert revoked not in caplog.text
        with engine.connect() as c:
            runs = c.execute(select(m.SyncRun.source, m.SyncRun.status).where(m.SyncRun.cycle_id == cycle_id)).all()
        assert sorted(runs) == sorted([(f"meta {meta.account}", "failed"), (f"tiktok {tiktok.advertiser}", "ok")])
        # waiting for a person: the next cycle leaves it alone ...
        assert [o.source_id for o in sync.sync_all(NOW, options=OPTIONS)] == [good]
        # ... until new credentials are stored
        with unit_of_work(engine) as c:
            sources.update_source(c, bad, credentials={"access_token": meta.token})
        assert source(engine, bad).status == "active"
        assert sync.sync_source(bad, now=NOW, options=OPTIONS).status == "ok"


# --- the lock -------------------------------------------------------------------------------

def test_a_held_lease_keeps_a_second_worker_out(engine, store):
    with FakeTikTok(advertiser=uid()) as server:
        sid = store("tiktok", server.advertiser, {"access_token": server.token}, base_url=server.url, history_days=1)
        with unit_of_work(engine) as c:
            assert sources.acquire_lock(c, sid, "other-worker", ttl=dt.timedelta(minutes=5))
        assert source(engine, sid).is_syncing()  # what the page shows while a worker holds it
        assert sync.sync_source(sid, now=NOW, options=OPTIONS).status == "locked"
        assert server.requests == []
        with unit_of_work(engine) as c:  # a crashed worker's lease runs out on its own
            c.execute(update(m.Source).where(m.Source.id == sid).values(
                locked_until=dt.datetime.now(dt.timezone.utc) - dt.timedelta(seconds=1)))
        assert sync.sync_source(sid, now=NOW, options=OPTIONS).status == "ok"
        assert not source(engine, sid).is_syncing()


def test_paused_sources_are_left_alone(engine, store):
    with FakeTikTok(advertiser=uid()) as server:
        sid = store("tiktok", server.advertiser, {"access_token": server.token}, base_url=server.url)
        with unit_of_work(engine) as c:
            sources.set_status(c, sid, "paused")
            with pytest.raises(sources.SourceConfigError, match="cannot become 'error'"):
                sources.set_status(c, sid, "error")
        assert sync.sync_source(sid, now=NOW, options=OPTIONS).status == "skipped"
        assert sid not in [o.source_id for o in sync.sync_all(NOW, options=OPTIONS)]
        assert server.requests == [] and not source(engine, sid).is_syncing()


def test_two_workers_at_once_sync_a_source_only_once(engine, store):
    with FakeYandex(login=uid(), offline_polls=1, retry_in="0.4") as server:
        sid = store("yandex_direct", server.login, {"access_token": server.token}, base_url=server.url,
                    history_days=1, currency="USD")
        slow = ClientOptions(policy=OPTIONS.policy, sleep=time.sleep)  # really waits for retryIn
        outcomes: list[sync.SyncOutcome] = []
        first = threading.Thread(target=lambda: outcomes.append(sync.sync_source(sid, now=NOW, options=slow)))
        first.start()
        deadline = time.time() + 5
        while not server.requests and time.time() < deadline:
            time.sleep(0.01)
        outcomes.append(sync.sync_source(sid, now=NOW, options=slow))
        first.join()
    assert sorted(o.status for o in outcomes) == ["locked", "ok"]
    assert len(server.reports) == 2  # one fetch: each report polled by one worker
    assert source(engine, sid).locked_by is None


def test_a_lost_lease_writes_nothing(engine, store):
    with FakeTikTok(advertiser=uid()) as server:
        sid = store("tiktok", server.advertiser, {"access_token": server.token}, base_url=server.url, history_days=2)

        def steal(fraction: float, _message: str) -> None:
            if fraction == 0.9:  # the fetch ran past the lease and another worker took the source
                with unit_of_work(engine) as c:
                    c.execute(update(m.Source).where(m.Source.id == sid).values(
                        locked_by="thief", locked_until=dt.datetime.now(dt.timezone.utc) + dt.timedelta(hours=1)))

        outcome = sync.sync_source(sid, now=NOW, options=OPTIONS, progress=steal)
    assert outcome.status == "error" and "lease was lost" in outcome.message
    assert db_totals(engine, "tiktok", server.advertiser)["rows"] == 0
    assert source(engine, sid).cursor_date is None


# --- credentials ----------------------------------------------------------------------------

def test_credentials_are_encrypted_at_rest_and_shown_masked(engine, store):
    token = "EAAB-plaintext-must-not-be-stored-9f3a"
    sid = store("meta", uid(), {"access_token": token, "app_secret": "app-secret-5566"})
    with engine.connect() as c:
        raw = c.execute(select(m.Source.credentials).where(m.Source.id == sid)).scalar_one()
        assert token not in raw and "app-secret" not in raw
        assert sources.source_secrets(c, sid) == {"access_token": token, "app_secret": "app-secret-5566"}
        listed = next(s for s in sources.list_sources(c) if s.id == sid)
    key = (Path(os.environ["DEMETRA_DATA_DIR"]) / "fernet.key").read_bytes()
    assert json.loads(Fernet(key).decrypt(raw.encode()))["access_token"] == token
    assert listed.credentials_masked == {"access_token": "••••9f3a", "app_secret": "••••5566"}
    assert token not in repr(listed)
    with unit_of_work(engine) as c:  # a blank field on the edit form keeps the stored secret
        sources.update_source(c, sid, credentials={"access_token": "", "app_secret": "new-app-secret-7788"},
                              settings={"lookback_days": 7})
    with engine.connect() as c:
        assert sources.source_secrets(c, sid) == {"access_token": token, "app_secret": "new-app-secret-7788"}
        assert sources.get_source(c, sid).settings["lookback_days"] == 7


def test_credentials_are_refused_without_a_key(conn, monkeypatch):
    monkeypatch.delenv("DEMETRA_FERNET_KEY", raising=False)
    monkeypatch.setattr("db.secrets.get_settings", lambda: SimpleNamespace(data_dir=Path("/proc/demetra-nowhere")))
    with pytest.raises(SecretsError, match="refusing to store credentials"):
        sources.create_source(conn, kind="tiktok", name="no key " + uid(), credentials={"access_token": "x" * 20})


def test_a_development_key_file_is_generated_loudly(tmp_path, monkeypatch, caplog):
    monkeypatch.delenv("DEMETRA_FERNET_KEY", raising=False)
    monkeypatch.setattr("db.secrets.get_settings", lambda: SimpleNamespace(data_dir=tmp_path))
    token = encrypt({"access_token": "dev-token-123456789"})
    key_file = tmp_path / "fernet.key"
    assert key_file.stat().st_mode & 0o777 == 0o600
    assert "DEVELOPMENT key" in caplog.text and "DEMETRA_FERNET_KEY" in caplog.text
    monkeypatch.setenv("DEMETRA_FERNET_KEY", Fernet.generate_key().decode())  # a different key cannot read it
    with pytest.raises(SecretsError, match="cannot be decrypted"):
        decrypt(token)


def test_connection_test_lifts_needs_reauth(engine, store):
    with FakeTikTok(advertiser=uid()) as server:
        sid = store("tiktok", server.advertiser, {"access_token": "revoked-token-1234"}, base_url=server.url)
        failed = sync.test_connection(sid, options=OPTIONS)
        assert not failed.ok and failed.needs_reauth and "40105" in failed.message
        with unit_of_work(engine) as c:
            sources.set_status(c, sid, "needs_reauth", failed.message)
            c.execute(update(m.Source).where(m.Source.id == sid).values(credentials=encrypt(
                {"access_token": server.token})))
        passed = sync.test_connection(sid, options=OPTIONS)
        assert passed.ok and passed.account.currency == "USD" and "Shop (TikTok)" in passed.message
        assert source(engine, sid).status == "active"
        draft = sync.test_credentials("tiktok", server.advertiser, {"access_token": server.token},
                                      {"base_url": server.url}, options=OPTIONS)
        assert draft.ok


# --- FX ---------------------------------------------------------------------------------------

def test_ecb_rates_become_reporting_currency_rates(conn):
    ecb = ("Date,USD,JPY,RUB,GBP,\n"
           "2024-03-01,1.0800,162.00,N/A,0.8560,\n"
           "2024-02-29,1.0750,161.50,98.50,0.8550,\n")
    frame = parse_ecb_csv(ecb, "USD").set_index(["date", "currency"])["rate"]
    assert frame[("2024-03-01", "EUR")] == pytest.approx(1.08)
    assert frame[("2024-03-01", "GBP")] == pytest.approx(1.08 / 0.856)
    assert ("2024-03-01", "RUB") not in frame  # N/A that day
    assert frame[("2024-02-29", "RUB")] == pytest.approx(1.075 / 98.5)
    assert parse_ecb_csv(ecb, "EUR").set_index(["date", "currency"])["rate"][("2024-03-01", "USD")] == \
        pytest.approx(1 / 1.08)
    assert import_ecb_csv(conn, ecb.encode(), "USD") == 7
    rows = pd.DataFrame({"date": [dt.date(2024, 3, 1)], "currency": ["RUB"]})
    assert fx_to_reporting(conn, rows, "USD").iloc[0] == pytest.approx(1.075 / 98.5)  # carried forward
    with pytest.raises(IngestError, match="no KZT column"):
        parse_ecb_csv(ecb, "KZT")


# --- uploads ----------------------------------------------------------------------------------

def test_an_upload_with_problems_is_refused_whole(engine, store):
    account = uid()
    store.accounts.append(account)
    bad = (f"Date,Channel,Account,Campaign,Currency,Spend,Clicks\n"
           f"2024-03-01,vk,{account},Spring,USD,10.50,20\n2024-03-02,vk,{account},Spring,USD,lots,25\n").encode()
    preview = sync.preview_upload(bad, "bad.csv")
    assert preview.problems and any("'lots'" in p for p in preview.problems)
    with pytest.raises(sync.UploadRefused):
        sync.commit_upload(preview, engine=engine)
    no_account = sync.preview_upload(b"Date,Channel,Campaign,Spend\n2024-03-01,vk,Spring,10\n", "x.csv")
    assert "1 rows have no account: add a column or choose one for the whole file" in no_account.problems
    assert db_totals(engine, "vk_ads", account)["rows"] == 0


def test_a_clean_upload_is_committed_once_however_often_it_is_sent(engine, store):
    account = uid()
    store.accounts.append(account)
    good = (f"Date,Channel,Account,Campaign,Currency,Spend,Impressions,Clicks,Conversions\n"
            f"2024-03-01,vk,{account},Spring,USD,10.50,1000,20,2\n"
            f"2024-03-02,vk,{account},Spring,USD,12.25,1100,25,3\n").encode()
    for _ in range(2):
        preview = sync.preview_upload(good, "good.csv")
        assert preview.problems == []
        assert sync.commit_upload(preview, engine=engine) == 2
    assert measures(db_totals(engine, "vk_ads", account)) == {"spend": 22.75, "impressions": 2100, "clicks": 45,
                                                             "conversions": 5}


def test_a_telegram_ads_export_pair_is_uploaded(engine, store, fx):
    account = uid()
    store.accounts.append(account)
    preview = sync.preview_telegram_export((FIXTURES / "telegram/ad_stats_day.csv").read_bytes(),
                                           (FIXTURES / "telegram/ad_budget_day.csv").read_bytes(),
                                           account_id=account, campaign_id="tg-spring")
    assert preview.problems == [] and {r["currency"] for r in preview.rows} == {"TON"}
    assert sync.commit_upload(preview, engine=engine) == 3
    got = db_totals(engine, "telegram", account)
    assert measures(got) == {"spend": 4.0346, "impressions": 3450, "clicks": 86, "conversions": 10}
    assert got["spend_rc"] == pytest.approx(4.0346 * 5.0, abs=1e-3)


# --- RQ ---------------------------------------------------------------------------------------

def test_sync_now_runs_on_rq_and_reports_progress(engine, store):
    redis = redis_connection()
    assert redis is not None, "the test suite needs the real Redis"
    redis.flushdb()
    with FakeTikTok(advertiser=uid()) as server:
        sid = store("tiktok", server.advertiser, {"access_token": server.token}, base_url=server.url, history_days=3)
        job_id = sync.sync_now(sid)
        assert sync.job_progress(job_id) == {"status": "queued", "progress": 0.0, "message": "queued"}
        SimpleWorker([get_queue(redis)], connection=redis).work(burst=True)
    done = sync.job_progress(job_id)
    assert done["status"] == "finished" and done["progress"] == 1.0 and done["message"].startswith("18 rows for")
    assert source(engine, sid).rows_last_sync == 18


def test_90_day_sync_of_all_sources_through_rq_gives_the_expected_totals(engine, store, fx, monkeypatch):
    # only the cycle's sync step: the model steps after it are tested elsewhere and take longer
    monkeypatch.setattr(cycle, "STEPS", [step for step in cycle.STEPS if step[0] == "sync"])
    redis = redis_connection()
    assert redis is not None, "the test suite needs the real Redis"
    redis.flushdb()
    meta, google, tiktok = FakeMeta(account=uid(), async_polls=1), FakeGoogle(customer=uid()), FakeTikTok(uid())
    yandex, vk = FakeYandex(login=uid(), offline_polls=1, retry_in="0.05"), FakeVk()
    vk_account = uid()
    try:
        store("meta", meta.account, {"access_token": meta.token}, base_url=meta.url, async_poll_seconds=0.01)
        store("google_ads", google.customer, {"developer_token": google.developer_token, "client_id": "cid",
                                              "client_secret": "google-secret", "refresh_token": google.refresh_token},
              base_url=google.url, token_url=google.url + "/token")
        store("tiktok", tiktok.advertiser, {"access_token": tiktok.token}, base_url=tiktok.url)
        store("yandex_direct", yandex.login, {"access_token": yandex.token}, base_url=yandex.url)
        store("vk_ads", vk_account, {"client_id": vk.client_id, "client_secret": vk.client_secret}, base_url=vk.url)
        cycle_id = "rq90-" + uid()
        cycle.enqueue(cycle_id)
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        done = subprocess.run([str(Path(sys.executable).parent / "rq"), "worker", QUEUE_NAME, "--burst", "--url",
                               os.environ["REDIS_URL"]], cwd=ROOT, env=env, capture_output=True, text=True,
                              timeout=120)
        assert done.returncode == 0, done.stderr[-2000:]
    finally:
        for server in (meta, google, tiktok, yandex, vk):
            server.close()
    expected = [("facebook", meta.account, meta), ("instagram", meta.account, meta),
                ("google_ads", google.customer, google), ("tiktok", tiktok.advertiser, tiktok),
                ("yandex_direct", yandex.login, yandex), ("vk_ads", vk_account, vk)]
    for channel, account, server in expected:
        got = db_totals(engine, channel, account)
        assert measures(got) == server.totals(channel), channel
        assert got["days"] == 90 and got["rows"] == sum(1 for k in server.ledger if k[0] == channel), channel
    with engine.connect() as c:
        runs = dict(c.execute(select(m.SyncRun.source, m.SyncRun.status).where(
            m.SyncRun.cycle_id == cycle_id, m.SyncRun.step == "sync")).all())
        cursors = c.execute(select(m.Source.cursor_date).where(m.Source.account_ref.in_(store.accounts))).scalars()
        assert None not in list(cursors)
    assert runs == {"demo": "ok", **{f"{kind} {ref}": "ok" for kind, ref in (
        ("meta", meta.account), ("google_ads", google.customer), ("tiktok", tiktok.advertiser),
        ("yandex_direct", yandex.login), ("vk_ads", vk_account))}}
