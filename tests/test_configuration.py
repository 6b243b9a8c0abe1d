"""Settings come from the environment, and the suite runs on the database CI asked for."""

import os

import pytest

from django.db import connection

from tessera import conf


def test_suite_runs_on_the_database_named_by_database_url():
    url = os.environ.get("DATABASE_URL", "")
    expected = "postgresql" if url.startswith(("postgres://", "postgresql://")) else "sqlite"
    assert connection.vendor == expected


def test_without_email_url_mail_is_kept_in_the_data_folder(tmp_path):
    mailers = conf.mailers("", tmp_path)
    assert mailers["default"]["BACKEND"].endswith("filebased.EmailBackend")
    assert mailers["default"]["OPTIONS"]["file_path"] == str(tmp_path / "mail")


@pytest.mark.parametrize(
    ("url", "port", "tls", "ssl"),
    [
        ("smtp://mailer:s3cret@mail.internal:2525", 2525, False, False),
        ("smtp+tls://mailer:s3cret@mail.internal:587", 587, True, False),
        ("smtp+ssl://mailer:s3cret@mail.internal:465", 465, False, True),
    ],
)
def test_email_url_becomes_an_smtp_mailer(tmp_path, url, port, tls, ssl):
    options = conf.mailers(url, tmp_path)["default"]["OPTIONS"]
    assert options["host"] == "mail.internal"
    assert options["port"] == port
    assert (options["use_tls"], options["use_ssl"]) == (tls, ssl)
    assert (options["username"], options["password"]) == ("mailer", "s3cret")


def test_a_generated_secret_key_is_kept_between_starts(tmp_path):
    first = conf.secret_key("", tmp_path)
    assert len(first) >= 50
    assert conf.secret_key("", tmp_path) == first
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


def test_a_given_secret_key_wins(tmp_path):
    assert conf.secret_key("given-key", tmp_path) == "given-key"
    assert not (tmp_path / "secret_key").exists()
