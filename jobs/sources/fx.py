"""Daily FX rates from an ECB-style CSV into `fx_rate`.

The ECB publishes `Date,USD,JPY,...` with one row per business day and each value the price of
one EUR in that currency (trailing comma, "N/A" for currencies not quoted that day — RUB since
March 2022). Our table wants the value of one unit of a currency in the reporting currency R, so
rate(C) = EUR→R / EUR→C, with EUR→EUR = 1. Days the reporting currency itself is not quoted are
skipped whole; weekends and holidays are absent and `db.ingest.fx_to_reporting` carries the last
rate forward.
"""
from __future__ import annotations

import csv
import io

import pandas as pd
from sqlalchemy.engine import Connection

from db.ingest import IngestError, ingest_fx
from jobs.sources.parsing import PayloadError, iso_date

_MISSING = {"", "N/A", "NA", "-"}


def parse_ecb_csv(text: str, reporting_currency: str) -> pd.DataFrame:
    """Rows `date, currency, rate` (value of 1 unit of currency in `reporting_currency`)."""
    reporting_currency = reporting_currency.upper()
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    header = [cell.strip() for cell in next(reader, [])]
    if not header or header[0].lower() != "date":
        raise IngestError("not an ECB rates file: the first column must be 'Date'")
    currencies = [code.upper() for code in header[1:]]
    if reporting_currency != "EUR" and reporting_currency not in currencies:
        raise IngestError(f"the file has no {reporting_currency} column, so nothing can be converted to it")
    out: list[tuple[str, str, float]] = []
    for line, cells in enumerate(reader, start=2):
        if not cells or not cells[0].strip():
            continue
        try:
            day = iso_date(cells[0])
        except PayloadError:
            raise IngestError(f"line {line}: {cells[0]!r} is not a date") from None
        per_eur = {"EUR": 1.0}
        for code, cell in zip(currencies, cells[1:]):
            value = cell.strip()
            if code and value not in _MISSING:
                try:
                    per_eur[code] = float(value)
                except ValueError:
                    raise IngestError(f"line {line}: {code} {value!r} is not a number") from None
        if reporting_currency not in per_eur:
            continue
        base = per_eur[reporting_currency]
        out.extend((day, code, base / value) for code, value in per_eur.items()
                   if code != reporting_currency and value > 0)
    return pd.DataFrame(out, columns=["date", "currency", "rate"])


def import_ecb_csv(conn: Connection, data: bytes | str, reporting_currency: str) -> int:
    """Upsert the file's rates on the caller's connection; returns the rows written."""
    text = data.decode("utf-8-sig") if isinstance(data, bytes) else data
    frame = parse_ecb_csv(text, reporting_currency)
    return ingest_fx(conn, frame) if not frame.empty else 0
