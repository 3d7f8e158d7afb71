"""The platform clients against local servers speaking each wire format: paging, async reports,
polling, token exchange, retries and back-off (sleep injected, so nothing really waits)."""
from __future__ import annotations

import datetime as dt
import json
import logging
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from db.secrets import MASK, install_redaction, masked, redact, register_secret
from jobs.sources.base import ClientOptions, Connector
from jobs.sources.google_ads import GoogleAdsClient
from jobs.sources.http import HttpClient, RetryPolicy, retry_after_seconds
from jobs.sources.meta import MetaClient, usage_wait
from jobs.sources.parsing import AuthError, PayloadError, RateLimitError, TransientError
from jobs.sources.tiktok import TikTokClient
from jobs.sources.vk_ads import VkAdsClient
from jobs.sources.yandex_direct import YandexDirectClient

from servers import (
    FakeGoogle, FakeMeta, FakePlatform, FakeTikTok, FakeVk, FakeYandex, Reply, Request, fixture_json,
)

FAST = RetryPolicy(attempts=4, base_delay=0.01, max_delay=0.05, max_wait=300.0, timeout=0.3)
D = dt.date(2024, 5, 1)


class Sleeps(list):
    """Stands in for time.sleep: records each wait instead of waiting."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@dataclass
class Stub:
    kind: str
    account_ref: str
    settings: dict[str, Any] = field(default_factory=dict)


def make(cls: type[Connector], server: FakePlatform, account_ref: str, secrets: dict[str, str],
         **settings: Any) -> tuple[Connector, Sleeps]:
    sleeps = Sleeps()
    connector = cls.from_source(Stub(cls.kind, account_ref, {"base_url": server.url, **settings}), secrets,
                                ClientOptions(policy=FAST, sleep=sleeps))
    return connector, sleeps


def sums(rows: list[dict], channel: str | None = None) -> dict[str, float]:
    picked = [r for r in rows if channel is None or r["platform"] == channel]
    return {m: round(sum(r[m] for r in picked), 4) for m in ("spend", "impressions", "clicks", "conversions")}


@pytest.fixture()
def meta():
    with FakeMeta() as server:
        yield server


# --- Meta -----------------------------------------------------------------------------------

class RecordedMeta(FakePlatform):
    """Serves the recorded insights pages, with page 1's `next` pointing back at this server."""

    def handle(self, request: Request) -> Reply:
        if request.path.endswith("/act_798085168510957"):
            return Reply(200, {"account_id": "798085168510957", "currency": "USD", "timezone_name": "UTC"})
        if request.query.get("after") == "MwZDZD":
            return Reply(200, fixture_json("meta/insights_page2.json"))
        if request.query.get("breakdowns") != "publisher_platform":
            return Reply(200, {"data": []})
        page = fixture_json("meta/insights_page1.json")
        page["paging"]["next"] = f"{self.url}/v21.0/act_798085168510957/insights?after=MwZDZD"
        return Reply(200, page)


def test_meta_follows_paging_next_through_recorded_pages():
    with RecordedMeta() as server:
        client, _ = make(MetaClient, server, "act_798085168510957", {"access_token": "meta-token-0123456789"})
        rows = client.fetch(D, D).daily
    assert len(rows) == 5
    assert sums(rows, "facebook") == {"spend": 48.97, "impressions": 1439, "clicks": 41, "conversions": 6}
    assert sums(rows, "instagram") == {"spend": 20.10, "impressions": 300, "clicks": 15, "conversions": 1}
    first = server.requests[0]
    assert first.headers["authorization"] == "Bearer meta-token-0123456789"
    assert "access_token" not in first.query  # the token travels in a header, never in a URL
    assert [r.query.get("after") for r in server.requests[:2]] == [None, "MwZDZD"]


def test_meta_long_range_runs_async_reports_and_polls_until_completed(meta):
    client, sleeps = make(MetaClient, meta, "act_111", {"access_token": meta.token},
                          async_after_days=7, async_poll_seconds=5)
    result = client.fetch(D, D + dt.timedelta(days=9))
    posts = [r for r in meta.requests if r.method == "POST"]
    assert len(posts) == 3 and all(json.loads(r.form["time_range"])["until"] == "2024-05-10" for r in posts)
    assert sleeps == [5.0] * 6  # two "Job Running" polls per report
    assert len(result.daily) == 10 * 6
    for channel in ("facebook", "instagram"):
        assert sums(result.daily, channel) == meta.totals(channel)
    # campaign 2 runs only on Instagram: its breakdown rows must follow it there
    assert {r["platform"] for r in result.audience + result.hourly if r["campaign_id"] == "11102"} == {"instagram"}
    assert {r["hour"] for r in result.hourly} == {9, 18}


