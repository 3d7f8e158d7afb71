"""The one HTTP layer every platform client uses: timeouts, retries, back-off, error classification.

Each request goes through the platform's `check` (its error-body parser) before the status code
is looked at, because platforms put the real verdict in the body (TikTok answers 200 with an error
code, Meta's 400 may be a rate limit). What is left is classified by status: 429 → rate limit,
401 → re-authorisation, 408/5xx/timeouts/connection errors → transient, other 4xx → a plain
`SourceError` for a person to look at.

Rate limits and transient errors are retried with exponential back-off and full jitter, except
that a wait the platform asks for (Retry-After, Google's retryDelay, Meta's usage headers via the
`usage` hook) is honoured as a floor. A wait longer than `RetryPolicy.max_wait` is not slept in a
worker: the error is raised and the next hourly cycle tries again. `sleep` is injectable so tests
never wait.
"""
from __future__ import annotations

import datetime as dt
import email.utils
import json
import logging
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import httpx

from db.secrets import install_redaction
from jobs.sources.parsing import (
    AuthError, PayloadError, RateLimitError, SourceError, TransientError,
)

log = logging.getLogger("demetra.sources.http")

Sleep = Callable[[float], None]
#: Seconds the platform wants us to pause before the next call, read from its usage headers.
UsageHook = Callable[[httpx.Response], float | None]
Check = Callable[[Any], None]


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 5
    base_delay: float = 1.0
    max_delay: float = 60.0
    #: Longer waits than this are left to the next cycle instead of blocking a worker.
    max_wait: float = 300.0
    timeout: float = 30.0


@dataclass(frozen=True)
class Reply:
    status: int
    headers: httpx.Headers
    body: Any
    url: str


def retry_after_seconds(value: str | None, now: dt.datetime | None = None) -> float | None:
    """Retry-After as seconds: either a number or an HTTP date."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.timezone.utc)
    return max(0.0, (when - (now or dt.datetime.now(dt.timezone.utc))).total_seconds())


class HttpClient:
    """httpx.Client plus the retry loop; one per connector (and so per source and sync)."""

    def __init__(self, platform: str, check: Check, *, base_url: str = "", headers: Mapping[str, str] | None = None,
                 policy: RetryPolicy | None = None, sleep: Sleep = time.sleep, usage: UsageHook | None = None,
                 rng: Callable[[], float] = random.random) -> None:
        install_redaction()
        self.platform = platform
        self.policy = policy or RetryPolicy()
        self.sleep = sleep
        self._check = check
        self._usage = usage
        self._rng = rng
        self._pause = 0.0
        self._client = httpx.Client(base_url=base_url, headers=dict(headers or {}),
                                    timeout=httpx.Timeout(self.policy.timeout), follow_redirects=True)

    @property
    def headers(self) -> httpx.Headers:
        return self._client.headers

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> HttpClient:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def get(self, url: str, **kwargs: Any) -> Reply:
        return self.request("GET", url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> Reply:
        return self.request("POST", url, **kwargs)

    def request(self, method: str, url: str, *, params: Mapping[str, Any] | None = None, json_body: Any = None,
                data: Mapping[str, Any] | None = None, headers: Mapping[str, str] | None = None,
                expect: Literal["json", "text"] = "json") -> Reply:
        """Send with retries; returns the decoded 2xx reply or raises a typed SourceError."""
        for attempt in range(1, self.policy.attempts + 1):
            if self._pause:
                pause, self._pause = self._pause, 0.0
                if pause > self.policy.max_wait:
                    raise RateLimitError(f"{self.platform}: usage headers ask for a {pause:.0f}s pause; leaving "
                                         "it to the next cycle", platform=self.platform, retry_after=pause)
                log.info("%s: pausing %.1fs as the platform's usage headers ask", self.platform, pause)
                self.sleep(pause)
            try:
                return self._once(method, url, params, json_body, data, headers, expect)
            except (RateLimitError, TransientError) as exc:
                if attempt == self.policy.attempts:
                    raise
                wait = self._wait(exc, attempt)
                if wait > self.policy.max_wait:
                    raise RateLimitError(f"{exc} — the platform asks to wait {wait:.0f}s; leaving it to the "
                                         "next cycle", platform=self.platform, code=exc.code,
                                         retry_after=wait) from exc
                log.warning("%s: %s (attempt %d/%d), retrying in %.1fs", self.platform, exc, attempt,
                            self.policy.attempts, wait)
                self.sleep(wait)
        raise AssertionError("unreachable: the last attempt returns or raises")

    def _wait(self, exc: SourceError, attempt: int) -> float:
        backoff = min(self.policy.max_delay, self.policy.base_delay * 2 ** (attempt - 1)) * self._rng()
        hinted = getattr(exc, "retry_after", None)
        if hinted is None:
            return backoff
        return float(hinted) + backoff * 0.1  # a little spread so workers do not return in lockstep

    def _once(self, method: str, url: str, params: Mapping[str, Any] | None, json_body: Any,
              data: Mapping[str, Any] | None, headers: Mapping[str, str] | None, expect: str) -> Reply:
        try:
            response = self._client.request(method, url, params=params, json=json_body, data=data, headers=headers)
        except httpx.TimeoutException:
            raise TransientError(f"{self.platform}: no answer within {self.policy.timeout:g}s",
                                 platform=self.platform) from None
        except httpx.TransportError as exc:
            raise TransientError(f"{self.platform}: connection failed ({type(exc).__name__})",
                                 platform=self.platform) from None
        usage_wait = self._usage(response) if self._usage else None
        hinted = retry_after_seconds(response.headers.get("Retry-After"))
        hinted = max(hinted or 0.0, usage_wait or 0.0) or None
        body = self._decode(response, expect, hinted)
        try:
            self._check(body)
        except RateLimitError as exc:
            if exc.retry_after is None:
                exc.retry_after = hinted
            raise
        except SourceError as exc:
            # A body code the platform's table does not know says less than a 429 / 401 / 5xx status.
            by_status = self._status_error(response, hinted)
            if type(exc) is SourceError and by_status is not None and type(by_status) is not SourceError:
                raise by_status from None
            raise
        error = self._status_error(response, hinted)
        if error is not None:
            raise error
        self._pause = usage_wait or 0.0
        return Reply(response.status_code, response.headers, body, str(response.url))

    def _status_error(self, response: httpx.Response, hinted: float | None) -> SourceError | None:
        """The typed error a non-2xx status means by itself; None for success."""
        status = response.status_code
        if status < 300:
            return None
        message = f"{self.platform}: HTTP {status} {(response.text or '')[:300]}"
        if status == 429:
            return RateLimitError(message, platform=self.platform, code=429, retry_after=hinted)
        if status == 401:
            return AuthError(message, platform=self.platform, code=401)
        if status == 408 or status >= 500:
            return TransientError(message, platform=self.platform, code=status)
        return SourceError(message, platform=self.platform, code=status)

    def _decode(self, response: httpx.Response, expect: str, hinted: float | None) -> Any:
        """The body as JSON (or text); an undecodable error page is judged by its status alone."""
        if expect == "text":
            return response.text
        if not response.content:
            return None
        try:
            return response.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            by_status = self._status_error(response, hinted)
            if by_status is not None:
                raise by_status from None
            raise PayloadError(f"{self.platform}: HTTP {response.status_code} body is not JSON: "
                               f"{response.text[:120]!r}", platform=self.platform) from None
