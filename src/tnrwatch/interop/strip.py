"""A copy of an attachment without its metadata, for an officer who exports a decrypted attachment.

The encrypted original stays where it is, untouched: its metadata can be evidence (where and when a photo was taken,
who wrote a document). `strip_metadata` writes a copy without it. Images are decoded to pixels and encoded again, so
nothing but pixels and the few settings listed as kept reaches the copy; PDFs are rewritten without their metadata
objects. The kind of a file is read from its first bytes, never from its name.

Removed, and named in `StripResult.removed` when the source had it (for images: when its first frame or page had it;
what later frames or pages carry is removed all the same):

- images: EXIF ("exif"; its GPS block is also named, "gps"; its thumbnail, which can show a picture before it was
  cropped, goes with it), XMP ("xmp"), IPTC ("iptc") and other Photoshop resources ("photoshop"), JPEG and GIF
  comments ("comment"), PNG text chunks ("png-text"), descriptive TIFF tags such as Artist, DateTime, Make, Model and
  Software ("tiff-tags"), and the extra images of a multi-picture JPEG, such as previews and depth maps
  ("extra-images"). Whatever else a file holds besides pixels is gone too, because only pixels are encoded again (a
  PNG tIME chunk, private chunks, JPEG segments Pillow does not read), but is not named.
- PDFs: the document information dictionary ("pdf-docinfo"), the document's XMP stream ("pdf-xmp"), XMP streams of
  pages, images, fonts and other objects ("pdf-object-xmp"), private application data ("pdf-piece-info") and
  last-modified dates ("pdf-last-modified") of pages and forms, page thumbnails, which can show a page before it was
  edited ("pdf-thumbnails"), and embedded files ("pdf-embedded-files": the EmbeddedFiles name tree, associated files,
  the file of each file-attachment annotation and the portfolio view). Embedded files are removed rather than kept
  because they are whole files of their own, with metadata this module cannot reach inside them. The file identifier
  ("pdf-file-id", the trailer's /ID) is replaced by one computed from the stripped content, as it could link the copy
  to the original. Earlier revisions kept by incremental updates are dropped, as the copy is written anew.

Kept on purpose: the ICC colour profile, which says how pixel values map to colours, so the copy would look different
without it (a standard profile such as sRGB or Display P3 names only a colour space, but a profile made for one device
can name its maker and model); resolution (dpi), transparency, and frame durations and looping.

Not removed, because no metadata stripper can: what the pixels and pages show (faces, street signs, screens,
reflections, the text of a document), watermarks or steganography hidden in the pixels (re-encoding a JPEG disturbs a
fragile hidden signal, not a robust one), and in PDFs text hidden under a black box or in white, annotations with
their authors and dates, form field values, bookmarks, JavaScript, and metadata inside the images and fonts the pages
use (such as EXIF in a JPEG drawn on a page). Pillow reads 16-bit-per-channel colour PNG and TIFF files as 8 bits per
channel, so a copy of such a file has 8 bits per channel.

Animated GIF, WebP and PNG files and multi-page TIFF files keep all their frames or pages. Each frame is stored whole,
as Pillow composes it, so a copy of an optimised animation can be larger than the original but plays the same; GIF
frames after the first are reduced to 256 colours again.

The source is read whole into memory and the copy is built there, so a file that cannot be read leaves nothing behind;
the copy is then written to `target` only, readable by its owner only. Nothing is logged.
"""

from __future__ import annotations

import io
import os
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pikepdf
from pikepdf import Array, Dictionary, Name, Stream
from PIL import ExifTags, Image, ImageOps, JpegImagePlugin, UnidentifiedImageError

from tnrwatch.errors import ConflictError, FieldError, InvalidInputError

SUPPORTED_KINDS: tuple[str, ...] = ("jpeg", "png", "webp", "tiff", "gif", "pdf")
JPEG_QUALITY = 95  # high enough that the copy shows what the original shows; the copy is not for archiving