def test_meta_rate_limit_waits_as_long_as_the_usage_header_says(meta):
    meta.fault("rate_limit", path="/insights")
    client, sleeps = make(MetaClient, meta, "111", {"access_token": meta.token})
    rows = client.fetch(D, D).daily
    assert sums(rows) == meta.totals()
    assert len(sleeps) == 1 and 60 <= sleeps[0] < 61  # estimated_time_to_regain_access: 1 minute


def test_meta_high_quota_use_paces_the_next_call(meta):
    meta.throttle_pct = 95  # successful pages, but the account is close to its insights quota
    client, sleeps = make(MetaClient, meta, "111", {"access_token": meta.token})
    result = client.fetch(D, D)
    assert sums(result.daily) == meta.totals()
    assert sleeps == [60.0, 60.0]  # before the audience and the hourly report; none after the last


def test_meta_usage_headers_are_read_in_minutes_and_percent():
    def reply(**headers: object) -> httpx.Response:
        return httpx.Response(200, headers={k.replace("_", "-"): json.dumps(v) for k, v in headers.items()})

    busy = {"111": [{"type": "ads_insights", "call_count": 40, "estimated_time_to_regain_access": 3}]}
    assert usage_wait(reply(X_Business_Use_Case_Usage=busy)) == 180.0
    assert usage_wait(reply(x_fb_ads_insights_throttle={"app_id_util_pct": 91, "acc_id_util_pct": 5})) == 60.0
    assert usage_wait(reply(x_fb_ads_insights_throttle={"app_id_util_pct": 10, "acc_id_util_pct": 5})) is None
    assert usage_wait(httpx.Response(200)) is None


def test_meta_long_throttle_is_left_to_the_next_cycle(meta):
    meta.regain_minutes = 47
    meta.fault("rate_limit", path="/insights")
    client, sleeps = make(MetaClient, meta, "111", {"access_token": meta.token})
    with pytest.raises(RateLimitError, match="next cycle"):
        client.fetch(D, D)
    assert sleeps == []


def test_meta_too_many_rows_splits_the_range(meta):
    meta.max_days = 2
    client, _ = make(MetaClient, meta, "111", {"access_token": meta.token}, async_after_days=30)
    rows = client.fetch(D, D + dt.timedelta(days=4)).daily
    assert sums(rows, "facebook") == meta.totals("facebook")
    assert len({(r["ad_id"], r["platform"], r["date"]) for r in rows}) == len(rows) == 5 * 6


def test_meta_expired_token_is_an_auth_error(meta):
    client, _ = make(MetaClient, meta, "111", {"access_token": "stale-token-987654321"})
    with pytest.raises(AuthError, match="190"):
        client.test_connection()


# --- Google Ads -----------------------------------------------------------------------------

def google_secrets(server: FakeGoogle, **override: str) -> dict[str, str]:
    return {"developer_token": server.developer_token, "client_id": "cid.apps.googleusercontent.com",
            "client_secret": "google-client-secret", "refresh_token": server.refresh_token, **override}


def test_google_exchanges_the_refresh_token_and_streams_gaql():
    with FakeGoogle() as server:
        server.login_customer_id = "5556667777"
        client, _ = make(GoogleAdsClient, server, "123-456-7890", google_secrets(server),
                         token_url=server.url + "/token", login_customer_id="555-666-7777")
        account = client.test_connection()
        result = client.fetch(D, D + dt.timedelta(days=2))
    assert (account.currency, account.timezone) == ("EUR", "Europe/Berlin")
    assert server.requests[0].path == "/token" and server.requests[0].form["grant_type"] == "refresh_token"
    assert "segments.date BETWEEN '2024-05-01' AND '2024-05-03'" in server.queries[-1]
    assert sums(result.daily) == server.totals()
    assert {r["currency"] for r in result.daily} == {"EUR"}
    assert {r["hour"] for r in result.hourly} == {8, 20}


def test_google_quota_error_waits_for_the_retry_delay():
    with FakeGoogle() as server:
        server.fault("rate_limit", path="searchStream", after=1)  # the account query passes, the report hits quota
        client, sleeps = make(GoogleAdsClient, server, "1234567890", google_secrets(server),
                              token_url=server.url + "/token")
        rows = client.fetch(D, D).daily
    assert sums(rows) == server.totals()
    assert len(sleeps) == 1 and 60 <= sleeps[0] < 61  # "retryDelay": "60s"


def test_google_revoked_refresh_token_is_an_auth_error():
    with FakeGoogle() as server:
        client, _ = make(GoogleAdsClient, server, "1234567890", google_secrets(server, refresh_token="1//revoked"),
                         token_url=server.url + "/token")
        with pytest.raises(AuthError, match="invalid_grant"):
            client.test_connection()


