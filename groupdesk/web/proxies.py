"""Who the client is behind a reverse proxy: X-Forwarded-For counts only from GROUPDESK_TRUSTED_PROXIES."""

from __future__ import annotations

import ipaddress

from fastapi import Request


def forwarded_for(peer: str, header: str, trusted: tuple) -> str:
    """The client's address: `peer` itself unless it is a trusted proxy; then, walking X-Forwarded-For from the
    right (each proxy appends whom it saw), the first address that is not a trusted proxy. Entries left of that
    are whatever the client wrote and count for nothing; an entry that is not an address ends the walk."""
    address = peer
    hops = [part.strip() for part in header.split(",")] if header else []
    while _within(address, trusted) and hops:
        entry = hops.pop()
        try:
            address = str(ipaddress.ip_address(entry))
        except ValueError:
            break  # a trusted proxy passed on something that is not an address: the last hop we know
    return address


def _within(address: str, trusted: tuple) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in trusted)


def client_address(request: Request, trusted: tuple) -> str:
    peer = request.client.host if request.client else "unknown"
    if not trusted:
        return peer  # the default: no proxy is trusted, the header is ignored
    return forwarded_for(peer, ",".join(request.headers.getlist("x-forwarded-for")), trusted)
