"""Turn one file into a LoadedDocument: validated metadata plus text sections.

One loader per format, each built on a mature parser: python-frontmatter and markdown-it for
Markdown, trafilatura for HTML main content, pypdf (validation, decryption) and PDFium through
`ingest.pdf` for PDF (paragraphs rebuilt from the layout, one section per heading, a page number per
paragraph), python-docx for Word. Every failure is raised as LoadError with a reason a person can act on.
"""

from __future__ import annotations

import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ingest.metadata import DocumentMeta, MetadataError, build_metadata


def qn(tag: str) -> str:
    """A WordprocessingML tag in Clark notation (`w:outlineLvl` -> `{...main}outlineLvl`)."""
    from docx.oxml.ns import qn as docx_qn

    return docx_qn(tag)

SUPPORTED_SUFFIXES = (".md", ".markdown", ".txt", ".html", ".htm", ".pdf", ".docx")


class LoadError(Exception):
    """A file that cannot be ingested; the message says why."""


@dataclass(frozen=True)
class Section:
    """A run of text under one heading path.

    `page` is the page the section starts on (PDF); `page_starts` maps character offsets in `text`
    to the page that starts there, so every chunk of a section spanning pages gets its own page.
    """

    text: str
    heading_path: tuple[str, ...] = ()
    page: int | None = None
    page_starts: tuple[tuple[int, int], ...] = ()

    def page_at(self, offset: int) -> int | None:
        """The page of the character at `offset` (the section's own page when it has no map)."""
        page = self.page
        for start, number in self.page_starts:
            if start > offset:
                break
            page = number
        return page


@dataclass
class LoadedDocument:
    meta: DocumentMeta
    sections: list[Section] = field(default_factory=list)

    @property
    def text(self) -> str:
        return "\n\n".join(section.text for section in self.sections)


# --- text sanity ---------------------------------------------------------------------------------


def _decode_text(raw: bytes) -> str:
    if b"\x00" in raw[:8192]:
        msg = "binary content in a text file (NUL bytes found); is the extension wrong?"
        raise LoadError(msg)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        msg = (
            f"not valid UTF-8 (byte 0x{raw[exc.start]:02x} at offset {exc.start}); "
            "re-save the file as UTF-8"
        )
        raise LoadError(msg) from exc
    sample = text[:8192]
    controls = sum(1 for ch in sample if ord(ch) < 32 and ch not in "\n\r\t\f")
    if sample and controls / len(sample) > 0.05:
        msg = "binary content in a text file (control characters); is the extension wrong?"
        raise LoadError(msg)
    return text


# --- Markdown ------------------------------------------------------------------------------------


def markdown_sections(body: str) -> list[Section]:
    """Split Markdown at its headings (found by a real parser, so `#` in code fences is ignored)."""
    from markdown_it import MarkdownIt

    lines = body.splitlines()
    tokens = MarkdownIt("commonmark").enable("table").parse(body)
    headings: list[tuple[int, int, int, str]] = []  # (start line, end line, level, title)
    for index, token in enumerate(tokens):
        if token.type == "heading_open" and token.map:
            title = tokens[index + 1].content.strip()
            headings.append((token.map[0], token.map[1], int(token.tag[1:]), title))

    sections: list[Section] = []
    path: list[tuple[int, str]] = []
    cursor = 0
    current: tuple[str, ...] = ()
    for start, end, level, title in headings:
        _append_section(sections, lines[cursor:start], current)
        path = [(lvl, name) for lvl, name in path if lvl < level] + [(level, title)]
        current = tuple(name for _, name in path)
        cursor = end
    _append_section(sections, lines[cursor:], current)
    return sections


def _append_section(sections: list[Section], lines: list[str], heading_path: tuple[str, ...]) -> None:
    text = "\n".join(lines).strip()
    if text:
        sections.append(Section(text=text, heading_path=heading_path))


