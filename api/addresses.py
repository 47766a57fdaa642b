"""Where a webhook may be sent: the SSRF guard.

A partner types the URL, so it could point at our own network (the database, the
metadata service at 169.254.169.254, a router). A URL is checked when it is saved and
again before every attempt, after DNS resolution (a name may resolve anywhere, and
change what it resolves to), and the request then goes to the address that was
checked, not to a second lookup of the name, so DNS cannot be switched in between.

- https only; plain http only to loopback, and loopback only when the setting
  ``WEBHOOKS_ALLOW_LOOPBACK`` is on (local development and the tests);
- every address the host resolves to must be public: private, loopback (unless
  allowed), link-local, shared, multicast, reserved and unspecified addresses are
  refused, IPv4-mapped IPv6 addresses judged as the IPv4 address they carry;
- no user name or password in the URL."""

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings

MAX_URL_LENGTH = 2000


class RefusedUrl(Exception):
    """The URL may not receive webhooks; the message says why, for the partner."""


@dataclass(frozen=True)
class Target:
    """A checked URL: connect to ``address`` on ``port``, speaking to ``host``."""

    scheme: str
    host: str
    port: int
    path: str
    address: str

    @property
    def host_header(self) -> str:
        default = 443 if self.scheme == "https" else 80
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.port == default else f"{host}:{self.port}"


def _judged(address: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    ip = ipaddress.ip_address(address.split("%", 1)[0])  # drop an IPv6 zone
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


def _resolve(host: str, port: int) -> list[str]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as error:
        raise RefusedUrl(f"{host} cannot be resolved.") from error
    return list(dict.fromkeys(info[4][0] for info in infos))


def check_url(url: str, *, allow_loopback: bool | None = None) -> Target:
    """The URL as a Target to send to, or RefusedUrl saying why it may not be used."""
    if allow_loopback is None:
        allow_loopback = settings.WEBHOOKS_ALLOW_LOOPBACK
    if len(url) > MAX_URL_LENGTH:
        raise RefusedUrl(f"Use a URL of at most {MAX_URL_LENGTH} characters.")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as error:
        raise RefusedUrl("Enter a valid URL.") from error
    scheme, host = parts.scheme.lower(), parts.hostname
    if scheme not in ("https", "http") or not host:
        raise RefusedUrl("Enter an https:// URL.")
    if parts.username is not None or parts.password is not None:
        raise RefusedUrl("Leave the user name and password out of the URL.")
    port = port or (443 if scheme == "https" else 80)
    addresses = _resolve(host, port)
    if not addresses:
        raise RefusedUrl(f"{host} cannot be resolved.")
    for address in addresses:
        ip = _judged(address)
        if ip.is_loopback:
            if not allow_loopback:
                raise RefusedUrl(f"{host} is a loopback address ({address}), which cannot receive webhooks.")
            continue
        if not ip.is_global or ip.is_multicast or ip.is_reserved or ip.is_unspecified:
            raise RefusedUrl(f"{host} is a private or reserved address ({address}), which cannot receive webhooks.")
        if scheme == "http":
            raise RefusedUrl("Enter an https:// URL: plain http is allowed only to loopback in local development.")
    path = parts.path or "/"
    if parts.query:
        path += f"?{parts.query}"
    return Target(scheme=scheme, host=host, port=port, path=path, address=addresses[0])
