"""The knowledge base in the REST API: a key acting as an agent reads internal articles too, a
system key only what a visitor reads; an internal article is 404 to a system key; the scope is
required; search finds by words of the text."""

from __future__ import annotations

import pytest

from tessera.api import keys
from tessera.api.models import Scope


@pytest.fixture
def call(client, desk):
    made = iter(range(1000))

    def make(agent=None, scopes=(Scope.TICKETS_READ,)):
        _key, secret = keys.issue_key(
            name=f"kb key {next(made)}", created_by=desk.admin, agent=agent, scopes=list(scopes)
        )

        def get(path: str, **params):
            return client.get("/api/v1/kb" + path, params, headers={"Authorization": f"Bearer {secret}"})

        return get

    return make


def test_an_agent_key_reads_internal_articles_a_system_key_public_ones_only(desk, kb, call):
    as_john, as_system = call(desk.john), call()
    assert {a["title"] for a in as_john("/articles").json()["items"]} == {
        kb.jam.title,
        kb.vendor.title,
        kb.hidden_place.title,
    }
    public = as_system("/articles").json()["items"]
    assert [a["title"] for a in public] == [kb.jam.title]
    assert public[0]["body"].startswith("Open the front cover") and "<strong>tray 2</strong>" in public[0]["body_html"]
    assert as_system(f"/articles/{kb.vendor.pk}").status_code == 404
    assert as_john(f"/articles/{kb.vendor.pk}").json()["is_public"] is False
    assert [c["name"] for c in as_system("/categories").json()["items"]] == ["Printing"]


def test_search_and_the_scope(desk, kb, call):
    as_system = call()
    assert [a["id"] for a in as_system("/articles", q="torn paper").json()["items"]] == [kb.jam.pk]
    assert as_system("/articles", q="vendor").json()["items"] == []
    assert call(scopes=(Scope.USERS_READ,))("/articles").status_code == 403


def test_a_category_filter_lists_that_category_and_an_id_no_row_can_have_lists_nothing(desk, kb, call):
    as_john = call(desk.john)
    assert {a["title"] for a in as_john("/articles", category=kb.internal.pk).json()["items"]} == {
        kb.hidden_place.title
    }
    for impossible in (0, -1, 2**63, 10**30):
        answer = as_john("/articles", category=impossible)
        assert answer.status_code == 200 and answer.json()["items"] == [], impossible
        assert as_john(f"/articles/{impossible}").status_code == 404, impossible