def load_markdown(path: Path, root: Path, raw: bytes) -> LoadedDocument:
    import frontmatter
    import yaml

    text = _decode_text(raw)
    front_matter: dict = {}
    content = text
    handler = frontmatter.detect_format(text.strip(), frontmatter.handlers)
    if handler is not None:
        try:
            block, content = handler.split(text.strip())
        except ValueError:
            block = None  # an opening delimiter without a closing one: plain Markdown
        if block is not None:
            try:
                data = handler.load(block)
            except (yaml.YAMLError, ValueError) as exc:
                msg = f"front matter is not valid YAML: {exc}"
                raise LoadError(msg) from exc
            # A list or a bare string would otherwise be dropped silently, losing e.g. `visibility`.
            if data is not None and not isinstance(data, dict):
                msg = f"front matter must be a mapping of keys to values, not a {type(data).__name__}"
                raise LoadError(msg)
            front_matter = dict(data or {})
    sections = markdown_sections(content.strip())
    title = next((s.heading_path[0] for s in sections if s.heading_path), "")
    meta = build_metadata(path, root, front_matter=front_matter, fallback_title=title)
    return LoadedDocument(meta=meta, sections=sections)


def load_text(path: Path, root: Path, raw: bytes) -> LoadedDocument:
    text = _decode_text(raw).strip()
    sections = [Section(text=block.strip()) for block in text.split("\n\n\n") if block.strip()]
    return LoadedDocument(meta=build_metadata(path, root), sections=sections)


# --- HTML ----------------------------------------------------------------------------------------


def load_html(path: Path, root: Path, raw: bytes) -> LoadedDocument:
    import trafilatura

    html = _decode_text(raw)
    extracted = trafilatura.extract(
        html, output_format="markdown", include_tables=True, include_comments=False, favor_precision=True
    )
    if not extracted or not extracted.strip():
        msg = "no main content found in the HTML page"
        raise LoadError(msg)
    page_meta = trafilatura.extract_metadata(html)
    title = (page_meta.title if page_meta else None) or ""
    meta = build_metadata(path, root, fallback_title=title)
    return LoadedDocument(meta=meta, sections=markdown_sections(extracted))


# --- PDF -----------------------------------------------------------------------------------------


def load_pdf(path: Path, root: Path, raw: bytes) -> LoadedDocument:
    title = _check_pdf(raw)
    from ingest import pdf

    try:
        extracted = pdf.extract(raw)
    except Exception as exc:  # PDFium raises PdfiumError with its own reason
        msg = f"corrupt or unreadable PDF: {exc}"
        raise LoadError(msg) from exc
    sections = pdf_sections(extracted.paragraphs)
    if not sections:
        msg = "PDF has no extractable text (scanned images need OCR first)"
        raise LoadError(msg)
    return LoadedDocument(meta=build_metadata(path, root, fallback_title=extracted.title or title), sections=sections)


def pdf_sections(paragraphs) -> list[Section]:
    """One Section per run of paragraphs (`ingest.pdf.Paragraph`) under one heading path, with a page map."""
    sections: list[Section] = []
    text = ""
    starts: list[tuple[int, int]] = []
    path: tuple[str, ...] = ()
    kind = ""
    for paragraph in paragraphs:
        if text and paragraph.heading_path != path:
            sections.append(Section(text, path, starts[0][1], tuple(starts)))
            text, starts = "", []
        path = paragraph.heading_path
        if paragraph.kind == "heading":
            # A heading is carried by the heading path (and the embedded prefix), as in Markdown;
            # in the text it would be quoted as if it were a sentence.
            continue
        if text:
            # Table rows stay one per line; paragraphs are separated by a blank line.
            text += "\n" if kind == paragraph.kind == "table" else "\n\n"
        if not starts or starts[-1][1] != paragraph.page:
            starts.append((len(text), paragraph.page))
        text += paragraph.text
        kind = paragraph.kind
    if text:
        sections.append(Section(text, path, starts[0][1], tuple(starts)))
    return sections


def _check_pdf(raw: bytes) -> str:
    """Open the file with pypdf to reject corrupt and password-protected files; returns its /Title."""
    import io

    from pypdf import PdfReader
    from pypdf.errors import DependencyError, PdfReadError

    try:
        reader = PdfReader(io.BytesIO(raw))
        if reader.is_encrypted and not reader.decrypt(""):
            msg = "encrypted PDF: a password is needed to read it"
            raise LoadError(msg)
        _ = len(reader.pages)
        return str((reader.metadata or {}).get("/Title") or "")
    except LoadError:
        raise
    except DependencyError as exc:
        # AES-encrypted files (even ones with an empty user password) need the `cryptography` package.
        msg = f"encrypted PDF that cannot be decrypted here: {exc}"
        raise LoadError(msg) from exc
    except (PdfReadError, ValueError, KeyError, TypeError, AttributeError, IndexError) as exc:
        msg = f"corrupt or unreadable PDF: {exc}"
        raise LoadError(msg) from exc
    except Exception as exc:  # pypdf raises a wide range on damaged files; report them all the same way
        if "encrypt" in str(exc).lower() or "decrypt" in str(exc).lower():
            msg = f"encrypted PDF that cannot be opened: {exc}"
            raise LoadError(msg) from exc
        msg = f"corrupt or unreadable PDF: {type(exc).__name__}: {exc}"
        raise LoadError(msg) from exc


