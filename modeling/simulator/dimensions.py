"""Accounts → campaigns → ad sets → ads, with the known features the truth depends on.

The hierarchy is drawn from its own generator seeded by (seed, scale) only — never by the
window length — and then cut to the window (campaigns that have not started yet are dropped).
Rows are ordered channel → account → campaign → ad set → ad, so every level's children are
contiguous: later steps aggregate with `np.add.reduceat` instead of group-bys.
"""
from __future__ import annotations

import datetime as dt
import zlib
from dataclasses import dataclass

import numpy as np
import pandas as pd

from modeling.simulator import catalog as cat
from modeling.simulator.channels import AGE_BANDS, CHANNELS, CURRENCIES, GENDERS, SPECS

NEVER = 10**9  # stop day of campaigns that are never paused


@dataclass(frozen=True)
class Dimensions:
    """Public dimension frames plus one row of model-facing features per ad.

    `features` is aligned with `ads` and holds integer positions (channel, campaign, ad_set,
    currency), activity days (first_day, stop_day: rows exist for first_day ≤ t < stop_day)
    and the known features as strings.
    """

    accounts: pd.DataFrame
    campaigns: pd.DataFrame
    ad_sets: pd.DataFrame
    ads: pd.DataFrame
    features: pd.DataFrame
    ad_set_cells: np.ndarray  # (ad sets, age × gender) bool: which audience cells an ad set targets
    campaign_uid: np.ndarray  # position in the unfiltered hierarchy: the stable key for noise
    ad_set_uid: np.ndarray

    @property
    def campaign_channel(self) -> np.ndarray:
        return self.campaigns["platform"].map({s: i for i, s in enumerate(CHANNELS)}).to_numpy()


class _Ids:
    """Platform-looking external ids, unique per platform across all levels."""

    def __init__(self, rng: np.random.Generator) -> None:
        self._rng = rng
        self._next: dict[str, int] = {}

    def next(self, platform: str) -> str:
        digits, prefix = cat.ID_FORMATS[platform]
        width = digits - len(prefix)
        if platform not in self._next:
            self._next[platform] = int(self._rng.integers(10 ** (width - 2), 10 ** (width - 1)))
        self._next[platform] += int(self._rng.integers(1, 400))
        return prefix + str(self._next[platform]).zfill(width)


def _account_id(platform: str, n: int, rng: np.random.Generator) -> str:
    number = int(rng.integers(10**9, 10**10))
    if platform in ("facebook", "instagram"):
        return f"act_{number}{n}"
    if platform == "google_ads":
        s = f"{number}"
        return f"{s[:3]}-{s[3:6]}-{s[6:10]}"
    if platform == "yandex_direct":
        return f"demetra-direct-{n + 1}"
    return str(number + n)


def _pick(rng: np.random.Generator, mix: dict[str, float]) -> str:
    keys = list(mix)
    p = np.array([mix[k] for k in keys])
    return keys[int(rng.choice(len(keys), p=p / p.sum()))]


class _Universe:
    """Draws the whole hierarchy level by level from one generator; rows keep their draw order."""

    def __init__(self, seed: int, scale: float, start: dt.date) -> None:
        self.rng = np.random.default_rng([seed, zlib.crc32(b"dimensions"), int(round(scale * 1000))])
        self.ids = _Ids(self.rng)
        self.start = start
        self.accounts: list[dict] = []
        self.campaigns: list[dict] = []
        self.ad_sets: list[dict] = []
        self.ads: list[dict] = []
        for platform in CHANNELS:
            for a, acc in enumerate(cat.ACCOUNTS[platform]):
                self._account(platform, a, acc, scale)

    def _account(self, platform: str, n: int, acc: cat.AccountSpec, scale: float) -> None:
        ext = _account_id(platform, n, self.rng)
        row = {"account_key": f"{platform}:{ext}", "platform": platform, "external_id": ext, "name": acc.name,
               "currency": acc.currency, "timezone": acc.timezone}
        self.accounts.append(row)
        names: set[str] = set()
        for k in range(max(1, round(int(self.rng.integers(3, 6)) * scale))):
            self._campaign(row, k, names)

    def _campaign(self, account: dict, k: int, names: set[str]) -> None:
        """Campaign k of an account; the first one always runs the whole window, so every channel
        has live ads on every day."""
        rng, platform = self.rng, account["platform"]
        later = k > 0
        first_day = int(rng.integers(7, 301)) if later and rng.random() < 0.4 else 0
        stop_day = first_day + int(rng.integers(45, 241)) if later and rng.random() < 0.2 else NEVER
        objective = _pick(rng, cat.OBJECTIVE_MIX[platform])
        name = f"{cat.CAMPAIGN_THEMES[rng.integers(len(cat.CAMPAIGN_THEMES))]} — {objective.title()}"
        name = name if name not in names else f"{name} #{k + 1}"
        names.add(name)
        started = self.start + dt.timedelta(days=first_day - (int(rng.integers(0, 400)) if first_day == 0 else 0))
        ext = self.ids.next(platform)
        row = {"uid": len(self.campaigns), "campaign_key": f"{platform}:{ext}", "account_key": account["account_key"],
               "platform": platform, "external_id": ext, "name": name, "objective": objective,
               "start_date": started, "first_day": first_day, "stop_day": stop_day, "currency": account["currency"],
               "budget": float(rng.lognormal(0, 0.6)) * cat.BUDGET_BY_OBJECTIVE[objective]}
        self.campaigns.append(row)
        # ad sets of one campaign target distinct (segment, geo) pairs
        combos = [(s, g) for s in cat.SEGMENT_MIX[platform] for g in cat.GEOS_BY_CURRENCY[account["currency"]]]
        for ci in rng.choice(len(combos), size=min(int(rng.integers(2, 4)), len(combos)), replace=False):
            self._ad_set(row, *combos[ci])

    def _ad_set(self, campaign: dict, segment: str, geo: str) -> None:
        rng, platform = self.rng, campaign["platform"]
        spec = SPECS[platform]
        age_p = np.array(spec.age_mix) / sum(spec.age_mix)
        age_band = AGE_BANDS[int(rng.choice(len(AGE_BANDS), p=age_p))] if rng.random() < 0.6 else "all"
        gender = _pick(rng, {"all": 0.7, "female": 0.15, "male": 0.15})
        ext = self.ids.next(platform)
        ages = "All ages" if age_band == "all" else age_band
        who = "" if gender == "all" else f" {gender.title()}"
        row = {"uid": len(self.ad_sets), "ad_set_key": f"{platform}:{ext}", "campaign_key": campaign["campaign_key"],
               "external_id": ext, "name": f"{segment.title()} {ages}{who} · {geo}",
               "audience": str(rng.choice(cat.SEGMENT_AUDIENCES[segment])), "segment": segment, "geo": geo,
               "language": cat.LANGUAGE_BY_GEO[geo], "age_band": age_band, "gender": gender}
        self.ad_sets.append(row)
        for v in range(int(rng.integers(2, 4))):
            self._ad(campaign, row, v)

    def _ad(self, campaign: dict, ad_set: dict, v: int) -> None:
        rng, platform = self.rng, campaign["platform"]
        creative = _pick(rng, cat.CREATIVE_MIX[platform])
        ext = self.ids.next(platform)
        concept = cat.CREATIVE_CONCEPTS[rng.integers(len(cat.CREATIVE_CONCEPTS))]
        self.ads.append({"uid": len(self.ads), "ad_key": f"{platform}:{ext}", "ad_set_key": ad_set["ad_set_key"],
                         "campaign_key": campaign["campaign_key"], "account_key": campaign["account_key"],
                         "platform": platform, "external_id": ext,
                         "name": f"{cat.CREATIVE_LABELS[creative]} — {concept} v{v + 1}", "creative_type": creative,
                         "quality": float(rng.lognormal(0, cat.CREATIVE_QUALITY["sigma"])),
                         "ad_weight": float(rng.lognormal(0, 0.5))})


