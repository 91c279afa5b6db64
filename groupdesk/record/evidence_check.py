"""Evidence files checked by their content: JPEG, PNG, WebP or PDF, at most 10 MB, never a polyglot; photos
re-encoded without their metadata (GPS and every other EXIF field), keeping the hash of what came and of what
is stored."""

from __future__ import annotations

import hashlib
import io
import logging
import re
import warnings
import zipfile
from dataclasses import dataclass

from groupdesk.core.evidence import MAX_BYTES
from groupdesk.core.validation import InputError

MAX_PER_INCIDENT = 50
MAX_PIXELS = 100_000_000  # a 100-megapixel photo; more is refused before it is decoded (a decompression bomb)
MAX_NAME = 100
ACCEPTED = "a JPEG, PNG or WebP photo or a PDF"

IMAGE_TYPES = {"image/jpeg": ("JPEG", "MPO"), "image/png": ("PNG",), "image/webp": ("WEBP",)}
PDF = "application/pdf"
KIND = {"image/jpeg": "JPEG", "image/png": "PNG", "image/webp": "WebP", PDF: "PDF"}
# Recognised only to say what was sent instead (all refused).
OTHERS = ((b"GIF8", "a GIF"), (b"II*\x00", "a TIFF"), (b"MM\x00*", "a TIFF"), (b"BM", "a BMP image"),
          (b"PK\x03\x04", "a ZIP archive (or an Office document)"), (b"\xd0\xcf\x11\xe0", "an old Office document"))
# Markup a browser would run if it were ever shown the file as a page; never inside a photo or a scan.
HTML = re.compile(rb"<(?:!doctype\s+html|html|head|body|script|iframe|svg|object|embed|meta|form)[\s>/]",
                  re.IGNORECASE)
PATH_CHARACTERS = re.compile(r"[/\\:\x00-\x1f\x7f]")
logging.getLogger("pypdf").setLevel(logging.ERROR)  # a refused PDF is one line to the user, not warnings in the log


class EvidenceRefused(InputError):
    """A file or a request about one that is refused: one line naming the field and the fix, and an HTTP status."""

    def __init__(self, field: str, message: str, status: int = 422):
        super().__init__(field, message)
        self.status = status


@dataclass(frozen=True)
class Evidence:
    """What is kept of one file: its type, the hash of the file as it came and of the copy stored."""

    media_type: str
    original_sha256: str
    original_size: int
    content: bytes  # the stored copy: a photo re-encoded without metadata, a PDF as it came
    stored_sha256: str

    @property
    def size(self) -> int:
        return len(self.content)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB"


def name_problem(name: str) -> str | None:
    """A file name as an API client sends it: the name alone, no path (/, \\, :, control characters, . or ..)."""
    if len(name) > MAX_NAME:
        return f"the file name is {len(name)} characters long; send one of at most {MAX_NAME}"
    if PATH_CHARACTERS.search(name) or name.strip() in (".", ".."):
        return (f"the file name {name[:60]!r} has path characters (/ \\ : or control characters); send the file's"
                " name alone, e.g. meter.jpg")
    return None


def size_problem(size: int) -> str | None:
    if size > MAX_BYTES:
        return f"{megabytes(size)} is over the 10 MB limit; attach a smaller photo or scan"
    if size == 0:
        return "the file is empty; attach the photo or scan itself"
    return None


def media_type_of(data: bytes) -> str:
    """The accepted type the file's first bytes say it is; EvidenceRefused naming what it is otherwise."""
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if data.startswith(b"%PDF-"):
        return PDF
    what = next((name for magic, name in OTHERS if data.startswith(magic)), None)
    if what is None and data[4:8] == b"ftyp":
        what = "a HEIC photo or a video" if data[8:12] in (b"heic", b"heix", b"mif1", b"msf1") else "a video"
    if what is None and HTML.search(data[:1024]):
        what = "a web page"
    raise EvidenceRefused("file", f"{what or 'this file'} is not accepted (its content was checked, not its name);"
                                  f" attach {ACCEPTED}")


