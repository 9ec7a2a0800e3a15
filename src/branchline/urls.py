from django.urls import path
from django.views.i18n import JavaScriptCatalog

# The administration's pages: each app's admin module registers its models on the site.
from branchline.accounts import admin as _accounts_admin  # noqa: F401
from branchline.accounts.administration import site as administration
from branchline.api import api
from branchline.cases import admin as _cases_admin  # noqa: F401
from branchline.connectors import admin as _connectors_admin  # noqa: F401
from branchline.conversations import admin as _conversations_admin  # noqa: F401
from branchline.knowledge import admin as _knowledge_admin  # noqa: F401
from branchline.routing import admin as _routing_admin  # noqa: F401
from branchline.web import views

urlpatterns = [
    path("", views.home, name="home"),
    path("chat/", views.chat_page, name="chat"),
    path("console/", views.console_page, name="console"),
    path("console/audit/", views.audit_page, name="console-audit"),
    path("console/login/", views.console_login, name="console-login"),
    path("console/login/sso/", views.console_sso_start, name="console-sso"),
    path("console/login/sso/callback", views.console_sso_callback, name="console-sso-callback"),
    path("console/login/second-factor/", views.console_second_factor, name="console-second-factor"),
    path("console/logout/", views.console_logout, name="console-logout"),
    path("sso/callback", views.sso_callback, name="sso-callback"),
    path("sso/backchannel-logout", views.sso_backchannel_logout, name="sso-backchannel-logout"),
    path("healthz", views.healthz, name="healthz"),
    path("api/", api.urls),
    path("admin/", administration.urls),
    path("jsi18n/", JavaScriptCatalog.as_view(), name="javascript-catalog"),
]
