"""Deterministic ground-truth demo data: platform reports generated from a known process.

Per channel, a daily USD spend plan (trend × weekday × budget regimes × AR noise) drives true
incremental conversions beta · hill(adstock(spend)) · season (`response`). Platforms report
those conversions × an over-attribution factor, divided among ads by spend × known-feature
quality effects; the business's own `outcome` is a baseline plus the true incremental only.
Everything the process used is in `SimResult.truth` (JSON-serialisable), so ROI, MMM,
forecasting, allocation and anomaly detection can all be validated against it.

Randomness is hashed from (seed, component, day, entity), which makes the output
deterministic and prefix-stable: same seed, scale and start date → identical earlier days
(see `anomalies` for the one documented exception: incidents surface two days after they end).
"""
from modeling.simulator.config import SimConfig, SimResult
from modeling.simulator.pipeline import simulate, true_daily_channel
from modeling.simulator.response import incremental_conversions, response, season_multiplier

__all__ = ["SimConfig", "SimResult", "simulate", "response", "incremental_conversions", "season_multiplier",
           "true_daily_channel"]
