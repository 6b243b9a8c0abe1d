"""Plausible help desk prose, deterministic for a seed, cheap enough for millions of entries.

Writing every sentence word by word would cost more than PostgreSQL's COPY of the result,
so the writer fills pools of sentences and subjects from templates once, then builds each
entry from a few pool picks. The pools are large enough (thousands of distinct sentences)
for full-text search to see a realistic spread of words.

Bodies are written the way Tessera stores typed text (tickets.content.from_text): the plain
text as typed and the HTML Markdown makes of it (paragraphs, line breaks, quoted replies as
blockquotes). The vocabulary avoids characters Markdown or the sanitiser would rewrite, so
the HTML here is exactly what from_text returns; tests/test_bench_smoke.py checks that.
"""

from __future__ import annotations

import random

# A word in about one ticket in five (subjects and bodies), and one in exactly one ticket in
# RARE_EVERY (its first message): the two searches bench.run measures.
COMMON_WORD = "printer"
RARE_WORD = "kerberos"
RARE_EVERY = 2000


def _words(text: str) -> list[str]:
    return text.split()


FIRST_NAMES = _words(
    "Ada Alan Alice Amara Anders Anna Arjun Aya Beatriz Ben Bill Carla Chen Chloe Dara David Diego Elena Emeka Emma "
    "Erik Fatima Felix Grace Hana Hugo Ines Ivan Jana Jane John Jonas Julia Kai Karim Ken Lara Leo Lina Luca Maya "
    "Mia Mohammed Nadia Nina Noah Olga Omar Paula Pedro Priya Rafael Rosa Sam Sara Sofia Tariq Tom Uma Vera Wei "
    "Yara Yusuf Zoe Zara Hiro Ingrid Kofi Lena Marta Nils Oskar Petra Quinn Ruth Selma Theo"
)
LAST_NAMES = _words(
    "Adams Alvarez Andersen Bauer Becker Berg Brown Chen Costa Dubois Duarte Eriksen Evans Fischer Garcia Gomez "
    "Hansen Hoffmann Ibrahim Ito Jansen Jensen Kato Keller Khan Kim Koch Kowalski Larsen Lee Lopez Martin Meyer "
    "Moreau Muller Nakamura Nguyen Novak Okafor Olsen Park Patel Perez Petrov Quinn Rossi Ruiz Sato Schmidt Silva "
    "Singh Smith Sousa Suzuki Tanaka Torres Tran Vargas Weber Wagner Wilson Wong Yilmaz Young Zhang Ziegler Moretti "
    "Lindqvist Haddad"
)
ORG_FIRST = _words(
    "Northwind Bluebird Acme Granite Harbor Juniper Kestrel Lighthouse Meridian Nimbus Oakridge Pioneer Quarry "
    "Riverside Summit Tidewater Umbrella Vantage Willow Zephyr Aurora Beacon Cedar Delta Ember Falcon Glacier "
    "Horizon Iris Jasper"
)
ORG_SECOND = _words(
    "Logistics Foods Clinic Bank Insurance Studios Labs Hotels Motors Energy Pharma Retail Media Freight Dental "
    "Schools Architects Legal Bakery Robotics Textiles Travel Telecom Farms Brewery"
)

# name, share of tickets, help topics
DEPARTMENTS = [
    ("Support", 30, ["General question", "Account or password", "Printing"]),
    ("Billing", 15, ["Invoices", "Refunds"]),
    ("System Administration", 12, ["Server outage", "Access request"]),
    ("Sales", 8, ["Quote request", "Licences"]),
    ("Accounts", 7, ["Sign-in problems", "Closing an account"]),
    ("Network Operations", 7, ["Wi-Fi and VPN", "Network outage"]),
    ("Security", 6, ["Phishing report", "Lost device"]),
    ("Facilities", 6, ["Building access", "Meeting rooms"]),
    ("Human Resources", 5, ["Onboarding", "Payroll"]),
    ("Product Feedback", 4, ["Feature request", "Bug report"]),
]
# The bench agent works in these three (57% of tickets by the shares above).
BENCH_DEPARTMENTS = ("Support", "Billing", "System Administration")
TEAMS = [
    # name, departments whose tickets it takes
    ("Infrastructure on-call", ("System Administration", "Network Operations")),
    ("Billing escalations", ("Billing", "Accounts")),
    ("VIP customers", ("Support", "Sales")),
    ("Security response", ("Security",)),
    ("Onboarding crew", ("Human Resources", "Facilities")),
]

