"""Calling Dash callbacks the way the browser does: POST /_dash-update-component."""
from __future__ import annotations

import json
from typing import Any

from dashboard.state import ViewState
from db.filters import Filters


def view_store(f: Filters) -> dict:
    return ViewState("custom", f.date_from.isoformat(), f.date_to.isoformat(), channels=f.channels).to_store()


def post(app, first_output: str, values: dict[str, Any]) -> dict:
    """One callback through /_dash-update-component; `values` maps "id.prop" to a value."""
    client = app.server.test_client()
    dep = next(d for d in client.get("/_dash-dependencies").get_json()
               if d["output"].strip(".").startswith(first_output))
    parts = dep["output"].strip(".").split("...")
    outputs = [dict(zip(("id", "property"), part.rsplit(".", 1))) for part in parts]

    def spec(item: dict) -> dict:
        return {**item, "value": values.get(f"{item['id']}.{item['property']}")}

    body = {"output": dep["output"], "outputs": outputs if len(outputs) > 1 else outputs[0], "changedPropIds": [],
            "inputs": [spec(i) for i in dep["inputs"]], "state": [spec(s) for s in dep["state"]]}
    resp = client.post("/_dash-update-component", data=json.dumps(body), content_type="application/json")
    assert resp.status_code == 200, resp.get_data(as_text=True)
    return resp.get_json()["response"]
