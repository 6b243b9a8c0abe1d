"""`/api/tickets.xml`: osTicket's XML, read with expat and no DTD at all.

defusedxml is not a dependency, so the guard is here: the parser refuses the document at its
first DOCTYPE, ENTITY or external reference, before anything is expanded (billion laughs,
external entities) and before anything is stored. Elements are collected into a small tree by
hand, with caps on depth and element count, then read like osTicket's sample: simple values
as attributes of <ticket> or as child elements, <message type="text/html"> (CDATA or escaped),
<phone ext="123">, and <attachments><file name="" type="" encoding="base64">…</file>.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from xml.parsers import expat

from django.utils.translation import gettext as _

from .raw_request import RawFile, RawRequest

MAX_DEPTH = 16
MAX_ELEMENTS = 10_000


class MalformedXml(ValueError):
    """The message is osTicket's: `XML error: <what> at line L:C`."""


class _Refused(Exception):
    def __init__(self, what: str) -> None:
        super().__init__(what)
        self.what = what


@dataclass
class _Element:
    tag: str
    attrs: dict[str, str]
    text: list[str] = field(default_factory=list)
    children: list[_Element] = field(default_factory=list)

    @property
    def content(self) -> str:
        return "".join(self.text)


def _tree(body: bytes) -> _Element:
    parser = expat.ParserCreate()
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    stack: list[_Element] = []
    roots: list[_Element] = []
    count = 0

    def refuse(*_args: object) -> int:
        raise _Refused(_("DOCTYPE and ENTITY declarations are not accepted"))

    def start(tag: str, attrs: dict[str, str]) -> None:
        nonlocal count
        count += 1
        if count > MAX_ELEMENTS or len(stack) >= MAX_DEPTH:
            raise _Refused(_("the document is too deep or has too many elements"))
        element = _Element(tag, dict(attrs))
        (stack[-1].children if stack else roots).append(element)
        stack.append(element)

    def end(_tag: str) -> None:
        stack.pop()

    def data(text: str) -> None:
        if stack:
            stack[-1].text.append(text)

    parser.StartDoctypeDeclHandler = refuse
    parser.EntityDeclHandler = refuse
    parser.UnparsedEntityDeclHandler = refuse
    parser.ExternalEntityRefHandler = refuse
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = data
    try:
        parser.Parse(body, True)
    except _Refused as refused:
        raise MalformedXml(_position(refused.what, parser)) from None
    except expat.ExpatError as exc:
        raise MalformedXml(_position(expat.ErrorString(exc.code) or str(exc), parser)) from None
    if not roots:
        raise MalformedXml(_position(_("no element found"), parser))
    return roots[0]


def _position(what: str, parser: expat.XMLParserType) -> str:
    return f"XML error: {what} at line {parser.ErrorLineNumber}:{parser.ErrorColumnNumber}"


def parse(body: bytes) -> RawRequest:
    root = _tree(body)
    request = RawRequest()
    for name, value in root.attrs.items():
        request.values[name] = value
    for child in root.children:
        if child.tag == "message":
            request.message = child.content.strip()
            request.message_type = child.attrs.get("type", "")
            request.message_encoding = child.attrs.get("encoding", "")
            request.message_charset = child.attrs.get("charset", "")
        elif child.tag == "attachments":
            for item in child.children:
                if item.tag != "file":
                    request.problems.append(
                        ("attachments", _("<%(tag)s> inside <attachments> is not a <file>") % {"tag": item.tag[:50]})
                    )
                    continue
                request.files.append(
                    RawFile(
                        name=item.attrs.get("name", ""),
                        payload=item.content.strip(),
                        content_type=item.attrs.get("type", ""),
                        encoding=item.attrs.get("encoding", ""),
                    )
                )
        elif child.tag == "phone" and child.attrs.get("ext"):
            request.values["phone"] = f"{child.content.strip()}X{child.attrs['ext'].strip()}"
        elif child.children:
            request.values[child.tag] = None
        else:
            request.values[child.tag] = child.content.strip()
    return request
