"""Rebuild the knowledge base's search index (after restoring a database, or a damaged FTS5 table)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand
from django.db import transaction

from tessera.kb import search_index


class Command(BaseCommand):
    help = "Rebuild the knowledge base's search index."

    def handle(self, *args: Any, **options: Any) -> None:
        with transaction.atomic():
            count = search_index.rebuild()
        self.stdout.write(f"Indexed {count} knowledge-base articles.")
