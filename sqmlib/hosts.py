"""Which hosts are this machine: where the explorer may listen without ``allow_remote`` and which ``Host``
headers it answers, and the listening sockets (a light module, so that ``sqm explore`` refuses a bad host or a
port in use before loading anything)."""
from __future__ import annotations

from .errors import SQMError

LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1", "[::1]")


def local_host(host_header: str) -> bool:
    """Whether a ``Host`` header names this machine (with or without a port)."""
    h = (host_header or "").strip().lower()
    if h.startswith("["):  # [::1]:8866
        h = h[: h.find("]") + 1] if "]" in h else h
    elif h.count(":") == 1:
        h = h.split(":", 1)[0]
    return h in LOCAL_HOSTS


def check_bind_host(host: str, allow_remote: bool) -> None:
    """Stop with a clear error when listening on ``host`` would expose the data beyond this machine and
    ``allow_remote`` was not given."""
    if host not in ("127.0.0.1", "localhost", "::1") and not allow_remote:
        raise SQMError(f"serving on {host} would expose the data beyond this machine; add --allow-remote if "
                       "that is intended")


MIN_TOKEN = 16  # characters of an access token given with --token


def check_port(port: int) -> None:
    """A port is a number from 1 to 65535 (never wrapped around to another one)."""
    if not isinstance(port, int) or not 1 <= port <= 65535:
        raise SQMError(f"--port must be a number from 1 to 65535, not {port}")


def check_token(token: str | None) -> None:
    """A token of one's own must be long enough not to be guessed (a random one is made when none is given)."""
    if token is not None and len(token) < MIN_TOKEN:
        raise SQMError(f"--token must have at least {MIN_TOKEN} characters (it is the only key to the data); "
                       "leave it out for a random one")


def bind(host: str, port: int):
    """Listening sockets for ``host:port``; a port in use is a clear error, never a silent move elsewhere."""
    import socket

    from tornado.netutil import bind_sockets

    check_port(port)

    try:
        return bind_sockets(port, address=host, family=socket.AF_UNSPEC)
    except OSError as exc:
        raise SQMError(f"cannot listen on {host}:{port}: {exc.strerror or exc}"
                       + (" (the port is in use: choose another with --port)" if exc.errno in (98, 48) else "")) \
            from None
