"""Facts about the HTTP request every layer needs: above all, who the client is.

Behind the bank's load balancer or WAF every request comes from the proxy; the client's own
address is in X-Forwarded-For. That header is believed only from the proxies the bank
configures (settings.TRUSTED_PROXIES, BRANCHLINE_TRUSTED_PROXIES): from anyone else it is
whatever the client chose to write, and trusting it let 40 wrong passwords with rotating
headers through the sign-in throttle. uvicorn's own proxy-header handling is off
(`--no-proxy-headers`, Makefile): it trusted any local peer."""
import ipaddress

from django.conf import settings


def parse_address(value: str):
    """An IP address from a peer or an X-Forwarded-For entry, or None. Ports ("203.0.113.5:51234",
    "[2001:db8::1]:443", as some load balancers write them) are dropped, and an IPv4 address
    seen through IPv6 ("::ffff:10.0.0.5", a dual-stack socket) is the IPv4 address."""
    value = value.strip()
    if value.startswith("["):
        value = value[1:].split("]", 1)[0]
    elif value.count(":") == 1:
        value = value.split(":", 1)[0]
    try:
        ip = ipaddress.ip_address(value)
    except ValueError:
        return None
    return ip.ipv4_mapped if getattr(ip, "ipv4_mapped", None) else ip


def is_trusted_proxy(address: str) -> bool:
    ip = parse_address(address)
    return ip is not None and any(ip in network for network in settings.TRUSTED_PROXIES)


def forwarded_client(peer: str, forwarded_for: str | None) -> str:
    """The client's address, given the connection's peer and its X-Forwarded-For header.

    Read from the right, each address was added by the hop before it: the first one that
    is not a trusted proxy is the client (a client cannot forge the entries our proxies
    appended after its own). From an untrusted peer the header counts for nothing."""
    own = parse_address(peer)
    peer = str(own) if own is not None else peer
    if not forwarded_for or not is_trusted_proxy(peer):
        return peer
    hops = [parse_address(hop) for hop in forwarded_for.split(",") if hop.strip()]
    for hop in reversed(hops):
        if hop is None:
            return peer  # garbage where a proxy's entry should be: trust none of it
        if not is_trusted_proxy(str(hop)):
            return str(hop)
    return str(hops[0]) if hops else peer


def client_address(request) -> str:
    """The client's address (TrustedProxyMiddleware has resolved it; docs/protocol.md §4)."""
    return request.META.get("REMOTE_ADDR", "")


class TrustedProxyMiddleware:
    """First in the chain: REMOTE_ADDR becomes the client's address; the forwarding headers
    of a request that did not come through a trusted proxy are dropped, so neither the
    address nor the scheme (SECURE_PROXY_SSL_HEADER) can be claimed by the client."""

    FORWARDING = ("HTTP_X_FORWARDED_FOR", "HTTP_X_FORWARDED_PROTO", "HTTP_X_FORWARDED_HOST", "HTTP_FORWARDED")

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        meta = request.META
        peer = meta.get("REMOTE_ADDR", "")
        if not is_trusted_proxy(peer):
            for header in self.FORWARDING:
                meta.pop(header, None)
        meta["REMOTE_ADDR"] = forwarded_client(peer, meta.get("HTTP_X_FORWARDED_FOR"))
        return self.get_response(request)
