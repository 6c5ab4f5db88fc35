"""The client's address behind a reverse proxy: X-Forwarded-For is believed only from the
proxies COURSEWARE_TRUSTED_PROXIES names, so the per-address sign-in limit counts each
visitor behind the proxy apart, and a visitor cannot pick their own address."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from courseware import create_app
from tests.conftest import DATA, login

WRONG = "not my password at all"


@pytest.fixture
def proxied(app: Flask, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Flask]:
    """The site behind a proxy at 10.0.0.5 (and any address in 192.168.50.0/24)."""
    monkeypatch.setenv("COURSEWARE_TRUSTED_PROXIES", "10.0.0.5, 192.168.50.0/24")
    site = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": app.config["DATABASE_URL"],
            "SECRET_KEY": "test-secret-key",
            "INSTANCE_PATH": str(tmp_path / "proxied"),
            "CONTENT_DIR": str(DATA / "content"),
            "LOGIN_LIMIT": "3 per minute",
        }
    )
    yield site
    site.extensions["courseware.core.db"].engine.dispose()


def _attempt(site: Flask, peer: str, forwarded: str | None, name: str) -> int:
    client = site.test_client()
    client.environ_base["REMOTE_ADDR"] = peer
    if forwarded is not None:
        client.environ_base["HTTP_X_FORWARDED_FOR"] = forwarded
    return login(client, name, password=WRONG).status_code


def test_visitors_behind_a_trusted_proxy_are_counted_apart(proxied: Flask):
    statuses = [_attempt(proxied, "10.0.0.5", f"198.51.100.{n}", f"user-{n}") for n in range(8)]
    assert statuses == [200] * 8
    # ... while one visitor behind it is still held to the limit.
    same = [_attempt(proxied, "10.0.0.5", "198.51.100.77", f"other-{n}") for n in range(4)]
    assert same == [200, 200, 200, 429]


def test_a_trusted_network_works_like_a_trusted_address(proxied: Flask):
    statuses = [_attempt(proxied, "192.168.50.9", f"198.51.100.{n}", f"u-{n}") for n in range(5)]
    assert statuses == [200] * 5


def test_a_spoofed_forwarded_for_from_an_untrusted_peer_is_ignored(proxied: Flask):
    statuses = [_attempt(proxied, "203.0.113.9", f"198.51.100.{n}", f"spoof-{n}") for n in range(4)]
    assert statuses == [200, 200, 200, 429]


def test_a_spoofed_address_prepended_before_the_proxy_s_own_is_ignored(proxied: Flask):
    # The proxy appends the address it saw; what the visitor sent stays in front of it.
    statuses = [
        _attempt(proxied, "10.0.0.5", f"198.51.100.{n}, 203.0.113.9", f"chain-{n}")
        for n in range(4)
    ]
    assert statuses == [200, 200, 200, 429]


def test_without_trusted_proxies_forwarded_for_is_ignored(app: Flask):
    app.config["LOGIN_LIMIT"] = "3 per minute"
    statuses = [_attempt(app, "203.0.113.9", f"198.51.100.{n}", f"n-{n}") for n in range(4)]
    assert statuses == [200, 200, 200, 429]


def test_a_misspelt_trusted_proxy_stops_the_start(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("COURSEWARE_TRUSTED_PROXIES", "10.0.0.300")
    with pytest.raises(RuntimeError, match="COURSEWARE_TRUSTED_PROXIES"):
        create_app({"TESTING": True, "DATABASE_URL": "sqlite://", "SECRET_KEY": "x"})
