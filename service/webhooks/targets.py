"""Where webhooks may go: well-formed public http(s) URLs only.

A subscription's URL is refused when it holds control characters (a CR/LF would
make every delivery fail invisibly, or split headers) and, by default, when its
host is or resolves to a loopback, private, link-local, multicast or otherwise
non-public address: the worker must never become a way into the deployment's own
network (the red team's worker reached 169.254.169.254). Networks listed in
``VAGUS_WEBHOOK_ALLOW_NETWORKS`` (CIDR, comma-separated) are allowed anyway, for
receivers on the same host or LAN. Checked when a subscription is made and again
before every delivery (DNS may have changed meanwhile).
"""

from __future__ import annotations

import ipaddress
import socket
from typing import Annotated
from urllib.parse import urlsplit

from pydantic import AfterValidator

from service.core.http.problems import ProblemError
from service.core.http.query import single_line

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class TargetRefused(ValueError):
    """The URL may not receive webhooks; the message says why."""


def _well_formed(url: str) -> str:
    single_line(url)
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("must be an http(s) URL with a host")
    if any(c.isspace() for c in url):
        raise ValueError("must not contain spaces")
    return url


#: A subscription URL: http(s), a host, one line without spaces or control characters.
WebhookUrl = Annotated[str, AfterValidator(_well_formed)]


def allowed_networks(setting: str) -> list[Network]:
    return [ipaddress.ip_network(item.strip(), strict=False) for item in setting.split(",") if item.strip()]


def _public(address: Address) -> bool:
    return address.is_global and not address.is_multicast


def check(url: str, allow: list[Network]) -> None:
    """Refuse (``TargetRefused``) a URL whose host resolves to a non-public address that
    no allowed network covers, or does not resolve at all."""
    host = urlsplit(url).hostname or ""
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError) as exc:
        raise TargetRefused(f"{host}: the host does not resolve ({exc})") from None
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])
        if _public(address) or any(address in network for network in allow):
            continue
        raise TargetRefused(
            f"{host} resolves to {address}, a loopback, private or link-local address: "
            "webhooks go to public addresses only (VAGUS_WEBHOOK_ALLOW_NETWORKS lists "
            "exceptions)"
        )


def require_allowed(url: str, allow_setting: str) -> None:
    """:func:`check` for an endpoint: a refused target is a 422 problem document."""
    try:
        check(url, allowed_networks(allow_setting))
    except TargetRefused as exc:
        raise ProblemError(422, "webhook-target-refused", str(exc)) from None
