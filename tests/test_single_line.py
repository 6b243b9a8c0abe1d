"""The single-line rule (tessera.single_line): whatever a person or a mail sends as a subject or a
name comes out as one readable line that no mail header decoder can turn into a line break."""

from __future__ import annotations

import base64
import email.message
from email import policy
from typing import Literal

from hypothesis import given, settings
from hypothesis import strategies as st

from django import forms

from tessera.single_line import SingleLineField, has_encoded_word, line_break_in, single_line

BREAKS = ["\r", "\n", "\r\n", "\x00", "\x0b", "\x0c", "\x1c", "\x85", "\u2028", "\u2029"]


def q_word(text: str) -> str:
    data = text.encode("utf-8", "surrogatepass")
    return "=?utf-8?q?" + "".join(chr(b) if chr(b).isascii() and chr(b).isalnum() else f"={b:02X}" for b in data) + "?="


def b_word(text: str, charset: str = "utf-8") -> str:
    return f"=?{charset}?b?{base64.b64encode(text.encode(charset, 'surrogatepass')).decode()}?="


NO_SURROGATES: tuple[Literal["Cs"]] = ("Cs",)  # the Unicode category of lone surrogates
texts = st.text(alphabet=st.characters(exclude_categories=NO_SURROGATES), max_size=80)
hostile = st.lists(
    st.one_of(texts, st.sampled_from(BREAKS), st.sampled_from(["=?", "?=", "?q?", "?B?", "=0D=0A", "_", "=?utf-8?q?"])),
    max_size=12,
).map("".join)


def wrapped(text: str, how: list[str]) -> str:
    for layer in how:
        text = q_word(text) if layer == "q" else b_word(text)
    return text


@settings(max_examples=300, deadline=None)
@given(hostile, st.lists(st.sampled_from(["q", "b"]), max_size=3))
def test_any_text_becomes_one_line_without_an_encoded_word(text, layers):
    line = single_line(wrapped(text, layers))

    assert not any(b in line for b in BREAKS)
    assert not has_encoded_word(line)
    assert not line_break_in(line)
    assert line == line.strip()
    assert "  " not in line
    assert single_line(line) == line  # cleaning twice changes nothing


@settings(max_examples=200, deadline=None)
@given(hostile, st.lists(st.sampled_from(["q", "b"]), max_size=2))
def test_pythons_own_mail_code_finds_no_line_break_in_a_cleaned_subject(text, layers):
    """What CVE-2024-6923 exploited: the email package decoding the value while building mail."""
    message = email.message.EmailMessage(policy=policy.default)
    message["Subject"] = single_line(wrapped(text, layers))
    message.set_content("x")

    assert not any(b in str(message["Subject"]) for b in ("\r", "\n"))
    head = message.as_bytes().split(b"\n\n", 1)[0]
    names = {line.split(b":", 1)[0].lower() for line in head.splitlines() if line[:1] not in (b" ", b"\t")}
    assert names == {b"subject", b"content-type", b"content-transfer-encoding", b"mime-version"}


@settings(max_examples=200, deadline=None)
@given(texts.filter(lambda t: "=?" not in t), st.lists(st.sampled_from(["q", "b"]), min_size=1, max_size=3))
def test_encoded_words_read_as_the_words_they_carry(text, layers):
    assert single_line(wrapped(text, layers)) == single_line(text)


@given(st.text(alphabet=st.characters(exclude_categories=("Cc", "Cs", "Zl", "Zp", "Zs")), min_size=1, max_size=40))
def test_ordinary_words_are_left_alone(word):
    if "=?" in word:
        word = word.replace("=?", "=")
    assert single_line(f"{word} {word}") == f"{word} {word}"


def test_the_probe_subject_reads_as_text():
    probe = "=?utf-8?q?Invoice_overdue=0D=0AReply-To=3A_billing=40attacker=2Eexample=0D=0AX-Injected=3A_1?="
    assert single_line(probe) == "Invoice overdue Reply-To: billing@attacker.example X-Injected: 1"
    assert line_break_in(probe)
    assert line_break_in(q_word(probe))  # found at any depth
    assert line_break_in("Hello\r\nBcc: x@y")
    assert not line_break_in("[#100001] Café déjà vu =?")


def test_adjacent_words_join_and_other_charsets_decode():
    assert single_line("=?utf-8?q?Caf=C3=A9?= =?iso-8859-1?q?_d=E9j=E0?=") == "Café déjà"
    assert single_line(b_word("Grüße", "iso-8859-1")) == "Grüße"
    assert single_line("What is 2+2=? Four") == "What is 2+2=? Four"  # no encoded-word shape, kept
    assert single_line("broken =?utf-8?q?no end") == "broken = ?utf-8?q?no end"  # marker broken, words kept


def test_the_form_field_cleans_before_it_measures():
    class Form(forms.Form):
        subject = SingleLineField(max_length=20)

    form = Form({"subject": "  =?utf-8?q?Printer=0D=0Ajams?=  "})
    assert form.is_valid(), form.errors
    assert form.cleaned_data["subject"] == "Printer jams"
    assert not Form({"subject": "=?utf-8?q??="}).is_valid()  # nothing left: required
