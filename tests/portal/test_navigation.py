"""The Help Center's navigation marks the page you are on, and only that one."""

import re

import pytest


@pytest.mark.parametrize(
    ("path", "current"),
    [("/", "Open a ticket"), ("/kb/", "Help articles"), ("/status/", "Find my tickets"), ("/login/", "Sign in")],
)
def test_only_the_page_you_are_on_is_marked_current(client, db, path, current):
    html = client.get(path).content.decode()
    nav = html.split('<nav aria-label="Portal">', 1)[1].split("</nav>", 1)[0]
    assert re.findall(r'aria-current="page">([^<]+)<', nav) == [current]
