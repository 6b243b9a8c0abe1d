"""What Tessera reads out of mail as real clients send it: every field, any charset, never a crash."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from email.message import EmailMessage

import pytest

from tessera.mail.parse import parse, peek

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
)


def crlf(text: str) -> bytes:
    return text.replace("\n", "\r\n").encode("ascii")


def basic(**headers: str) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = headers.pop("From", "Ken Adams <ken@customer.example>")
    msg["To"] = "help@desk.example"
    msg["Subject"] = headers.pop("Subject", "Printer on fire")
    msg["Message-ID"] = headers.pop("Message_ID", "<k1@customer.example>")
    msg["Date"] = "Mon, 03 Jun 2024 10:00:00 +0200"
    for name, value in headers.items():
        msg[name.replace("_", "-")] = value
    msg.set_content("The printer on floor 3 is on fire.\n")
    return msg


# -- headers --------------------------------------------------------------------------------


def test_a_plain_message_gives_every_header_field():
    msg = basic(Cc="Olga <Olga@Customer.Example>", Reply_To="Ken Home <ken@home.example>")
    msg["In-Reply-To"] = "<a1@desk.example>"
    msg["References"] = "<a0@desk.example> <a1@desk.example>"
    parsed = parse(msg.as_bytes())
    assert parsed.is_message
    assert parsed.message_id == "k1@customer.example"
    assert parsed.in_reply_to == ["a1@desk.example"]
    assert parsed.references == ["a0@desk.example", "a1@desk.example"]
    assert parsed.subject == "Printer on fire"
    assert parsed.sender.email == "ken@customer.example" and parsed.sender.name == "Ken Adams"
    assert parsed.reply_to.email == "ken@home.example"
    assert [a.email for a in parsed.to] == ["help@desk.example"]
    assert [(a.name, a.email) for a in parsed.cc] == [("Olga", "olga@customer.example")]
    assert parsed.date == datetime(2024, 6, 3, 8, 0, tzinfo=UTC)
    assert parsed.text == "The printer on floor 3 is on fire."
    assert parsed.html == "" and parsed.attachments == [] and parsed.problems == []
    assert not parsed.auto_reply and not parsed.bounce


def test_thread_ids_are_read_without_brackets_commas_or_comments():
    raw = crlf(
        "From: ken@customer.example\nSubject: Re: x\nMessage-ID:  < spaced@id.example >\n"
        "In-Reply-To: <x1@desk.example> (John's message of Monday)\n"
        "References: x0@desk.example, x1@desk.example garbage\n\nok\n"
    )
    parsed = parse(raw)
    assert parsed.message_id == "spaced@id.example"
    assert parsed.in_reply_to == ["x1@desk.example"]
    assert parsed.references == ["x0@desk.example", "x1@desk.example"]


def test_a_folded_references_header_keeps_every_id_in_order():
    ids = [f"<m{i}@desk.example>" for i in range(8)]
    raw = crlf("From: a@b.example\nReferences: " + "\n\t".join(ids) + "\n\nbody\n")
    assert parse(raw).references == [f"m{i}@desk.example" for i in range(8)]


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("=?UTF-8?B?w4RyZ2VyIG1pdCBkZW0gRHJ1Y2tlciDwn5iK?=", "Ärger mit dem Drucker 😊"),
        ("=?ISO-8859-1?Q?Caf=E9_cr=E8me?=", "Café crème"),
        ("=?windows-1252?Q?=93quoted=94_=80100?=", "“quoted” €100"),
        ("=?KOI8-R?B?8NLJztTF0iDOxSDSwcLP1MHF1A==?=", "Принтер не работает"),
        ("=?Shift_JIS?B?g3aDioOTg16BW4KqjMyP4YK1gtyCtYK9?=", "プリンターが故障しました"),
        ("=?GB2312?B?tPLTobv6sru5pNf3?=", "打印机不工作"),
        ("=?utf-8?q?Re=3A_?= =?utf-8?q?Drucker?=", "Re: Drucker"),
        ("=?x-unknown?Q?Gr=C3=BC=C3=9Fe?=", "Grüße"),
        ("=?utf-8?B?bad base64!!?=", None),
    ],
)
def test_subjects_in_any_charset_are_decoded(header, expected):
    parsed = parse(crlf(f"From: a@b.example\nSubject: {header}\n\nx\n"))
    if expected is None:
        assert parsed.subject  # something readable survives, no exception
    else:
        assert parsed.subject == expected


def test_raw_eight_bit_headers_without_a_charset_are_guessed():
    raw = b"From: =?utf-8?q?J=C3=B6rg?= <joerg@example.de>\r\nSubject: Gr\xc3\xbc\xc3\x9fe aus K\xf6ln\r\n\r\nx\r\n"
    parsed = parse(raw)
    assert parsed.sender.name == "Jörg"
    assert "Köln" in parsed.subject or "K" in parsed.subject  # mixed bytes: never raises
    utf8 = parse(b"From: a@b.example\r\nSubject: Gr\xc3\xbc\xc3\x9fe\r\n\r\nx\r\n")
    assert utf8.subject == "Grüße"
    latin = parse(b"From: a@b.example\r\nSubject: K\xf6ln\r\n\r\nx\r\n")
    assert latin.subject == "Köln"


def test_names_with_commas_and_encoded_words_stay_one_address():
    raw = crlf(
        'From: "Adams, Ken" <Ken@Customer.Example>\n'
        "To: =?utf-8?q?M=C3=BCller=2C_Olga?= <olga@x.example>, b@x.example\n\nx\n"
    )
    parsed = parse(raw)
    assert parsed.sender.name == "Adams, Ken" and parsed.sender.email == "ken@customer.example"
    assert [a.email for a in parsed.to] == ["olga@x.example", "b@x.example"]
    assert parsed.to[0].name == "Müller, Olga"


@pytest.mark.parametrize("missing", ["Message-ID", "From", "Date", "Subject"])
def test_a_message_missing_a_header_is_still_read(missing):
    msg = basic()
    del msg[missing]
    parsed = parse(msg.as_bytes())
    assert parsed.is_message
    assert parsed.text == "The printer on floor 3 is on fire."
    if missing == "From":
        assert parsed.sender is None
        assert any("sender" in p for p in parsed.problems)
    if missing == "Message-ID":
        assert parsed.message_id == ""
    if missing == "Date":
        assert parsed.date is None
    if missing == "Subject":
        assert parsed.subject == ""


def test_an_unreadable_from_or_date_is_reported_not_raised():
    parsed = parse(crlf("From: !!!\nDate: the day after tomorrow\nSubject: hi\n\nbody\n"))
    assert parsed.sender is not None and parsed.sender.email == ""
    assert parsed.date is None
    assert len(parsed.problems) >= 2


def test_dates_without_a_zone_are_taken_as_utc():
    parsed = parse(crlf("From: a@b.example\nDate: Mon, 3 Jun 2024 10:00:00 -0000\n\nx\n"))
    assert parsed.date == datetime(2024, 6, 3, 10, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "raw",
    [b"", b"   \r\n", b"just some words\nand more words\n", bytes(range(256)) * 3, b"\x89PNG\r\n\x1a\n" + PNG],
)
def test_bytes_that_are_not_mail_are_recognised_with_a_reason(raw):
    parsed = parse(raw)
    assert parsed.is_message is False
    assert parsed.problems


def test_an_mbox_from_line_does_not_hide_the_headers():
    parsed = parse(
        b"From ken@customer.example Mon Jun  3 10:00:00 2024\nFrom: ken@customer.example\nSubject: hi\n\nx\n"
    )
    assert parsed.is_message and parsed.subject == "hi"


def test_peeking_reads_the_headers_and_never_the_body():
    msg = basic(Auto_Submitted="auto-replied")
    msg.set_content("x" * 1_000_000 + "\n")

    peeked = peek(msg.as_bytes())

    assert (peeked.message_id, peeked.subject, peeked.sender.email) == (
        "k1@customer.example",
        "Printer on fire",
        "ken@customer.example",
    )
    assert peeked.auto_reply and peeked.text == ""


def test_peeking_at_something_that_is_not_mail_says_so():
    assert not peek(b"\x00\x01 just bytes, no header at all").is_message


# -- bodies ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("charset", "cte", "words"),
    [
        ("iso-8859-1", "quoted-printable", "Grüße aus Köln"),
        ("windows-1252", "quoted-printable", "“Smart quotes” – €5"),
        ("koi8-r", "base64", "Принтер не работает"),
        ("shift_jis", "base64", "プリンターが故障しました"),
        ("gb2312", "base64", "打印机不工作"),
        ("utf-8", "8bit", "Drucker 😊 ok"),
    ],
)
def test_text_bodies_in_any_charset_and_encoding(charset, cte, words):
    msg = EmailMessage()
    msg["From"] = "a@b.example"
    msg.set_content(words + "\n", charset=charset, cte=cte) if cte != "8bit" else msg.set_content(words + "\n", cte=cte)
    assert parse(msg.as_bytes()).text == words


def test_a_body_mislabelled_as_ascii_is_still_readable():
    raw = b"From: a@b.example\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\nGr\xc3\xbc\xc3\x9fe\r\n"
    assert parse(raw).text == "Grüße"
    unknown = b"From: a@b.example\r\nContent-Type: text/plain; charset=x-klingon\r\n\r\nK\xf6ln\r\n"
    assert parse(unknown).text == "Köln"


def test_gmail_alternative_keeps_the_text_and_sanitised_html():
    raw = crlf(
        "From: Ken Adams <ken.adams@gmail.example>\nTo: help@desk.example\nSubject: Login fails\n"
        "Message-ID: <CAB=xyz@mail.gmail.example>\nMIME-Version: 1.0\n"
        'Content-Type: multipart/alternative; boundary="000000000000abcd"\n\n'
        '--000000000000abcd\nContent-Type: text/plain; charset="UTF-8"\n\nI cannot log in.\n\n'
        '--000000000000abcd\nContent-Type: text/html; charset="UTF-8"\n\n'
        '<div dir="ltr">I <b>cannot</b> log in.<script>alert(1)</script><img '
        'src="https://tracker.example/p.gif" alt="">'
        '<a href="javascript:alert(1)" onclick="x()">here</a></div>\n'
        "--000000000000abcd--\n"
    )
    parsed = parse(raw)
    assert parsed.text == "I cannot log in."
    assert "<b>cannot</b>" in parsed.html
    for bad in ("script", "tracker.example", "javascript", "onclick"):
        assert bad not in parsed.html


def test_html_only_mail_gets_a_readable_text_twin():
    msg = basic()
    msg.set_content(
        "<html><head><style>p{color:red}</style></head><body><h1>Order 42</h1><p>First line<br>second line</p>"
        "<ul><li>toner</li><li>paper</li></ul><p>See <a href='https://shop.example/42'>the "
        "order</a>.</p></body></html>",
        subtype="html",
    )
    parsed = parse(msg.as_bytes())
    assert "color" not in parsed.text
    assert "Order 42\n\nFirst line\nsecond line" in parsed.text
    assert "- toner\n- paper" in parsed.text
    assert "the order (https://shop.example/42)" in parsed.text
    assert "<h1>Order 42</h1>" in parsed.html


def test_preformatted_html_keeps_its_lines_in_the_text_twin():
    msg = basic()
    msg.set_content("<p>Log:</p><pre>line 1\n  indented 2\nline 3</pre>", subtype="html")
    assert parse(msg.as_bytes()).text == "Log:\n\nline 1\n  indented 2\nline 3"


def test_remote_images_are_neutralised_but_inline_cid_images_survive():
    msg = basic()
    msg.set_content("see picture")
    msg.add_alternative(
        '<p>Look: <img src="cid:screen@apple.example" alt="screenshot"> and <img '
        'src="http://t.example/x.png" alt="logo"></p>',
        subtype="html",
    )
    msg.get_payload()[1].add_related(PNG, "image", "png", cid="<screen@apple.example>")
    parsed = parse(msg.as_bytes())
    assert 'src="cid:screen@apple.example"' in parsed.html
    assert "t.example" not in parsed.html and "[logo]" in parsed.html
    [image] = parsed.attachments
    assert image.inline and image.content_id == "screen@apple.example"
    assert image.data == PNG and image.content_type == "image/png" and image.filename == "image-1.png"


def test_images_pasted_as_data_uris_become_inline_attachments():
    msg = basic()
    msg.set_content("see picture")
    encoded = base64.b64encode(PNG).decode()
    msg.add_alternative(f'<p>Here:<img alt="paste" src="data:image/png;base64,{encoded}"></p>', subtype="html")
    parsed = parse(msg.as_bytes())
    [image] = parsed.attachments
    assert image.data == PNG and image.inline and image.filename == "image-1.png"
    assert f'src="cid:{image.content_id}"' in parsed.html and "data:" not in parsed.html


def test_outlook_related_message_with_inline_image_and_attachment():
    raw = crlf(
        "From: Ken Adams <Ken.Adams@customer.example>\nTo: help@desk.example\nSubject: Screenshot\n"
        "Message-ID: <DB9PR01MB1234@eurprd01.prod.outlook.example>\n"
        'Content-Type: multipart/mixed; boundary="_004_mixed"\n\n'
        "--_004_mixed\n"
        'Content-Type: multipart/related; boundary="_003_related"; type="multipart/alternative"\n\n'
        "--_003_related\n"
        'Content-Type: multipart/alternative; boundary="_000_alt"\n\n'
        '--_000_alt\nContent-Type: text/plain; charset="iso-8859-1"\nContent-Transfer-Encoding: quoted-printable\n\n'
        "Error attached =96 see below.\n\n"
        '--_000_alt\nContent-Type: text/html; charset="iso-8859-1"\nContent-Transfer-Encoding: quoted-printable\n\n'
        '<html><body><p class=3D"MsoNormal">Error attached =96 see below.<img src=3D"cid:image001.png@01DAB5C2.1" '
        'width=3D"10"></p></body></html>\n'
        "--_000_alt--\n\n"
        '--_003_related\nContent-Type: image/png; name="image001.png"\nContent-Description: image001.png\n'
        'Content-Disposition: inline; filename="image001.png"\nContent-ID: <image001.png@01DAB5C2.1>\n'
        "Content-Transfer-Encoding: base64\n\n" + base64.b64encode(PNG).decode() + "\n\n"
        "--_003_related--\n\n"
        '--_004_mixed\nContent-Type: application/pdf; name="invoice.pdf"\n'
        'Content-Disposition: attachment; filename="invoice.pdf"\nContent-Transfer-Encoding: base64\n\n'
        + base64.b64encode(b"%PDF-1.4 fake").decode()
        + "\n\n--_004_mixed--\n"
    )
    parsed = parse(raw)
    assert parsed.text == "Error attached – see below."
    assert 'src="cid:image001.png@01DAB5C2.1"' in parsed.html
    image, pdf = parsed.attachments
    assert (image.filename, image.inline, image.content_id) == ("image001.png", True, "image001.png@01DAB5C2.1")
    assert (pdf.filename, pdf.inline, pdf.data) == ("invoice.pdf", False, b"%PDF-1.4 fake")


def test_thunderbird_flowed_text_reads_as_written_paragraphs():
    raw = crlf(
        "From: Ken <ken@customer.example>\nUser-Agent: Mozilla Thunderbird\n"
        "Content-Type: text/plain; charset=UTF-8; format=flowed\nContent-Transfer-Encoding: 7bit\n\n"
        "The printer on floor 3 prints every page twice and then \njams on the third one.\n\n"
        "On 03/06/2024 10:00, John wrote:\n> Please restart it and tell \n> me what happens.\n\n-- \nKen\n"
    )
    assert parse(raw).text == (
        "The printer on floor 3 prints every page twice and then jams on the third one.\n\n"
        "On 03/06/2024 10:00, John wrote:\n> Please restart it and tell me what happens.\n\n-- \nKen"
    )


def test_apple_mail_text_pieces_around_an_attachment_are_all_kept():
    raw = crlf(
        "From: Ken <ken@icloud.example>\nSubject: Photos\n"
        'Content-Type: multipart/mixed; boundary="Apple-Mail=_1"\n\n'
        "--Apple-Mail=_1\nContent-Type: text/plain; charset=us-ascii\n\nBefore the photo.\n"
        "--Apple-Mail=_1\nContent-Disposition: inline; filename=IMG_0001.PNG\n"
        "Content-Type: image/png; name=IMG_0001.PNG\n"
        "Content-Transfer-Encoding: base64\n\n" + base64.b64encode(PNG).decode() + "\n"
        "--Apple-Mail=_1\nContent-Type: text/plain; charset=us-ascii\n\nAfter the photo.\n--Apple-Mail=_1--\n"
    )
    parsed = parse(raw)
    assert parsed.text == "Before the photo.\n\nAfter the photo."
    assert [a.filename for a in parsed.attachments] == ["IMG_0001.PNG"]


def test_attachment_names_with_rfc2231_continuations_and_encoded_words():
    raw = crlf(
        "From: a@b.example\nSubject: files\nContent-Type: multipart/mixed; boundary=b\n\n"
        "--b\nContent-Type: text/plain\n\nsee files\n"
        "--b\nContent-Type: application/pdf\nContent-Disposition: attachment;\n"
        " filename*0*=UTF-8''Rechnung%20f%C3%BCr%20;\n filename*1*=M%C3%A4rz.pdf\n\n%PDF\n"
        '--b\nContent-Type: application/vnd.ms-excel; name="=?utf-8?B?w5xiZXJzaWNodC54bHM=?="\n'
        "Content-Disposition: attachment\n\nxls\n"
        "--b\nContent-Type: application/octet-stream\n"
        'Content-Disposition: attachment; filename="../../etc/passwd"\n\nx\n'
        "--b\nContent-Type: application/zip\n\nPK\n"
        "--b\nContent-Type: image/jpeg\nContent-Disposition: attachment\n\njpg\n--b--\n"
    )
    parsed = parse(raw)
    names = [a.filename for a in parsed.attachments]
    assert names == ["Rechnung für März.pdf", "Übersicht.xls", "passwd", "attachment-1.zip", "image-1.jpg"]
    assert all(not a.inline for a in parsed.attachments)


def test_a_forwarded_message_is_kept_as_eml_and_its_text_appended():
    inner = basic(From="Olga <olga@supplier.example>", Subject="Delivery delayed", Message_ID="<in@supplier.example>")
    outer = basic(Subject="Fwd: Delivery delayed")
    outer.set_content("FYI, see below.\n")
    outer.add_attachment(inner)
    parsed = parse(outer.as_bytes())
    assert parsed.text.startswith("FYI, see below.")
    assert "Forwarded message" in parsed.text
    assert "From: Olga <olga@supplier.example>" in parsed.text
    assert "The printer on floor 3 is on fire." in parsed.text
    [eml] = parsed.attachments
    assert eml.filename == "Delivery delayed.eml" and eml.content_type == "message/rfc822"
    assert parse(eml.data).message_id == "in@supplier.example"
    assert parsed.message_id == "k1@customer.example"  # the outer message, not the forwarded one


def test_a_forwarded_message_encoded_in_base64_is_still_opened():
    inner = crlf("From: olga@supplier.example\nSubject: Inner\n\nInner words\n")
    raw = (
        crlf(
            "From: a@b.example\nSubject: Fwd\nContent-Type: multipart/mixed; boundary=b\n\n--b\n"
            "Content-Type: text/plain\n\nouter\n"
            "--b\nContent-Type: message/rfc822\nContent-Transfer-Encoding: base64\n\n"
        )
        + base64.b64encode(inner)
        + b"\r\n--b--\r\n"
    )
    parsed = parse(raw)
    assert "Inner words" in parsed.text
    assert parsed.attachments[0].filename == "Inner.eml"


def test_winmail_dat_is_kept_and_explained():
    msg = basic()
    msg.add_attachment(b"\x78\x9f\x3e\x22tnef", maintype="application", subtype="ms-tnef", filename="winmail.dat")
    parsed = parse(msg.as_bytes())
    assert parsed.attachments[0].filename == "winmail.dat"
    assert any("winmail.dat" in p for p in parsed.problems)


def test_a_multipart_without_its_boundary_still_yields_the_text():
    raw = crlf(
        'From: a@b.example\nSubject: broken\nContent-Type: multipart/mixed; boundary="declared"\n\n'
        "--actual\nContent-Type: text/plain\n\nThe words survive.\n--actual\n"
        "Content-Type: text/csv; name=a.csv\n\na,b\n--actual--\n"
    )
    parsed = parse(raw)
    assert parsed.text == "The words survive."
    assert [a.filename for a in parsed.attachments] == ["a.csv"]
    assert any("MIME structure" in p for p in parsed.problems)


def test_a_multipart_with_no_boundary_lines_at_all_keeps_the_whole_text():
    raw = crlf("From: a@b.example\nContent-Type: multipart/mixed; boundary=zzz\n\nJust text, no parts.\n")
    parsed = parse(raw)
    assert parsed.text == "Just text, no parts."
    assert parsed.problems


def test_a_missing_closing_boundary_keeps_every_part():
    raw = crlf(
        "From: a@b.example\nContent-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/plain\n\nhello\n"
        "--b\nContent-Type: text/plain; name=n.txt\n\nnote\n"
    )
    parsed = parse(raw)
    assert parsed.text == "hello"
    assert [a.filename for a in parsed.attachments] == ["n.txt"]
    assert any("MIME structure" in p for p in parsed.problems)


def test_nul_bytes_and_lone_surrogates_never_reach_the_database():
    raw = b"From: a@b.example\r\nSubject: nul\x00here\r\n\r\nbody\x00text \xed\xa0\x80\r\n"
    parsed = parse(raw)
    assert "\x00" not in parsed.subject + parsed.text
    parsed.text.encode("utf-8")
    parsed.subject.encode("utf-8")


# -- automatic replies ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("Auto-Submitted", "auto-replied"),
        ("Auto-Submitted", "auto-generated"),
        ("X-Autoreply", "yes"),
        ("X-Autorespond", "Out of office"),
        ("X-Autoresponse", "1"),
        ("X-AutoReply-From", "ken@customer.example"),
        ("X-Mail-Autoreply", "vacation"),
        ("Precedence", "bulk"),
        ("Precedence", "junk"),
        ("Precedence", "list"),
        ("Precedence", "auto_reply"),
        ("X-Precedence", "bulk"),
        ("X-Auto-Response-Suppress", "All"),
        ("X-Auto-Response-Suppress", "DR, OOF, AutoReply"),
        ("X-Autogenerated", "Reply"),
    ],
)
def test_automatic_replies_are_recognised_by_header(name, value):
    msg = basic(Subject="Out of Office: Printer on fire")
    msg[name] = value
    reason = parse(msg.as_bytes()).auto_reply
    assert reason.startswith(name)


@pytest.mark.parametrize(("name", "value"), [("Auto-Submitted", "no"), ("X-Auto-Response-Suppress", "RN, NRN")])
def test_headers_that_say_a_person_wrote_it_are_not_auto_replies(name, value):
    msg = basic()
    msg[name] = value
    assert parse(msg.as_bytes()).auto_reply == ""


def test_an_out_of_office_subject_alone_is_not_an_auto_reply():
    assert parse(basic(Subject="Automatic reply: Auto: car broken").as_bytes()).auto_reply == ""


# -- bounces --------------------------------------------------------------------------------


def bounce_bytes(original_part: str) -> bytes:
    return crlf(
        "From: Mail Delivery System <MAILER-DAEMON@mx.desk.example>\nTo: help@desk.example\n"
        "Subject: Undelivered Mail Returned to Sender\nAuto-Submitted: auto-replied\nMessage-ID: <b1@mx.desk.example>\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="rep"\n\n'
        "--rep\nContent-Type: text/plain; charset=us-ascii\n\nThis is the mail system at host mx.desk.example.\n"
        "I'm sorry to have to inform you that your message could not be delivered.\n\n"
        "--rep\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mx.desk.example\n\n"
        "Final-Recipient: rfc822; gone@customer.example\nOriginal-Recipient: rfc822;gone@customer.example\n"
        "Action: failed\nStatus: 5.1.1\nDiagnostic-Code: smtp; 550 5.1.1 User unknown\n\n"
        "--rep\n" + original_part + "--rep--\n"
    )


@pytest.mark.parametrize(
    "original",
    [
        "Content-Type: message/rfc822\n\nFrom: help@desk.example\nTo: gone@customer.example\n"
        "Message-ID: <t42.r7@desk.example>\nIn-Reply-To: <k1@customer.example>\nSubject: [#123456] Re: x\n\nbody\n",
        "Content-Type: text/rfc822-headers\n\nFrom: help@desk.example\nTo: gone@customer.example\n"
        "Message-ID: <t42.r7@desk.example>\nIn-Reply-To: <k1@customer.example>\nSubject: [#123456] Re: x\n",
    ],
)
def test_a_delivery_report_names_the_returned_message_and_the_failure(original):
    parsed = parse(bounce_bytes(original))
    assert parsed.bounce
    assert parsed.bounce_ids == ["t42.r7@desk.example", "k1@customer.example"]
    assert parsed.bounce_text.startswith("This is the mail system")
    assert "gone@customer.example" in parsed.bounce_text
    assert "5.1.1" in parsed.bounce_text and "failed" in parsed.bounce_text
    assert parsed.message_id == "b1@mx.desk.example"


def test_a_long_bounce_text_is_trimmed():
    parsed = parse(bounce_bytes("Content-Type: text/plain\n\n" + "x" * 5000 + "\n").replace(b"I'm sorry", b"y" * 5000))
    assert parsed.bounce and len(parsed.bounce_text) < 2300


def test_an_old_style_mailer_daemon_bounce_is_recognised_from_its_text():
    raw = crlf(
        "From: MAILER-DAEMON@mail.customer.example\nSubject: failure notice\n"
        "X-Failed-Recipients: gone@customer.example\n\n"
        "Hi. This is the qmail-send program.\n<gone@customer.example>:\nSorry, no mailbox here by that name.\n\n"
        "--- Below this line is a copy of the message.\n\nMessage-ID: <t42.r8@desk.example>\nSubject: hi\n"
    )
    parsed = parse(raw)
    assert parsed.bounce
    assert parsed.bounce_ids == ["t42.r8@desk.example"]
    assert "gone@customer.example" in parsed.bounce_text


def test_a_person_writing_to_postmaster_is_not_a_bounce():
    parsed = parse(basic(From="Postmaster <postmaster@customer.example>", Subject="Question").as_bytes())
    assert not parsed.bounce
