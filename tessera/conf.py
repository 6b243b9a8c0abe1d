"""Turning environment variables into Django settings; pure functions so they can be tested."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

import environ


def secret_key(given: str, data_dir: Path) -> str:
    """Use the given key; otherwise generate one once and keep it in the data folder, so
    sessions and access links survive restarts without anyone having to invent a key."""
    if given:
        return given
    path = data_dir / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


def mailers(email_url: str, data_dir: Path) -> dict[str, dict[str, Any]]:
    """EMAIL_URL in django-environ's form (smtp://user:pass@host:port, smtp+tls://…, smtp+ssl://…)
    becomes Django 6.1's MAILERS; without it every message is written to the data folder,
    so nothing is lost while mail is not set up."""
    if not email_url:
        return {
            "default": {
                "BACKEND": "django.core.mail.backends.filebased.EmailBackend",
                "OPTIONS": {"file_path": str(data_dir / "mail")},
            }
        }
    cfg = environ.Env.email_url_config(email_url)
    backend = cfg["EMAIL_BACKEND"]
    if backend != "django.core.mail.backends.smtp.EmailBackend":
        return {"default": {"BACKEND": backend, "OPTIONS": {}}}
    options = {
        "host": cfg.get("EMAIL_HOST") or "127.0.0.1",
        "port": int(cfg.get("EMAIL_PORT") or 25),
        "use_tls": bool(cfg.get("EMAIL_USE_TLS")),
        "use_ssl": bool(cfg.get("EMAIL_USE_SSL")),
        "timeout": 20,
    }
    if cfg.get("EMAIL_HOST_USER"):
        options["username"] = cfg["EMAIL_HOST_USER"]
        options["password"] = cfg.get("EMAIL_HOST_PASSWORD") or ""
    return {"default": {"BACKEND": backend, "OPTIONS": options}}