# (first bytes, their offset, kind). Kinds beyond SUPPORTED_KINDS are here so that a refusal can say what a file is.
_SIGNATURES: tuple[tuple[bytes, int, str], ...] = (
    (b"\xff\xd8\xff", 0, "jpeg"),
    (b"\x89PNG\r\n\x1a\n", 0, "png"),
    (b"GIF87a", 0, "gif"),
    (b"GIF89a", 0, "gif"),
    (b"II*\x00", 0, "tiff"),
    (b"MM\x00*", 0, "tiff"),
    (b"II+\x00", 0, "tiff"),  # BigTIFF
    (b"MM\x00+", 0, "tiff"),
    (b"%PDF-", 0, "pdf"),
    (b"PK\x03\x04", 0, "zip (also docx, xlsx, odt)"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", 0, "ole2 (old doc, xls, ppt)"),
    (b"\x1f\x8b", 0, "gzip"),
    (b"7z\xbc\xaf\x27\x1c", 0, "7z"),
    (b"Rar!\x1a\x07", 0, "rar"),
    (b"BM", 0, "bmp"),
    (b"ftyp", 4, "iso media (heic, avif, mp4, mov)"),
)
_PILLOW_FORMATS = {"jpeg": "JPEG", "png": "PNG", "webp": "WEBP", "tiff": "TIFF", "gif": "GIF"}
# Pillow's decoders report a damaged file through many exception types, depending on the plugin and where the
# damage is; these are the ones they use for bad data (not for bugs of ours, such as TypeError).
_PILLOW_FAILURES: tuple[type[Exception], ...] = (
    OSError,
    SyntaxError,
    ValueError,
    EOFError,
    IndexError,
    KeyError,
    struct.error,
    Image.DecompressionBombError,
)
# Per frame, the only settings carried into the copy: they change how it looks or plays, and identify no one.
_KEPT_FRAME_INFO = ("transparency", "duration")
_TIFF_LOSSLESS = frozenset({"raw", "tiff_lzw", "tiff_adobe_deflate", "tiff_deflate", "packbits"})
_TIFF_BILEVEL = frozenset({"group3", "group4", "tiff_ccitt"})  # fax compressions, for 1-bit images only
_TIFF_DESCRIPTIVE_TAGS = frozenset(
    {
        269,  # DocumentName
        270,  # ImageDescription
        271,  # Make
        272,  # Model
        285,  # PageName
        305,  # Software
        306,  # DateTime
        315,  # Artist
        316,  # HostComputer
        33432,  # Copyright
    }
)
_TIFF_EXIF_IFD, _TIFF_GPS_IFD, _TIFF_XMP, _TIFF_IPTC, _TIFF_PHOTOSHOP = 34665, 34853, 700, 33723, 34377
_PHOTOSHOP_IPTC = 0x0404
_ImageInfo = dict[str | tuple[int, int], Any]  # Pillow's type of `Image.info`
_REMOVAL_ORDER = (
    "exif",
    "gps",
    "xmp",
    "iptc",
    "photoshop",
    "comment",
    "png-text",
    "tiff-tags",
    "extra-images",
    "pdf-docinfo",
    "pdf-xmp",
    "pdf-object-xmp",
    "pdf-piece-info",
    "pdf-last-modified",
    "pdf-thumbnails",
    "pdf-embedded-files",
    "pdf-file-id",
)


class UnsupportedFileError(InvalidInputError):
    """The file is of a kind this module does not strip; the message names the kind and the supported kinds."""


@dataclass(frozen=True)
class StripResult:
    """`kind` is one of `SUPPORTED_KINDS`; `removed` names what the source had and the copy has not, in a fixed
    order (see the module docstring for the names)."""

    kind: str
    removed: tuple[str, ...]


def detect_kind(head: bytes) -> str:
    """The kind of a file from its first bytes (16 are enough): one of `SUPPORTED_KINDS`, another kind we recognise
    but do not strip (such as "zip (also docx, xlsx, odt)"), or "unknown"."""
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    for signature, offset, kind in _SIGNATURES:
        if head[offset : offset + len(signature)] == signature:
            return kind
    return "unknown"


def strip_metadata(source: Path, target: Path, *, label: str | None = None) -> StripResult:
    """Write a copy of `source` without its metadata to `target`, a path that must not exist yet (so the original,
    or any other file, is never overwritten). `label` names the file in error messages (default: `source`'s name).

    Raises `UnsupportedFileError` for a kind not in `SUPPORTED_KINDS`, `InvalidInputError` when the file cannot be
    read or decoded, and `ConflictError` when `target` exists. On any error, nothing is written.
    """
    label = label or source.name
    try:
        data = source.read_bytes()
    except OSError as error:
        raise _unreadable(label, error.strerror or type(error).__name__) from None
    kind = detect_kind(data[:16])
    if kind not in SUPPORTED_KINDS:
        raise _unsupported(label, kind)
    copy, removed = _strip_pdf(data, label) if kind == "pdf" else _strip_image(data, kind, label)
    _write_new(target, copy, label)
    return StripResult(kind=kind, removed=tuple(name for name in _REMOVAL_ORDER if name in removed))


# -- images -------------------------------------------------------------------------------------------------------


def _strip_image(data: bytes, kind: str, label: str) -> tuple[bytes, set[str]]:
    try:
        with Image.open(io.BytesIO(data), formats=[_PILLOW_FORMATS[kind]]) as image:
            removed = _image_metadata(image)
            if kind == "jpeg" and getattr(image, "n_frames", 1) > 1:
                removed.add("extra-images")
            first_info = dict(image.info)  # seeking replaces the info with the last frame's
            sampling = JpegImagePlugin.get_sampling(image)
            frames = [_pixels_only(frame) for frame in _frames(image, kind)]
    except UnidentifiedImageError:
        raise _unreadable(label, f"Pillow does not recognise it as a {kind} image") from None
    except _PILLOW_FAILURES as error:
        raise _unreadable(label, f"the {kind} image is damaged or incomplete ({error})") from None
    params = _save_params(kind, first_info, sampling, data, frames)
    buffer = io.BytesIO()
    first, *rest = frames
    try:
        if rest:
            first.save(buffer, format=_PILLOW_FORMATS[kind], save_all=True, append_images=rest, **params)
        else:
            first.save(buffer, format=_PILLOW_FORMATS[kind], **params)
    except _PILLOW_FAILURES as error:  # e.g. a pixel mode Pillow reads in this format but cannot write
        raise _unreadable(label, f"Pillow cannot write its pixels as {kind} again ({error})") from None
    return buffer.getvalue(), removed


def _frames(image: Image.Image, kind: str) -> Iterator[Image.Image]:
    """Every frame or page of an image, except the extra images of a multi-picture JPEG, which are not the photo."""
    count = 1 if kind == "jpeg" else getattr(image, "n_frames", 1)
    for index in range(count):
        image.seek(index)
        yield image


def _pixels_only(frame: Image.Image) -> Image.Image:
    """The frame's pixels, turned upright by its EXIF or XMP orientation, with none of its metadata."""
    upright = ImageOps.exif_transpose(frame)  # a new plain image; the orientation goes with the rest of the EXIF
    upright.info = {key: frame.info[key] for key in _KEPT_FRAME_INFO if key in frame.info}
    return upright


def _save_params(kind: str, info: _ImageInfo, sampling: int, data: bytes, frames: list[Image.Image]) -> dict[str, Any]:
    """How to write the copy: the kept settings of the source's first frame (`info`) and the format's own options.
    `sampling` is the source JPEG's chroma subsampling, -1 when unknown or not a JPEG."""
    # Pillow's writers take some settings from the image's info and some only from these parameters, so the settings
    # kept are passed here explicitly, and nothing else is.
    params: dict[str, Any] = {}
    if icc_profile := info.get("icc_profile"):
        params["icc_profile"] = icc_profile
    if (dpi := info.get("dpi")) and kind in ("jpeg", "png", "tiff"):
        params["dpi"] = dpi
    if len(frames) > 1:
        params["duration"] = [frame.info.get("duration", 0) for frame in frames]
        if "loop" in info:
            params["loop"] = info["loop"]
    if kind == "jpeg":
        params["quality"] = JPEG_QUALITY
        if sampling != -1:
            params["subsampling"] = sampling
    elif kind == "webp":
        params.update({"lossless": True} if _webp_is_lossless(data) else {"quality": JPEG_QUALITY})
    elif kind == "tiff":
        params["compression"] = _tiff_compression(info.get("compression"), frames)
    elif kind == "gif" and len(frames) > 1:
        params["disposal"] = 2  # restore to background: every frame is whole, so none may show through the next
    elif kind == "png" and len(frames) > 1:
        params["disposal"] = 0  # APNG_DISPOSE_OP_NONE: the next frame replaces this one whole...
        params["blend"] = 0  # ...because APNG_BLEND_OP_SOURCE writes its transparent pixels too
        params["default_image"] = info.get("default_image", False)
    return params


def _tiff_compression(compression: object, frames: list[Image.Image]) -> str:
    """The source's compression when Pillow can write it losslessly for every page, else Deflate (lossless too)."""
    if compression in _TIFF_LOSSLESS:
        return str(compression)
    if compression in _TIFF_BILEVEL and all(frame.mode == "1" for frame in frames):
        return str(compression)
    return "tiff_adobe_deflate"


def _webp_is_lossless(data: bytes) -> bool:
    """Whether the first image of a WebP file is lossless (a VP8L bitstream), so that the copy is lossless too."""
    position = 12
    while position + 8 <= len(data):
        chunk = data[position : position + 4]
        size = int.from_bytes(data[position + 4 : position + 8], "little")
        if chunk == b"VP8L":
            return True
        if chunk == b"VP8 ":
            return False
        if chunk == b"ANMF":  # an animation frame: its own chunks follow a 16-byte frame header
            position += 8 + 16
            continue
        position += 8 + size + (size & 1)
    return False


def _image_metadata(image: Image.Image) -> set[str]:
    """Names of the metadata the image holds (see the module docstring)."""
    info = image.info
    found: set[str] = set()
    if image.format == "TIFF":
        tags = set(getattr(image, "tag_v2", {}).keys())
        found |= {
            name
            for name, present in (
                ("exif", _TIFF_EXIF_IFD in tags),
                ("gps", _TIFF_GPS_IFD in tags),
                ("xmp", _TIFF_XMP in tags),
                ("iptc", _TIFF_IPTC in tags),
                ("photoshop", _TIFF_PHOTOSHOP in tags),
                ("tiff-tags", bool(tags & _TIFF_DESCRIPTIVE_TAGS)),
            )
            if present
        }
        return found
    text = getattr(image, "text", {})  # PNG: tEXt, zTXt and iTXt chunks, read to the end of the file
    if "exif" in info or "Raw profile type exif" in text:
        found.add("exif")
        if ExifTags.Base.GPSInfo in image.getexif():
            found.add("gps")
    if "xmp" in info or "XML:com.adobe.xmp" in info:
        found.add("xmp")
    photoshop = info.get("photoshop")
    if isinstance(photoshop, dict) and photoshop:
        if _PHOTOSHOP_IPTC in photoshop:
            found.add("iptc")
        if photoshop.keys() - {_PHOTOSHOP_IPTC}:
            found.add("photoshop")
    if info.get("comment"):
        found.add("comment")
    if text:
        found.add("png-text")
    return found


# -- PDF ----------------------------------------------------------------------------------------------------------

# Keys removed wherever they appear, and the name each is reported under. /Metadata always holds an XMP stream, on any
# object; /PieceInfo and /LastModified appear on pages and form XObjects; /Thumb on pages; /EF (the embedded file of
# a file specification) and /AF (associated files) can hang off almost anything.
_PDF_KEYS: dict[Name, str] = {
    Name.Metadata: "pdf-object-xmp",
    Name.PieceInfo: "pdf-piece-info",
    Name.LastModified: "pdf-last-modified",
    Name.Thumb: "pdf-thumbnails",
    Name.EF: "pdf-embedded-files",
    Name.AF: "pdf-embedded-files",
}


def _strip_pdf(data: bytes, label: str) -> tuple[bytes, set[str]]:
    try:
        with pikepdf.open(io.BytesIO(data)) as pdf:
            removed = _strip_pdf_document(pdf)
            buffer = io.BytesIO()
            # encryption=False writes the copy unencrypted (there is no password to carry over); deterministic_id
            # makes the new /ID a digest of the copy, with no clock or trace of the original in it.
            pdf.save(buffer, encryption=False, deterministic_id=True, fix_metadata_version=False)
    except pikepdf.PasswordError:
        raise _unreadable(label, "the PDF is protected by a password") from None
    except pikepdf.PdfError:
        # qpdf's own message names the in-memory stream and may quote the file, so it is not passed on.
        raise _unreadable(label, "pikepdf cannot read it as a PDF (damaged, incomplete or not a PDF)") from None
    return buffer.getvalue(), removed


def _strip_pdf_document(pdf: pikepdf.Pdf) -> set[str]:
    removed: set[str] = set()
    _pop(pdf.trailer, Name.Info, "pdf-docinfo", removed)
    _pop(pdf.trailer, Name.ID, "pdf-file-id", removed)
    _pop(pdf.Root, Name.Metadata, "pdf-xmp", removed)
    _pop(pdf.Root, Name.Collection, "pdf-embedded-files", removed)
    names = pdf.Root.get(Name.Names)
    if isinstance(names, Dictionary):
        _pop(names, Name.EmbeddedFiles, "pdf-embedded-files", removed)
    for indirect in pdf.objects:
        for holder in _direct_tree(indirect):
            for key, removal in _PDF_KEYS.items():
                _pop(holder, key, removal, removed)
            if holder.get(Name.Subtype) == Name.FileAttachment:
                _pop(holder, Name.FS, "pdf-embedded-files", removed)
    return removed


def _direct_tree(obj: pikepdf.Object) -> Iterator[pikepdf.Object]:
    """The dictionaries and streams in `obj` and in the arrays and dictionaries written inside it, without following
    references: every indirect object is visited from `pdf.objects` anyway."""
    if isinstance(obj, Dictionary | Stream):
        yield obj  # the caller removes keys here before the children are listed, so removed values are not walked
        children = list(obj.values())
    elif isinstance(obj, Array):
        children = list(obj)
    else:
        return
    for child in children:
        if isinstance(child, pikepdf.Object) and not child.is_indirect:
            yield from _direct_tree(child)


def _pop(holder: pikepdf.Object, key: Name, removal: str, removed: set[str]) -> None:
    if key in holder:
        del holder[key]
        removed.add(removal)


# -- edges --------------------------------------------------------------------------------------------------------


def _write_new(target: Path, copy: bytes, label: str) -> None:
    # O_EXCL: never replace a file, least of all the original; 0o600: the copy is still a decrypted attachment.
    try:
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise ConflictError(
            f"cannot write the stripped copy of {label}: the target already exists",
            [FieldError(("target",), "choose a path that does not exist yet")],
        ) from None
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(copy)
    except OSError:
        target.unlink(missing_ok=True)  # a partial copy must not pass for a stripped one
        raise


def _unreadable(label: str, reason: str) -> InvalidInputError:
    return InvalidInputError(f"cannot strip {label}: {reason}", [FieldError((label,), reason)])


def _unsupported(label: str, kind: str) -> UnsupportedFileError:
    what = "its kind is unknown" if kind == "unknown" else f"it is a {kind} file"
    reason = f"{what}; supported kinds are {', '.join(SUPPORTED_KINDS)}"
    return UnsupportedFileError(f"cannot strip {label}: {reason}", [FieldError((label,), reason)])
