"""The real client address behind a reverse proxy, believed only from a trusted proxy.

Behind nginx or a load balancer every request comes from the proxy's address, so the
per-address sign-in limit would count a whole town as one visitor. With
``COURSEWARE_TRUSTED_PROXIES`` naming the proxy, its X-Forwarded-For (and -Proto) are
applied by werkzeug's ProxyFix; a request from any other peer keeps its own address, so a
visitor cannot choose their address by sending the header themselves.
"""

from __future__ import annotations

from collections.abc import Iterable
from ipaddress import IPv4Network, IPv6Network, ip_address
from typing import TYPE_CHECKING, Any

from werkzeug.middleware.proxy_fix import ProxyFix

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment


class TrustedProxies:
    """WSGI middleware: ProxyFix for requests whose peer is a trusted proxy, else nothing."""

    def __init__(self, app: WSGIApplication, networks: Iterable[IPv4Network | IPv6Network]) -> None:
        self.app = app
        self.networks = tuple(networks)
        self.fixed = ProxyFix(app, x_for=1, x_proto=1)

    def trusted(self, peer: str) -> bool:
        try:
            address = ip_address(peer)
        except ValueError:
            return False
        return any(address in network for network in self.networks)

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Any:
        if self.trusted(environ.get("REMOTE_ADDR", "")):
            return self.fixed(environ, start_response)
        return self.app(environ, start_response)
