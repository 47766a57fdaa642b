"""The OpenAPI document and the HTML reference at /api/docs (every asset the
project's own), and the lists' query counts: the same whatever the number of rows."""

import re

import pytest
from django.contrib.staticfiles import finders

from tests.builders import CaptureStatements, api_get, assigned_order, give_seats, make_learners, order_for


def test_the_openapi_document(client, db):
    document = client.get("/api/v1/openapi.json").json()
    assert document["openapi"].startswith("3.")
    post = document["paths"]["/api/v1/customers/{customer_id}/orders"]["post"]
    assert "Idempotency-Key" in [p["name"] for p in post["parameters"]]
    assert list(post["responses"]["409"]["content"]) == ["application/problem+json"]
    assert "Retry-After" in post["responses"]["429"]["headers"]
    assert document["components"]["securitySchemes"]["TokenAuth"] == {"type": "http", "scheme": "bearer"}


def test_the_reference_uses_only_the_projects_assets(client, db):
    page = client.get("/api/docs")
    assert page.status_code == 200
    html = page.content.decode()
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert assets and all(asset.startswith("/static/") for asset in assets), assets
    assert "//" not in "".join(assets)
    for asset in assets:  # each is a file the project serves
        assert finders.find(asset.removeprefix("/static/")), asset
    assert '"validatorUrl": null' in html  # Swagger UI would fetch its badge from swagger.io otherwise
    assert '"url": "/api/v1/openapi.json"' in html


def _queries(client, path, token, **params) -> int:
    with CaptureStatements() as captured:
        response = api_get(client, path, token, **params)
    assert response.status_code == 200, response.content
    return len(captured.statements)


def test_list_queries_do_not_grow_with_the_rows(client, alice, acme, alice_token):
    order = assigned_order(acme, 200, alice)
    api_get(client, "/customers", alice_token)  # the token's first use is stamped (once a minute)

    def every_list():
        filters = {"customer": acme.pk, "requester": alice.pk, "requested_from": "2020-01-01"}
        return {
            "orders": _queries(client, "/orders", alice_token, status="any"),
            "orders, filtered": _queries(client, "/orders", alice_token, status="any", **filters),
            "learners, searched": _queries(client, f"/customers/{acme.pk}/learners", alice_token, search="lea"),
            "learners": _queries(client, f"/customers/{acme.pk}/learners", alice_token),
            "customers": _queries(client, "/customers", alice_token),
        }

    first = every_list()
    for n in range(30):
        order_for(acme, alice, n + 1)
    give_seats(acme, order, make_learners(acme, 60))
    again = every_list()
    assert again == first
    # The token (with its partner and creator, and the customer a path names), then the page.
    assert first == {"orders": 2, "orders, filtered": 2, "learners": 2, "learners, searched": 2, "customers": 2}


@pytest.mark.parametrize(
    ("customer_id", "status"),
    [("9223372036854775807", 404), ("9223372036854775808", 422), ("0" * 40 + "1", 404)],
)
def test_the_largest_ids_in_a_path_are_answered_not_crashed(client, alice_token, customer_id, status):
    """The path's customer is read with the token up to the largest id (api.schemas.MAX_ID),
    beyond it the path's check refuses it, and an id padded with zeros past that length is
    left to the endpoint's own check: none is another partner's."""
    response = api_get(client, f"/customers/{customer_id}/learners", alice_token)
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json"
