"""Facts about the HTTP request every layer needs: above all, who the client is.

Behind the bank's load balancer or WAF every request comes from the proxy; the client's own
address is in X-Forwarded-For. That header is believed only from the proxies the bank
configures (settings.TRUSTED_PROXIES, BRANCHLINE_TRUSTED_PROXIES): from anyone else it is
whatever the client chose to write, and trusting it let 40 wrong passwords with rotating
headers through the sign-in throttle. uvicorn's own proxy-header handling is off
(`--no-proxy-headers`, Makefile): it trusted any local peer."""
import ipaddress

from django.conf import settings


def is_trusted_proxy(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in settings.TRUSTED_PROXIES)


def forwarded_client(peer: str, forwarded_for: str | None) -> str:
    """The client's address, given the connection's peer and its X-Forwarded-For header.

    Read from the right, each address was added by the hop before it: the first one that
    is not a trusted proxy is the client (a client cannot forge the entries our proxies
    appended after its own). From an untrusted peer the header counts for nothing."""
    if not forwarded_for or not is_trusted_proxy(peer):
        return peer
    hops = [hop.strip() for hop in forwarded_for.split(",") if hop.strip()]
    for hop in reversed(hops):
        if not is_trusted_proxy(hop):
            return hop if _is_address(hop) else peer
    return hops[0] if hops and _is_address(hops[0]) else peer


def _is_address(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


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
        if is_trusted_proxy(peer):
            meta["REMOTE_ADDR"] = forwarded_client(peer, meta.get("HTTP_X_FORWARDED_FOR"))
        else:
            for header in self.FORWARDING:
                meta.pop(header, None)
        return self.get_response(request)
