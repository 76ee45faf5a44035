"""free_port: the addresses the stacks of one test session are given never coincide."""

from __future__ import annotations

import socket

from runtime.pgserver import free_port


def test_ports_handed_out_are_never_handed_out_again() -> None:
    # The kernel hands just-released ports out again: 2,000 plain port-0 binds over its
    # ~14,000 candidates repeat about a hundred times.
    ports = [free_port() for _ in range(2000)]
    assert len(set(ports)) == len(ports)


def test_a_port_handed_out_can_be_bound() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", free_port()))