def _cells(ad_sets: pd.DataFrame) -> np.ndarray:
    ages = ad_sets["age_band"].to_numpy()[:, None]
    genders = ad_sets["gender"].to_numpy()[:, None]
    age_ok = (ages == "all") | (ages == np.array(AGE_BANDS)[None, :])
    gender_ok = (genders == "all") | (genders == np.array(GENDERS)[None, :])
    return (age_ok[:, :, None] & gender_ok[:, None, :]).reshape(len(ad_sets), -1)


def build_dimensions(seed: int, scale: float, start: dt.date, days: int) -> Dimensions:
    """The hierarchy for a window of `days` days starting at `start`."""
    universe = _Universe(seed, scale, start)
    accounts, campaigns, ad_sets, ads = (pd.DataFrame(rows) for rows in
                                         (universe.accounts, universe.campaigns, universe.ad_sets, universe.ads))
    campaigns = campaigns[campaigns["first_day"] < days].reset_index(drop=True)
    campaigns["status"] = np.where(campaigns["stop_day"] < days, "paused", "active")
    campaigns["start_date"] = pd.to_datetime(campaigns["start_date"]).astype("datetime64[ns]")
    ad_sets = ad_sets[ad_sets["campaign_key"].isin(campaigns["campaign_key"])].reset_index(drop=True)
    ads = ads[ads["ad_set_key"].isin(ad_sets["ad_set_key"])].reset_index(drop=True)

    camp_pos = pd.Index(campaigns["campaign_key"])
    ad_camp = camp_pos.get_indexer(ads["campaign_key"])
    set_feats = ad_sets.set_index("ad_set_key").loc[ads["ad_set_key"], ["segment", "geo"]].to_numpy()
    features = pd.DataFrame({
        "uid": ads["uid"].to_numpy(),
        "channel": ads["platform"].map({s: i for i, s in enumerate(CHANNELS)}).to_numpy(),
        "campaign": ad_camp,
        "ad_set": pd.Index(ad_sets["ad_set_key"]).get_indexer(ads["ad_set_key"]),
        "currency": campaigns["currency"].map({c: i for i, c in enumerate(CURRENCIES)}).to_numpy()[ad_camp],
        "objective": campaigns["objective"].to_numpy()[ad_camp],
        "segment": set_feats[:, 0],
        "geo": set_feats[:, 1],
        "creative_type": ads["creative_type"].to_numpy(),
        "quality": ads["quality"].to_numpy(),
        "budget": campaigns["budget"].to_numpy()[ad_camp] * ads["ad_weight"].to_numpy(),
        "first_day": campaigns["first_day"].to_numpy()[ad_camp],
        "stop_day": campaigns["stop_day"].to_numpy()[ad_camp],
    })
    return Dimensions(
        accounts=accounts,
        campaigns=campaigns[["campaign_key", "account_key", "platform", "external_id", "name", "objective",
                             "status", "start_date"]],
        ad_sets=ad_sets.drop(columns=["uid"]),
        ads=ads[["ad_key", "ad_set_key", "campaign_key", "account_key", "platform", "external_id", "name",
                 "creative_type"]],
        features=features,
        ad_set_cells=_cells(ad_sets),
        campaign_uid=campaigns["uid"].to_numpy(),
        ad_set_uid=ad_sets["uid"].to_numpy(),
    )
