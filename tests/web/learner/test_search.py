from __future__ import annotations

from flask.testing import FlaskClient


def test_search_page_shows_hits_with_links(as_trainee: FlaskClient):
    html = as_trainee.get("/search?q=擔保").get_data(as_text=True)
    assert 'href="/modules/beta/only"' in html
    assert "<mark>擔保</mark>" in html


def test_search_escapes_the_query(as_trainee: FlaskClient):
    html = as_trainee.get("/search?q=<script>alert(1)</script>").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;" in html


def test_search_needs_sign_in(client: FlaskClient):
    assert client.get("/search?q=微貸").status_code == 302
