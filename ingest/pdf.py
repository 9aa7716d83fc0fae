"""Layout-aware PDF text: paragraphs, pages, heading paths and table rows from character boxes.

PDFium (through pypdfium2, BSD-3-Clause/Apache-2.0) gives every character with its box, font size
and weight, in content-stream order, at about 0.3 s per 100 pages. From those boxes this module
rebuilds what pypdf's one-string-per-page text loses:

- segments: runs of characters on one baseline, cut at a wide horizontal gap (a column gutter or a
  table cell boundary);
- reading order: a page whose segments leave an empty vertical gutter near the middle is read left
  column then right column, band by band (a full-width line starts a new band);
- table rows: several short segments on one baseline are one row, written `cell | cell`;
- running headers, footers and page numbers: lines in the top or bottom margin that repeat (digits
  ignored) on many pages, or that are a bare page number, are dropped;
- paragraphs: lines are joined until a vertical gap, a font change, a bullet, or a short line that
  ends a sentence; a word hyphenated across lines is rejoined unless the document spells it with a
  hyphen elsewhere; a paragraph cut by a page break continues on the next page;
- headings: from the PDF outline when its entries name lines on their pages, otherwise from font
  size and weight (larger or bold, short, standalone lines), ranked into levels by size.

Main entry: `extract(raw) -> PdfText` (title and paragraphs, each with its page and heading path).
"""

from __future__ import annotations

import ctypes
import re
import statistics
from collections import Counter
from dataclasses import dataclass, field

_BULLET = re.compile(r"^\s*([\u2022\u25aa\u25cf\u25e6\u2023\u2043\u25a0\u25a1\u2013\u2014\-\*\uf0b7\uf0a7]|\(?[a-z0-9]{1,3}[.)])\s")
_PAGE_NUMBER = re.compile(r"^\W*(page\s*)?(\d{1,4}|[ivxlc]{1,6})(\s*(of|/)\s*\d{1,4})?\W*$", re.I)
_SENTENCE_END = re.compile(r"[.!?:;)\"\u201d]$")
_HYPHENS = ("-", "\u00ad", "\x02", "\ufffe")
"""A hyphen at a line end; PDFium reports the ones it takes for line-break hyphens as U+FFFE or 0x02."""


@dataclass
class Segment:
    """Characters on one baseline between two wide gaps."""

    text: str
    x0: float
    x1: float
    top: float
    bottom: float
    size: float
    bold: bool

    @property
    def width(self) -> float:
        return self.x1 - self.x0


@dataclass
class Line:
    """A line in reading order: one segment, or a table row of several."""

    text: str
    x0: float
    x1: float
    top: float
    bottom: float
    size: float
    bold: bool
    page: int
    cells: int = 1


@dataclass
class Paragraph:
    """A paragraph (or a heading, or a table row) with the page it starts on and its heading path."""

    text: str
    page: int
    heading_path: tuple[str, ...] = ()
    kind: str = "text"  # "text", "heading" or "table"


@dataclass
class PdfText:
    title: str
    paragraphs: list[Paragraph] = field(default_factory=list)
    pages: int = 0


# --- characters -> segments ------------------------------------------------------------------------


