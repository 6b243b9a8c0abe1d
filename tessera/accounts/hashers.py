"""Passwords brought over from osTicket keep working.

osTicket stores phpass bcrypt hashes (`$2a$08$…`, `$2y$` from newer PHP). The importer saves
them as `osticket_bcrypt$<hash>`; this hasher checks a password against them, and because it
comes after Argon2 in PASSWORD_HASHERS, Django re-hashes the password with Argon2 on the first
successful sign-in. It never makes new hashes of its own kind."""

from __future__ import annotations

from typing import Any

import bcrypt

from django.contrib.auth.hashers import BasePasswordHasher, mask_hash
from django.utils.crypto import constant_time_compare
from django.utils.translation import gettext_noop as _

PREFIXES = ("$2a$", "$2b$", "$2y$")


class OsTicketBcryptPasswordHasher(BasePasswordHasher):
    algorithm = "osticket_bcrypt"

    def salt(self) -> str:
        return ""

    def encode(self, password: str, salt: str) -> str:
        # Only for Django's timing equaliser; a real password is always re-hashed with Argon2.
        hashed = bcrypt.hashpw(password.encode()[:72], bcrypt.gensalt(rounds=8)).decode()
        return f"{self.algorithm}${hashed}"

    def verify(self, password: str, encoded: str) -> bool:
        algorithm, _sep, hashed = encoded.partition("$")
        if algorithm != self.algorithm or not hashed.startswith(PREFIXES):
            return False
        # PHP's crypt() calls the variants $2a$ / $2y$; the library knows them as $2b$.
        normalised = ("$2b$" + hashed[4:]).encode()
        try:
            computed = bcrypt.hashpw(password.encode()[:72], normalised)
        except ValueError:
            return False
        return constant_time_compare(computed, normalised)

    def safe_summary(self, encoded: str) -> dict[Any, Any]:
        _algorithm, _sep, hashed = encoded.partition("$")
        return {_("algorithm"): self.algorithm, _("hash"): mask_hash(hashed)}

    def must_update(self, encoded: str) -> bool:
        return True

    def harden_runtime(self, password: str, encoded: str) -> None:
        pass
