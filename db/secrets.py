"""Source credentials at rest (Fernet) and out of the logs (redaction).

Key: `DEMETRA_FERNET_KEY` (a urlsafe base64 Fernet key) is the production path. Without it, a key
file is generated under `settings.data_dir` with a loud warning, so a developer can add a source
without ceremony — but that file sits next to the database, so anyone with the data directory has
the credentials. When neither exists nor can be created, storing credentials is refused: a
plaintext fallback would be worse than a connector that cannot be configured.

Redaction: httpx logs every request URL at INFO, Meta's `paging.next` URLs carry `access_token`,
and exceptions can quote headers. Rather than trust every call site, every log record is
scrubbed when it is created (record factory), because a filter on a logger misses records that
propagate from child loggers, and handlers (caplog, gunicorn's) are added after start-up.
"""
from __future__ import annotations

import json
import logging
import os
import re
import threading
from collections.abc import Mapping
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

from db.config import get_settings

log = logging.getLogger("demetra.secrets")

KEY_ENV = "DEMETRA_FERNET_KEY"
KEY_FILE = "fernet.key"
MASK = "••••"
#: Shorter values are not registered for redaction: "1" or "USD" would blank out ordinary text.
MIN_SECRET_LENGTH = 8


class SecretsError(RuntimeError):
    """Credentials cannot be stored or read; the message says what the operator has to do."""


def _key_file() -> Path:
    return get_settings().data_dir / KEY_FILE


def _key() -> bytes:
    env = os.environ.get(KEY_ENV, "").strip()
    if env:
        return env.encode()
    path = _key_file()
    if path.exists():
        return path.read_bytes().strip()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process generated it between the check and the open
        return path.read_bytes().strip()
    except OSError as exc:
        raise SecretsError(f"{KEY_ENV} is not set and no key file can be created at {path} ({exc}); "
                           "refusing to store credentials") from None
    key = Fernet.generate_key()
    with os.fdopen(fd, "wb") as handle:
        handle.write(key)
    log.warning("!" * 78)
    log.warning("%s is not set: generated a DEVELOPMENT key file at %s. Anyone who can read the data "
                "directory can decrypt source credentials. Set %s in production.", KEY_ENV, path, KEY_ENV)
    log.warning("!" * 78)
    return key


def _fernet() -> Fernet:
    try:
        return Fernet(_key())
    except ValueError as exc:
        raise SecretsError(f"{KEY_ENV} / {_key_file()} does not hold a valid Fernet key: {exc}") from None


def encrypt(values: Mapping[str, str]) -> str:
    """JSON of the credentials, encrypted; values are registered so they never reach a log."""
    install_redaction()
    for value in values.values():
        register_secret(value)
    return _fernet().encrypt(json.dumps(dict(values), sort_keys=True).encode()).decode()


def decrypt(token: str) -> dict[str, str]:
    """The stored credentials; any process that reads them also scrubs its logs of them."""
    install_redaction()
    try:
        values = json.loads(_fernet().decrypt(token.encode()))
    except InvalidToken:
        raise SecretsError("stored credentials cannot be decrypted with the current key "
                           "(was the key changed?): enter them again") from None
    for value in values.values():
        register_secret(value)
    return values


def masked(value: object) -> str:
    """What a page may show of a secret: "••••abcd"; short values show nothing at all."""
    text = "" if value is None else str(value)
    if len(text) < MIN_SECRET_LENGTH:
        return MASK
    return MASK + text[-4:]


# --------------------------------------------------------------------------------------------
# Redaction

_KNOWN: set[str] = set()
_KNOWN_LOCK = threading.Lock()
_PARAM_NAMES = (r"access_token|refresh_token|client_secret|token|secret|password|api_key|apikey|"
                r"appsecret_proof|developer[-_]token|auth_code")
_QUERY_SECRET = re.compile(rf"(?i)\b((?:{_PARAM_NAMES})=)[^&\s\"'<>]+")
_JSON_SECRET = re.compile(rf"(?i)([\"'](?:{_PARAM_NAMES})[\"']\s*:\s*[\"'])[^\"']+")
_HEADER_SECRET = re.compile(r"(?i)\b((?:authorization|access-token|developer-token)[\"']?\s*[:=]\s*[\"']?"
                            r"(?:bearer\s+|oauth\s+)?)[^\s\"',}]+")
REDACTED = "[REDACTED]"


def register_secret(value: object) -> None:
    """Remember a secret's exact value so any log line quoting it is scrubbed."""
    text = "" if value is None else str(value)
    if len(text) >= MIN_SECRET_LENGTH:
        with _KNOWN_LOCK:
            _KNOWN.add(text)


def redact(text: str) -> str:
    """Known secret values and token-like parameters / headers replaced by [REDACTED]."""
    with _KNOWN_LOCK:
        known = sorted(_KNOWN, key=len, reverse=True)
    for secret in known:
        if secret in text:
            text = text.replace(secret, REDACTED)
    text = _QUERY_SECRET.sub(rf"\1{REDACTED}", text)
    text = _JSON_SECRET.sub(rf"\1{REDACTED}", text)
    return _HEADER_SECRET.sub(rf"\1{REDACTED}", text)


class RedactingFilter(logging.Filter):
    """Rewrites a record's message (and traceback text) with secrets redacted; never drops it."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "_redacted", False):
            return True
        try:
            message = record.getMessage()
        except (TypeError, ValueError):  # a broken format string: leave it to the handler to report
            return True
        record.msg, record.args = redact(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
        record._redacted = True
        return True


_FILTER = RedactingFilter()


def install_redaction() -> None:
    """Scrub every log record of this process at creation (idempotent)."""
    previous = logging.getLogRecordFactory()
    if getattr(previous, "redacting", False):
        return

    def factory(*args: object, **kwargs: object) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        _FILTER.filter(record)
        return record

    factory.redacting = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(factory)
