from __future__ import annotations

import json
from typing import Any

import pytest

from services.audit.siem.settings import ENV, ConfigError, Destination, Settings


def configured(*destinations: dict[str, Any]) -> tuple[Destination, ...]:
    return Settings.from_env({ENV: json.dumps(list(destinations))}).destinations


def refusal(*destinations: dict[str, Any]) -> str:
    with pytest.raises(ConfigError) as caught:
        configured(*destinations)
    return str(caught.value)


def test_no_variable_or_an_empty_one_means_no_forwarding() -> None:
    assert Settings.from_env({}).destinations == ()
    assert Settings.from_env({ENV: "  "}).destinations == ()
    assert configured() == ()


def test_a_tls_destination_is_read_with_defaults_for_what_it_leaves_out() -> None:
    (soc,) = configured(
        {
            "name": "soc",
            "transport": "tls",
            "host": "siem.example",
            "port": 6514,
            "ca_file": "/etc/ca.pem",
            "hostname": "audit-1",
        }
    )

    assert soc == Destination(
        "soc",
        "tls",
        "rfc5424",
        host="siem.example",
        port=6514,
        ca_file="/etc/ca.pem",
        hostname="audit-1",
    )
    assert (soc.facility, soc.confirm_after_s, soc.batch_size) == (13, 2.0, 500)


def test_the_hostname_defaults_to_this_machine_and_http_to_json() -> None:
    (hec,) = configured(
        {
            "name": "hec",
            "transport": "http",
            "url": "https://hec.example/services/collector",
            "token_file": "/run/secrets/hec",
        }
    )

    assert hec.format == "json"
    assert hec.hostname


def test_relp_destinations_are_read_with_a_window_of_128_unless_told() -> None:
    plain, secure = configured(
        {"name": "relp", "transport": "relp", "host": "siem.example", "port": 2514},
        {
            "name": "relps",
            "transport": "relp+tls",
            "host": "siem.example",
            "port": 6514,
            "ca_file": "/etc/ca.pem",
            "cert_file": "/etc/c.pem",
            "key_file": "/etc/c.key",
            "format": "cef",
            "window": 16,
        },
    )

    assert (plain.format, plain.window, plain.tls) == ("rfc5424", 128, False)
    assert (secure.format, secure.window, secure.tls) == ("cef", 16, True)


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        (
            {"name": "x", "transport": "relp", "host": "h", "port": 1, "ca_file": "c"},
            "ca_file, cert_file and key_file need transport tls or relp+tls",
        ),
        ({"name": "x", "transport": "relp", "host": "h", "port": 1, "window": 0}, "window must"),
        ({"name": "x", "transport": "relp+tls", "port": 1}, "relp+tls needs a host"),
        (
            {"name": "x", "transport": "relp", "host": "h", "port": 1, "format": "json"},
            "format 'json' cannot go over relp (rfc5424 or cef)",
        ),
        ({"name": "x", "transport": "udp", "host": "h", "port": 514}, "unknown transport 'udp'"),
        ({"name": "x", "transport": "tcp", "port": 514}, "tcp needs a host"),
        ({"name": "x", "transport": "tls", "host": "h"}, "tls needs a port"),
        (
            {"name": "x", "transport": "tcp", "host": "h", "port": 1, "format": "json"},
            "format 'json' cannot go over tcp",
        ),
        ({"name": "x", "transport": "http", "url": "ftp://h", "token_file": "t"}, "needs a url"),
        ({"name": "x", "transport": "http", "url": "https://h"}, "needs a token_file"),
        (
            {"name": "x", "transport": "tls", "host": "h", "port": 1, "cert_file": "c"},
            "cert_file and key_file go together",
        ),
        ({"name": "x", "transport": "tcp", "host": "h", "port": "514"}, "port must be an integer"),
        ({"name": "x", "transport": "tcp", "host": "h", "port": 1, "facility": 24}, "facility"),
        (
            {"name": "x", "transport": "tcp", "host": "h", "port": 1, "confirm_after_s": 0},
            "confirm_after_s must be positive",
        ),
        (
            {"name": "x", "transport": "tcp", "host": "h", "port": 1, "hots": "h"},
            "unknown key(s) hots",
        ),
        ({"transport": "tcp", "host": "h", "port": 1}, "name is required"),
    ],
)
def test_a_wrong_destination_is_refused_with_the_entry_and_the_reason(
    entry: dict[str, Any], message: str
) -> None:
    text = refusal(entry)

    assert text.startswith(f"{ENV}[0]")
    assert message in text


def test_names_must_be_unique_and_the_value_must_be_a_json_list() -> None:
    entry = {"name": "soc", "transport": "tcp", "host": "h", "port": 1}

    assert "names must be unique (soc)" in refusal(entry, entry)
    with pytest.raises(ConfigError, match="not valid JSON"):
        Settings.from_env({ENV: "[{"})
    with pytest.raises(ConfigError, match="must be a JSON list"):
        Settings.from_env({ENV: json.dumps(entry)})
