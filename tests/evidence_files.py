"""Evidence files made for tests: a phone photo with GPS in its EXIF, a PNG and a WebP with metadata, a PDF,
and the polyglots and wrong types that must be refused."""

from __future__ import annotations

import io
import zipfile

from PIL import ExifTags, Image, PngImagePlugin

GPS = {1: "N", 2: (39.0, 54.0, 26.0), 3: "E", 4: (116.0, 23.0, 29.0)}  # 北京, to the second


def exif_with_gps() -> Image.Exif:
    exif = Image.Exif()
    exif[0x010F], exif[0x0110], exif[0x0132] = "Camera Maker", "Camera Phone", "2026:11:23 10:15:00"
    exif[0x0112] = 6  # orientation: the phone was held upright, the sensor saw it lying
    exif[ExifTags.IFD.GPSInfo] = GPS
    return exif


def photo_jpeg(width: int = 96, height: int = 64) -> bytes:
    """A meter photo as a phone takes it: EXIF with GPS, the make and model, the time, a comment."""
    image = Image.new("RGB", (width, height), (40, 120, 200))
    for x in range(width // 2):
        image.putpixel((x, height // 2), (250, 250, 0))
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif_with_gps(), comment=b"shot at 13800138000")
    return out.getvalue()


def photo_png() -> bytes:
    info = PngImagePlugin.PngInfo()
    info.add_text("Author", "张建国")
    out = io.BytesIO()
    Image.new("RGBA", (20, 10), (0, 128, 0, 200)).save(out, "PNG", pnginfo=info, exif=exif_with_gps())
    return out.getvalue()


def photo_webp() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (20, 10), (128, 0, 0)).save(out, "WEBP", exif=exif_with_gps())
    return out.getvalue()


def scan_pdf() -> bytes:
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(595, 842)
    writer.add_metadata({"/Title": "检定证书"})
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def gif() -> bytes:
    out = io.BytesIO()
    Image.new("P", (4, 4)).save(out, "GIF")
    return out.getvalue()


def zip_bytes() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("payload.html", "<script>alert(1)</script>")
    return out.getvalue()


def polyglots() -> dict[str, bytes]:
    """A JPEG that is also a ZIP, a web page or a PDF; a PDF that is also a ZIP."""
    jpeg = photo_jpeg()
    return {"jpeg+zip": jpeg + zip_bytes(), "jpeg+html": jpeg + b"<html><body><script>fetch('/api/me')</script>",
            "jpeg+pdf": jpeg + scan_pdf(), "pdf+zip": scan_pdf() + zip_bytes()}


def oversized_jpeg() -> bytes:
    """A real JPEG just over 10 MB (noise does not compress)."""
    import os

    image = Image.frombytes("RGB", (1660, 1660), os.urandom(1660 * 1660 * 3))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=100, subsampling=0)
    data = out.getvalue()
    assert len(data) > 10 * 1024 * 1024, len(data)
    return data