def polyglot_problem(data: bytes, media_type: str) -> str | None:
    """What else the file is besides its type (a ZIP archive, a PDF, a web page), if anything."""
    kind = KIND[media_type]
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            if archive.namelist():
                return f"the {kind} is also a ZIP archive (a polyglot file)"
    except (zipfile.BadZipFile, ValueError, OSError, EOFError, NotImplementedError):
        pass
    if media_type != PDF and b"%PDF-" in data:
        return f"the {kind} also holds a PDF (a polyglot file)"
    if HTML.search(data):
        return f"the {kind} also holds web-page markup (a polyglot file)"
    return None


def check(data: bytes, name: str = "") -> Evidence:
    """The evidence to store, or EvidenceRefused (one line) for a wrong name, size or type, or a polyglot file."""
    if name and (problem := name_problem(name)):
        raise EvidenceRefused("file", problem)
    if problem := size_problem(len(data)):
        raise EvidenceRefused("file", problem, 413 if data else 422)
    media_type = media_type_of(data)
    if problem := polyglot_problem(data, media_type):
        raise EvidenceRefused("file", f"{problem}; attach the photo or scan as the camera or scanner made it")
    stored = _parse_pdf(data) if media_type == PDF else _without_metadata(data, media_type)
    return Evidence(media_type=media_type, original_sha256=sha256(data), original_size=len(data),
                    content=stored, stored_sha256=sha256(stored))


def _parse_pdf(data: bytes) -> bytes:
    """The PDF as it came, once pypdf has read its cross-reference table and found at least one page."""
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            reader = PdfReader(io.BytesIO(data), strict=False)
            if reader.is_encrypted and not reader.decrypt(""):
                raise EvidenceRefused("file", "the PDF is password-protected; attach a copy without a password")
            pages = len(reader.pages)
    except EvidenceRefused:
        raise
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, IndexError, OSError, RecursionError) as exc:
        raise EvidenceRefused("file", f"it starts like a PDF but does not parse as one ({type(exc).__name__});"
                                      " attach the scan as the scanner saved it") from None
    if pages < 1:
        raise EvidenceRefused("file", "the PDF has no pages; attach the scan as the scanner saved it")
    return data


def _without_metadata(data: bytes, media_type: str) -> bytes:
    """The photo decoded whole, turned upright as its EXIF said, and saved again in its format with nothing of
    its metadata (EXIF with GPS, XMP, comments, text chunks) but its colour profile."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    kind = KIND[media_type]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                if image.format not in IMAGE_TYPES[media_type]:
                    raise EvidenceRefused("file", f"it starts like a {kind} but Pillow reads it as"
                                                  f" {image.format or 'something else'}; attach {ACCEPTED}")
                width, height = image.size
                if width * height > MAX_PIXELS:
                    raise EvidenceRefused("file", f"the photo is {width}×{height} pixels, over 100 megapixels;"
                                                  " attach a smaller one")
                image.load()
                upright = ImageOps.exif_transpose(image)
    except EvidenceRefused:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError, Image.DecompressionBombError,
            Image.DecompressionBombWarning) as exc:
        raise EvidenceRefused("file", f"it starts like a {kind} but does not decode as one"
                                      f" ({type(exc).__name__}); attach the photo as the camera made it") from None
    icc = image.info.get("icc_profile")
    kept = {"transparency": upright.info["transparency"]} if "transparency" in upright.info else {}
    upright.info = kept  # what Pillow would otherwise carry over on save (a JPEG comment, XMP) goes here
    out = io.BytesIO()
    options = {"icc_profile": icc} if icc else {}
    if media_type == "image/jpeg":
        if upright.mode not in ("RGB", "L", "CMYK"):
            upright = upright.convert("RGB")
        upright.save(out, "JPEG", quality=92, **options)
    elif media_type == "image/png":
        upright.save(out, "PNG", optimize=False, **options)
    else:
        upright.save(out, "WEBP", quality=92, **options)
    return out.getvalue()
