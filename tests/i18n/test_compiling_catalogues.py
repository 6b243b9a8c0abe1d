"""The catalogues compile on any machine: with GNU msgfmt where it is installed, in pure Python
(polib) where it is not, and either way Django reads the result."""

from __future__ import annotations

import gettext

from django.core.management import call_command

from .conftest import write_catalogue


def test_the_pure_python_compiler_writes_a_catalogue_gettext_reads(settings, tmp_path):
    po_path = write_catalogue(tmp_path, "fr", {"Open a ticket": "Ouvrir un ticket", "Untranslated": ""})
    settings.LOCALE_PATHS = [tmp_path]

    call_command("compilemessages", "--pure-python", verbosity=0)

    with po_path.with_suffix(".mo").open("rb") as compiled:
        catalogue = gettext.GNUTranslations(compiled)
    assert catalogue.gettext("Open a ticket") == "Ouvrir un ticket"
    assert catalogue.gettext("Untranslated") == "Untranslated"


def test_without_msgfmt_the_command_falls_back_to_python(settings, tmp_path, monkeypatch):
    from tessera.i18n.management.commands import compilemessages

    po_path = write_catalogue(tmp_path, "es", {"Open a ticket": "Abrir un ticket"})
    settings.LOCALE_PATHS = [tmp_path]
    monkeypatch.setattr(compilemessages, "find_command", lambda name: None)

    call_command("compilemessages", verbosity=0)

    assert po_path.with_suffix(".mo").exists()


def test_only_the_desks_own_catalogues_are_compiled(settings, tmp_path, monkeypatch):
    ours = write_catalogue(tmp_path / "ours", "de", {"Open a ticket": "Ticket eröffnen"})
    elsewhere = write_catalogue(tmp_path / "elsewhere" / "locale", "de", {"x": "y"})
    settings.LOCALE_PATHS = [tmp_path / "ours"]
    monkeypatch.chdir(tmp_path / "elsewhere")

    call_command("compilemessages", "--pure-python", verbosity=0)

    assert ours.with_suffix(".mo").exists() and not elsewhere.with_suffix(".mo").exists()


def test_the_shipped_catalogues_are_there_for_every_shipped_language(settings):
    from pathlib import Path

    base = Path(settings.BASE_DIR) / "locale"
    for code, _name in settings.LANGUAGES:
        if code != settings.LANGUAGE_CODE:
            assert (base / code / "LC_MESSAGES" / "django.po").exists(), code
