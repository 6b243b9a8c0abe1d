"""A small German catalogue for the tests, compiled the way a machine without GNU gettext does.

The shipped catalogues may be untranslated while the translators work; these tests must still
see a German word go out. The fixture puts its own catalogue in front of LOCALE_PATHS (Django
drops its loaded catalogues when that setting changes), so a test can assert on German text
whatever locale/ holds. Once the real German catalogue lands, tests can assert on its words
too, without this fixture."""

from __future__ import annotations

from pathlib import Path

import polib  # type: ignore[import-untyped]
import pytest

from tessera.i18n.management.commands.compilemessages import compile_with_polib

# msgid → German, for strings the tests look for (copied from the templates' msgids).
GERMAN = {
    "Open a ticket": "Ticket eröffnen",
    "Your profile": "Ihr Profil",
    "Re: %(s)s": "AW: %(s)s",
    "We received your request: %(s)s": "Wir haben Ihre Anfrage erhalten: %(s)s",
    "This ticket is now resolved. If something is still not right, just reply and it reopens.": (
        "Dieses Ticket ist jetzt gelöst. Antworten Sie einfach, falls noch etwas nicht stimmt."
    ),
}


def write_catalogue(base: Path, language: str, entries: dict[str, str]) -> Path:
    catalogue = polib.POFile()
    catalogue.metadata = {
        "Content-Type": "text/plain; charset=UTF-8",
        "Language": language,
        "Plural-Forms": "nplurals=2; plural=(n != 1);",
    }
    for msgid, msgstr in entries.items():
        catalogue.append(polib.POEntry(msgid=msgid, msgstr=msgstr))
    folder = base / language / "LC_MESSAGES"
    folder.mkdir(parents=True)
    catalogue.save(str(folder / "django.po"))
    return folder / "django.po"


@pytest.fixture
def german_catalogue(settings, tmp_path):
    po_path = write_catalogue(tmp_path / "locale", "de", GERMAN)
    compile_with_polib(po_path, po_path.with_suffix(".mo"))
    settings.LOCALE_PATHS = [tmp_path / "locale", *settings.LOCALE_PATHS]
    return GERMAN
