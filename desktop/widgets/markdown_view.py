"""Renders a message's Markdown: prose through Qt's own Markdown support (lists, tables,
emphasis), fenced code as `CodeBlock`s. `set_text` can be called again and again while the
text streams in: blocks that did not change keep their widgets.

With a citation resolver (`set_citation_resolver`), the model's citations in the prose become
links (desktop/citations.py); clicking one emits `citation_activated`, and whoever shows the
window opens the cited place (desktop/tools_controller.py). Other links are shown, never opened."""

from __future__ import annotations

from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtWidgets import QLabel, QSizePolicy, QVBoxLayout, QWidget

from core.chat.browser_tool import Citation
from desktop.citations import Resolver, citation_at, link_citations
from desktop.markdown import Block, split_blocks
from desktop.widgets.code_block import CodeBlock

SELECTABLE = Qt.TextInteractionFlag.TextSelectableByMouse | Qt.TextInteractionFlag.TextSelectableByKeyboard
LINKS = Qt.TextInteractionFlag.LinksAccessibleByMouse | Qt.TextInteractionFlag.LinksAccessibleByKeyboard


class ProseLabel(QLabel):
    """A Markdown paragraph. Caches its height for a width: a word-wrapped rich-text label
    otherwise lays its whole document out again on every layout pass, so each streamed update
    of one paragraph would re-measure every paragraph above it."""

    citation_activated = Signal(object)  # the Citation of the link clicked

    def __init__(self, parent=None):
        super().__init__(parent)
        self._heights: dict[int, int] = {}
        self.citations: list[Citation] = []  # what its citation links stand for
        self.linkActivated.connect(self._link_activated)

    def set_markdown(self, markdown: str, resolve: Resolver | None) -> None:
        text, self.citations = link_citations(markdown, resolve)
        # Links are reachable only where there are citations: any other link does nothing when
        # clicked (Hearth stays offline), so it must not look clickable.
        self.setTextInteractionFlags(SELECTABLE | LINKS if self.citations else SELECTABLE)
        self.setText(text)

    def _link_activated(self, href: str) -> None:
        citation = citation_at(href, self.citations)
        if citation is not None:
            self.citation_activated.emit(citation)

    def setText(self, text: str) -> None:
        self._heights.clear()
        super().setText(text)

    def heightForWidth(self, width: int) -> int:
        height = self._heights.get(width)
        if height is None:
            height = self._heights[width] = super().heightForWidth(width)
        return height

    def changeEvent(self, event: QEvent) -> None:
        if event.type() in (QEvent.Type.FontChange, QEvent.Type.StyleChange):
            self._heights.clear()
        super().changeEvent(event)


class MarkdownView(QWidget):
    citation_activated = Signal(object)  # the Citation of a link clicked in any paragraph

    def __init__(self, text: str = "", parent=None):
        super().__init__(parent)
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._layout.setSpacing(6)
        self._blocks: list[Block] = []
        self._widgets: list[QWidget] = []
        self._text = ""
        self._resolve: Resolver | None = None
        self.set_text(text)

    def text(self) -> str:
        return self._text

    def set_text(self, text: str) -> None:
        if text == self._text and self._widgets:
            return
        self._text = text
        blocks = split_blocks(text)
        for i, block in enumerate(blocks):
            if i < len(self._widgets) and self._blocks[i].kind == block.kind:
                if self._blocks[i] != block:
                    self._update(self._widgets[i], block)
                continue
            widget = self._make(block)
            if i < len(self._widgets):
                old = self._widgets[i]
                self._layout.replaceWidget(old, widget)
                old.deleteLater()
                self._widgets[i] = widget
            else:
                self._layout.addWidget(widget)
                self._widgets.append(widget)
        for old in self._widgets[len(blocks):]:
            self._layout.removeWidget(old)
            old.deleteLater()
        del self._widgets[len(blocks):]
        self._blocks = blocks

    def set_citation_resolver(self, resolve: Resolver | None) -> None:
        """Where the chat's citations point (None: nowhere, they stay as written); shown again now."""
        self._resolve = resolve
        for block, widget in zip(self._blocks, self._widgets, strict=True):
            if isinstance(widget, ProseLabel):
                widget.set_markdown(block.text, resolve)

    def code_blocks(self) -> list[CodeBlock]:
        return [w for w in self._widgets if isinstance(w, CodeBlock)]

    def prose_labels(self) -> list[QLabel]:
        return [w for w in self._widgets if isinstance(w, QLabel)]

    def _make(self, block: Block) -> QWidget:
        if block.kind == "code":
            return CodeBlock(block.text, block.language)
        label = ProseLabel()
        label.citation_activated.connect(self.citation_activated)
        label.setObjectName("prose")
        label.setTextFormat(Qt.TextFormat.MarkdownText)
        label.setWordWrap(True)
        # Links are shown, never opened: Hearth stays offline unless the person copies one.
        label.setOpenExternalLinks(False)
        label.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        label.set_markdown(block.text, self._resolve)
        return label

    def _update(self, widget: QWidget, block: Block) -> None:
        if isinstance(widget, CodeBlock):
            widget.set_language(block.language)
            widget.set_code(block.text)
        else:
            widget.set_markdown(block.text, self._resolve)
