"""Data layer: settings, schema, sessions, ingestion and the one metric/query layer.

Everything above this package (modeling, jobs, dashboard) reads numbers through
:mod:`db.queries` and metric definitions through :mod:`db.metrics`.
"""
