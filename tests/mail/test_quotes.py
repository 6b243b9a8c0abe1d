"""Emailed replies show only what is new: quoted history is cut the way each client quotes it."""

from __future__ import annotations

from email.message import EmailMessage

import pytest

from tessera.mail.parse import parse
from tessera.mail.quotes import strip_quoted
from tessera.tickets.content import clean_html

MARKER = "-- Reply above this line --"


def cut(text: str, html: str = "") -> tuple[str, str, bool]:
    result = strip_quoted(text, html, MARKER)
    return result.text, result.html, result.stripped


@pytest.mark.parametrize(
    "text",
    [
        "Works now, thanks!\n\n-- Reply above this line --\nJohn Smith replied:\nPlease restart.\n",
        "Works now, thanks!\n\n> -- Reply above this line --\n> Please restart.\n",
        "Works now, thanks!\n\nOn Mon, 3 Jun 2024 at 10:00, John Smith <john@desk.example> wrote:\n> Please restart.\n",
        "Works now, thanks!\n\nOn Mon, 3 Jun 2024 at 10:00, John Smith <john@desk.example>\n"
        "wrote:\n\n> Please restart.\n",
        "Works now, thanks!\n\nAm 03.06.2024 um 10:00 schrieb John Smith <john@desk.example>:\n> Bitte neu starten.\n",
        "Works now, thanks!\n\nLe lun. 3 juin 2024 à 10:00, John Smith <john@desk.example> a écrit :\n> Redémarrez.\n",
        "Works now, thanks!\n\n"
        "El lun, 3 jun 2024 a las 10:00, John Smith (<john@desk.example>) escribió:\n> Reinicie.\n",
        "Works now, thanks!\n\n-----Original Message-----\nFrom: John Smith\nSent: Monday\n"
        "Subject: printer\n\nRestart.\n",
        "Works now, thanks!\n\nFrom: John Smith <john@desk.example>\n"
        "Sent: Monday, June 3, 2024 10:00 AM\nTo: Ken\n\nRestart.\n",
        "Works now, thanks!\n\n________________________________\n"
        "From: John Smith <john@desk.example>\nDate: today\n\nRestart.\n",
        "Works now, thanks!\n\n> Please restart the printer.\n> It helps.\n\n",
    ],
    ids=[
        "marker",
        "quoted-marker",
        "on-wrote",
        "on-wrote-two-lines",
        "german",
        "french",
        "spanish",
        "outlook-original",
        "outlook-header-block",
        "outlook-mobile-separator",
        "trailing-quote",
    ],
)
def test_replies_from_each_client_keep_only_the_new_words(text):
    assert cut(text) == ("Works now, thanks!", "", True)


def test_inline_answers_between_quotes_are_kept_whole():
    text = "> Is it plugged in?\nYes.\n> Which floor?\nThird.\n"
    assert cut(text) == (text, "", False)


def test_a_message_that_is_all_quotation_is_kept_as_it_came():
    text = "On Mon, 3 Jun 2024, John wrote:\n> Please restart.\n"
    assert cut(text) == (text, "", False)
    assert cut("> just a quote\n> nothing else\n")[2] is False


def test_a_sentence_mentioning_wrote_mid_paragraph_is_not_a_cut():
    text = "On Monday the technician wrote: nothing at all, and left.\nStill broken."
    assert cut(text)[2] is False


GMAIL = (
    '<div dir="ltr">Thanks, that fixed it!</div><br><div class="gmail_quote"><div dir="ltr" class="gmail_attr">'
    'On Mon, Jun 3, 2024 at 10:00 AM John Smith &lt;<a href="mailto:john@desk.example">john@desk.example</a>&gt; '
    'wrote:<br></div><blockquote class="gmail_quote" style="margin:0px">Please restart the printer.</blockquote></div>'
)
APPLE = (
    '<html><body><div>Thanks, that fixed it!</div><div><br><blockquote type="cite"><div>On 3 Jun 2024, at 10:00, '
    "John Smith &lt;john@desk.example&gt; wrote:</div><br><div>Please restart the printer.</div></blockquote></div>"
    "</body></html>"
)
THUNDERBIRD = (
    '<p>Thanks, that fixed it!</p><div class="moz-cite-prefix">On 03/06/2024 10:00, John Smith wrote:<br></div>'
    '<blockquote type="cite" cite="mid:x@desk.example">Please restart the printer.</blockquote>'
)
OUTLOOK = (
    '<div class="elementToProof">Thanks, that fixed it!</div><div id="appendonsend"></div><hr '
    'style="display:inline-block">'
    '<div id="divRplyFwdMsg" dir="ltr"><font face="Calibri"><b>From:</b> John Smith &lt;john@desk.example&gt;<br>'
    "<b>Sent:</b> Monday, June 3, 2024 10:00<br><b>Subject:</b> Re: printer</font><div>&nbsp;</div></div>"
    "<div>Please restart the printer.</div>"
)
OUTLOOK_DESKTOP = (
    '<div class="WordSection1"><p class="MsoNormal">Thanks, that fixed it!</p><p class="MsoNormal">&nbsp;</p>'
    '<div style="border:none;border-top:solid #E1E1E1 1.0pt"><p class="MsoNormal"><b>From:</b> John Smith '
    "&lt;john@desk.example&gt; <br><b>Sent:</b> Monday, June 3, 2024 10:00<br><b>To:</b> Ken</p></div>"
    '<p class="MsoNormal">Please restart the printer.</p></div>'
)
MARKED = (
    "<div>Thanks, that fixed it!</div><div><br></div><div>-- Reply above this line --</div>"
    "<div>John Smith replied:</div><p>Please restart the printer.</p>"
)


