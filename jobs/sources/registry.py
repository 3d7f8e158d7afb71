"""Source kinds: which connector class serves which `source.kind`, and the kinds without an API.

The "Data sources" page builds its "add source" form from this: each API kind's label,
credential fields and capabilities; `upload` sources take files, `demo` is the simulator.
"""
from __future__ import annotations

from collections.abc import Mapping

from jobs.sources.base import ClientOptions, Connector, SourceLike
from jobs.sources.google_ads import GoogleAdsClient
from jobs.sources.meta import MetaClient
from jobs.sources.tiktok import TikTokClient
from jobs.sources.vk_ads import VkAdsClient
from jobs.sources.yandex_direct import YandexDirectClient

CONNECTORS: dict[str, type[Connector]] = {
    cls.kind: cls for cls in (MetaClient, GoogleAdsClient, TikTokClient, YandexDirectClient, VkAdsClient)
}
#: Kinds with no API connector (Telegram Ads has no statistics API: its exports are uploads).
OTHER_KINDS = {"upload": "File upload (CSV / XLSX / Telegram Ads export)", "demo": "Demo simulator"}


def connector_class(kind: str) -> type[Connector]:
    try:
        return CONNECTORS[kind]
    except KeyError:
        raise ValueError(f"no API connector for source kind {kind!r}") from None


def connector_for(source: SourceLike, secrets: Mapping[str, str], options: ClientOptions | None = None) -> Connector:
    return connector_class(source.kind).from_source(source, secrets, options)
