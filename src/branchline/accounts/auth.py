"""django-ninja authentication: customers by bearer token, staff by session + CSRF."""
from ninja.security import HttpBearer, SessionAuth

from branchline.core.errors import Unauthorized
from branchline.core.http import client_address

from .actions import customer_for_token
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


customer_auth = CustomerBearer()
staff_auth = StaffSession()