@pytest.mark.parametrize("html", [GMAIL, APPLE, THUNDERBIRD, OUTLOOK, OUTLOOK_DESKTOP, MARKED])
@pytest.mark.parametrize("sanitised", [False, True], ids=["as-sent", "sanitised"])
def test_html_replies_from_each_client_keep_only_the_new_words(html, sanitised):
    source = clean_html(html) if sanitised else html
    _text, kept, stripped = cut("", source)
    assert stripped
    assert "Thanks, that fixed it!" in kept
    assert "restart" not in kept and "John Smith" not in kept


def test_text_and_html_twins_are_cut_together():
    text = (
        "Thanks, that fixed it!\n\n"
        "On Mon, Jun 3, 2024 at 10:00 AM John Smith <john@desk.example> wrote:\n> Please restart"
    )
    new_text, new_html, stripped = cut(text, GMAIL)
    assert stripped and new_text == "Thanks, that fixed it!" and new_html == "<div>Thanks, that fixed it!</div>"


def test_html_that_is_all_quotation_is_kept_as_it_came():
    html = '<blockquote type="cite">Please restart the printer.</blockquote>'
    assert cut("", html) == ("", html, False)


def test_html_with_an_inline_quote_followed_by_an_answer_is_kept():
    html = "<blockquote>Is it plugged in?</blockquote><p>Yes, it is.</p>"
    assert cut("", html) == ("", html, False)


def test_a_cut_result_is_safe_html():
    html = '<p onclick="x()">New <b>words</b><script>alert(1)</script></p>-- Reply above this line --<p>old</p>'
    _text, kept, stripped = cut("", html)
    assert stripped and kept == "<p>New <b>words</b></p>"


def test_a_parsed_gmail_reply_is_cut_in_both_twins():
    msg = EmailMessage()
    msg["From"] = "Ken Adams <ken.adams@gmail.example>"
    msg["Subject"] = "Re: [#123456] Printer on fire"
    msg.set_content(
        "Thanks, that fixed it!\n\nOn Mon, Jun 3, 2024 at 10:00 AM John Smith <john@desk.example> wrote:\n\n"
        "> -- Reply above this line --\n> Please restart the printer.\n"
    )
    msg.add_alternative(GMAIL, subtype="html")
    parsed = parse(msg.as_bytes())
    result = strip_quoted(parsed.text, parsed.html, MARKER)
    assert result.stripped
    assert result.text == "Thanks, that fixed it!"
    assert result.html == "<div>Thanks, that fixed it!</div>"


BOTTOM_POSTED = (
    '<div class="moz-cite-prefix">On 03/06/2024 10:00, John Smith wrote:<br></div>'
    '<blockquote type="cite"><p>-- Reply above this line --</p><p>Please restart the printer.</p></blockquote>'
    "<p>Restarted, it works now.</p>"
)


@pytest.mark.parametrize("sanitised", [False, True], ids=["as-sent", "sanitised"])
def test_an_answer_written_under_the_quote_is_kept_without_the_quote(sanitised):
    source = clean_html(BOTTOM_POSTED) if sanitised else BOTTOM_POSTED
    text = (
        "On 03/06/2024 10:00, John Smith wrote:\n> -- Reply above this line --\n> Please restart.\n\n"
        "Restarted, it works now.\n"
    )
    new_text, new_html, stripped = cut(text, source)
    assert stripped
    assert new_text == "Restarted, it works now."
    assert new_html == "<p>Restarted, it works now.</p>"


def test_answers_under_two_separate_quotes_are_kept_whole():
    html = (
        '<div class="moz-cite-prefix">On 03/06/2024 10:00, John Smith wrote:<br></div>'
        '<blockquote type="cite">Is it plugged in?</blockquote><p>Yes.</p>'
        '<blockquote type="cite">Which floor?</blockquote><p>Third.</p>'
    )
    text = "On 03/06/2024 10:00, John Smith wrote:\n> Is it plugged in?\nYes.\n> Which floor?\nThird.\n"
    assert cut(text, html) == (text, html, False)


def test_a_wrapped_header_never_takes_the_customers_last_line_with_it():
    text = "Тут всё ясно, 14:20 подходит\n02.04.2012 14:20, Example Support пишет:\n> Hello\n"
    assert cut(text)[0] == "Тут всё ясно, 14:20 подходит"
