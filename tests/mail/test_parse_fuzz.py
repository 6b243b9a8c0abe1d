"""Whatever bytes arrive, the parser answers: a message to file, or a kept rejection with a reason."""

from __future__ import annotations

from email.message import EmailMessage
from typing import cast

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tessera.mail.message import ParsedMessage
from tessera.mail.parse import parse


def _seeds() -> list[bytes]:
    plain = EmailMessage()
    plain["From"] = '"=?utf-8?q?J=C3=B6rg?=" <joerg@example.de>'
    plain["To"] = "help@desk.example, Olga <olga@x.example>"
    plain["Subject"] = "=?koi8-r?b?8NLJ18XU?= [#123456]"
    plain["Message-ID"] = "<seed@example.de>"
    plain["References"] = "<a@desk.example> <b@desk.example>"
    plain["Date"] = "Mon, 03 Jun 2024 10:00:00 +0200"
    plain.set_content("Grüße\n\nOn Mon, John wrote:\n> old\n")
    plain.add_alternative('<p>Grüße <img src="cid:i1"></p>', subtype="html")
    cast(list[EmailMessage], plain.get_payload())[1].add_related(b"\x89PNG", "image", "png", cid="<i1>")
    plain.add_attachment(b"%PDF", maintype="application", subtype="pdf", filename="Rechnung März.pdf")
    forwarded = EmailMessage()
    forwarded["From"] = "a@b.example"
    forwarded.set_content("fwd")
    forwarded.add_attachment(plain)
    bounce = (
        b"From: MAILER-DAEMON@mx.example\r\n"
        b"Content-Type: multipart/report; report-type=delivery-status; boundary=r\r\n\r\n"
        b"--r\r\nContent-Type: text/plain\r\n\r\nfailed\r\n--r\r\nContent-Type: message/delivery-status\r\n\r\n"
        b"Final-Recipient: rfc822; x@y.example\r\nAction: failed\r\nStatus: 5.1.1\r\n\r\n"
        b"--r\r\nContent-Type: text/rfc822-headers\r\n\r\nMessage-ID: <o@desk.example>\r\n--r--\r\n"
    )
    return [plain.as_bytes(), forwarded.as_bytes(), bounce]


SEEDS = _seeds()


LAST_RESORT = "Tessera could not read this message"


def _check(parsed: ParsedMessage) -> None:
    assert isinstance(parsed, ParsedMessage)
    # The catch-all in parse() is a safety net, not the way damage is handled: hitting it here
    # would mean a header or part that the careful path should have survived.
    assert not any(p.startswith(LAST_RESORT) for p in parsed.problems), parsed.problems
    if not parsed.is_message:
        assert parsed.problems  # a rejection always says why
    for value in (parsed.subject, parsed.text, parsed.html, parsed.message_id, parsed.bounce_text):
        assert "\x00" not in value
        value.encode("utf-8")  # storable in PostgreSQL: no lone surrogates
    for attachment in parsed.attachments:
        assert attachment.filename
        assert isinstance(attachment.data, bytes)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=4000))
def test_arbitrary_bytes_never_crash_the_parser(raw):
    _check(parse(raw))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.sampled_from(SEEDS),
    flips=st.lists(st.tuples(st.floats(0, 1, exclude_max=True), st.integers(0, 255)), max_size=25),
    keep=st.floats(0.05, 1.0),
)
def test_damaged_real_messages_never_crash_the_parser(seed, flips, keep):
    raw = bytearray(seed[: max(1, int(len(seed) * keep))])
    for where, byte in flips:
        raw[int(where * len(raw))] = byte
    parsed = parse(bytes(raw))
    _check(parsed)


@settings(max_examples=100, deadline=None)
@given(
    header=st.sampled_from(
        [
            "Subject",
            "From",
            "To",
            "Cc",
            "Reply-To",
            "Message-ID",
            "References",
            "In-Reply-To",
            "Date",
            "Content-Type",
            "Content-Disposition",
            "Content-Transfer-Encoding",
            "Auto-Submitted",
        ]
    ),
    value=st.text(max_size=200),
)
def test_any_header_value_never_crashes_the_parser(header, value):
    raw = f"From: a@b.example\r\n{header}: ".encode() + value.encode("utf-8", "surrogatepass") + b"\r\n\r\nbody\r\n"
    _check(parse(raw))