# --- TikTok ---------------------------------------------------------------------------------

def test_tiktok_pages_chunks_and_reads_parent_ids():
    with FakeTikTok(page_cap=5) as server:
        client, _ = make(TikTokClient, server, server.advertiser, {"access_token": server.token})
        result = client.fetch(D, D + dt.timedelta(days=34))  # > 30 days: two daily windows
    assert sums(result.daily) == server.totals()
    assert len(result.daily) == 35 * 6
    assert {r["campaign_id"] for r in result.daily} == {"1799000000000001", "1799000000000002"}
    assert {r["ad_set_id"] for r in result.daily} == {"17990000000000019", "17990000000000029"}
    assert {(r["age"], r["gender"]) for r in result.audience} == {("25-34", "female"), ("55+", "male")}
    assert len(result.hourly) == 35 * 2 * 2
    reports = [r for r in server.requests if r.path.endswith("/report/integrated/get/")]
    assert max(int(r.query["page"]) for r in reports) > 1
    assert all(r.headers["access-token"] == server.token for r in reports)


def test_tiktok_error_codes_on_http_200_are_classified():
    with FakeTikTok() as server:
        server.fault("rate_limit", path="/report/")
        server.fault("system", path="/report/")
        client, sleeps = make(TikTokClient, server, server.advertiser, {"access_token": server.token})
        rows = client.fetch(D, D).daily
        assert sums(rows) == server.totals() and len(sleeps) == 2
        revoked, _ = make(TikTokClient, server, server.advertiser, {"access_token": "revoked-token-123"})
        with pytest.raises(AuthError, match="40105"):
            revoked.fetch(D, D)


# --- Yandex.Direct --------------------------------------------------------------------------

def test_yandex_repeats_the_identical_request_until_the_report_is_ready():
    with FakeYandex(offline_polls=2, retry_in="3") as server:
        client, sleeps = make(YandexDirectClient, server, server.login, {"access_token": server.token})
        result = client.fetch(D, D + dt.timedelta(days=1))
    assert len(server.reports) == 2
    for name, bodies in server.reports.items():
        assert len(bodies) == 3 and len(set(bodies)) == 1, name  # 201, 202, then 200 — same body each time
    assert sleeps == [3.0] * 4
    assert sums(result.daily) == server.totals()
    assert {r["currency"] for r in result.daily} == {"RUB"}
    assert {r["age"] for r in result.audience} == {"25-34", "55+"}


def test_yandex_bad_token_is_an_auth_error():
    with FakeYandex() as server:
        client, _ = make(YandexDirectClient, server, server.login, {"access_token": "y0_wrong-token"})
        with pytest.raises(AuthError, match="53"):
            client.test_connection()


# --- VK Ads ---------------------------------------------------------------------------------

def vk_secrets(server: FakeVk) -> dict[str, str]:
    return {"client_id": server.client_id, "client_secret": server.client_secret}


def test_vk_pages_lists_and_batches_ids_and_days():
    with FakeVk(plans=450, list_cap=100) as server:
        client, _ = make(VkAdsClient, server, "cabinet-1", vk_secrets(server))
        rows = client.fetch(D, D + dt.timedelta(days=1)).daily
    lists = [r for r in server.requests if r.path == "/api/v2/ad_plans.json"]
    stats = [r for r in server.requests if "/statistics/" in r.path]
    assert len(lists) == 5
    assert [len(r.query["id"].split(",")) for r in stats] == [200, 200, 50]
    assert sums(rows) == server.totals() and len(rows) == 450 * 2
    assert rows[0]["campaign_name"].startswith("VK plan")
    assert client.secrets_changed and client.secrets["access_token"] in server.access_tokens


def test_vk_splits_long_ranges_into_90_day_windows():
    with FakeVk(plans=2) as server:
        client, _ = make(VkAdsClient, server, "cabinet-1", vk_secrets(server))
        rows = client.fetch(D, D + dt.timedelta(days=99)).daily
    stats = [r.query for r in server.requests if "/statistics/" in r.path]
    assert [(q["date_from"], q["date_to"]) for q in stats] == [("2024-05-01", "2024-07-29"),
                                                                ("2024-07-30", "2024-08-08")]
    assert sums(rows) == server.totals() and len(rows) == 2 * 100


def test_vk_expired_token_is_renewed_with_the_refresh_token():
    with FakeVk() as server:
        client, _ = make(VkAdsClient, server, "cabinet-1", vk_secrets(server))
        client.test_connection()
        server.expire_tokens()
        rows = client.fetch(D, D).daily
    assert sums(rows) == server.totals()
    assert server.grants == ["client_credentials", "refresh_token"]


