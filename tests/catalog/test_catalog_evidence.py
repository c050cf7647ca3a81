"""Every catalog change leaves evidence (存证) in the same transaction as the change."""

from __future__ import annotations

import json
from typing import Any

import msgspec
import pytest
from catalog_factories import product_body, resource_body
from catalog_support import (
    PRODUCTS,
    RESOURCES,
    Client,
    draft,
    register,
    review,
    submit,
    table_counts,
)

from conftest import shared
from factories import Member
from shuchang.domains import evidence
from shuchang.domains.catalog import bulk, resources
from shuchang.domains.catalog.schemas import ResourceIn
from shuchang.domains.participants import Actor
from shuchang.platform import Platform

# One database per module and backend (see conftest.py): every test looks only at its own data.
client, platform, provider, operator = shared("client", "platform", "provider", "operator")


def history(platform: Platform, subject: str) -> list[tuple[str, str, dict[str, Any]]]:
    with platform.unit(write=False) as s:
        return [(e.kind, e.actor, e.payload) for e in evidence.history(s, subject)]


def test_registering_and_revising_a_resource_is_recorded(
    client: Client, provider: Member, platform: Platform
) -> None:
    resource = register(client, provider, resource_body(title="企业登记信息"))
    client.put(
        f"{RESOURCES}/{resource['id']}",
        json=resource_body(title="企业登记信息（第二版）", classification="important"),
        headers=provider.headers,
    )

    entries = history(platform, f"resource:{resource['id']}")

    actor = f"participant:{provider.id}"
    assert [(kind, who) for kind, who, _ in entries] == [
        ("resource.registered", actor),
        ("resource.revised", actor),
    ]
    assert entries[1][2]["version"] == 2
    assert entries[1][2]["classification"] == "important"
    assert entries[1][2]["fields"] == [f["name"] for f in resource["fields"]]


def test_every_step_of_a_product_is_recorded_with_who_and_why(
    client: Client, provider: Member, operator: Member, platform: Platform
) -> None:
    resource = register(client, provider)
    pid = draft(client, provider, [resource["id"]], tags=[])["id"]
    submit(client, provider, pid)  # no tags: returned by the automatic checks
    client.put(f"{PRODUCTS}/{pid}", json=product_body([resource["id"]]), headers=provider.headers)
    submit(client, provider, pid)
    review(client, operator, pid, "return", ["请补充样例数据"])
    client.put(f"{PRODUCTS}/{pid}", json=product_body([resource["id"]]), headers=provider.headers)
    submit(client, provider, pid)
    review(client, operator, pid, "approve")
    client.post(f"{PRODUCTS}/{pid}/delist", headers=operator.headers)

    entries = history(platform, f"product:{pid}")

    p, o = f"participant:{provider.id}", f"participant:{operator.id}"
    steps = [
        (kind, who, payload.get("to"), payload.get("reasons")) for kind, who, payload in entries
    ]
    assert steps == [
        ("product.drafted", p, None, None),
        ("product.submitted", p, "returned", ["listing.metadata"]),
        ("product.edited", p, None, None),
        ("product.submitted", p, "submitted", []),
        ("product.returned", o, "returned", ["review.returned"]),
        ("product.edited", p, None, None),
        ("product.submitted", p, "submitted", []),
        ("product.listed", o, "listed", []),
        ("product.delisted", o, "delisted", []),
    ]


def test_a_bulk_import_records_each_resource(
    client: Client, provider: Member, platform: Platform
) -> None:
    rows = [resource_body(), resource_body()]

    report = client.post(f"{RESOURCES}/import", content=json.dumps(rows), headers=provider.headers)

    for rid in report.json()["ids"]:
        [(kind, actor, payload)] = history(platform, f"resource:{rid}")
        assert (kind, actor, payload["version"]) == (
            "resource.registered",
            f"participant:{provider.id}",
            1,
        )


def test_a_refused_step_records_nothing(
    client: Client, provider: Member, operator: Member, platform: Platform
) -> None:
    pid = draft(client, provider, [register(client, provider)["id"]])["id"]
    before = table_counts(platform.engine)

    assert review(client, operator, pid, "approve").status_code == 409
    assert client.post(f"{PRODUCTS}/{pid}/delist", headers=provider.headers).status_code == 409

    assert table_counts(platform.engine) == before
    assert [kind for kind, _, _ in history(platform, f"product:{pid}")] == ["product.drafted"]


class Abort(Exception):
    """Something fails later in the same unit of work."""


def test_evidence_is_rolled_back_with_the_change_it_records(
    platform: Platform, provider: Member
) -> None:
    actor = Actor(participant_id=provider.id, role="provider")
    before = table_counts(platform.engine)

    with pytest.raises(Abort), platform.unit() as s:
        one = resources.register(s, actor, msgspec.convert(resource_body(), ResourceIn))
        many = bulk.import_resources(s, actor, [resource_body(), resource_body()])
        raise Abort

    assert table_counts(platform.engine) == before
    for rid in [one.id, *many.ids]:
        assert history(platform, f"resource:{rid}") == []
