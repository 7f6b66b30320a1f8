"""Ingest: find raw documents, read their bytes, turn them into clean text.

Belongs here: discovering files under the raw folder, sidecar metadata, decoding text,
HTML and PDF into plain text, text repair, and the reasons a file is quarantined.
Not here: anything that interprets the text (see classify.py and extract.py) and no Dagster.
Nothing in this module writes to the raw folder.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import ftfy
import ftfy.badness

SUPPORTED_SUFFIXES = {".txt": "text/plain", ".md": "text/markdown", ".html": "text/html",
                      ".htm": "text/html", ".pdf": "application/pdf"}
SIDECAR_SUFFIX = ".meta.json"
DEFAULT_MAX_BYTES = 25 * 1024 * 1024
MIN_LETTERS = 20  # fewer letters than this after extraction: nothing to publish


class Quarantined(Exception):
    """A document that cannot be published; `reason` is a short machine-readable code."""

    def __init__(self, reason: str, detail: str):
        super().__init__(f"{reason}: {detail}")
        self.reason, self.detail = reason, detail


@dataclass
class RawDocument:
    """One raw file as read: bytes' fingerprint, sidecar metadata and the normalised text."""

    source_path: str  # relative to the raw folder, '/' separators
    sha256: str
    byte_count: int
    media_type: str
    text: str = ""
    html_title: str | None = None
    meta: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Candidate:
    """A file under raw/ that should be a document, with its sidecar if it has one, and the
    stat results of both (so whether they changed is known without another system call)."""

    source_path: str  # relative to raw/, with '/' separators
    path: str
    stat: os.stat_result
    sidecar: str | None = None
    sidecar_stat: os.stat_result | None = None


def discover(raw_dir: Path) -> tuple[list[Candidate], list[dict]]:
    """Every candidate document under raw_dir (sorted by relative path) plus quarantine rows for
    stray files. Sidecars are not documents; a sidecar without a document is reported, not
    dropped silently. os.scandir with plain strings: this runs over 200,000 files on every run."""
    if not raw_dir.exists():
        raise FileNotFoundError(f"raw folder not found: {raw_dir}")
    if not raw_dir.is_dir():
        raise NotADirectoryError(f"raw folder is not a directory: {raw_dir}")
    documents, orphans = [], []
    pending = [(str(raw_dir), ())]
    while pending:
        folder, parts = pending.pop()
        files = {}
        with os.scandir(folder) as entries:
            for entry in entries:
                if entry.name.startswith("."):
                    continue
                if entry.is_dir():
                    pending.append((entry.path, parts + (entry.name,)))
                elif entry.is_file():
                    files[entry.name] = entry
        stems = {os.path.splitext(n)[0] for n in files if not n.endswith(SIDECAR_SUFFIX)}
        for name, entry in files.items():
            rel = "/".join(parts + (name,))
            if name.endswith(SIDECAR_SUFFIX):
                if name[: -len(SIDECAR_SUFFIX)] not in stems:
                    orphans.append((parts + (name,), rel))
                continue
            side = files.get(os.path.splitext(name)[0] + SIDECAR_SUFFIX)
            documents.append((parts + (name,), Candidate(rel, entry.path, entry.stat(), side and side.path,
                                                         side and side.stat())))
    quarantine = [{"source_path": rel, "reason": "orphan_sidecar",
                   "detail": "metadata file with no document of the same name beside it"} for _, rel in sorted(orphans)]
    return [c for _, c in sorted(documents, key=lambda d: d[0])], quarantine


def relative(path: Path, root: Path) -> str:
    return path.relative_to(root).as_posix()