def _page_segments(textpage, raw) -> list[Segment]:
    """Segments of one page in content-stream order."""
    count = raw.FPDFText_CountChars(textpage)
    if count <= 0:
        return []
    text = textpage.get_text_range()
    if len(text) != count:  # characters outside the BMP: fall back to one lookup per character
        text = "".join(chr(raw.FPDFText_GetUnicode(textpage, i)) for i in range(count))
    left, right, bottom, top = (ctypes.c_double() for _ in range(4))
    loose = raw.FS_RECTF()
    segments: list[Segment] = []
    run = _Run()
    for i, ch in enumerate(text):
        if ch in "\r\n":
            run.flush(segments)
            continue
        raw.FPDFText_GetCharBox(textpage, i, left, right, bottom, top)
        x0, x1 = left.value, right.value
        visible = not ch.isspace() and (x1 > x0 or top.value > bottom.value)
        if ch == " " and not raw.FPDFText_IsGenerated(textpage, i):
            run.spaced = True
        if visible and run.right is not None and _cut(x0, run):
            run.flush(segments)  # a column gutter or a table cell boundary
        run.chars.append(ch)
        if visible:
            if run.size == 0.0 or (not run.sized_by_letter and ch.isalpha()):
                raw.FPDFText_GetLooseCharBox(textpage, i, loose)
                # The loose box spans the font's ascent to descent: a stable stand-in for its size
                # (the PDF's own font size is often 1, scaled by the text matrix).
                run.size = round(abs(loose.top - loose.bottom), 1) or 10.0
                run.sized_by_letter = ch.isalpha()
            run.add(x0, x1, bottom.value, top.value, raw.FPDFText_GetFontWeight(textpage, i) >= 600)
    run.flush(segments)
    return segments


def _cut(x0: float, run: _Run) -> bool:
    """Is the gap before a character at `x0` a column or cell boundary rather than a word space?"""
    gap = x0 - run.right
    # Justified text stretches real spaces; a gutter is empty (PDFium may generate a space for it).
    limit = 4.0 * run.size if run.spaced else max(1.6 * run.size, 12.0)
    return gap > limit or x0 < run.right - 3 * run.size


class _Run:
    """The characters of the segment being built."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.chars: list[str] = []
        self.box: list[float] = []
        self.right: float | None = None
        self.size = 0.0
        self.spaced = False
        self.sized_by_letter = False
        self.bold = 0
        self.visible = 0

    def add(self, x0: float, x1: float, bottom: float, top: float, bold: bool) -> None:
        box = self.box
        self.box = [min(box[0], x0), max(box[1], x1), min(box[2], bottom), max(box[3], top)] if box else [x0, x1, bottom, top]
        self.right = x1
        self.spaced = False
        self.bold += bold
        self.visible += 1

    def flush(self, segments: list[Segment]) -> None:
        text = re.sub(r"[ \t\u00a0]+", " ", "".join(self.chars)).strip()
        if text and self.box:
            x0, x1, bottom, top = self.box
            segments.append(Segment(text, x0, x1, top, bottom, self.size, self.bold >= 0.8 * self.visible))
        self.reset()


# --- segments -> lines in reading order -------------------------------------------------------------


def _gutter(segments: list[Segment], width: float) -> float | None:
    """The x of an empty vertical gap near the page middle with prose on both sides, if any."""
    wide = [s for s in segments if s.width > 0.2 * width]
    if len(wide) < 8:
        return None
    best, best_cover = None, None
    for step in range(30, 71, 2):
        x = width * step / 100
        cover = sum(1 for s in segments if s.x0 < x < s.x1)
        if best_cover is None or cover < best_cover:
            best, best_cover = x, cover
    left = sum(1 for s in wide if s.x1 <= best)
    right = sum(1 for s in wide if s.x0 >= best)
    if best_cover > 0.05 * len(segments) or left < 4 or right < 4:
        return None
    return best


def _rows(segments: list[Segment]) -> list[list[Segment]]:
    """Segments grouped by baseline, top of the page first; cells of a row left to right."""
    rows: list[list[Segment]] = []
    for segment in sorted(segments, key=lambda s: -s.top):
        if rows and abs(rows[-1][0].top - segment.top) < 0.45 * max(segment.size, 1.0):
            rows[-1].append(segment)
        else:
            rows.append([segment])
    return [sorted(row, key=lambda s: s.x0) for row in rows]


_LABEL = re.compile(r"^(\(?[0-9ivxlcA-Za-z]{1,4}[.)]?|\d+(\.\d+)+\.?|[\u2022\u25aa\u25cf\u25e6\u2023\u25a0\uf0b7\uf0a7*-])$")
"""A list number or bullet set apart from its text by a tab: `2.4.1`, `(a)`, `iv.`, a bullet."""


def _row_line(row: list[Segment], page: int) -> Line:
    main = max(row, key=lambda s: len(s.text))
    if len(row) == 2 and _LABEL.match(row[0].text):  # a hanging label, not a table row
        return Line(f"{row[0].text} {row[1].text}", row[0].x0, row[1].x1, row[1].top, row[1].bottom, row[1].size, row[1].bold, page)
    text = " | ".join(s.text for s in row)
    return Line(text, row[0].x0, row[-1].x1, max(s.top for s in row), min(s.bottom for s in row), main.size, all(s.bold for s in row), page, len(row))


def _seg_line(segment: Segment, page: int) -> Line:
    return Line(segment.text, segment.x0, segment.x1, segment.top, segment.bottom, segment.size, segment.bold, page)


def page_lines(segments: list[Segment], width: float, page: int) -> list[Line]:
    """The page's lines in reading order (columns one after the other, table cells joined in rows)."""
    gutter = _gutter(segments, width)
    if gutter is None:
        return [_row_line(row, page) if len(row) > 1 else _seg_line(row[0], page) for row in _rows(segments)]
    lines: list[Line] = []
    band: list[Segment] = []
    for segment in sorted(segments, key=lambda s: -s.top):
        if segment.x0 < gutter < segment.x1:  # a full-width line closes the band above it
            lines.extend(_band_lines(band, gutter, page))
            band = []
            lines.append(_seg_line(segment, page))
        else:
            band.append(segment)
    lines.extend(_band_lines(band, gutter, page))
    return lines


