"""A real IMAP server for the mail tests: Debian's dovecot, started rootless on 127.0.0.1."""

from __future__ import annotations

import grp
import imaplib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.conftest import free_port

SPARE_ACCOUNTS = 100
CONFIG = """\
protocols = imap
listen = 127.0.0.1
base_dir = {d}/run
state_dir = {d}/state
log_path = {d}/dovecot.log
{ssl}
disable_plaintext_auth = no
auth_mechanisms = plain login
# Tests log in with wrong passwords on purpose: no delay after a failure, and (anvil-auth-penalty
# below, mode 0) no growing per-IP penalty that would slow every later login.
auth_failure_delay = 0
default_internal_user = {user}
default_internal_group = {group}
default_login_user = {user}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {d}/passwd
}}
userdb {{
  driver = static
  args = uid={user} gid={group} home={d}/mail/%u
}}
mail_location = maildir:~/Maildir
namespace inbox {{
  inbox = yes
  separator = /
}}
service anvil {{
  chroot =
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {tls_port}
  }}
}}
"""


SSL = """\
ssl = yes
ssl_cert = <{d}/server.pem
ssl_key = <{d}/server.key
"""


@dataclass
class Dovecot:
    """A running dovecot and one account on it. `account()` adds a fresh, empty account, so a
    test that wants a mailbox of its own never sees another test's mail.

    `port` speaks plain IMAP and STARTTLS; `tls_port` speaks IMAPS. Their certificate, for
    127.0.0.1, is signed by a throw-away CA in `ca_file` that nothing trusts unless a test says
    so (SSL_CERT_FILE). Both are None when openssl is missing, and only TLS tests skip then."""

    host: str
    port: int
    user: str
    password: str
    directory: Path = field(repr=False)
    owner: tuple[int, int] = field(repr=False)
    tls_port: int | None = None
    ca_file: Path | None = None
    # Accounts written before the server started, handed out by account() without waiting.
    spare: list[tuple[str, str]] = field(default_factory=list, repr=False)

    def account(self) -> Dovecot:
        if self.spare:
            user, password = self.spare.pop()
        else:
            user, password = f"desk-{uuid.uuid4().hex[:12]}@example.test", uuid.uuid4().hex
            _add_users(self.directory / "passwd", [(user, password)], self.owner)
        account = Dovecot(self.host, self.port, user, password, self.directory, self.owner, self.tls_port, self.ca_file)
        account._wait_for_login()
        return account

    def _wait_for_login(self) -> None:
        # dovecot looks at a changed passwd file at most once a second.
        deadline = time.monotonic() + 5
        while True:
            try:
                self.client().logout()
                return
            except imaplib.IMAP4.error:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)

    def client(self) -> imaplib.IMAP4:
        imap = imaplib.IMAP4(self.host, self.port, timeout=10)
        imap.login(self.user, self.password)
        return imap

    def append(self, raw: bytes, *, folder: str = "INBOX", seen: bool = False) -> None:
        """Deliver a message the way a mail server would: straight into the folder."""
        imap = self.client()
        try:
            typ, data = imap.append(folder, r"(\Seen)" if seen else None, None, raw)
            assert typ == "OK", data
        finally:
            imap.logout()

    def flags(self, folder: str = "INBOX") -> list[set[str]]:
        """Each message's flags in the folder, in arrival order (empty when the folder is missing)."""
        imap = self.client()
        try:
            typ, data = imap.select(f'"{folder}"', readonly=True)
            if typ != "OK" or int(data[0]) == 0:
                return []
            typ, data = imap.fetch("1:*", "(FLAGS)")
            return [{flag.decode() for flag in imaplib.ParseFlags(item)} for item in data if item]
        finally:
            imap.logout()


def _add_users(path: Path, users: list[tuple[str, str]], owner: tuple[int, int]) -> None:
    # Replaced by rename, so dovecot sees a new file and reads it again at a later login.
    lines = path.read_text() if path.exists() else ""
    new = path.with_suffix(".new")
    new.write_text(lines + "".join(f"{user}:{{PLAIN}}{password}::::::\n" for user, password in users))
    os.chown(new, *owner)
    new.replace(path)


