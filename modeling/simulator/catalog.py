"""Vocabularies, account layout, naming material and the ground-truth quality effects.

The quality effects are multipliers on a campaign's share of its channel's conversions
(relative to its share of spend). They are deliberately strong — objective alone spans ~3.4× —
so an ROI model trained on the demo data has a real signal to recover, and the recorded values
let it be validated.
"""
from __future__ import annotations

from dataclasses import dataclass

OBJECTIVES: tuple[str, ...] = ("leads", "conversions", "traffic", "awareness", "engagement")
SEGMENTS: tuple[str, ...] = ("retargeting", "keywords", "lookalike", "interests", "broad")
GEOS: tuple[str, ...] = ("US", "UK", "CA", "DE", "FR", "ES", "RU", "KZ", "BY")
CREATIVE_TYPES: tuple[str, ...] = ("video", "carousel", "image", "text")

QUALITY_EFFECTS: dict[str, dict[str, float]] = {
    "objective": {"conversions": 1.35, "leads": 1.15, "traffic": 0.80, "engagement": 0.55, "awareness": 0.40},
    "segment": {"retargeting": 1.70, "keywords": 1.45, "lookalike": 1.15, "interests": 0.90, "broad": 0.70},
    "geo": {"US": 1.20, "UK": 1.10, "CA": 1.05, "DE": 1.00, "FR": 0.90, "ES": 0.80, "RU": 1.00, "KZ": 0.75,
            "BY": 0.70},
    "creative_type": {"video": 1.15, "carousel": 1.10, "image": 1.00, "text": 0.90},
}
#: Ad-level creative quality q ~ lognormal(0, sigma): multiplies the conversion share by q and
#: the CTR by q ** ctr_elasticity, so CTR is an observable proxy of a latent quality.
CREATIVE_QUALITY = {"sigma": 0.30, "ctr_elasticity": 0.7}
#: How audience cells convert relative to their share of impressions (audience breakdown only).
AUDIENCE_EFFECTS: dict[str, dict[str, float]] = {
    "age_band": {"18-24": 0.60, "25-34": 1.15, "35-44": 1.30, "45-54": 1.10, "55-64": 0.85, "65+": 0.60},
    "gender": {"female": 1.10, "male": 0.90},
}

#: Delivery side-effects of known features (not part of the ROI truth, but realistic).
CPM_BY_OBJECTIVE = {"conversions": 1.25, "leads": 1.15, "traffic": 0.95, "engagement": 0.75, "awareness": 0.55}
CTR_BY_OBJECTIVE = {"conversions": 1.0, "leads": 1.0, "traffic": 1.5, "engagement": 0.9, "awareness": 0.5}
CPM_BY_GEO = {"US": 1.3, "UK": 1.15, "CA": 1.1, "DE": 1.05, "FR": 0.95, "ES": 0.8, "RU": 1.0, "KZ": 0.6, "BY": 0.55}
ENGAGEMENT_BY_OBJECTIVE = {"engagement": 3.0, "awareness": 1.3, "traffic": 1.0, "leads": 0.8, "conversions": 0.8}
ENGAGEMENT_BY_CREATIVE = {"video": 1.5, "carousel": 1.3, "image": 1.0, "text": 0.5}
FREQUENCY_BY_SEGMENT = {"retargeting": 2.4, "keywords": 1.3, "lookalike": 1.7, "interests": 1.6, "broad": 1.5}
LEADS_BY_OBJECTIVE = {"leads": 2.0, "conversions": 0.8, "traffic": 1.0, "engagement": 1.0, "awareness": 1.0}
BUDGET_BY_OBJECTIVE = {"conversions": 1.3, "leads": 1.0, "traffic": 0.8, "awareness": 0.9, "engagement": 0.6}

LANGUAGE_BY_GEO = {"US": "en", "UK": "en", "CA": "en", "DE": "de", "FR": "fr", "ES": "es", "RU": "ru",
                   "KZ": "ru", "BY": "ru"}
GEOS_BY_CURRENCY = {"USD": ("US", "CA", "UK"), "EUR": ("DE", "FR", "ES"), "RUB": ("RU", "KZ", "BY")}


@dataclass(frozen=True)
class AccountSpec:
    name: str
    currency: str
    timezone: str


