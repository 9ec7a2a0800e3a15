"""Small factories: each makes one thing with believable defaults."""
import itertools
import json

from django.test import Client

from branchline.accounts.actions import DEMO_SSO_ISSUER, customer_session_start
from branchline.accounts.models import LineOfBusiness, Role, User
from branchline.accounts.permissions import HANDLING_ROLES
from branchline.accounts.principals import Principal
from branchline.cases.models import CaseType, Topic
from branchline.connectors.actions import channel_web
from branchline.contacts.models import Customer
from branchline.routing.actions import queue_default_ensure
from branchline.routing.models import ChannelGrant, QueueMember

PASSWORD = "correct-horse-battery"
_n = itertools.count(1)


def line_of_business(name=None):
    return LineOfBusiness.objects.create(name=name or f"Line {next(_n)}")


def topic(lob=None, name=None):
    lob = lob or line_of_business()
    case_type = CaseType.objects.create(line_of_business=lob, name=f"Type {next(_n)}")
    return Topic.objects.create(case_type=case_type, name=name or f"Topic {next(_n)}")


def staff(lob, role=Role.AGENT, username=None, is_superuser=False, serving=True):
    """A member of staff of `lob`; with `serving`, one who handles conversations is enabled
    on the line's default queue and granted the web channel, as an administrator would."""
    user = User.objects.create(username=username or f"staff{next(_n)}", role=role, line_of_business=lob,
                               first_name="Agent", last_name=str(next(_n)), is_superuser=is_superuser)
    user.set_password(PASSWORD)
    user.save()
    if serving and lob is not None and role in HANDLING_ROLES:
        serve(user, queue_default_ensure(lob.id))
    return user


def serve(user, queue, channel=None):
    """Enable `user` on `queue` and grant them `channel` (the web channel by default)."""
    QueueMember.objects.get_or_create(user=user, queue=queue)
    ChannelGrant.objects.get_or_create(user=user, channel=channel or channel_web())


def customer(authenticated=False, name="Jan Kowalski"):
    if authenticated:
        return Customer.objects.create(is_authenticated=True, sso_issuer=DEMO_SSO_ISSUER,
                                       sso_subject=f"subject-{next(_n)}", name=name)
    return Customer.objects.create(is_authenticated=False)


def customer_with_token(authenticated=False):
    c = customer(authenticated)
    return c, customer_session_start(customer=c)


def principal(obj):
    return Principal.of_staff(obj) if isinstance(obj, User) else Principal.of_customer(obj)


def csrf_browser() -> Client:
    """A test client that behaves like the console's browser: CSRF is enforced (Django's
    test client skips it otherwise); `client.csrf` is the token to send (post_json keeps it)."""
    client = Client(enforce_csrf_checks=True)
    client.csrf = client.get("/api/staff/csrf").json()["csrf_token"]
    return client


def post_json(client: Client, path: str, body=None):
    response = client.post(path, json.dumps(body or {}), content_type="application/json", HTTP_X_CSRFTOKEN=client.csrf)
    client.csrf = client.cookies["csrftoken"].value  # signing in rotates the token: send the new one
    return response


def staff_browser(user, password=None) -> Client:
    """A csrf_browser signed in as `user` (who has no second factor)."""
    client = csrf_browser()
    response = post_json(client, "/api/staff/session", {"username": user.username, "password": password or PASSWORD})
    assert response.status_code == 200, response.content
    return client
