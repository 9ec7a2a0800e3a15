"""Bad HTTP input gets a documented 4xx in the error shape, never a 500: ids no database
could hold, bodies that cannot be parsed or are too large. Under the demo's DEBUG too,
where django-ninja would otherwise answer unexpected errors with a 500 traceback."""
import json

import pytest
from django.test import Client

from tests import factories

pytestmark = pytest.mark.django_db

BEYOND_BIGINT = [2**63, 2**64, -(2**63) - 1]  # PostgreSQL bigint and SQLite INTEGER are signed 64-bit
BIG = 256 * 1024 + 1


@pytest.fixture(params=[False, True], ids=["production", "debug"])
def debug(request, settings):
    settings.DEBUG = request.param
    return request.param


@pytest.fixture
def staff(world):
    client = factories.staff_browser(world.agent)
    client.defaults["HTTP_X_CSRFTOKEN"] = client.csrf
    return client


@pytest.fixture
def customer(world):
    _, token = factories.customer_with_token()
    return Client(HTTP_AUTHORIZATION=f"Bearer {token}")


def error(response) -> tuple[int, str]:
    assert response["Content-Type"].startswith("application/json"), response.content
    return response.status_code, response.json()["error"]["code"]


STAFF_PATHS = [("get", ""), ("get", "/messages"), ("post", "/accept"), ("post", "/end"),
               ("post", "/messages"), ("post", "/receipt")]
BODIES = {"/messages": {"body": "Hello", "client_message_id": "m-1"}, "/receipt": {"read_seq": 1}}


@pytest.mark.parametrize("conversation_id", BEYOND_BIGINT)
@pytest.mark.parametrize(("method", "suffix"), STAFF_PATHS)
def test_a_staff_path_id_beyond_64_bits_is_an_unknown_conversation(staff, debug, method, suffix, conversation_id):
    body = BODIES.get(suffix) if method == "post" else None
    response = getattr(staff, method)(f"/api/staff/conversations/{conversation_id}{suffix}",
                                      **({"data": json.dumps(body), "content_type": "application/json"} if body else {}))
    assert error(response) == (404, "conversation_not_found")


@pytest.mark.parametrize("conversation_id", BEYOND_BIGINT)
def test_a_customer_path_id_beyond_64_bits_is_an_unknown_conversation(customer, debug, conversation_id):
    response = customer.post(f"/api/customer/conversations/{conversation_id}/receipt", json.dumps({"read_seq": 1}),
                             content_type="application/json")
    assert error(response) == (404, "conversation_not_found")


def test_multipart_without_a_boundary_is_a_bad_request(staff, customer, debug):
    """The staff call's CSRF check parses the form before the endpoint sees the body."""
    for client, path in ((staff, "/api/staff/conversations/1/accept"), (customer, "/api/customer/messages")):
        response = client.post(path, b"--x\r\n", content_type="multipart/form-data")
        assert error(response) == (400, "http_error")
        assert response.json()["error"]["message"].startswith("Cannot parse request body")


def test_a_form_with_too_many_fields_is_a_bad_request(staff, debug):
    response = staff.post("/api/staff/conversations/1/accept", "&".join(f"f{i}=1" for i in range(1001)),
                          content_type="application/x-www-form-urlencoded")
    assert error(response) == (400, "bad_request")


@pytest.mark.parametrize(("client", "path"), [("customer", "/api/customer/messages"),
                                              ("staff", "/api/staff/conversations/1/messages"),
                                              ("anonymous", "/api/staff/session")])
@pytest.mark.parametrize("content_type", ["application/json", "application/x-www-form-urlencoded"])
def test_a_body_over_256_kib_is_too_large(request, debug, client, path, content_type):
    clients = {"anonymous": Client()} if client == "anonymous" else {client: request.getfixturevalue(client)}
    response = clients[client].post(path, "x" * BIG, content_type=content_type)
    assert error(response) == (413, "too_large")


def test_the_openapi_document_lists_the_answers_any_call_can_get(client):
    """Bodies that cannot be parsed (400) or are too large (413) on every call that takes
    one, CSRF (403) on every unsafe staff call, a busy database (503) everywhere."""
    schema = client.get("/api/openapi.json").json()
    unsafe = {"post", "put", "patch", "delete"}
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            documented = set(operation["responses"])
            staff_cookie = {"StaffSession": []} in operation.get("security", [])
            expected = {"503"} | ({"400", "413"} if method in unsafe else set()) | (
                {"403"} if method in unsafe and staff_cookie else set())
            assert expected <= documented, f"{method.upper()} {path}: {sorted(documented)}"
            for status in expected:
                assert operation["responses"][status]["content"]["application/json"]["schema"] == {
                    "$ref": "#/components/schemas/ErrorOut"}