def _band_lines(band: list[Segment], gutter: float, page: int) -> list[Line]:
    left = [s for s in band if s.x1 <= gutter]
    right = [s for s in band if s.x0 >= gutter]
    return [_row_line(row, page) if len(row) > 1 else _seg_line(row[0], page) for column in (left, right) for row in _rows(column)]


# --- running headers, footers and page numbers ------------------------------------------------------


def _margin_key(line: Line) -> str:
    return re.sub(r"\d+", "#", line.text.lower()).strip()


def drop_running_lines(pages: list[list[Line]], heights: list[float]) -> list[list[Line]]:
    """Remove lines in the top/bottom 12% of their page that repeat on many pages, and bare page numbers."""

    def in_margin(line: Line, height: float) -> bool:
        return line.bottom > 0.88 * height or line.top < 0.12 * height

    counts: Counter[str] = Counter()
    for lines, height in zip(pages, heights, strict=True):
        counts.update({_margin_key(line) for line in lines if in_margin(line, height)})
    threshold = max(3, int(0.3 * len(pages)))
    kept: list[list[Line]] = []
    for lines, height in zip(pages, heights, strict=True):
        kept.append([
            line for line in lines
            if not (in_margin(line, height) and (counts[_margin_key(line)] >= threshold or _PAGE_NUMBER.match(line.text)))
        ])
    return kept


# --- lines -> paragraphs ------------------------------------------------------------------------------


def _body_size(pages: list[list[Line]]) -> float:
    sizes: Counter[float] = Counter()
    for lines in pages:
        for line in lines:
            sizes[round(line.size * 2) / 2] += len(line.text)
    return sizes.most_common(1)[0][0] if sizes else 10.0


def _is_heading_style(line: Line, body: float) -> bool:
    words = len(line.text.split())
    if line.cells > 1 or words > 14 or not any(ch.isalpha() for ch in line.text):
        return False
    return line.size >= body * 1.15 or (line.bold and line.size >= body * 0.95 and not line.text.endswith((".", ",", ";")))


def _breaks(prev: Line, line: Line, pitch: float, right_edge: float) -> bool:
    """Does `line` start a new paragraph after `prev` (same page, reading order)?"""
    if line.cells > 1 or prev.cells > 1:
        return True
    if abs(line.size - prev.size) > max(0.6, 0.08 * prev.size):
        return True
    gap = prev.top - line.top
    if gap < 0 or gap > 1.45 * pitch or line.x1 < prev.x0 - 5:  # moved up (new column) or a wide gap
        return True
    if _BULLET.match(line.text):
        return True
    # A short line ending a sentence ends its paragraph.
    return prev.x1 < right_edge - 0.12 * (right_edge - prev.x0) and bool(_SENTENCE_END.search(prev.text))