def _certificates(directory: Path) -> bool:
    """A CA and a server certificate for 127.0.0.1 signed by it; False without openssl."""
    openssl = shutil.which("openssl")
    if openssl is None:
        return False
    (directory / "server.ext").write_text(
        "subjectAltName=IP:127.0.0.1\nbasicConstraints=critical,CA:FALSE\n"
        "keyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n"
        "authorityKeyIdentifier=keyid,issuer\nsubjectKeyIdentifier=hash\n"
    )
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    steps = [
        [
            *("req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=Tessera test CA"),
            # Python 3.13 verifies strictly (VERIFY_X509_STRICT): a CA must say it signs certificates.
            *("-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"),
        ],
        ["req", *ec, "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=127.0.0.1"],
        [
            *("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial"),
            *("-out", "server.pem", "-days", "2", "-extfile", "server.ext"),
        ],
    ]
    for step in steps:
        subprocess.run([openssl, *step], cwd=directory, check=True, capture_output=True)
    return True


def _binary() -> str | None:
    return shutil.which("dovecot") or next((p for p in ("/usr/sbin/dovecot",) if os.access(p, os.X_OK)), None)


def _wait_until_listening(process: subprocess.Popen, port: int, log: Path) -> None:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"dovecot exited with {process.returncode}: {log.read_text() if log.exists() else ''}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"dovecot did not listen on 127.0.0.1:{port}: {log.read_text() if log.exists() else ''}")


@pytest.fixture(scope="session")
def dovecot():
    """dovecot on a free port of 127.0.0.1 with one account; stopped and removed afterwards.

    As root it runs as nobody (dovecot refuses a root login process); otherwise as whoever runs
    the tests. Its folder comes from mkdtemp, not tmp_path: pytest's temp root is private to the
    test user and nobody could not enter it."""
    binary = _binary()
    if binary is None:
        pytest.skip("dovecot is not installed (apt-get install dovecot-imapd; .ci/run installs it)")
    if os.geteuid() == 0:
        user, group = "nobody", "nogroup"
    else:
        user, group = pwd.getpwuid(os.getuid()).pw_name, grp.getgrgid(os.getgid()).gr_name
    owner = (pwd.getpwnam(user).pw_uid, grp.getgrnam(group).gr_gid)
    directory = Path(tempfile.mkdtemp(prefix="tessera-dovecot-"))
    process = None
    try:
        server = _configure(directory, user, group, owner)
        process = subprocess.Popen(
            [binary, "-F", "-c", str(directory / "dovecot.conf")],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            **({"user": user, "group": group} if os.geteuid() == 0 else {}),
        )
        for port in (server.port, server.tls_port):
            if port:
                _wait_until_listening(process, port, directory / "dovecot.log")
        yield server
    finally:
        if process is not None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        shutil.rmtree(directory, ignore_errors=True)


def _configure(directory: Path, user: str, group: str, owner: tuple[int, int]) -> Dovecot:
    """Write the configuration, certificates and accounts, all owned by the server's user."""
    port = free_port()
    tls = _certificates(directory)
    tls_port = 0
    while tls and tls_port in (0, port):
        tls_port = free_port()
    (directory / "dovecot.conf").write_text(
        CONFIG.format(
            d=directory,
            user=user,
            group=group,
            port=port,
            tls_port=tls_port,
            ssl=SSL.format(d=directory) if tls else "ssl = no",
        )
    )
    for sub in ("run", "state", "mail"):
        (directory / sub).mkdir()
    server = Dovecot("127.0.0.1", port, "support@example.test", "imap secret", directory, owner)
    if tls:
        server.tls_port, server.ca_file = tls_port, directory / "ca.pem"
    server.spare = [(f"desk-{n}@example.test", uuid.uuid4().hex) for n in range(SPARE_ACCOUNTS)]
    _add_users(directory / "passwd", [(server.user, server.password), *server.spare], owner)
    for path in [directory, *directory.rglob("*")]:
        os.chown(path, *owner)
    return server
