"""Where a webhook may be sent: checked when a subscription is saved and again at each delivery.

Why twice: a name that resolved to a public address when the administrator saved it may
resolve to 127.0.0.1 or a cloud metadata address a minute later (DNS rebinding). So the sender
resolves the name itself, checks every address, and connects to the address it checked
(`resolve`), never to the name.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import SplitResult, urlsplit

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from . import conf

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


@dataclass(frozen=True)
class Target:
    """A URL taken apart, with the address the sender will connect to."""

    scheme: str
    host: str  # the name, for the Host header and TLS
    port: int
    path: str  # path and query
    address: str  # the checked IP address


def _split(url: str) -> SplitResult:
    try:
        parts = urlsplit(url.strip())
        parts.port  # noqa: B018  raises ValueError for a port out of range
    except ValueError as exc:
        raise ValidationError(_("This is not a valid URL."), code="invalid") from exc
    if parts.scheme not in ("http", "https"):
        raise ValidationError(_("Only http and https URLs can receive webhooks."), code="scheme")
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        raise ValidationError(
            _("Put no user name or password in the URL: receivers check the signature instead."), code="credentials"
        )
    if not parts.hostname:
        raise ValidationError(_("The URL names no host."), code="host")
    return parts


def _allowed(address: IPAddress) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped  # ::ffff:127.0.0.1 is 127.0.0.1
    if conf.get("WEBHOOK_ALLOW_PRIVATE"):
        return not address.is_multicast and not address.is_unspecified
    for network in conf.get("WEBHOOK_ALLOWED_NETWORKS"):
        if address in ipaddress.ip_network(network, strict=False):
            return True
    # is_global is False for private, loopback, link-local, shared (100.64/10), reserved and
    # documentation ranges; a few multicast ranges count as global, so they are refused apart.
    return address.is_global and not address.is_multicast


def _addresses(host: str, port: int) -> list[IPAddress]:
    try:
        literal = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        pass
    else:
        return [literal]
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise ValidationError(_("The host %(host)s could not be found.") % {"host": host}, code="dns") from exc
    return list(dict.fromkeys(ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos))


def resolve(url: str) -> Target:
    """The URL's parts and one checked address; ValidationError when any address the name
    resolves to is not allowed (a name that also points inside is refused as a whole)."""
    parts = _split(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    found = _addresses(host, port)
    if not found:
        raise ValidationError(_("The host %(host)s could not be found.") % {"host": host}, code="dns")
    refused = [a for a in found if not _allowed(a)]
    if refused:
        raise ValidationError(
            _(
                "%(host)s resolves to %(address)s, a private, loopback, link-local or reserved address. "
                "Webhooks are not sent there unless the desk's settings allow it."
            )
            % {"host": host, "address": refused[0]},
            code="address",
        )
    path = parts.path or "/"
    if parts.query:
        path = f"{path}?{parts.query}"
    return Target(parts.scheme, host, port, path, str(found[0]))


def validate_url(url: str) -> None:
    resolve(url)
