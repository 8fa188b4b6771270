"""Loaded by every Python process when tools/nonet runs in "guard" mode (this folder is put first on
PYTHONPATH): socket connections to anything but loopback fail at once, as in a network namespace.

Only Python is covered; tools/nonet prefers a real network namespace when it can create one.
"""

from __future__ import annotations

import ipaddress
import socket

_connect = socket.socket.connect
_connect_ex = socket.socket.connect_ex


def _allowed(sock: socket.socket, address) -> bool:
    if sock.family not in (socket.AF_INET, socket.AF_INET6):
        return True  # Unix sockets and the like never leave the machine
    host = address[0] if isinstance(address, tuple) else address
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(str(host).split("%")[0]).is_loopback
    except ValueError:
        return False  # a host name: it would be resolved and reached outside


def _refuse(address):
    return OSError(101, f"Network is unreachable (tools/nonet guard: only loopback is allowed, not {address!r})")


def connect(self, address):
    if not _allowed(self, address):
        raise _refuse(address)
    return _connect(self, address)


def connect_ex(self, address):
    if not _allowed(self, address):
        return 101
    return _connect_ex(self, address)


socket.socket.connect = connect
socket.socket.connect_ex = connect_ex
