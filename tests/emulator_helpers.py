"""Helpers for the tests that start the local emulator."""

from __future__ import annotations

import socket


def port_open(port: int) -> bool:
    """Whether something answers on 127.0.0.1:port (the emulator, until it is stopped)."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False
