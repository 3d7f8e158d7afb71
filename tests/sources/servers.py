"""Local stand-ins for the ad platforms' reporting APIs, speaking their wire formats.

Each `Fake*` runs a ThreadingHTTPServer on 127.0.0.1:<random port> in a daemon thread and serves
deterministic synthetic figures for whatever dates are asked, so a test can predict totals. Every
fact row served is recorded in `ledger` (latest values win, as when a platform restates a day);
`totals()` sums it. Faults are switched per test — `server.fault("500", path="/insights", times=2)`
— and error bodies are the recorded ones in tests/fixtures/api/.
"""
from __future__ import annotations

import datetime as dt
import itertools
import json
import re
import socket
import threading
import time
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "api"
MEASURES = ("spend", "impressions", "clicks", "conversions")


def fixture(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8")


def fixture_json(name: str) -> Any:
    return json.loads(fixture(name))


def figures(key: str, day: dt.date, scale: float = 1.0) -> dict[str, Any]:
    """Deterministic figures for one entity and day (a hash, so any date range is predictable)."""
    h = zlib.crc32(f"{key}|{day.isoformat()}".encode())
    conversions = (h >> 16) % 6
    return {"spend": round((500 + h % 5000) / 100 * scale, 2), "impressions": 1000 + h % 9000,
            "clicks": 5 + (h >> 8) % 95, "conversions": conversions, "leads": (h >> 20) % 4,
            "revenue": round(conversions * 31.5, 2)}


def days(date_from: dt.date, date_to: dt.date) -> Iterator[dt.date]:
    day = date_from
    while day <= date_to:
        yield day
        day += dt.timedelta(days=1)


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body or b"null")

    @property
    def form(self) -> dict[str, str]:
        return dict(parse_qsl(self.body.decode()))

    @property
    def params(self) -> dict[str, str]:
        """Query and form together (Graph accepts parameters either way)."""
        is_form = self.headers.get("content-type", "").startswith("application/x-www-form-urlencoded")
        return {**self.query, **(self.form if is_form else {})}


@dataclass
class Reply:
    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Fault:
    kind: str
    path: str
    times: int | None
    after: int
    matched: int = 0


class FakePlatform:
    """The server plumbing; subclasses implement `handle`, `rate_limited` and `expired`."""

    platform = ""
    timeout_delay = 1.0

    def __init__(self) -> None:
        self.requests: list[Request] = []
        self.ledger: dict[tuple[str, str, dt.date], dict[str, Any]] = {}
        self.faults: list[Fault] = []
        self.scale = 1.0
        self._lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self) -> FakePlatform:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # -- faults and bookkeeping -------------------------------------------------------------

    def fault(self, kind: str, *, path: str = "", times: int | None = 1, after: int = 0) -> None:
        """Answer matching requests with a fault: 500 | timeout | malformed | rate_limit | expired | ...

        `after` matching requests pass first; `times=None` keeps failing.
        """
        self.faults.append(Fault(kind, path, times, after))

    def clear_faults(self) -> None:
        self.faults.clear()

    def _due(self, request: Request) -> Fault | None:
        for fault in self.faults:
            if fault.path in request.path:
                fault.matched += 1
                if fault.matched > fault.after and (fault.times is None or fault.matched - fault.after <= fault.times):
                    return fault
        return None

    def record(self, channel: str, key: str, day: dt.date, values: dict[str, Any]) -> None:
        self.ledger[(channel, key, day)] = {m: values[m] for m in MEASURES}

    def totals(self, channel: str | None = None) -> dict[str, float]:
        rows = [v for (ch, _, _), v in self.ledger.items() if channel is None or ch == channel]
        return {m: round(sum(row[m] for row in rows), 4) for m in MEASURES}

    def paths(self) -> list[str]:
        return [r.path for r in self.requests]

    def dispatch(self, request: Request) -> Reply:
        with self._lock:
            self.requests.append(request)
            fault = self._due(request)
        if fault is not None:
            if fault.kind == "timeout":
                time.sleep(self.timeout_delay)
            else:
                return self.fault_reply(fault.kind)
        return self.handle(request)

    def fault_reply(self, kind: str) -> Reply:
        if kind == "500":
            return Reply(500, "internal server error")
        if kind == "malformed":
            return Reply(200, '{"data": [{"date_start": "2024-')
        if kind == "rate_limit":
            return self.rate_limited()
        if kind == "expired":
            return self.expired()
        raise ValueError(f"unknown fault {kind!r}")

    def handle(self, request: Request) -> Reply:
        raise NotImplementedError

    def rate_limited(self) -> Reply:
        raise NotImplementedError

    def expired(self) -> Reply:
        raise NotImplementedError


