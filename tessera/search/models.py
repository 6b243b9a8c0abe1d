"""One search document per ticket, and the bookkeeping that keeps it current cheaply.

The row exists on both databases. On PostgreSQL `document` holds the ticket's tsvector (GIN
indexed); on SQLite it stays NULL and the text lives in the FTS5 table `search_fts` (rowid =
ticket id), created by this app's migration. The other columns let `index.index_ticket` append
a new reply's text instead of re-reading a long thread: see that module for the rules.
"""

from __future__ import annotations

from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVectorField
from django.db import models
from django.utils.translation import gettext_lazy as _


class TicketDocument(models.Model):
    ticket = models.OneToOneField(
        "tickets.Ticket", primary_key=True, on_delete=models.CASCADE, related_name="search_document"
    )
    # PostgreSQL only (NULL on SQLite, whose text is in the FTS5 table search_fts).
    document = SearchVectorField(null=True)
    # The header text as last indexed (number, subject, requester, organisation): when it
    # differs from the ticket's, the document is rebuilt rather than appended to.
    head = models.TextField(default="", blank=True)
    # The thread entries folded in so far: the highest id and how many. New entries (id above
    # last_entry_id) are appended; a different count of older ones (a merge moved entries in or
    # out) forces a rebuild.
    last_entry_id = models.BigIntegerField(default=0)
    entry_count = models.PositiveIntegerField(default=0)
    # Characters of entry text indexed so far, capped by index.MAX_BODY_CHARS.
    indexed_chars = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("search document")
        verbose_name_plural = _("search documents")
        indexes = [GinIndex(fields=["document"], name="search_document_gin")]

    def __str__(self) -> str:
        return f"search document of ticket {self.ticket_id}"