THINGS = _words(
    "printer laptop VPN mailbox invoice password Wi-Fi router monitor badge phone calendar backup server database "
    "website licence scanner projector headset keyboard dashboard report spreadsheet account order refund "
    "subscription"
)
SYSTEMS = [
    "the portal",
    "the intranet",
    "the CRM",
    "the payroll system",
    "the booking tool",
    "the shared drive",
    "the mobile app",
    "Outlook",
    "Teams",
    "the VPN client",
    "the billing system",
    "the warehouse system",
    "the wiki",
    "the HR portal",
    "the build server",
]
PROBLEMS = [
    "does not work",
    "is very slow",
    "keeps crashing",
    "shows an error",
    "stopped syncing",
    "cannot connect",
    "is missing",
    "needs a reset",
    "asks for the password again and again",
    "was charged twice",
    "prints blank pages",
    "is stuck in a loop",
    "will not start",
    "lost all settings",
    "is locked",
    "freezes every few minutes",
    "shows the wrong total",
    "sends duplicate emails",
]
WHEN = [
    "",
    "",
    " since Monday",
    " after the update",
    " this morning",
    " since the office move",
    " again",
    " for the whole team",
    " on the third floor",
    " at the Lisbon office",
    " since yesterday",
    " after the power cut",
    " during month end",
]
ASK = [
    "Could you please have a look today",
    "Can someone help us with this",
    "Is there a workaround we can use in the meantime",
    "Please let me know what you need from us",
    "How long will this take to fix",
    "Could you call me back when you have a moment",
]
MONTHS = _words("January February March April May June July August September October November December")
TEAM_WORDS = _words("sales finance warehouse design support legal marketing research operations reception")
PLANS = _words("Starter Team Business Enterprise")
HOSTS = _words("app-01 app-02 db-01 db-02 mail-01 proxy-01 files-01 vpn-01")


def _fill_message(rng: random.Random) -> str:
    thing, system = rng.choice(THINGS), rng.choice(SYSTEMS)
    pick = rng.randrange(10)
    if pick == 0:
        return f"The {thing} {rng.choice(PROBLEMS)}{rng.choice(WHEN)}."
    if pick == 1:
        return f"I tried restarting the {thing} but nothing changed."
    if pick == 2:
        return f"It shows error {rng.randrange(100, 9999)} when I open {system}."
    if pick == 3:
        return f"This blocks {rng.randrange(2, 40)} people in our {rng.choice(TEAM_WORDS)} team."
    if pick == 4:
        return f"{rng.choice(ASK)}?"
    if pick == 5:
        return f"We already checked the cables and the {thing} settings."
    if pick == 6:
        return f"The last time this happened was in {rng.choice(MONTHS)}, and {system} was slow then too."
    if pick == 7:
        return f"Our reference is PO-{rng.randrange(10000, 99999)} if that helps."
    if pick == 8:
        return f"Since the {thing} {rng.choice(PROBLEMS)}, we cannot use {system} at all."
    return f"A colleague says the {thing} in the {rng.choice(TEAM_WORDS)} area works fine."


def _fill_response(rng: random.Random) -> str:
    thing, system = rng.choice(THINGS), rng.choice(SYSTEMS)
    pick = rng.randrange(9)
    if pick == 0:
        return f"Thank you for the details about the {thing}."
    if pick == 1:
        return f"I have reset the {thing} settings on our side."
    if pick == 2:
        return f"Could you try again and tell us whether error {rng.randrange(100, 9999)} still appears?"
    if pick == 3:
        return f"We deployed a fix for {system} this morning."
    if pick == 4:
        return f"I am passing this to our colleagues who look after {system}."
    if pick == 5:
        return f"Please restart the {thing} once more and sign in to {system} again."
    if pick == 6:
        return f"The {thing} was replaced and should work now."
    if pick == 7:
        return f"We expect the {thing} to be back within {rng.randrange(2, 9)} hours."
    return "Let us know if anything else comes up."