def read_sidecar(path: Path) -> dict:
    """Metadata for `NAME.ext` from `NAME.meta.json`; unreadable sidecars raise Quarantined."""
    sidecar = path.with_name(path.stem + SIDECAR_SUFFIX)
    if not sidecar.exists():
        return {}
    try:
        meta = json.loads(sidecar.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise Quarantined("bad_sidecar", f"{sidecar.name} is not valid JSON: {exc}") from exc
    if not isinstance(meta, dict):
        raise Quarantined("bad_sidecar", f"{sidecar.name} must hold a JSON object")
    return {k: meta.get(k) for k in ("source_url", "retrieved_at", "council") if meta.get(k)}


def read_document(path: Path, raw_dir: Path, max_bytes: int = DEFAULT_MAX_BYTES) -> RawDocument:
    """Read one file into a RawDocument or raise Quarantined with the reason."""
    suffix = path.suffix.lower()
    media_type = SUPPORTED_SUFFIXES.get(suffix)
    if media_type is None:
        raise Quarantined("unsupported_type", f"files ending {suffix or '(no suffix)'} are not read; "
                                              f"supported: {', '.join(sorted(SUPPORTED_SUFFIXES))}")
    size = path.stat().st_size
    if size > max_bytes:
        raise Quarantined("oversized", f"{size} bytes exceeds the limit of {max_bytes} bytes")
    data = path.read_bytes()
    doc = RawDocument(relative(path, raw_dir), hashlib.sha256(data).hexdigest(), len(data), media_type)
    doc.meta = read_sidecar(path)
    if not data.strip():
        raise Quarantined("empty", "the file has no content")
    if media_type == "application/pdf":
        raw_text = pdf_to_text(data)
    else:
        if b"\x00" in data[:8192] and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
            raise Quarantined("binary", "the file holds NUL bytes: binary data, not text")
        text = decode_text(data, html=media_type == "text/html")
        if media_type == "text/html":
            raw_text, doc.html_title = html_to_text(text)
        else:
            raw_text = text
    doc.text = normalise_text(raw_text)
    letters = len(_LETTER.findall(doc.text[:4000]))
    if letters < MIN_LETTERS:
        raise Quarantined("no_text", f"only {letters} letters of readable text after extraction")
    if _looks_like_noise(doc.text):
        raise Quarantined("unrecognisable", "the text has almost no words: not a readable document")
    return doc


_LETTER = re.compile(r"[^\W\d_]")


_WORD = re.compile(r"[A-Za-z]{2,}")
_VOWELLESS_WORD = re.compile(r"(?<![A-Za-z])[b-df-hj-np-tv-xzB-DF-HJ-NP-TV-XZ]{2,}(?![A-Za-z])")


def _looks_like_noise(text: str) -> bool:
    head = text[:5000]
    words = len(_WORD.findall(head))
    return words < 5 or len(_VOWELLESS_WORD.findall(head)) / words > 0.4


_CHARSET_RE = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?([A-Za-z0-9_\-]+)""", re.I)


def decode_text(data: bytes, html: bool = False) -> str:
    """Decode bytes as UTF-8 (or the BOM's or an HTML page's declared charset)."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    elif data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise Quarantined("undecodable", f"invalid UTF-16 at byte {exc.start}") from exc
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        declared = _CHARSET_RE.search(data[:4096]) if html else None
        if declared:
            try:
                return data.decode(declared.group(1).decode("ascii"))
            except (LookupError, UnicodeDecodeError):
                pass
        raise Quarantined("undecodable", f"not valid UTF-8 at byte {exc.start} "
                                         f"and no usable charset is declared") from exc


_BLOCK_TAGS = {"p", "div", "br", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "table",
               "section", "article", "header", "footer", "dt", "dd", "dl", "blockquote", "pre",
               "form", "fieldset", "caption", "tbody", "thead", "tfoot", "hr", "main", "aside", "title"}
_SKIP_TAGS = {"script", "style", "noscript", "template", "svg", "head", "iframe", "button", "select"}


def html_to_text(html: str) -> tuple[str, str | None]:
    """Visible text of an HTML page with block structure kept; table cells become tab-separated."""
    from selectolax.lexbor import LexborHTMLParser

    tree = LexborHTMLParser(html)
    title_node = tree.css_first("title")
    title = title_node.text(strip=True) if title_node else None
    root = tree.body or tree.root
    if root is None:
        return "", title
    out: list[str] = []
    stack = [(root, False)]
    while stack:
        node, closing = stack.pop()
        tag = node.tag
        if closing:
            if tag in ("td", "th"):
                out.append("\t")
            elif tag in _BLOCK_TAGS:
                out.append("\n")
            continue
        if tag == "-text":
            out.append(node.text_content or "")
            continue
        if tag in _SKIP_TAGS or tag == "-comment":
            continue
        if tag == "li":
            out.append("\n• ")
        elif tag in _BLOCK_TAGS:
            out.append("\n")
        stack.append((node, True))
        children = list(node.iter(include_text=True))
        for child in reversed(children):
            stack.append((child, False))
    text = "".join(out)
    text = re.sub(r"[ \t]*\t[ \t]*\n", "\n", text)  # trailing cell separator at row end
    return text, title


def pdf_to_text(data: bytes) -> str:
    """Text layer of a PDF, page by page (PDFium, hundreds of pages a second). Where a space in
    the text spans a gap wider than the letters beside it are tall, it separates table cells and
    becomes a tab, so table rows come out tab-separated like the other layouts."""
    import pypdfium2 as pdfium

    if not data.startswith(b"%PDF"):
        raise Quarantined("unrecognisable", "named .pdf but does not start with a PDF header")
    pages = []
    try:
        pdf = pdfium.PdfDocument(data)
        try:
            for page in pdf:
                textpage = page.get_textpage()
                count = textpage.count_chars()
                text = textpage.get_text_range()[:count] if count else ""
                chars = list(text)
                for i, ch in enumerate(chars):
                    if ch == " " and 0 < i < count - 1 and chars[i - 1] not in "\r\n" and chars[i + 1] not in "\r\n":
                        left, right = textpage.get_charbox(i - 1), textpage.get_charbox(i + 1)
                        height = max(left[3] - left[1], right[3] - right[1], 1.0)
                        if right[0] - left[2] > 1.2 * height:
                            chars[i] = "\t"
                pages.append("".join(chars).replace("\r\n", "\n").replace("\r", "\n"))
                textpage.close()
                page.close()
        finally:
            pdf.close()
    except pdfium.PdfiumError as exc:
        raise Quarantined("bad_pdf", f"the PDF could not be read: {exc}") from exc
    return "\n\n".join(pages)


_MOJIBAKE_HINT = re.compile("[ÃÂâÐÑÎÏÅ\ufffd]|ï»")
_SPACES = re.compile(r"[ \u00a0\u2000-\u200a\u202f\u205f\u3000]+")
_DAMAGED_BULLET = re.compile(r"^[ \t]*(?:\?|\ufffd|·|▪|■|●|o(?=\s{2}))[ \t]+", re.M)


def normalise_text(text: str) -> str:
    """Repair Unicode, unify spaces and blank lines, keep tab-separated table rows as rows."""
    if _MOJIBAKE_HINT.search(text) and ftfy.badness.is_bad(text):  # repair mojibake only where there is some
        text = ftfy.fix_text(text, normalization="NFC", uncurl_quotes=False)
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\u200b", "").replace("\ufeff", "")
    text = unicodedata.normalize("NFC", text)
    lines = []
    for line in text.split("\n"):
        if "\t" in line:
            cells = [_SPACES.sub(" ", c).strip() for c in line.split("\t")]
            line = "\t".join(cells).rstrip("\t") if any(cells) else ""
        else:
            line = _SPACES.sub(" ", line).strip()
        lines.append(line)
    text = "\n".join(lines)
    text = _DAMAGED_BULLET.sub("• ", text)
    text = re.sub(r"\n{3,}", "\n\n", text)
    return text.strip() + "\n"