def _handler(platform: FakePlatform) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def setup(self) -> None:
            super().setup()
            # headers and body go out in two writes: without this, delayed ACKs cost 40 ms a request
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def _serve(self) -> None:
            parts = urlsplit(self.path)
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            request = Request(self.command, parts.path, dict(parse_qsl(parts.query)),
                              {k.lower(): v for k, v in self.headers.items()}, body)
            reply = platform.dispatch(request)
            if isinstance(reply.body, (dict, list)):
                payload, kind = json.dumps(reply.body).encode(), "application/json"
            else:
                text = reply.body if reply.body is not None else ""
                payload = text.encode() if isinstance(text, str) else text
                kind = "text/tab-separated-values; charset=utf-8"
            try:
                self.send_response(reply.status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(payload)))
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(payload)
            except (BrokenPipeError, ConnectionResetError):  # the client gave up (timeout test)
                pass

        do_GET = do_POST = _serve

        def log_message(self, *_args: object) -> None:
            pass

    return Handler


def _bearer(request: Request) -> str:
    return request.headers.get("authorization", "").removeprefix("Bearer ")


# ---------------------------------------------------------------------------------------------
# Meta Graph API

class FakeMeta(FakePlatform):
    """`/v21.0/act_<id>` (account), `/insights` sync (GET) and async (POST → run → run/insights).

    Campaign 1 delivers on Facebook and Instagram, campaign 2 only on Instagram (so breakdown rows
    must follow the campaign's channel). `max_days` makes longer ranges fail with "too many rows".
    """

    platform = "meta"
    CHANNELS = {1: ("facebook", "instagram"), 2: ("instagram",)}

    def __init__(self, account: str = "111", token: str = "meta-token-0123456789", page_size: int = 25,
                 async_polls: int = 2) -> None:
        super().__init__()
        self.account, self.token, self.page_size, self.async_polls = account, token, page_size, async_polls
        self.max_days: int | None = None
        self.regain_minutes = 1
        #: Insights-quota utilisation reported on every insights page (x-fb-ads-insights-throttle).
        self.throttle_pct = 0
        self.echo_token = False
        self.runs: dict[str, dict[str, Any]] = {}
        self._run_ids = itertools.count(1)

    def handle(self, request: Request) -> Reply:
        if _bearer(request) != self.token:
            return self.expired(_bearer(request))
        match = re.fullmatch(r"/v[\d.]+/(act_\w+|[\w-]+)(/insights)?", request.path)
        if not match:
            return Reply(404, {"error": {"message": "Unknown path", "code": 803}})
        node, insights = match.groups()
        if node.startswith("act_") and not insights:
            return Reply(200, {"account_id": self.account, "name": "Shop (Meta)", "currency": "USD",
                               "timezone_name": "America/New_York", "id": node})
        if node.startswith("act_"):
            params = request.params
            if request.method == "POST":
                run_id = f"run-{next(self._run_ids)}"
                self.runs[run_id] = {"params": params, "polls": 0}
                return Reply(200, {"report_run_id": run_id})
            return self._page(request.path, params, self._rows(params))
        run = self.runs[node]
        if insights:
            return self._page(request.path, request.query, self._rows(run["params"]))
        run["polls"] += 1
        done = run["polls"] > self.async_polls
        return Reply(200, {"id": node, "async_status": "Job Completed" if done else "Job Running",
                           "async_percent_completion": 100 if done else 50})

    def _page(self, path: str, query: dict[str, str], rows: list[dict[str, Any]] | Reply) -> Reply:
        if isinstance(rows, Reply):
            return rows
        offset = int(query.get("after", 0))
        body: dict[str, Any] = {"data": rows[offset:offset + self.page_size],
                                "paging": {"cursors": {"before": "MAZDZD", "after": str(offset)}}}
        if offset + self.page_size < len(rows):
            body["paging"]["next"] = f"{self.url}{path}?{urlencode({**query, 'after': offset + self.page_size})}"
        throttle = {"app_id_util_pct": 0, "acc_id_util_pct": self.throttle_pct,
                    "ads_api_access_tier": "standard_access"}
        return Reply(200, body, {"x-fb-ads-insights-throttle": json.dumps(throttle)})

    def _rows(self, params: dict[str, str]) -> list[dict[str, Any]] | Reply:
        span = json.loads(params["time_range"])
        since, until = dt.date.fromisoformat(span["since"]), dt.date.fromisoformat(span["until"])
        if self.max_days and (until - since).days + 1 > self.max_days:
            return Reply(400, fixture_json("meta/error_too_many_rows.json"))
        breakdowns = params.get("breakdowns", "")
        rows = []
        for day in days(since, until):
            for campaign, channels in self.CHANNELS.items():
                cid = f"{self.account}{campaign:02d}"
                ids = {"account_id": self.account, "account_currency": "USD", "campaign_id": cid,
                       "campaign_name": f"Meta campaign {campaign}", "date_start": day.isoformat(),
                       "date_stop": day.isoformat()}
                if breakdowns == "publisher_platform":
                    for ad, channel in itertools.product((1, 2), channels):
                        key = f"meta/{cid}/{ad}/{channel}"
                        values = figures(key, day, self.scale)
                        self.record(channel, key, day, values)
                        rows.append({**ids, "adset_id": f"{cid}1", "adset_name": "Ad set", "ad_id": f"{cid}1{ad}",
                                     "ad_name": f"Ad {ad}", "publisher_platform": channel,
                                     "reach": str(values["impressions"] // 2), **self._measures(values)})
                elif breakdowns == "age,gender":
                    for age, gender in (("25-34", "female"), ("35-44", "male")):
                        values = figures(f"meta-aud/{cid}/{age}/{gender}", day, self.scale)
                        rows.append({**ids, "age": age, "gender": gender, **self._measures(values)})
                else:
                    for hour in (9, 18):
                        values = figures(f"meta-hour/{cid}/{hour}", day, self.scale)
                        rows.append({**ids, "hourly_stats_aggregated_by_advertiser_time_zone":
                                     f"{hour:02d}:00:00 - {hour:02d}:59:59", **self._measures(values)})
        return rows

    @staticmethod
    def _measures(values: dict[str, Any]) -> dict[str, Any]:
        """Graph spelling: strings everywhere, purchases under three aliases (counted once)."""
        conv, revenue = str(values["conversions"]), str(values["revenue"])
        return {"spend": f"{values['spend']:.2f}", "impressions": str(values["impressions"]),
                "clicks": str(values["clicks"] + 3), "inline_link_clicks": str(values["clicks"]),
                "actions": [{"action_type": "link_click", "value": str(values["clicks"])},
                            {"action_type": "lead", "value": str(values["leads"])},
                            {"action_type": "omni_purchase", "value": conv},
                            {"action_type": "offsite_conversion.fb_pixel_purchase", "value": conv},
                            {"action_type": "purchase", "value": conv}],
                "action_values": [{"action_type": "omni_purchase", "value": revenue},
                                  {"action_type": "purchase", "value": revenue}]}

    def rate_limited(self) -> Reply:
        usage = {self.account: [{"type": "ads_insights", "call_count": 100, "total_cputime": 30, "total_time": 30,
                                 "estimated_time_to_regain_access": self.regain_minutes}]}
        return Reply(400, fixture_json("meta/error_user_rate_limit.json"),
                     {"X-Business-Use-Case-Usage": json.dumps(usage)})

    def expired(self, sent: str = "") -> Reply:
        body = fixture_json("meta/error_token_expired.json")
        if self.echo_token:  # some proxies and SDK errors quote the offending token back
            body["error"]["message"] += f" (token {sent})"
        return Reply(401, body)


# ---------------------------------------------------------------------------------------------
# Google Ads API

class FakeGoogle(FakePlatform):
    """OAuth token endpoint (`/token`) and `googleAds:searchStream` with campaign-level GAQL."""

    platform = "google_ads"

    def __init__(self, customer: str = "1234567890", campaigns: int = 3, batch: int = 10) -> None:
        super().__init__()
        self.customer, self.campaigns, self.batch = customer, campaigns, batch
        self.refresh_token = "1//google-refresh-token-abcdef"
        self.developer_token = "google-dev-token-123456"
        self.login_customer_id: str | None = None
        self.access_tokens: set[str] = set()
        self.queries: list[str] = []
        self._issued = itertools.count(1)

    def handle(self, request: Request) -> Reply:
        if request.path == "/token":
            form = request.form
            if form.get("grant_type") != "refresh_token" or form.get("refresh_token") != self.refresh_token:
                return Reply(400, {"error": "invalid_grant", "error_description": "Token has been expired or revoked."})
            token = f"ya29.access-{next(self._issued)}-xyz"
            self.access_tokens.add(token)
            return Reply(200, {"access_token": token, "expires_in": 3599, "token_type": "Bearer"})
        if _bearer(request) not in self.access_tokens:
            return self.expired()
        if request.headers.get("developer-token") != self.developer_token or (
                self.login_customer_id and request.headers.get("login-customer-id") != self.login_customer_id):
            return Reply(403, fixture_json("google_ads/error_permission_denied.json"))
        query = request.json()["query"]
        self.queries.append(query)
        results = self._results(query)
        batches = [results[i:i + self.batch] for i in range(0, len(results), self.batch)] or [[]]
        return Reply(200, [{"results": b, "fieldMask": "...", "requestId": "req"} for b in batches])

    def _results(self, query: str) -> list[dict[str, Any]]:
        customer = {"resourceName": f"customers/{self.customer}", "id": self.customer}
        if "FROM customer" in query:
            return [{"customer": {**customer, "descriptiveName": "Shop (Google)", "currencyCode": "EUR",
                                  "timeZone": "Europe/Berlin"}}]
        since, until = (dt.date.fromisoformat(d) for d in re.findall(r"'(\d{4}-\d{2}-\d{2})'", query))
        hourly = "segments.hour" in query
        out = []
        for day in days(since, until):
            for campaign in range(1, self.campaigns + 1):
                cid = f"70{campaign:04d}"
                camp = {"resourceName": f"customers/{self.customer}/campaigns/{cid}", "id": cid,
                        "name": f"Google campaign {campaign}"}
                for hour in ((8, 20) if hourly else (None,)):
                    key = f"google/{cid}" + (f"/{hour}" if hourly else "")
                    values = figures(key, day, self.scale)
                    if not hourly:
                        self.record("google_ads", key, day, values)
                    metrics = {"impressions": str(values["impressions"]), "clicks": str(values["clicks"]),
                               "costMicros": str(round(values["spend"] * 1_000_000)),
                               "conversions": float(values["conversions"]),
                               "conversionsValue": values["revenue"]}
                    segments: dict[str, Any] = {"date": day.isoformat()}
                    if hourly:
                        segments["hour"] = hour
                    out.append({"customer": customer, "campaign": camp, "segments": segments,
                                # proto3 JSON leaves zero values out
                                "metrics": {k: v for k, v in metrics.items() if v not in (0, 0.0, "0")}})
        return out

    def rate_limited(self) -> Reply:
        return Reply(429, fixture_json("google_ads/error_resource_exhausted.json"))

    def expired(self) -> Reply:
        return Reply(401, fixture_json("google_ads/error_unauthenticated.json"))


# ---------------------------------------------------------------------------------------------
# TikTok Business API

class FakeTikTok(FakePlatform):
    """`advertiser/info` and `report/integrated/get` (BASIC ad/day, AUDIENCE, BASIC campaign/hour).

    Errors come as HTTP 200 with a non-zero code, like the real API; daily ranges over 30 days
    get 40067 "query too large".
    """

    platform = "tiktok"

    def __init__(self, advertiser: str = "7000000000000000001", token: str = "tiktok-token-abcdef123",
                 page_cap: int = 50) -> None:
        super().__init__()
        self.advertiser, self.token, self.page_cap = advertiser, token, page_cap

    def handle(self, request: Request) -> Reply:
        if request.headers.get("access-token") != self.token:
            return self.expired()
        if request.path.endswith("/advertiser/info/"):
            return Reply(200, {"code": 0, "message": "OK", "data": {"list": [
                {"advertiser_id": self.advertiser, "name": "Shop (TikTok)", "currency": "USD",
                 "display_timezone": "Asia/Singapore", "timezone": "Etc/GMT-8"}]}})
        q = request.query
        since, until = dt.date.fromisoformat(q["start_date"]), dt.date.fromisoformat(q["end_date"])
        dims = json.loads(q["dimensions"])
        if (until - since).days + 1 > (1 if "stat_time_hour" in dims else 30):
            return Reply(200, fixture_json("tiktok/error_query_too_large.json"))
        rows = self._rows(q["report_type"], dims, since, until)
        size = min(int(q.get("page_size", 10)), self.page_cap)
        page = int(q.get("page", 1))
        total_page = max(1, -(-len(rows) // size))
        return Reply(200, {"code": 0, "message": "OK", "request_id": "r", "data": {
            "list": rows[(page - 1) * size:page * size],
            "page_info": {"page": page, "page_size": size, "total_number": len(rows), "total_page": total_page}}})

    def _rows(self, report_type: str, dims: list[str], since: dt.date, until: dt.date) -> list[dict[str, Any]]:
        rows = []
        for day, campaign in itertools.product(days(since, until), (1, 2)):
            cid = f"17990000000000{campaign:02d}"
            if "ad_id" in dims:
                for ad in (1, 2, 3):
                    key = f"tiktok/{cid}/{ad}"
                    values = figures(key, day, self.scale)
                    self.record("tiktok", key, day, values)
                    rows.append({"dimensions": {"ad_id": f"{cid}{ad}", "stat_time_day": f"{day} 00:00:00"},
                                 "metrics": {"campaign_id": cid, "campaign_name": f"TikTok campaign {campaign}",
                                             "adgroup_id": f"{cid}9", "adgroup_name": "Ad group",
                                             "ad_name": f"Ad {ad}", "reach": str(values["impressions"] // 3),
                                             **self._measures(values)}})
            elif report_type == "AUDIENCE":
                for age, gender in (("AGE_25_34", "FEMALE"), ("AGE_55_100", "MALE")):
                    values = figures(f"tiktok-aud/{cid}/{age}/{gender}", day, self.scale)
                    rows.append({"dimensions": {"campaign_id": cid, "stat_time_day": f"{day} 00:00:00",
                                                "age": age, "gender": gender}, "metrics": self._measures(values)})
            else:
                for hour in (10, 21):
                    values = figures(f"tiktok-hour/{cid}/{hour}", day, self.scale)
                    rows.append({"dimensions": {"campaign_id": cid, "stat_time_hour": f"{day} {hour:02d}:00:00"},
                                 "metrics": self._measures(values)})
        return rows

    @staticmethod
    def _measures(values: dict[str, Any]) -> dict[str, Any]:
        return {"spend": f"{values['spend']:.2f}", "impressions": str(values["impressions"]),
                "clicks": str(values["clicks"]), "conversion": str(values["conversions"]),
                "onsite_form": str(values["leads"]), "form": "0", "total_purchase_value": f"{values['revenue']:.2f}"}

    def fault_reply(self, kind: str) -> Reply:
        if kind == "system":
            return Reply(200, fixture_json("tiktok/error_system.json"))
        return super().fault_reply(kind)

    def rate_limited(self) -> Reply:
        return Reply(200, fixture_json("tiktok/error_rate_limit.json"))

    def expired(self) -> Reply:
        return Reply(200, fixture_json("tiktok/error_token_revoked.json"))


# ---------------------------------------------------------------------------------------------
# Yandex.Direct Reports API v5

class FakeYandex(FakePlatform):
    """`/json/v5/clients` and `/json/v5/reports` (TSV); each new ReportName is "built offline"
    for `offline_polls` requests (201, then 202, with `retryIn`) before the 200."""

    platform = "yandex_direct"

    def __init__(self, login: str = "shop-login", token: str = "y0_yandex-token-abcdef", offline_polls: int = 2,
                 retry_in: str = "1") -> None:
        super().__init__()
        self.login, self.token, self.offline_polls, self.retry_in = login, token, offline_polls, retry_in
        self.reports: dict[str, list[bytes]] = {}

    def handle(self, request: Request) -> Reply:
        if _bearer(request) != self.token:
            return self.expired()
        if request.headers.get("client-login") != self.login:
            return Reply(400, {"error": {"request_id": "1", "error_code": "8800",
                                         "error_string": "Object not found", "error_detail": "Client-Login"}})
        if request.path == "/json/v5/clients":
            return Reply(200, {"result": {"Clients": [{"Login": self.login, "ClientInfo": "Shop (Direct)",
                                                       "Currency": "RUB"}]}})
        params = request.json()["params"]
        bodies = self.reports.setdefault(params["ReportName"], [])
        bodies.append(request.body)
        if len(bodies) <= self.offline_polls:
            return Reply(201 if len(bodies) == 1 else 202, "", {"retryIn": self.retry_in, "reportsInQueue": "1"})
        return Reply(200, self._tsv(params, skip_title=request.headers.get("skipreportheader") == "true"))

    def _tsv(self, params: dict[str, Any], skip_title: bool) -> str:
        fields = params["FieldNames"]
        span = params["SelectionCriteria"]
        since, until = dt.date.fromisoformat(span["DateFrom"]), dt.date.fromisoformat(span["DateTo"])
        lines = [] if skip_title else [f'"{params["ReportName"]} ({since} - {until})"']
        lines.append("\t".join(fields))
        for day, campaign in itertools.product(days(since, until), (1, 2)):
            cid = f"1000{campaign}"
            if "AdId" in fields:
                variants = [{"AdGroupId": f"{cid}5", "AdGroupName": "Группа", "AdId": f"{cid}5{ad}",
                             "_key": f"yandex/{cid}/{ad}"} for ad in (1, 2)]
            else:
                variants = [{"Age": age, "Gender": gender, "_key": f"yandex-aud/{cid}/{age}/{gender}"}
                            for age, gender in (("AGE_25_34", "GENDER_FEMALE"), ("AGE_55", "GENDER_MALE"))]
            for variant in variants:
                values = figures(variant["_key"], day, self.scale)
                if "AdId" in fields:
                    self.record("yandex_direct", variant["_key"], day, values)
                cells = {"Date": day.isoformat(), "CampaignId": cid, "CampaignName": f"Кампания {campaign}",
                         "Impressions": str(values["impressions"]), "Clicks": str(values["clicks"]),
                         "Cost": str(round(values["spend"] * 1_000_000)),
                         "Conversions": str(values["conversions"]) if values["conversions"] else "--",
                         "Revenue": str(round(values["revenue"] * 1_000_000)) if values["revenue"] else "--",
                         **variant}
                lines.append("\t".join(cells[f] for f in fields))
        lines.append(f"Total rows: {len(lines) - (1 if skip_title else 2)}")
        return "\n".join(lines) + "\n"

    def fault_reply(self, kind: str) -> Reply:
        if kind == "malformed":  # a row cut short, as in a truncated download
            return Reply(200, "Date\tCampaignId\tImpressions\n2024-05-01\t10001\n")
        return super().fault_reply(kind)

    def rate_limited(self) -> Reply:
        return Reply(400, fixture_json("yandex_direct/error_not_enough_units.json"))

    def expired(self) -> Reply:
        return Reply(403, fixture_json("yandex_direct/error_auth.json"))


# ---------------------------------------------------------------------------------------------
# VK Ads

class FakeVk(FakePlatform):
    """OAuth (`client_credentials` / `refresh_token`), `user.json`, `ad_plans.json` (offset/limit,
    at most `list_cap` per page) and `statistics/ad_plans/day.json` (≤ 200 ids, ≤ 92 days)."""

    platform = "vk_ads"

    def __init__(self, plans: int = 3, list_cap: int = 100) -> None:
        super().__init__()
        self.plans, self.list_cap = plans, list_cap
        self.client_id, self.client_secret = "vk-client-1", "vk-client-secret-abcdef"
        self.access_tokens: set[str] = set()
        self.refresh_tokens: set[str] = set()
        self.grants: list[str] = []
        self._issued = itertools.count(1)

    def expire_tokens(self) -> None:
        self.access_tokens.clear()

    def handle(self, request: Request) -> Reply:
        if request.path == "/api/v2/oauth2/token.json":
            return self._token(request.form)
        if _bearer(request) not in self.access_tokens:
            return self.expired()
        if request.path == "/api/v2/user.json":
            return Reply(200, {"id": 42, "username": "shop@vk", "account": {"currency": "RUB"}})
        if request.path == "/api/v2/ad_plans.json":
            offset, limit = int(request.query.get("offset", 0)), min(int(request.query.get("limit", 20)), self.list_cap)
            items = [{"id": 9_000_000 + n, "name": f"VK plan {n}"}
                     for n in range(offset + 1, min(self.plans, offset + limit) + 1)]
            return Reply(200, {"count": self.plans, "offset": offset, "items": items})
        ids = request.query["id"].split(",")
        since, until = (dt.date.fromisoformat(request.query[k]) for k in ("date_from", "date_to"))
        if len(ids) > 200:
            return Reply(400, {"error": {"code": "ERR_WRONG_PARAMETER", "message": "too many ids"}})
        if (until - since).days + 1 > 92:
            return Reply(400, fixture_json("vk_ads/error_wrong_date.json"))
        items = []
        for plan in ids:
            rows = []
            for day in days(since, until):
                values = figures(f"vk/{plan}", day, self.scale)
                self.record("vk_ads", f"vk/{plan}", day, values)
                rows.append({"date": day.isoformat(), "base": {
                    "shows": values["impressions"], "clicks": values["clicks"], "goals": 0,
                    "spent": f"{values['spend']:.2f}", "vk": {"goals": values["conversions"]}}})
            items.append({"id": int(plan), "rows": rows, "total": {"base": {}}})
        return Reply(200, {"items": items, "total": {"base": {}}})

    def _token(self, form: dict[str, str]) -> Reply:
        self.grants.append(form.get("grant_type", ""))
        if form.get("client_id") != self.client_id or form.get("client_secret") != self.client_secret:
            return Reply(401, {"error": "invalid_client", "error_description": "Client authentication failed"})
        if form.get("grant_type") == "refresh_token" and form.get("refresh_token") not in self.refresh_tokens:
            return Reply(400, {"error": "invalid_grant", "error_description": "refresh token is invalid"})
        n = next(self._issued)
        access, refresh = f"vk-access-{n}-abcdef", f"vk-refresh-{n}-abcdef"
        self.access_tokens.add(access)
        self.refresh_tokens.add(refresh)
        return Reply(200, {"access_token": access, "refresh_token": refresh, "expires_in": 86400,
                           "token_type": "Bearer"})

    def rate_limited(self) -> Reply:
        return Reply(429, {"error": {"code": "ERR_LIMIT_RPS", "message": "Too many requests"}}, {"Retry-After": "2"})

    def expired(self) -> Reply:
        return Reply(401, fixture_json("vk_ads/error_invalid_token.json"))