def test_vk_refused_client_secret_is_an_auth_error():
    with FakeVk() as server:
        client, _ = make(VkAdsClient, server, "cabinet-1", {**vk_secrets(server), "client_secret": "wrong-secret-1"})
        with pytest.raises(AuthError, match="client id/secret"):
            client.test_connection()


def test_vk_429_honours_retry_after():
    with FakeVk() as server:
        server.fault("rate_limit", path="/statistics/")
        client, sleeps = make(VkAdsClient, server, "cabinet-1", vk_secrets(server))
        rows = client.fetch(D, D).daily
    assert sums(rows) == server.totals()
    assert len(sleeps) == 1 and 2 <= sleeps[0] < 2.1


# --- the shared HTTP layer ------------------------------------------------------------------

def test_a_slow_answer_times_out_and_is_retried(meta):
    meta.fault("timeout", path="/insights")
    client, sleeps = make(MetaClient, meta, "111", {"access_token": meta.token})
    rows = client.fetch(D, D).daily
    assert sums(rows) == meta.totals() and len(sleeps) == 1


def test_persistent_500_gives_up_after_the_attempts(meta):
    meta.fault("500", path="/act_111", times=None)
    client, sleeps = make(MetaClient, meta, "111", {"access_token": meta.token})
    with pytest.raises(TransientError, match="HTTP 500"):
        client.test_connection()
    assert len(meta.requests) == FAST.attempts and len(sleeps) == FAST.attempts - 1


def test_malformed_body_is_refused_without_retrying(meta):
    meta.fault("malformed", path="/insights")
    client, sleeps = make(MetaClient, meta, "111", {"access_token": meta.token})
    with pytest.raises(PayloadError, match="not JSON"):
        client.fetch(D, D)
    assert sleeps == []


def test_backoff_doubles_up_to_the_cap_with_jitter(meta):
    meta.fault("500", path="/act_111", times=None)
    sleeps = Sleeps()
    policy = RetryPolicy(attempts=6, base_delay=1.0, max_delay=4.0, timeout=1.0)
    with HttpClient("meta", lambda body: None, base_url=meta.url, policy=policy, sleep=sleeps, rng=lambda: 0.5) as http:
        with pytest.raises(TransientError):
            http.get("/v21.0/act_111")
    assert sleeps == [0.5, 1.0, 2.0, 2.0, 2.0]  # base·2^n capped at 4, times the jitter draw


def test_retry_after_accepts_seconds_and_http_dates():
    now = dt.datetime(2024, 5, 1, 12, 0, tzinfo=dt.timezone.utc)
    assert retry_after_seconds("7") == 7.0
    assert retry_after_seconds("Wed, 01 May 2024 12:00:30 GMT", now) == 30.0
    assert retry_after_seconds("soon") is None


# --- secrets in logs ------------------------------------------------------------------------

def test_logs_never_show_secrets(caplog):
    install_redaction()
    register_secret("stored-vk-secret-0042")
    log = logging.getLogger("demetra.test.redaction")
    caplog.set_level(logging.INFO)
    log.info("GET https://graph.facebook.com/v21.0/act_1/insights?access_token=EAAB12345secret&after=MwZDZD")
    log.info("headers %s", {"Authorization": "Bearer ya29.very-secret-token", "developer-token": "devtok-123456"})
    log.info("form %s", json.dumps({"client_secret": "abcdef-123456", "grant_type": "refresh_token"}))
    try:
        raise RuntimeError("token endpoint refused stored-vk-secret-0042")
    except RuntimeError:
        log.exception("refresh failed")
    text = caplog.text
    for secret in ("EAAB12345secret", "ya29.very-secret-token", "devtok-123456", "abcdef-123456",
                   "stored-vk-secret-0042"):
        assert secret not in text
    assert text.count("[REDACTED]") >= 6
    assert "after=MwZDZD" in text and "refresh_token" in text  # the rest of the line survives


def test_httpx_request_logs_are_redacted(caplog, meta):
    caplog.set_level(logging.INFO, logger="httpx")
    client, _ = make(MetaClient, meta, "111", {"access_token": meta.token})
    client.http.get(f"{meta.url}/v21.0/act_111", params={"access_token": meta.token})
    assert "HTTP Request" in caplog.text and meta.token not in caplog.text


def test_masked_shows_only_the_last_four_characters():
    assert masked("EAAB-long-secret-abcd") == MASK + "abcd"
    assert masked("short") == MASK and masked(None) == MASK
    assert redact("plain text stays") == "plain text stays"
