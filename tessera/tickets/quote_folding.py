"""Quoted email text folded away behind "Show quoted text", for every page that shows a thread.

`fold_quotes` works on a thread entry's body_html, which was sanitised on the way in. It
wraps email-style quotations (top-level <blockquote> elements and runs of lines starting with
">") in <details><summary>Show quoted text</summary>…</details>, so they stay one click away
and work without JavaScript. The only markup it adds is fixed; and whenever it changed
anything, the result goes through the same sanitiser again (with <details>/<summary> and
their two class names allowed), so a mistake in this code can at worst fold the wrong text,
never make markup live.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

import nh3

from django.utils.translation import get_language
from django.utils.translation import gettext as _

from .content import ALLOWED_ATTRIBUTES, ALLOWED_TAGS

_TOKEN = re.compile(
    r"<!--.*?-->"  # comments (the sanitiser drops them; kept whole if ever present)
    r"|<(/?)([a-zA-Z][a-zA-Z0-9]*)((?:[^>\"']|\"[^\"]*\"|'[^']*')*)>"  # tags, quotes respected
    r"|[^<]+"  # text
    r"|<",  # a stray "<" (cannot occur in sanitised output; taken as text)
    re.S,
)
_VOID = frozenset({"area", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"})
_QUOTE_LINE = re.compile(r"^(?:\s|&nbsp;|&#160;)*&gt;")
_PARAGRAPHS = frozenset({"p", "div"})
_BLOCKS = frozenset(
    {"p", "div", "blockquote", "ul", "ol", "li", "pre", "table", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "!--"}
)


@dataclass
class _Token:
    raw: str
    kind: str  # "start", "end", "void", "text"
    name: str = ""


@dataclass
class _Node:
    """One top-level piece of the fragment: an element with everything inside, or text."""

    tokens: list[_Token] = field(default_factory=list)
    loose: bool = False  # a run of top-level text and inline elements, not one element

    @property
    def name(self) -> str:
        first = self.tokens[0]
        return "" if self.loose or first.kind not in ("start", "void") else first.name

    @property
    def raw(self) -> str:
        return "".join(t.raw for t in self.tokens)

    @property
    def is_blank(self) -> bool:
        return all(t.kind == "text" and not t.raw.strip() for t in self.tokens)


def _tokens(fragment: str) -> list[_Token] | None:
    tokens = []
    for match in _TOKEN.finditer(fragment):
        raw = match.group(0)
        if match.group(2):
            name = match.group(2).lower()
            if match.group(1):
                kind = "end"
            elif name in _VOID or raw.endswith("/>"):
                kind = "void"
            else:
                kind = "start"
            tokens.append(_Token(raw, kind, name))
        elif raw.startswith("<!--"):
            tokens.append(_Token(raw, "void", "!--"))
        else:
            tokens.append(_Token(raw, "text"))
    if "".join(t.raw for t in tokens) != fragment:
        return None
    return tokens


def _top_level(tokens: list[_Token]) -> list[_Node] | None:
    """Group tokens into top-level nodes; None if the tags do not nest (not sanitiser output)."""
    nodes: list[_Node] = []
    stack: list[str] = []
    for token in tokens:
        if not stack:
            inline = token.kind == "text" or token.name not in _BLOCKS
            if inline and nodes and nodes[-1].loose:
                nodes[-1].tokens.append(token)
            else:
                nodes.append(_Node(loose=inline))
                nodes[-1].tokens.append(token)
        else:
            nodes[-1].tokens.append(token)
        if token.kind == "start":
            stack.append(token.name)
        elif token.kind == "end":
            if not stack or stack[-1] != token.name:
                return None
            stack.pop()
    return None if stack else nodes


def _split_lines(inner: list[_Token]) -> list[list[_Token]] | None:
    """The children of a paragraph as lines separated by its own <br> tags; None when a line
    break hides inside a child element (then the paragraph is left alone)."""
    lines: list[list[_Token]] = [[]]
    depth = 0
    for token in inner:
        if depth == 0 and token.kind == "void" and token.name == "br":
            lines.append([])
            continue
        if token.kind == "start":
            depth += 1
        elif token.kind == "end":
            depth -= 1
        elif token.kind == "void" and token.name == "br":
            return None
        lines[-1].append(token)
    return lines


def _is_quote_line(line: list[_Token]) -> bool:
    text = "".join(t.raw for t in line if t.kind == "text")
    return bool(_QUOTE_LINE.match(text))


def _paragraph_parts(node: _Node) -> list[tuple[bool, str]]:
    """A <p>/<div> (or loose top-level text) split into (quoted?, html) parts at runs of
    lines starting with ">"; the whole node, unquoted, when it has none."""
    tokens = node.tokens
    wrapped = not node.loose
    inner = tokens[1:-1] if wrapped else tokens
    lines = _split_lines(inner)
    if lines is None or not any(_is_quote_line(line) for line in lines):
        return [(False, node.raw)]
    groups: list[tuple[bool, list[list[_Token]]]] = []
    for line in lines:
        quoted = _is_quote_line(line)
        if groups and groups[-1][0] == quoted:
            groups[-1][1].append(line)
        else:
            groups.append((quoted, [line]))
    parts = []
    for quoted, group in groups:
        body = "<br>".join("".join(t.raw for t in line) for line in group)
        if not body.strip():
            continue
        parts.append((quoted, f"{tokens[0].raw}{body}</{node.name}>" if wrapped else body))
    return parts


def _details(parts: list[str]) -> str:
    return (
        '<details class="quoted"><summary>'
        f'<span class="quoted-show">{_("Show quoted text")}</span>'
        f'<span class="quoted-hide">{_("Hide quoted text")}</span>'
        f"</summary>{''.join(parts)}</details>"
    )


def _resanitise(html: str) -> str:
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS | {"details", "summary"},
        attributes=ALLOWED_ATTRIBUTES,
        allowed_classes={"details": {"quoted"}, "span": {"quoted-show", "quoted-hide"}},
        url_schemes={"http", "https", "mailto", "cid"},
        link_rel="noopener noreferrer nofollow",
    )


def fold_quotes(body_html: str) -> str:
    """body_html with its quotations folded behind "Show quoted text" (see module docstring)."""
    if "<blockquote" not in body_html and "&gt;" not in body_html:
        return body_html  # the common case costs one substring search
    return _fold_quotes(body_html, get_language())


@lru_cache(maxsize=4_096)
def _fold_quotes(body_html: str, language: str | None) -> str:
    """Folding re-tokenises and re-sanitises the entry (about 0.1 ms); entries never change, and
    the summary text is translated, so a worker folds each body once per language."""
    tokens = _tokens(body_html)
    nodes = _top_level(tokens) if tokens is not None else None
    if nodes is None:
        return body_html
    out: list[str] = []
    pending: list[str] = []  # quoted parts waiting to be folded together
    gap: list[str] = []  # blank text between quoted parts, folded along with them
    changed = False
    for node in nodes:
        if node.is_blank:
            (gap if pending else out).append(node.raw)
            continue
        if node.name == "blockquote":
            parts = [(True, node.raw)]
        elif node.loose or node.name in _PARAGRAPHS:
            parts = _paragraph_parts(node)
        else:
            parts = [(False, node.raw)]
        for quoted, html in parts:
            if quoted:
                pending.extend(gap)
                pending.append(html)
                gap = []
            else:
                if pending:
                    out.append(_details(pending))
                    changed = True
                    pending = []
                out.extend(gap)
                gap = []
                out.append(html)
    if pending:
        out.append(_details(pending))
        changed = True
    out.extend(gap)
    return _resanitise("".join(out)) if changed else body_html