# --- DOCX ----------------------------------------------------------------------------------------


def load_docx(path: Path, root: Path, raw: bytes) -> LoadedDocument:
    import io

    import docx

    from lxml.etree import LxmlError

    try:
        document = docx.Document(io.BytesIO(raw))
    except (zipfile.BadZipFile, KeyError, ValueError, LxmlError) as exc:
        msg = f"corrupt or unreadable DOCX: {exc}"
        raise LoadError(msg) from exc

    lines: list[str] = []
    for block in document.iter_inner_content():
        if isinstance(block, docx.table.Table):
            lines.extend(" | ".join(cell.text.strip() for cell in row.cells) for row in block.rows)
            continue
        text = block.text.strip()
        if not text:
            continue
        level = docx_heading_level(block)
        lines.append(f"{'#' * min(level + 1, 6)} {text}" if level is not None else text)
        lines.append("")
    sections = markdown_sections("\n".join(lines))
    title = document.core_properties.title or next((s.heading_path[0] for s in sections if s.heading_path), "")
    return LoadedDocument(meta=build_metadata(path, root, fallback_title=title), sections=sections)


def docx_heading_level(paragraph) -> int | None:
    """0 for the Title style, N for a heading of level N, None for body text.

    The level comes from the paragraph's style ("Heading 2"), else from the outline level Word
    stores on the paragraph or on its style chain (custom and translated heading styles set it).
    """
    style = paragraph.style
    name = (style.name if style is not None else "") or ""
    if name == "Title":
        return 0
    if name.startswith("Heading") and name.split()[-1].isdigit():
        return int(name.split()[-1])
    candidates = [paragraph._p.pPr]
    while style is not None:
        candidates.append(style.element.pPr)
        style = style.base_style
    for ppr in candidates:
        outline = ppr.find(qn("w:outlineLvl")) if ppr is not None else None
        value = outline.get(qn("w:val")) if outline is not None else None
        if value is not None and value.isdigit() and int(value) < 9:  # 9 means body text
            return int(value) + 1
    return None


# --- dispatch ------------------------------------------------------------------------------------

_LOADERS: dict[str, Callable[[Path, Path, bytes], LoadedDocument]] = {
    ".md": load_markdown,
    ".markdown": load_markdown,
    ".txt": load_text,
    ".html": load_html,
    ".htm": load_html,
    ".pdf": load_pdf,
    ".docx": load_docx,
}


def load_document(path: Path, root: Path, *, max_bytes: int = 20_000_000, raw: bytes | None = None) -> LoadedDocument:
    """Load `path` (under `root`) with the loader for its extension.

    Args:
        path: the file to load.
        root: the source folder; doc_ids default to the path relative to it.
        max_bytes: files larger than this are refused. Defaults to 20 MB.
        raw: the file's bytes if the caller already read them.

    Raises:
        LoadError: with a specific, actionable reason (corrupt, encrypted, empty, binary, ...).
    """
    loader = _LOADERS.get(path.suffix.lower())
    if loader is None:
        msg = f"unsupported file type {path.suffix!r}"
        raise LoadError(msg)
    size = path.stat().st_size if raw is None else len(raw)
    if size > max_bytes:
        msg = f"file is {size:,} bytes, over the {max_bytes:,}-byte limit (GCOT_MAX_FILE_BYTES)"
        raise LoadError(msg)
    if raw is None:
        raw = path.read_bytes()
    if not raw.strip():
        msg = "empty file"
        raise LoadError(msg)
    try:
        document = loader(path, root, raw)
    except LoadError:
        raise
    except MetadataError as exc:
        raise LoadError(str(exc)) from exc
    except Exception as exc:
        # Parsers raise many kinds of errors on damaged files; one bad file must not stop the run.
        msg = f"unreadable {path.suffix.lower().lstrip('.').upper()} file ({type(exc).__name__}: {exc})"
        raise LoadError(msg) from exc
    if not any(section.text.strip() for section in document.sections):
        msg = "no text found in the document"
        raise LoadError(msg)
    return document
