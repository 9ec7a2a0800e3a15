"""django-ninja authentication: customers by bearer token, staff by session + CSRF."""
from ninja.security import HttpBearer, SessionAuth

from branchline.core.errors import Unauthorized
from branchline.core.http import client_address

from .actions import customer_for_token
from .actions.tokens import api_token_use
from .principals import Principal


class CustomerBearer(HttpBearer):
    openapi_scheme = "bearer"

    def authenticate(self, request, token):
        try:
            customer = customer_for_token(token)
        except Unauthorized:
            return None
        request.principal = Principal.of_customer(customer, address=client_address(request))
        request.auth_token = token
        return request.principal


class StaffSession(SessionAuth):
    """The console's session cookie; ninja checks the CSRF token for unsafe methods."""

    def authenticate(self, request, key):
        user = request.user
        if not user.is_authenticated or not user.is_active:
            return None
        request.principal = Principal.of_staff(user, address=client_address(request))
        return request.principal


class IntegrationBearer(HttpBearer):
    """A technical account's token (accounts/actions/tokens.py) that has `scope`. Each use
    is recorded and audited; a missing scope answers 403 scope_missing."""

    openapi_scheme = "bearer"

    def __init__(self, scope: str):
        super().__init__()
        self.scope = scope

    def authenticate(self, request, token):
        address = client_address(request)
        try:
            api_token = api_token_use(secret=token, scope=self.scope, method=request.method, path=request.path,
                                      address=address)
        except Unauthorized:
            return None
        request.principal = Principal.of_token(api_token, address=address)
        return request.principal


customer_auth = CustomerBearer()
staff_auth = StaffSession()
