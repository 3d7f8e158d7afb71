"""Links into the Explain page, so any table or chart that shows a campaign can open its
explanation the same way.

The campaign is a path segment (/explain/<id>), not a query parameter: the filter bar owns the
query string and rewrites it to the view state's own keys, which would drop a `?campaign=`.
"""
from __future__ import annotations

import re

EXPLAIN_PATH = "/explain"
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>])")


def campaign_href(campaign_id: int, query: str = "") -> str:
    """The explanation of one campaign; `query` (ViewState.to_query()) keeps the filters."""
    return f"{EXPLAIN_PATH}/{int(campaign_id)}{query}"


def campaign_markdown_link(name: str, campaign_id: int, query: str = "") -> str:
    """A DataTable markdown cell linking `name` to its explanation; the name is escaped so a
    platform's campaign name cannot break out of the link (raw HTML stays off in DataTable)."""
    label = _MARKDOWN_SPECIAL.sub(r"\\\1", name or f"Campaign {campaign_id}")
    return f"[{label}]({campaign_href(campaign_id, query)})"