def _pitch(lines: list[Line]) -> float:
    gaps = [a.top - b.top for a, b in zip(lines, lines[1:]) if 0 < a.top - b.top < 3 * a.size and abs(a.size - b.size) < 0.6]
    return statistics.median(gaps) if gaps else 14.0


def page_blocks(lines: list[Line], body: float) -> list[list[Line]]:
    """Consecutive lines of one page grouped into paragraphs."""
    if not lines:
        return []
    pitch = _pitch(lines)
    blocks: list[list[Line]] = [[lines[0]]]
    for prev, line in zip(lines, lines[1:]):
        edge = max(max(item.x1 for item in blocks[-1]), line.x1)
        if _is_heading_style(prev, body) != _is_heading_style(line, body) or _breaks(prev, line, pitch, edge):
            blocks.append([line])
        else:
            blocks[-1].append(line)
    return blocks


def join_lines(texts: list[str], vocabulary: set[str]) -> str:
    """Lines of one paragraph as one string; words hyphenated at a line end are rejoined."""
    out = texts[0]
    for text in texts[1:]:
        out = _join(out, text, vocabulary)
    return out.replace("\ufffe", "-").replace("\x02", "-").replace("\u00ad", "")


def _join(left: str, right: str, vocabulary: set[str]) -> str:
    if left.endswith(_HYPHENS) and len(left) > 1 and left[-2].isalpha() and right[:1].islower():
        head = re.search(r"(\w+)[-\u00ad\x02\ufffe]$", left)
        tail = re.match(r"\w+", right)
        if head and tail and left[-1] in "-\ufffe":
            joined = (head.group(1) + tail.group(0)).lower()
            hyphenated = f"{head.group(1)}-{tail.group(0)}".lower()
            if hyphenated in vocabulary and joined not in vocabulary:
                return left[:-1] + "-" + right  # a real compound ("risk-based"), not a line-end break
        return left[:-1] + right
    return f"{left} {right}"


def _vocabulary(pages: list[list[Line]]) -> set[str]:
    words: set[str] = set()
    for lines in pages:
        for line in lines:
            words.update(re.findall(r"\w+(?:-\w+)*", line.text.lower()))
    return words


# --- headings -------------------------------------------------------------------------------------------


