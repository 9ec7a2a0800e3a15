"""IP allow-lists: per surface of Branchline, the networks a request may come from.

A surface with no list (or an empty one) is open. The lists are read from the database at
most every few seconds per process (ALLOW_LISTS_CACHE_SECONDS), so a change reaches every
process within that time without a query per request. The client's address is the one
core/http.py resolves (X-Forwarded-For only from a trusted proxy)."""
import ipaddress
import time
from enum import StrEnum

from django.conf import settings
from django.db import DatabaseError
from django.utils.translation import gettext_lazy as _

from branchline.core.errors import Forbidden, Unavailable
from branchline.core.http import parse_address

from .models import IpAllowList


class Surface(StrEnum):
    WIDGET = "widget"    # the customer chat page, the customer API and customer sockets
    CONSOLE = "console"  # the staff console, the staff API and staff sockets
    ADMIN = "admin"      # administration (the admin API; its pages when they come)
    API = "api"          # integrations with technical accounts


# Path prefixes, longest first; anything else (static files, health check, API docs) is open.
_PREFIXES = (("/api/admin/", Surface.ADMIN), ("/admin/", Surface.ADMIN), ("/api/integrations/", Surface.API),
             ("/api/staff/", Surface.CONSOLE), ("/api/customer/", Surface.WIDGET), ("/console/", Surface.CONSOLE),
             ("/chat/", Surface.WIDGET), ("/sso/callback", Surface.WIDGET))


def surface_of_path(path: str) -> Surface | None:
    for prefix, surface in _PREFIXES:
        if path.startswith(prefix):
            return surface
    return None


def parse_networks(values) -> list[str]:
    """Normalised CIDR strings, or ValueError naming the first that is not one."""
    networks = []
    for value in values:
        try:
            networks.append(str(ipaddress.ip_network(str(value).strip(), strict=False)))
        except ValueError:
            raise ValueError(value) from None
    return networks


def address_allowed(networks: list[str], address: str) -> bool:
    if not networks:
        return True
    ip = parse_address(address)
    return ip is not None and any(ip in ipaddress.ip_network(network) for network in networks)


def address_key(address: str) -> str:
    """What counts as one client for budgets: the address, or its /64 for IPv6 (one host
    holds a whole /64)."""
    ip = parse_address(address)
    if ip is None:
        return address
    return str(ipaddress.ip_network(f"{ip}/64", strict=False)) if ip.version == 6 else str(ip)


class _Cache:
    def __init__(self):
        self.lists: dict[str, list[str]] = {}
        self.read_at = float("-inf")

    def get(self, load) -> dict[str, list[str]]:
        if time.monotonic() - self.read_at > settings.BRANCHLINE["ALLOW_LISTS_CACHE_SECONDS"]:
            try:
                self.lists, self.read_at = load(), time.monotonic()
            except DatabaseError:
                # The database is away or slow: the lists last read still hold (the request
                # will meet the same database anyway); with none read yet, nobody is let in.
                if self.read_at == float("-inf"):
                    raise Unavailable() from None
        return self.lists

    def forget(self):
        self.read_at = float("-inf")


cache = _Cache()


def stored() -> dict[str, list[str]]:
    """Every surface's list as stored now ([] for an open one)."""
    rows = dict(IpAllowList.objects.values_list("surface", "networks"))
    return {surface.value: rows.get(surface.value, []) for surface in Surface}


def allow_lists() -> dict[str, list[str]]:
    """The lists as this process last read them (at most ALLOW_LISTS_CACHE_SECONDS ago)."""
    return cache.get(stored)


def allowed(surface: Surface | str | None, address: str) -> bool:
    return surface is None or address_allowed(allow_lists().get(str(surface), []), address)


class IpNotAllowed(Forbidden):
    code = "ip_not_allowed"
    default_message = _("Branchline cannot be reached from this network here.")
