"""A host's address as a profile or the command line gives it: ``local`` or ``ssh://...``."""

from __future__ import annotations

from typing import Literal
from urllib.parse import parse_qs, unquote, urlsplit

from katatui.core.schema import SecretValueError, Strict


class Address(Strict):
    kind: Literal["local", "ssh"]
    host: str = ""
    user: str | None = None
    port: int | None = None
    docker_socket: str | None = None


def parse_address(text: str) -> Address:
    """Parse ``local`` or ``ssh://[user@]host[:port][?docker_socket=/path]``."""
    if text == "local":
        return Address(kind="local")
    parts = urlsplit(text)
    if parts.password is not None:
        user = unquote(parts.username or "")
        where = f"ssh://{user}:…@{parts.hostname or ''}"
        raise SecretValueError(
            f"{where}: a password in the address is refused, and never used nor stored; katatui signs "
            "in with SSH keys: load yours into ssh-agent (ssh-add), or name it with IdentityFile for "
            "that host in ~/.ssh/config, then give the address without the password"
        )
    if parts.scheme != "ssh" or not parts.hostname:
        raise ValueError(f"expected 'local' or 'ssh://[user@]host[:port]', got {text!r}")
    try:
        port = parts.port
    except ValueError as exc:
        raise ValueError(f"bad port in {text!r}: {exc}") from None
    query = parse_qs(parts.query)
    unknown = set(query) - {"docker_socket"}
    if unknown:
        raise ValueError(f"unknown option(s) {sorted(unknown)} in {text!r}; known: docker_socket")
    sock = query.get("docker_socket", [None])[0]
    if sock is not None and not sock.startswith("/"):
        raise ValueError(f"docker_socket must be an absolute path, got {sock!r}")
    return Address(
        kind="ssh",
        host=parts.hostname,
        user=unquote(parts.username) if parts.username else None,
        port=port,
        docker_socket=sock,
    )