def _norm(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", " ", text.lower()).strip()


def _outline_levels(outline: list[tuple[int, str, int]], blocks: list[tuple[int, list[Line]]]) -> dict[int, int] | None:
    """Block index -> heading level from the outline, or None when the outline does not name the text's headings."""
    starts: dict[int, list[tuple[int, str]]] = {}
    for index, (page, lines) in enumerate(blocks):
        starts.setdefault(page, []).append((index, _norm(" ".join(line.text for line in lines))))
    levels: dict[int, int] = {}
    for level, title, page in outline:
        wanted = _norm(title)
        match = next((i for i, text in starts.get(page, []) if wanted and text.startswith(wanted) and len(text) < len(wanted) + 40), None)
        if match is not None:
            levels[match] = level
    return levels if outline and len(levels) >= max(3, 0.5 * len(outline)) else None


def _font_levels(blocks: list[tuple[int, list[Line]]], body: float) -> dict[int, int]:
    """Block index -> heading level from font size and weight (bigger is higher; bold body size lowest)."""
    candidates: dict[int, float] = {}
    for index, (_, lines) in enumerate(blocks):
        if len(lines) <= 3 and all(_is_heading_style(line, body) for line in lines) and "...." not in lines[0].text:
            candidates[index] = round(lines[0].size * 2) / 2
    sizes = sorted(set(candidates.values()), reverse=True)
    return {index: sizes.index(size) for index, size in candidates.items()}


_FRONT_MATTER = re.compile(r"^((table of )?contents|list of (figures|tables|abbreviations|acronyms)|index)$", re.I)
"""Headings of navigation pages: they head their own page, never the sections that follow."""


def _assign_paths(paragraphs: list[Paragraph], levels: dict[int, int]) -> None:
    stack: list[tuple[int, str]] = []
    for index, paragraph in enumerate(paragraphs):
        if index in levels:
            level = levels[index]
            stack = [(lvl, name) for lvl, name in stack if lvl < level and not _FRONT_MATTER.match(name)]
            stack.append((level, paragraph.text))
            paragraph.kind = "heading"
        paragraph.heading_path = tuple(name for _, name in stack)


# --- the whole document -------------------------------------------------------------------------------


def _read_pages(document) -> tuple[list[list[Line]], list[float]]:
    import pypdfium2.raw as raw

    pages: list[list[Line]] = []
    heights: list[float] = []
    for number in range(len(document)):
        page = document[number]
        width, height = page.get_size()
        textpage = page.get_textpage()
        try:
            pages.append(page_lines(_page_segments(textpage, raw), width, number + 1))
        finally:
            textpage.close()
            page.close()
        heights.append(height)
    return pages, heights


def _outline(document) -> list[tuple[int, str, int]]:
    entries = []
    try:
        for item in document.get_toc():
            dest = item.get_dest()
            index = dest.get_index() if dest is not None else None
            if index is not None:
                entries.append((item.level, item.get_title().strip(), index + 1))
    except Exception:  # a damaged outline is not worth failing the document for
        return []
    return entries


def extract(raw_pdf: bytes, *, password: str | None = None) -> PdfText:
    """Paragraphs (page, heading path, kind) and a title from a PDF's bytes.

    Raises:
        pypdfium2.PdfiumError: when PDFium cannot open the file.
    """
    import pypdfium2 as pdfium

    document = pdfium.PdfDocument(raw_pdf, password=password)
    try:
        pages, heights = _read_pages(document)
        outline = _outline(document)
        meta_title = (document.get_metadata_dict().get("Title") or "").strip()
    finally:
        document.close()
    pages = drop_running_lines(pages, heights)
    body = _body_size(pages)
    vocabulary = _vocabulary(pages)
    blocks = [(number, block) for number, lines in enumerate(pages, 1) for block in page_blocks(lines, body)]
    levels = _outline_levels(outline, blocks)
    if levels is None:
        levels = _font_levels(blocks, body)
    paragraphs = [
        Paragraph(
            text="\n".join(line.text for line in lines) if lines[0].cells > 1 else join_lines([line.text for line in lines], vocabulary),
            page=page, kind="table" if lines[0].cells > 1 else "text",
        )
        for page, lines in blocks
    ]
    _assign_paths(paragraphs, levels)
    paragraphs = _merge_page_breaks(paragraphs, vocabulary)
    return PdfText(title=_title(meta_title, paragraphs, levels), paragraphs=paragraphs, pages=len(pages))


def _merge_page_breaks(paragraphs: list[Paragraph], vocabulary: set[str]) -> list[Paragraph]:
    """Rejoin a paragraph that a page break cut mid-sentence."""
    merged: list[Paragraph] = []
    for paragraph in paragraphs:
        prev = merged[-1] if merged else None
        if (
            prev is not None and prev.kind == paragraph.kind == "text" and paragraph.page == prev.page + 1
            and prev.heading_path == paragraph.heading_path and not _SENTENCE_END.search(prev.text)
            and paragraph.text[:1].islower()
        ):
            prev.text = _join(prev.text, paragraph.text, vocabulary)
            continue
        merged.append(paragraph)
    return merged


def _title(meta_title: str, paragraphs: list[Paragraph], levels: dict[int, int]) -> str:
    junk = len(meta_title) < 5 or meta_title.lower().startswith(("microsoft word", "untitled")) or meta_title.lower().endswith((".doc", ".docx", ".pdf"))
    if meta_title and not junk:
        return meta_title
    first_pages = [(levels[i], p.text) for i, p in enumerate(paragraphs[:40]) if i in levels and p.page <= 2]
    return min(first_pages)[1][:200] if first_pages else ""
