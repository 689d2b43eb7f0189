"""What an app developer relies on being the same everywhere (issue 12, point 12): lists page
alike, unknown query parameters are refused, and the OpenAPI document says what the API does."""

from __future__ import annotations

from service.webhooks.events import EVENT_BODIES
from service.webhooks.service import EVENTS
from tests.support.access import account_token
from tests.support.people import admin_token, bearer, new_person, patient_token


def test_unknown_query_parameters_are_refused_by_name(pool, client):
    person = new_person(pool)
    me = bearer(patient_token(pool, person))
    response = client.get(f"/v1/persons/{person}/observations?source_id=18&metric=heart_rate", headers=me)
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert "source_id" in body["detail"] and "metric" in body["detail"].split("accepts:")[1]
    assert body["errors"] == [
        {"loc": ["query", "source_id"], "msg": "unknown query parameter", "type": "unknown_parameter"}
    ]
    # Declared ones, including aliases (from, cursor) and a dependency's own, still work.
    ok = client.get(
        f"/v1/persons/{person}/observations",
        params={"metric": "heart_rate", "from": "2024-01-01T00:00:00Z", "limit": 5},
        headers=me,
    )
    assert ok.status_code == 200, ok.text
    assert client.get(f"/v1/persons/{person}/sessions?modality=x", headers=me).status_code == 422


def test_openapi_documents_problems_rate_limits_locations_and_webhooks(app):
    document = app.openapi()
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            for status, response in operation["responses"].items():
                content = response.get("content", {})
                if status >= "400" and path.startswith("/v1/"):
                    assert "application/json" not in content, (method, path, status)
                    assert content["application/problem+json"]["schema"] == {
                        "$ref": "#/components/schemas/Problem"
                    }, (method, path, status)
            if path.startswith("/v1/"):
                assert "Retry-After" in operation["responses"]["429"]["headers"], (method, path)
    created = {(m, p): op["responses"] for p, ops in document["paths"].items() for m, op in ops.items()}
    for operation in (
        ("post", "/v1/persons"),
        ("post", "/v1/persons/{person_id}/imports"),
        ("post", "/v1/webhooks"),
        ("post", "/v1/persons/{person_id}/grants"),
        ("post", "/v1/access-requests"),
        ("post", "/v1/tokens/{token_id}/rotate"),
    ):
        response = created[operation].get("201") or created[operation]["202"]
        assert "Location" in response["headers"], operation
    assert set(document["webhooks"]) == set(EVENTS) == set(EVENT_BODIES)
    for name, operations in document["webhooks"].items():
        schema = operations["post"]["requestBody"]["content"]["application/json"]["schema"]
        assert schema["$ref"].endswith("Event"), name


def test_created_resources_answer_with_location(pool, client):
    admin = bearer(admin_token(pool))
    response = client.post("/v1/persons", headers=admin, json={"name": "Located", "tz": "UTC"})
    assert response.status_code == 201
    assert response.headers["location"] == f"/v1/persons/{response.json()['id']}"
    assert client.get(response.headers["location"], headers=admin).status_code == 200


def test_webhook_lists_page_with_items_and_next_cursor(pool, client):
    app_id, token = account_token(pool, "app", "Paged app")
    headers = bearer(token)
    for n in range(3):
        created = client.post(
            "/v1/webhooks",
            headers=headers,
            json={"url": f"http://127.0.0.1:9/hook/{n}", "events": ["import.completed"]},
        )
        assert created.status_code == 201, created.text
        assert created.headers["location"].endswith("/deliveries")
    first = client.get("/v1/webhooks?limit=2", headers=headers).json()
    assert set(first) == {"items", "next_cursor"} and len(first["items"]) == 2
    rest = client.get(f"/v1/webhooks?limit=2&cursor={first['next_cursor']}", headers=headers).json()
    assert len(rest["items"]) == 1 and rest["next_cursor"] is None
    ids = [w["id"] for w in first["items"] + rest["items"]]
    assert ids == sorted(set(ids))
    deliveries = client.get(f"/v1/webhooks/{ids[0]}/deliveries", headers=headers).json()
    assert deliveries == {"items": [], "next_cursor": None}
