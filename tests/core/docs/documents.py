"""Test documents made on the spot, one fact planted in each: a PDF written with PDFium, a Word file
with python-docx (both core/docs/samples.py), HTML, Markdown, text, and Chinese and Japanese text files."""

from __future__ import annotations

from pathlib import Path

from core.docs.samples import make_docx, make_pdf

# The fact each format holds, and a query that finds it.
FACTS = {
    "pdf": ("The harbour gate closes at 21:40 on Sundays.", "harbour gate"),
    "docx": ("The pump in building nine is serviced every March.", "pump serviced"),
    "html": ("Visitors park behind the greenhouse on level two.", "park behind greenhouse"),
    "markdown": ("The backup tapes rotate through vault Kestrel.", "Kestrel vault"),
    "text": ("The spare key hangs inside the fuse cabinet.", "fuse cabinet"),
}
CHINESE = "本季度的会议将在北京举行，预算为五万元。量子计算小组负责报告。"
JAPANESE = "東京タワーの展望台は午後十時に閉まります。会議室の予約が必要です。"


def make_library_folder(folder: Path) -> dict[str, Path]:
    """One document of each kind in `folder` (and a subfolder), each holding its fact."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "sub").mkdir(exist_ok=True)
    paths = {
        "pdf": make_pdf(folder / "harbour.pdf", [["Harbour rules", "Page one says little."],
                                                 ["Opening hours", FACTS["pdf"][0]]]),
        "docx": make_docx(folder / "handbook.docx", FACTS["docx"][0]),
        "html": folder / "sub" / "visitors.html",
        "markdown": folder / "backups.md",
        "text": folder / "keys.txt",
        "chinese": folder / "会议.txt",
        "japanese": folder / "東京.txt",
    }
    paths["html"].write_text(f"<html><head><title>Visitor guide</title><script>var x = 'greenhouse';</script>"
                             f"</head><body><h1>Arriving</h1><p>Welcome.</p><h2>Parking</h2>"
                             f"<p>{FACTS['html'][0]}</p></body></html>", encoding="utf-8")
    paths["markdown"].write_text(f"# Backups\n\nIntro line.\n\n## Tapes\n\n{FACTS['markdown'][0]}\n", encoding="utf-8")
    paths["text"].write_text(f"Keys\n\n{FACTS['text'][0]}\n", encoding="utf-8")
    paths["chinese"].write_text(CHINESE + "\n", encoding="utf-8")
    paths["japanese"].write_text(JAPANESE + "\n", encoding="utf-8")
    return paths
