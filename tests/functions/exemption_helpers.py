"""Exemption documents as the generator writes them, stored in (moto) SSM for the function tests."""

from __future__ import annotations

import json
from typing import Any

VOLUME = "vol-0123456789abcdef0"


def exemption(**overrides: Any) -> dict[str, Any]:
    base = {
        "id": "build-volumes",
        "rules": ["ENCRYPTED_VOLUMES"],
        "resources": ["vol-0123*"],
        "resourceType": None,
        "accounts": [],
        "regions": [],
        "reason": "scratch volumes of the build fleet",
        "owner": "build-infra@example.com",
        "granted": "2024-01-01",
        "expires": "2024-12-31",
    }
    base.update(overrides)
    return base


def document(*items: dict[str, Any]) -> str:
    body = {"schemaVersion": 1, "exemptions": list(items)}
    return json.dumps(body, sort_keys=True, separators=(",", ":"))


def store(world: Any, *items: dict[str, Any], pieces: int = 1) -> list[str]:
    """Put the document into ``pieces`` SSM parameters and name them in EXEMPTIONS_PARAMETERS."""
    import exemptions

    exemptions.reset_cache()
    text = document(*items)
    size = -(-len(text) // pieces)
    # Names chosen so SSM's alphabetical answer differs from the document's order.
    names = [f"z-exemptions-{pieces - n}" for n in range(pieces)]
    ssm = world.aws.client("ssm")
    for n, name in enumerate(names):
        ssm.put_parameter(Name=name, Value=text[n * size : (n + 1) * size], Type="String")
    world.monkeypatch.setenv("EXEMPTIONS_PARAMETERS", ",".join(names))
    return names
