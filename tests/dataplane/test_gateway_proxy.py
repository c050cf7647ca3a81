"""Permitted requests reach the provider's backend, projected to the allowed fields, metered."""

from __future__ import annotations

from pathlib import Path

from dataplane_support import COMPANIES, PURPOSE, Plane, fields_limit, open_plane, policy

from shuchang.domains.dataplane.metering import DELIVERED
from shuchang.platform import Platform


def test_a_permitted_request_is_proxied_and_metered(plane: Plane) -> None:
    response = plane.get("/data/search?q=东瓯&page=2", headers={"Cookie": "s=1"})

    assert response.status_code == 200, response.text
    assert response.json() == COMPANIES
    assert response.headers["cache-control"] == "private, no-store"
    (seen,) = plane.backend.seen
    assert str(seen.url).startswith("http://registry.samr.internal/api/companies/search?")
    assert seen.url.params["q"] == "东瓯" and seen.url.params["page"] == "2"
    assert "authorization" not in seen.headers and "cookie" not in seen.headers
    assert seen.headers["x-shuchang-agreement"] == str(plane.pair.agreement_id)
    (record,) = plane.records()
    assert (record.permitted, record.outcome, record.status) == (True, DELIVERED, 200)
    assert (record.rows, record.bytes) == (2, len(response.content))
    assert record.method == "GET" and record.path == "/data/search"
    assert record.agreement_id == plane.pair.agreement_id
    assert record.duration_ms is not None and record.batch_id is None


def test_the_consumer_picks_fields_and_they_are_not_sent_upstream(plane: Plane) -> None:
    response = plane.get("/data", params={"fields": "uscc,name", "q": "x"})

    assert response.status_code == 200, response.text
    assert response.json() == [{"uscc": c["uscc"], "name": c["name"]} for c in COMPANIES]
    assert "fields" not in plane.backend.seen[0].url.params


def test_the_agreement_limits_fields_in_every_json_shape(
    platform: Platform, tmp_path: Path
) -> None:
    offer = policy(fields_limit("uscc", "name"))
    with open_plane(platform, tmp_path, offer) as plane:
        assert plane.get().json() == [{"uscc": c["uscc"], "name": c["name"]} for c in COMPANIES]

        plane.backend.answer = {"items": COMPANIES, "total": 2}
        paged = plane.get()
        assert paged.json() == {
            "items": [{"uscc": c["uscc"], "name": c["name"]} for c in COMPANIES],
            "total": 2,
        }
        plane.backend.answer = COMPANIES[0]
        assert plane.get("/data/91330300MA2AAAAA1X").json() == {
            "uscc": COMPANIES[0]["uscc"],
            "name": COMPANIES[0]["name"],
        }
        asked_too_much = plane.get(params={"fields": "legal_person"})
        assert asked_too_much.status_code == 403
        assert asked_too_much.json()["code"] == "dataplane.denied"

        plane.backend.answer, plane.backend.content_type = b"uscc,legal_person\n", "text/csv"
        unfilterable = plane.get()
        assert unfilterable.status_code == 502
        assert unfilterable.json()["code"] == "dataplane.upstream_unfilterable"
        assert [r.rows for r in plane.records()] == [2, 2, 1, 0, 0]
        assert [r.permitted for r in plane.records()] == [True, True, True, False, True]


def test_post_is_refused_for_a_get_api_and_other_paths_are_not_found(plane: Plane) -> None:
    auth = {"Authorization": f"Bearer {plane.token}"}
    post = plane.request("POST", "/data", headers=auth, json={"q": 1})
    assert post.status_code == 405 and post.json()["code"] == "dataplane.method_not_allowed"
    other = plane.request("GET", "/api/v1/x", headers=auth)
    assert other.status_code == 404 and other.json()["code"] == "dataplane.not_found"
    climbing = plane.get("/data/%2e%2e/admin")
    assert climbing.status_code == 404
    assert plane.backend.seen == [] and plane.records() == []


def test_the_purpose_comes_from_the_agreement_or_the_request(plane: Plane) -> None:
    from urllib.parse import quote

    assert plane.get().status_code == 200
    same = plane.get(headers={"X-Shuchang-Purpose": quote(PURPOSE)})
    assert same.status_code == 200
    other = plane.get(headers={"X-Shuchang-Purpose": quote("精准营销")})
    assert other.status_code == 403 and other.json()["code"] == "dataplane.denied"


def test_the_query_goes_upstream_as_sent_without_fields(plane: Plane) -> None:
    response = plane.get("/data/search?q=%E4%B8%9C%E7%93%AF&fields=uscc&tag=a+b&empty=")
    assert response.status_code == 200, response.text
    assert plane.backend.seen[-1].url.query == b"q=%E4%B8%9C%E7%93%AF&tag=a+b&empty="
    assert response.json() == [{"uscc": c["uscc"]} for c in COMPANIES]
