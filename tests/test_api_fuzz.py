"""Property-based fuzzing of every API operation from its OpenAPI document: whatever a
client sends, the answer is never a server error and always matches the document."""
import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from django.test import Client
from hypothesis import HealthCheck, settings

from tests import factories

schema = schemathesis.openapi.from_wsgi("/api/openapi.json", get_wsgi_application())
CSRF = "f" * 32  # any 32-character secret works when cookie and header agree


@pytest.fixture
def credentials(world, scanning):  # uploads are scanned for real
    _customer, token = factories.customer_with_token(authenticated=True)
    client = Client()
    client.force_login(world.agent)
    return {
        "Authorization": f"Bearer {token}",
        "Cookie": f"sessionid={client.cookies['sessionid'].value}; csrftoken={CSRF}",
        "X-CSRFToken": CSRF,
    }


@pytest.mark.django_db(transaction=True)  # the WSGI handler closes connections between requests
@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_input_makes_the_api_fail(case, credentials):
    case.call_and_validate(headers=credentials, checks=[
        schemathesis.checks.not_a_server_error,
        schemathesis.checks.status_code_conformance,  # every status it answers is documented
        schemathesis.checks.content_type_conformance,
        schemathesis.checks.response_schema_conformance,
    ])
