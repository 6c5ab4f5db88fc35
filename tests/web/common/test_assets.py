"""Static fingerprints, year-long caching and gzip (courseware/web/common/assets.py)."""

from __future__ import annotations

import gzip
import re

from tests.conftest import login

GZIP = {"Accept-Encoding": "gzip, deflate, br"}


def fetch(client, url: str, **kw):
    """A static file's response, its file closed (warnings are errors here)."""
    response = client.get(url, **kw)
    response.get_data()
    response.close()
    return response


def _css_url(client) -> str:
    page = client.get("/login").get_data(as_text=True)
    match = re.search(r'href="(/static/css/site\.css\?v=[0-9a-f]{12})"', page)
    assert match, "the stylesheet link carries no fingerprint"
    return match.group(1)


def test_fingerprinted_static_files_are_cached_for_a_year(client):
    url = _css_url(client)
    response = fetch(client, url)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"


def test_unversioned_or_stale_static_files_are_revalidated(client):
    for url in ("/static/css/site.css", "/static/css/site.css?v=000000000000"):
        response = fetch(client, url)
        assert response.status_code == 200
        assert "immutable" not in response.headers["Cache-Control"]
        assert "no-cache" in response.headers["Cache-Control"]


def test_static_files_are_gzipped_once_and_revalidate(client):
    url = _css_url(client)
    plain = fetch(client, url).data
    packed = fetch(client, url, headers=GZIP)
    assert packed.headers["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in packed.headers["Vary"]
    assert gzip.decompress(packed.data) == plain
    assert len(packed.data) < len(plain) / 2
    etag = packed.headers["ETag"]
    assert etag.startswith('W/"')
    again = fetch(client, url, headers={**GZIP, "If-None-Match": etag})
    assert again.status_code == 304


def test_pages_are_gzipped_when_accepted_and_large_enough(client, users, course):
    login(client, "trainee")
    packed = client.get("/modules/alpha/first", headers=GZIP)
    assert packed.headers["Content-Encoding"] == "gzip"
    html = gzip.decompress(packed.data).decode()
    assert "</html>" in html
    plain = client.get("/modules/alpha/first")
    assert "Content-Encoding" not in plain.headers
    small = client.get("/healthz", headers=GZIP)
    assert "Content-Encoding" not in small.headers  # too small to be worth it


def test_downloads_are_not_gzipped(client, users, course):
    login(client, "hr")
    response = client.get("/hr/learners/export.xlsx", headers=GZIP)
    assert response.status_code == 200
    assert "Content-Encoding" not in response.headers


def test_static_files_do_not_vary_on_the_session_cookie(client, users):
    url = _css_url(client)
    login(client, "trainee")
    response = fetch(client, url)
    assert "Cookie" not in response.headers.get("Vary", "")
    assert "Set-Cookie" not in response.headers
    page = client.get("/")
    assert "Cookie" in page.headers["Vary"]  # pages do
