"""`manage.py compilemessages` that works on any machine, with or without GNU gettext.

Django's own command needs `msgfmt` and walks every folder under the current one (the
virtualenv's packages included). The desk's catalogues are only those in LOCALE_PATHS, so this
compiles just them: with `msgfmt --check-format` where it is installed (it also catches a
translator's broken `%(name)s`), else with polib, in pure Python, so `make run` and `make test`
serve translated pages on a fresh machine too.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import polib  # type: ignore[import-untyped]  # no stubs; one call

from django.conf import settings
from django.core.management.base import CommandError, CommandParser
from django.core.management.commands import compilemessages
from django.core.management.utils import find_command


def compile_with_polib(po_path: Path, mo_path: Path, *, use_fuzzy: bool = False) -> None:
    """Write the .mo GNU gettext would, from the translated entries (fuzzy ones only if asked)."""
    catalogue = polib.pofile(str(po_path), wrapwidth=0)
    if use_fuzzy:  # polib, like msgfmt, leaves fuzzy entries out unless they stop being fuzzy
        for entry in catalogue.fuzzy_entries():
            entry.flags.remove("fuzzy")
    catalogue.save_as_mofile(str(mo_path))


class Command(compilemessages.Command):
    help = "Compiles the desk's .po catalogues (LOCALE_PATHS) to .mo, with msgfmt or in pure Python."

    def add_arguments(self, parser: CommandParser) -> None:
        super().add_arguments(parser)
        parser.add_argument(
            "--pure-python",
            action="store_true",
            help="Compile with polib even where msgfmt is installed.",
        )

    def handle(self, **options: Any) -> None:
        self.verbosity = options["verbosity"]
        if options["fuzzy"]:
            self.program_options = [*self.program_options, "-f"]
        wanted = set(options["locale"]) - set(options["exclude"])
        locations: list[tuple[str | os.PathLike[str], str | os.PathLike[str]]] = []
        for base in map(Path, settings.LOCALE_PATHS):
            for po_path in sorted(base.glob("*/LC_MESSAGES/*.po")):
                language = po_path.parent.parent.name
                if (not wanted or language in wanted) and language not in options["exclude"]:
                    locations.append((str(po_path.parent), po_path.name))
        if not locations:
            return
        self.has_errors = False
        if options["pure_python"] or find_command(self.program) is None:
            self.compile_in_python(locations, use_fuzzy=options["fuzzy"])
        else:
            self.compile_messages(locations)
        if self.has_errors:
            raise CommandError("compilemessages generated one or more errors.")

    def compile_in_python(
        self, locations: list[tuple[str | os.PathLike[str], str | os.PathLike[str]]], *, use_fuzzy: bool
    ) -> None:
        for directory, name in locations:
            po_path = Path(directory) / Path(name)
            mo_path = po_path.with_suffix(".mo")
            if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
                continue
            if self.verbosity > 0:
                self.stdout.write(f"processing file {po_path.name} in {po_path.parent} (polib)")
            try:
                compile_with_polib(po_path, mo_path, use_fuzzy=use_fuzzy)
            except (OSError, ValueError) as exc:
                self.stderr.write(f"Could not compile {po_path}: {exc}")
                self.has_errors = True