def _fill_note(rng: random.Random) -> str:
    thing, system = rng.choice(THINGS), rng.choice(SYSTEMS)
    pick = rng.randrange(6)
    if pick == 0:
        host, month = rng.choice(HOSTS), rng.choice(MONTHS)
        return f"Checked the logs on {host}: {rng.randrange(2, 900)} failed attempts since {month}."
    if pick == 1:
        return f"Customer is on the {rng.choice(PLANS)} plan; escalate if the {thing} fails again."
    if pick == 2:
        return f"Known issue, see the {system} incident from {rng.choice(MONTHS)}."
    if pick == 3:
        return f"Spoke to them on the phone, the {thing} is their own, not ours."
    if pick == 4:
        return f"Waiting for the vendor to ship a new {thing}."
    return f"Same problem as last week with {system}; linking once we find the other ticket."


def _fill_subject(rng: random.Random) -> str:
    thing, system = rng.choice(THINGS), rng.choice(SYSTEMS)
    pick = rng.randrange(7)
    if pick <= 2:
        return f"{thing[0].upper()}{thing[1:]} {rng.choice(PROBLEMS)}{rng.choice(WHEN)}"
    if pick == 3:
        return f"Cannot sign in to {system}"
    if pick == 4:
        return f"Request: new {thing} for {rng.choice(FIRST_NAMES)}"
    if pick == 5:
        return f"Question about invoice {rng.randrange(10000, 99999)}"
    return f"{system[0].upper()}{system[1:]} {rng.choice(PROBLEMS)}"


def _html_paragraph(lines: list[str]) -> str:
    return "<p>" + "<br>\n".join(lines) + "</p>\n"


class Writer:
    """Subjects and entry bodies (text, html) for generated tickets."""

    def __init__(self, rng: random.Random, pool_size: int = 4000) -> None:
        self.rng = rng
        self.subjects = [_fill_subject(rng) for _ in range(pool_size)]
        self.message_sentences = [_fill_message(rng) for _ in range(pool_size)]
        self.response_sentences = [_fill_response(rng) for _ in range(pool_size)]
        self.note_sentences = [_fill_note(rng) for _ in range(pool_size)]
        self._pool_size = pool_size

    def subject(self) -> str:
        return self.subjects[int(self.rng.random() * self._pool_size)]

    def _sentences(self, pool: list[str], low: int, high: int) -> list[str]:
        rnd, size = self.rng.random, self._pool_size
        return [pool[int(rnd() * size)] for _ in range(low + int(rnd() * (high - low + 1)))]

    @staticmethod
    def _compose(paragraphs: list[list[str]], quote: tuple[str, list[str]] | None = None) -> tuple[str, str]:
        """(text, html) for paragraphs of lines and an optional quoted reply (header, lines)."""
        text = "\n\n".join("\n".join(lines) for lines in paragraphs)
        html = "".join(_html_paragraph(lines) for lines in paragraphs)
        if quote is not None:
            header, quoted = quote
            text += f"\n\n{header}\n" + "\n".join(f"> {line}" for line in quoted)
            html += _html_paragraph([header]) + "<blockquote>\n" + _html_paragraph(quoted) + "</blockquote>\n"
        return text, html

    def message(
        self, first_name: str, *, quote: tuple[str, list[str]] | None = None, rare: bool = False
    ) -> tuple[str, str, list[str]]:
        """A message from the end user: (text, html, sentences another entry may quote)."""
        rnd = self.rng.random
        body = self._sentences(self.message_sentences, 2, 5)
        if rare:
            body.append(f"The log also mentions {RARE_WORD} ticket errors.")
        greeting = ["Hello,"] if rnd() < 0.6 else ["Hi team,"]
        paragraphs = [greeting, [" ".join(body)]]
        if rnd() < 0.3:
            paragraphs.append([" ".join(self._sentences(self.message_sentences, 1, 2))])
        paragraphs.append(["Thanks,", first_name])
        text, html = self._compose(paragraphs, quote)
        return text, html, body[:2]

    def response(
        self, first_name: str, signature: str, *, quote: tuple[str, list[str]] | None = None
    ) -> tuple[str, str, list[str]]:
        """An agent's reply, signed."""
        body = self._sentences(self.response_sentences, 1, 4)
        paragraphs = [[f"Hello {first_name},"], [" ".join(body)], ["Best regards,", signature]]
        text, html = self._compose(paragraphs, quote)
        return text, html, body[:2]

    def note(self) -> tuple[str, str]:
        """An internal note: short, no greeting."""
        return self._compose([[" ".join(self._sentences(self.note_sentences, 1, 3))]])
