"""HTML files, through selectolax (MIT; lexbor parser): the visible text as lines, headings
written `# Title`, list items `- item`, table cells separated by ` | `; one part per heading."""

from __future__ import annotations

import re
from pathlib import Path

from selectolax.lexbor import LexborHTMLParser, LexborNode

from core.docs.readers import Part, Read
from core.docs.readers.text import decode

HIDDEN = {"script", "style", "noscript", "template", "head", "svg", "math", "iframe", "object", "button",
          "select", "-comment"}
BLOCKS = {"address", "article", "aside", "blockquote", "body", "caption", "dd", "details", "div", "dl", "dt",
          "fieldset", "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header",
          "hr", "li", "main", "nav", "ol", "p", "pre", "section", "summary", "table", "tbody", "thead", "tfoot",
          "tr", "ul", "br"}
CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?([A-Za-z0-9_\-]+)""", re.IGNORECASE)


def read(path: Path) -> Read:
    return parse(_text_of(path.read_bytes()))


def parse(html: str) -> Read:
    tree = LexborHTMLParser(html)
    title_node = tree.css_first("title")
    title = " ".join(title_node.text().split()) if title_node is not None else ""
    root = tree.body or tree.root
    lines = _Lines()
    if root is not None:
        _walk(root, lines)
    lines.flush()
    return Read(title, tuple(lines.parts()))


def _text_of(data: bytes) -> str:
    declared = CHARSET.search(data[:4096])
    if declared:
        try:
            return data.decode(declared.group(1).decode("ascii"), errors="replace").replace("\r\n", "\n")
        except LookupError:
            pass  # a charset Python does not know: fall back to the usual guesses
    return decode(data)


class _Lines:
    """Collects text into lines and the lines into parts, one per heading."""

    def __init__(self):
        self.buffer: list[str] = []
        self.prefix = ""
        self.done: list[tuple[str | None, list[str]]] = [(None, [])]

    def text(self, text: str, pre: bool) -> None:
        if pre:
            pieces = text.split("\n")
            for piece in pieces[:-1]:
                self.buffer.append(piece)
                self.flush(keep_space=True)
            self.buffer.append(pieces[-1])
        else:
            self.buffer.append(text)

    def flush(self, keep_space: bool = False) -> None:
        joined = "".join(self.buffer)
        line = joined.rstrip() if keep_space else " ".join(joined.split())
        if line.strip() or keep_space:
            self.done[-1][1].append(self.prefix + line)
        self.buffer, self.prefix = [], ""

    def heading(self, level: int, text: str) -> None:
        self.flush()
        self.done.append((text, [f"{'#' * level} {text}"]))

    def parts(self) -> list[Part]:
        return [Part("\n".join(lines).strip("\n"), section=section) for section, lines in self.done
                if any(line.strip() for line in lines)]


def _walk(root: LexborNode, lines: _Lines) -> None:
    # Iterative, with enter and exit events: a deeply nested page must not exhaust Python's stack.
    stack: list[tuple[LexborNode, bool, bool]] = [(root, False, False)]
    while stack:
        node, leaving, pre = stack.pop()
        tag = node.tag or ""
        if leaving:
            if tag in BLOCKS:
                lines.flush(keep_space=tag == "pre")
            continue
        if node.is_text_node:
            lines.text(node.text(deep=False) or "", pre)
            continue
        if tag in HIDDEN:
            continue
        if len(tag) == 2 and tag[0] == "h" and tag[1] in "123456":
            text = " ".join(node.text().split())
            if text:
                lines.heading(int(tag[1]), text)
            continue
        if tag in ("td", "th") and "".join(lines.buffer).strip():
            lines.text(" | ", False)
        elif tag in BLOCKS:
            lines.flush()
            if tag == "li":
                lines.prefix = "- "
        elif tag == "img" and (alt := (node.attributes.get("alt") or "").strip()):
            lines.text(f"[Image: {alt}]", False)
        stack.append((node, True, pre))
        children = []
        child = node.child
        while child is not None:
            children.append(child)
            child = child.next
        inner_pre = pre or tag == "pre"
        stack.extend((c, False, inner_pre) for c in reversed(children))