ACCOUNTS: dict[str, tuple[AccountSpec, ...]] = {
    "instagram": (AccountSpec("Instagram — US", "USD", "America/New_York"),),
    "facebook": (AccountSpec("Meta — US", "USD", "America/New_York"),
                 AccountSpec("Meta — Europe", "EUR", "Europe/Berlin")),
    "google_ads": (AccountSpec("Search & PMax — US", "USD", "America/New_York"),
                   AccountSpec("YouTube — US", "USD", "America/Los_Angeles"),
                   AccountSpec("Search — EU", "EUR", "Europe/Paris")),
    "tiktok": (AccountSpec("TikTok — US", "USD", "America/Los_Angeles"),),
    "telegram": (AccountSpec("Telegram Ads — RU", "RUB", "Europe/Moscow"),),
    "yandex_direct": (AccountSpec("Direct — Moscow", "RUB", "Europe/Moscow"),
                      AccountSpec("Direct — Regions", "RUB", "Asia/Yekaterinburg")),
    "vk_ads": (AccountSpec("VK Ads — RU", "RUB", "Europe/Moscow"),),
}

#: Per platform: allowed values and their probabilities.
OBJECTIVE_MIX: dict[str, dict[str, float]] = {
    "instagram": {"conversions": 0.3, "leads": 0.2, "traffic": 0.15, "awareness": 0.15, "engagement": 0.2},
    "facebook": {"conversions": 0.35, "leads": 0.25, "traffic": 0.15, "awareness": 0.15, "engagement": 0.1},
    "google_ads": {"conversions": 0.45, "leads": 0.25, "traffic": 0.2, "awareness": 0.1},
    "tiktok": {"conversions": 0.25, "traffic": 0.2, "awareness": 0.3, "engagement": 0.25},
    "telegram": {"traffic": 0.35, "leads": 0.25, "awareness": 0.25, "engagement": 0.15},
    "yandex_direct": {"conversions": 0.45, "leads": 0.3, "traffic": 0.25},
    "vk_ads": {"conversions": 0.25, "leads": 0.25, "traffic": 0.2, "awareness": 0.15, "engagement": 0.15},
}
SEGMENT_MIX: dict[str, tuple[str, ...]] = {
    "instagram": ("retargeting", "lookalike", "interests", "broad"),
    "facebook": ("retargeting", "lookalike", "interests", "broad"),
    "google_ads": ("keywords", "retargeting", "interests", "broad"),
    "tiktok": ("lookalike", "interests", "broad"),
    "telegram": ("interests", "broad"),
    "yandex_direct": ("keywords", "retargeting", "interests", "broad"),
    "vk_ads": ("retargeting", "lookalike", "interests", "broad"),
}
CREATIVE_MIX: dict[str, dict[str, float]] = {
    "instagram": {"image": 0.35, "video": 0.4, "carousel": 0.25},
    "facebook": {"image": 0.45, "video": 0.3, "carousel": 0.25},
    "google_ads": {"text": 0.6, "image": 0.25, "video": 0.15},
    "tiktok": {"video": 1.0},
    "telegram": {"text": 0.7, "image": 0.3},
    "yandex_direct": {"text": 0.7, "image": 0.3},
    "vk_ads": {"image": 0.45, "video": 0.3, "carousel": 0.25},
}

#: (digits of the id, first digits) per platform, so ids look like the platform's own.
ID_FORMATS: dict[str, tuple[int, str]] = {
    "instagram": (17, "2385"), "facebook": (17, "2386"), "google_ads": (11, "1"), "tiktok": (19, "17"),
    "telegram": (6, "4"), "yandex_direct": (9, "7"), "vk_ads": (8, "5"),
}

CAMPAIGN_THEMES: tuple[str, ...] = (
    "Black Friday", "Cyber Monday", "Spring Sale", "Summer Collection", "Back to School", "New Year",
    "Always-on", "Brand", "Product Launch", "Clearance", "Loyalty", "Holiday Gifts", "Mid-season Sale",
    "Free Shipping Week", "App Promo", "Webinar", "Bestsellers", "New Arrivals",
)
SEGMENT_AUDIENCES: dict[str, tuple[str, ...]] = {
    "retargeting": ("Website visitors 30d", "Cart abandoners 14d", "Engagers 60d", "Past buyers 180d"),
    "keywords": ("Brand keywords", "Generic keywords", "Competitor keywords", "Category keywords"),
    "lookalike": ("Lookalike 1% purchasers", "Lookalike 3% leads", "Lookalike 5% engagers"),
    "interests": ("Interests: fitness", "Interests: travel", "Interests: tech", "Interests: home & garden",
                  "Interests: fashion"),
    "broad": ("Broad",),
}
CREATIVE_CONCEPTS: tuple[str, ...] = (
    "UGC testimonial", "Product demo", "Discount banner", "Founder story", "Before/after", "Unboxing",
    "Feature highlight", "Social proof", "Limited offer", "How-to",
)
CREATIVE_LABELS = {"video": "Video 15s", "carousel": "Carousel", "image": "Static", "text": "Text ad"}
