"""Stripped copies: real files made with Pillow and pikepdf, checked with Pillow and pikepdf after stripping."""

from __future__ import annotations

import io
import random
import stat
import zipfile
from pathlib import Path

import pikepdf
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pikepdf import Array, Dictionary, Name
from PIL import ExifTags, Image, ImageCms, TiffImagePlugin
from PIL.PngImagePlugin import PngInfo

from tnrwatch.errors import ConflictError, InvalidInputError
from tnrwatch.interop.strip import SUPPORTED_KINDS, StripResult, UnsupportedFileError, detect_kind, strip_metadata

SECRET = "Jane Roe, Gate 4"  # stands for a name or place that must not survive in the copy
XMP = (
    '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
    '<rdf:Description xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:creator>'
    f"{SECRET}</dc:creator></rdf:Description></rdf:RDF></x:xmpmeta>"
)
QUADRANTS = ((220, 30, 30), (30, 200, 30), (30, 30, 220), (230, 230, 40))  # top-left, top-right, bottom-l, bottom-r


def quadrants(width: int = 64, height: int = 32) -> Image.Image:
    """Four flat colours, so that JPEG keeps them close and a rotation shows in the corners."""
    image = Image.new("RGB", (width, height))
    for index, colour in enumerate(QUADRANTS):
        left, top = (index % 2) * width // 2, (index // 2) * height // 2
        image.paste(colour, (left, top, left + width // 2, top + height // 2))
    return image


def noise(size: tuple[int, int], mode: str = "RGB", seed: int = 7) -> Image.Image:
    """Every pixel different, so that a lossless copy can be compared exactly."""
    generator = random.Random(seed)
    length = size[0] * size[1] * len(mode)
    return Image.frombytes(mode, size, bytes(generator.randrange(256) for _ in range(length)))


def exif_with_gps(orientation: int = 1) -> Image.Exif:
    exif = Image.Exif()
    exif[ExifTags.Base.Artist] = SECRET
    exif[ExifTags.Base.Make] = "PhoneMaker"
    exif[ExifTags.Base.Model] = "Model 7"
    exif[ExifTags.Base.Orientation] = orientation
    exif[ExifTags.IFD.GPSInfo] = {
        ExifTags.GPS.GPSLatitudeRef: "N",
        ExifTags.GPS.GPSLatitude: (52.0, 31.0, 12.0),
        ExifTags.GPS.GPSLongitudeRef: "E",
        ExifTags.GPS.GPSLongitude: (13.0, 24.0, 36.0),
    }
    return exif


def strip(source: Path, tmp_path: Path) -> tuple[StripResult, Path]:
    """Strip `source` into a new file and check what every strip must do: leave the source alone and write a copy
    readable by its owner only."""
    before = source.read_bytes()
    target = tmp_path / "copy.out"
    result = strip_metadata(source, target)
    assert source.read_bytes() == before
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    return result, target


def close(left: tuple[int, ...], right: tuple[int, ...], tolerance: int = 12) -> bool:
    return all(abs(a - b) <= tolerance for a, b in zip(left, right, strict=True))


# -- images -------------------------------------------------------------------------------------------------------


def test_jpeg_loses_exif_gps_xmp_and_comment_and_is_turned_upright(tmp_path: Path) -> None:
    source = tmp_path / "photo.jpg"
    quadrants().save(source, exif=exif_with_gps(orientation=6), xmp=XMP.encode(), comment=SECRET, quality=95)

    result, target = strip(source, tmp_path)

    assert result == StripResult(kind="jpeg", removed=("exif", "gps", "xmp", "comment"))
    assert SECRET.encode() not in target.read_bytes()
    with Image.open(target) as copy:
        assert copy.format == "JPEG"
        assert copy.mode == "RGB"
        assert not copy.getexif()
        assert not {"exif", "xmp", "comment"} & copy.info.keys()
        # Orientation 6 means "turn 90 degrees clockwise to view": the stored 64x32 picture shows as 32x64, with the
        # stored top-left quadrant now top-right.
        assert copy.size == (32, 64)
        expected = quadrants().transpose(Image.Transpose.ROTATE_270)
        for point in ((4, 4), (28, 4), (4, 60), (28, 60)):
            assert close(copy.getpixel(point), expected.getpixel(point))  # type: ignore[arg-type]  # RGB: a tuple


def test_jpeg_keeps_size_subsampling_and_looks_the_same(tmp_path: Path) -> None:
    source = tmp_path / "photo.jpg"
    original = quadrants(96, 48)
    original.save(source, exif=exif_with_gps(), subsampling=0, quality=95)

    _, target = strip(source, tmp_path)

    with Image.open(source) as before, Image.open(target) as copy:
        assert copy.size == before.size == (96, 48)
        assert copy.layer == before.layer  # type: ignore[attr-defined]  # JpegImageFile: the sampling per component
        for point in ((10, 10), (80, 10), (10, 40), (80, 40)):
            assert close(copy.getpixel(point), original.getpixel(point))  # type: ignore[arg-type]  # RGB: a tuple


def test_multi_picture_jpeg_keeps_only_the_photo(tmp_path: Path) -> None:
    source = tmp_path / "photo.jpg"
    preview = quadrants(16, 8).transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    quadrants().save(source, format="MPO", save_all=True, append_images=[preview], exif=exif_with_gps())

    result, target = strip(source, tmp_path)

    assert result == StripResult(kind="jpeg", removed=("exif", "gps", "extra-images"))
    with Image.open(target) as copy:
        assert copy.format == "JPEG"
        assert getattr(copy, "n_frames", 1) == 1
        assert copy.size == (64, 32)


def test_png_loses_text_chunks_exif_and_xmp_and_keeps_pixels_and_colour_profile(tmp_path: Path) -> None:
    source = tmp_path / "screenshot.png"
    original = noise((23, 17), "RGBA")
    chunks = PngInfo()
    chunks.add_text("Author", SECRET)
    chunks.add_text("Comment", SECRET, zip=True)  # zTXt
    chunks.add_itxt("Description", "Ünïcödé " + SECRET, lang="de", tkey="Beschreibung")
    chunks.add_itxt("XML:com.adobe.xmp", XMP)
    icc_profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    original.save(source, pnginfo=chunks, exif=exif_with_gps(), icc_profile=icc_profile)

    result, target = strip(source, tmp_path)

    assert result == StripResult(kind="png", removed=("exif", "gps", "xmp", "png-text"))
    assert SECRET.encode() not in target.read_bytes()
    with Image.open(target) as copy:
        assert copy.text == {}  # type: ignore[attr-defined]  # PngImageFile
        assert not copy.getexif()
        assert not {"exif", "xmp", "XML:com.adobe.xmp"} & copy.info.keys()
        assert copy.info["icc_profile"] == icc_profile  # colour, kept on purpose
        assert (copy.format, copy.mode, copy.size) == ("PNG", "RGBA", (23, 17))
        assert copy.tobytes() == original.tobytes()


def test_png_palette_transparency_survives(tmp_path: Path) -> None:
    source = tmp_path / "icon.png"
    original = noise((9, 9), "L").convert("P")
    original.save(source, transparency=3, pnginfo=_text_chunk("Software", SECRET))

    result, target = strip(source, tmp_path)

    assert result.removed == ("png-text",)
    with Image.open(target) as copy, Image.open(source) as before:
        assert copy.mode == "P"
        assert copy.info["transparency"] == 3
        assert copy.convert("RGBA").tobytes() == before.convert("RGBA").tobytes()


def _text_chunk(key: str, value: str) -> PngInfo:
    chunks = PngInfo()
    chunks.add_text(key, value)
    return chunks


def test_png_named_jpg_is_read_as_png(tmp_path: Path) -> None:
    source = tmp_path / "holiday.jpg"
    noise((4, 4)).save(source, format="PNG")

    result, _ = strip(source, tmp_path)

    assert result == StripResult(kind="png", removed=())


def test_animated_png_keeps_every_frame_as_it_shows(tmp_path: Path) -> None:
    source = tmp_path / "clip.png"
    frames = [noise((10, 8), "RGBA", seed) for seed in range(3)]
    frames[1].paste((0, 0, 0, 0), (0, 0, 5, 8))  # see-through: the frame before must not show through in the copy
    frames[0].save(source, save_all=True, append_images=frames[1:], duration=[50, 60, 70], loop=3, disposal=1, blend=1)

    _, target = strip(source, tmp_path)

    with Image.open(source) as before, Image.open(target) as copy:
        assert copy.n_frames == 3  # type: ignore[attr-defined]  # PngImageFile
        assert copy.info["loop"] == 3
        for index in range(3):
            before.seek(index)
            copy.seek(index)
            assert copy.info["duration"] == [50, 60, 70][index]
            assert copy.convert("RGBA").tobytes() == before.convert("RGBA").tobytes()


def test_lossless_webp_loses_exif_and_xmp_and_keeps_pixels(tmp_path: Path) -> None:
    source = tmp_path / "image.webp"
    original = noise((20, 12))
    original.save(source, lossless=True, exif=exif_with_gps(), xmp=XMP)

    result, target = strip(source, tmp_path)

    assert result == StripResult(kind="webp", removed=("exif", "gps", "xmp"))
    assert SECRET.encode() not in target.read_bytes()
    with Image.open(target) as copy:
        assert not copy.getexif()
        assert not {"exif", "xmp"} & copy.info.keys()
        assert (copy.format, copy.mode, copy.size) == ("WEBP", "RGB", (20, 12))
        assert copy.tobytes() == original.tobytes()


def test_lossy_webp_stays_close(tmp_path: Path) -> None:
    source = tmp_path / "image.webp"
    quadrants().save(source, quality=90, exif=exif_with_gps(orientation=3))

    result, target = strip(source, tmp_path)

    assert result.removed == ("exif", "gps")
    with Image.open(target) as copy:
        assert not copy.getexif()
        assert copy.size == (64, 32)
        upside_down = quadrants().transpose(Image.Transpose.ROTATE_180)  # orientation 3
        for point in ((4, 4), (60, 4), (4, 28), (60, 28)):
            assert close(copy.getpixel(point), upside_down.getpixel(point))  # type: ignore[arg-type]  # RGB: a tuple


def test_animated_webp_keeps_every_frame_and_its_duration(tmp_path: Path) -> None:
    source = tmp_path / "clip.webp"
    frames = [noise((10, 8), "RGBA", seed) for seed in range(3)]
    frames[0].save(
        source, save_all=True, append_images=frames[1:], duration=[100, 200, 300], loop=2, lossless=True, xmp=XMP
    )

    result, target = strip(source, tmp_path)

    assert result == StripResult(kind="webp", removed=("xmp",))
    with Image.open(source) as before, Image.open(target) as copy:
        assert copy.n_frames == 3  # type: ignore[attr-defined]  # WebPImageFile
        assert copy.info["loop"] == 2
        for index in range(3):
            before.seek(index)
            copy.seek(index)
            # Compared with the source as decoded, not with `frames`: the encoder drops the colour of fully
            # transparent pixels, which no viewer shows.
            assert copy.tobytes() == before.tobytes()
            assert copy.info["duration"] == [100, 200, 300][index]  # WebP sets it when the frame is loaded


def test_tiff_loses_descriptive_tags_and_keeps_pixels_and_compression(tmp_path: Path) -> None:
    source = tmp_path / "scan.tif"
    original = noise((15, 11))
    tags = TiffImagePlugin.ImageFileDirectory_v2()
    tags[315] = SECRET  # Artist
    tags[306] = "2024:05:06 07:08:09"  # DateTime
    tags[271] = "ScannerMaker"  # Make
    tags[305] = "ScanSoft 2.1"  # Software
    tags[33723] = SECRET.encode()  # IPTC
    original.save(source, tiffinfo=tags, compression="tiff_lzw", dpi=(300, 300))

    result, target = strip(source, tmp_path)

    assert result == StripResult(kind="tiff", removed=("iptc", "tiff-tags"))
    assert SECRET.encode() not in target.read_bytes()
    with Image.open(target) as copy:
        assert not {315, 306, 271, 305, 33723} & set(copy.tag_v2.keys())  # type: ignore[attr-defined]  # TiffImageFile
        assert copy.info["compression"] == "tiff_lzw"
        assert copy.info["dpi"] == pytest.approx((300, 300))
        assert (copy.format, copy.mode, copy.size) == ("TIFF", "RGB", (15, 11))
        assert copy.tobytes() == original.tobytes()


def test_multipage_tiff_keeps_every_page(tmp_path: Path) -> None:
    source = tmp_path / "pages.tif"
    pages = [noise((8, 6), "L", seed) for seed in range(3)]
    tags = TiffImagePlugin.ImageFileDirectory_v2()
    tags[315] = SECRET
    pages[0].save(source, save_all=True, append_images=pages[1:], tiffinfo=tags)

    _, target = strip(source, tmp_path)

    with Image.open(target) as copy:
        assert copy.n_frames == 3  # type: ignore[attr-defined]  # TiffImageFile
        for index, page in enumerate(pages):
            copy.seek(index)
            assert copy.tobytes() == page.tobytes()


def test_animated_gif_keeps_frames_durations_and_loop_and_loses_its_comment(tmp_path: Path) -> None:
    source = tmp_path / "clip.gif"
    frames = [quadrants(16, 16).rotate(90 * index).convert("P") for index in range(3)]
    frames[0].save(source, save_all=True, append_images=frames[1:], duration=[100, 200, 300], loop=0, comment=SECRET)

    result, target = strip(source, tmp_path)

    assert result == StripResult(kind="gif", removed=("comment",))
    assert SECRET.encode() not in target.read_bytes()
    with Image.open(source) as before, Image.open(target) as copy:
        assert copy.n_frames == 3  # type: ignore[attr-defined]  # GifImageFile
        assert copy.info["loop"] == 0
        for index in range(3):
            before.seek(index)
            copy.seek(index)
            assert "comment" not in copy.info
            assert copy.info["duration"] == [100, 200, 300][index]
            assert copy.convert("RGBA").tobytes() == before.convert("RGBA").tobytes()


def test_gif_keeps_its_transparency(tmp_path: Path) -> None:
    source = tmp_path / "sticker.gif"
    original = Image.new("P", (8, 8), 0)
    original.putpalette([0, 0, 0, 200, 30, 30, 30, 200, 30])
    original.paste(1, (0, 0, 4, 8))
    original.paste(2, (4, 4, 8, 8))
    original.save(source, transparency=0, comment=SECRET)  # the top-right quarter is see-through

    result, target = strip(source, tmp_path)

    assert result.removed == ("comment",)
    with Image.open(source) as before, Image.open(target) as copy:
        assert "transparency" in before.info
        assert "transparency" in copy.info
        assert copy.convert("RGBA").getpixel((6, 1)) == (0, 0, 0, 0)
        assert copy.convert("RGBA").tobytes() == before.convert("RGBA").tobytes()


# -- PDF ----------------------------------------------------------------------------------------------------------


def make_pdf(path: Path) -> None:
    pdf = pikepdf.new()
    pdf.add_blank_page()
    pdf.add_blank_page()
    pdf.docinfo[Name.Author] = SECRET
    pdf.docinfo[Name.Producer] = "Office Suite 9"
    pdf.docinfo[Name.Creator] = "Writer 9"
    pdf.Root.Metadata = pdf.make_stream(XMP.encode(), Type=Name.Metadata, Subtype=Name.XML)
    page = pdf.pages[0].obj
    page.Metadata = pdf.make_stream(XMP.encode(), Type=Name.Metadata, Subtype=Name.XML)
    page.PieceInfo = Dictionary(Editor=Dictionary(Private=pikepdf.String(SECRET)))
    page.LastModified = pikepdf.String("D:20240506070809Z")
    page.Thumb = pdf.make_stream(b"\x00" * 3, Width=1, Height=1, ColorSpace=Name.DeviceRGB, BitsPerComponent=8)
    pdf.attachments["notes.txt"] = pikepdf.AttachedFileSpec(pdf, SECRET.encode(), description=SECRET)
    pinned = pikepdf.AttachedFileSpec(pdf, SECRET.encode(), description=SECRET, filename="pinned.txt")
    page.Annots = pdf.make_indirect(
        Array([Dictionary(Type=Name.Annot, Subtype=Name.FileAttachment, Rect=[0, 0, 10, 10], FS=pinned.obj)])
    )
    photo = pdf.make_stream(b"\xff\x00\x00", Type=Name.XObject, Subtype=Name.Image, Width=1, Height=1)
    photo.ColorSpace, photo.BitsPerComponent = Name.DeviceRGB, 8
    photo.Metadata = pdf.make_stream(XMP.encode(), Type=Name.Metadata, Subtype=Name.XML)
    page.Resources = Dictionary(XObject=Dictionary(Im0=photo))
    pdf.save(path, compress_streams=False)


def plain_pdf_bytes(path: Path) -> bytes:
    """The whole PDF with its streams decoded, so that a search for a text cannot miss it inside a compressed stream."""
    with pikepdf.open(path) as pdf:
        buffer = io.BytesIO()
        pdf.save(buffer, compress_streams=False, stream_decode_level=pikepdf.StreamDecodeLevel.all)
        return buffer.getvalue()


def test_pdf_loses_docinfo_xmp_piece_info_and_embedded_files(tmp_path: Path) -> None:
    source = tmp_path / "letter.pdf"
    make_pdf(source)
    assert SECRET.encode() in plain_pdf_bytes(source)

    result, target = strip(source, tmp_path)

    assert result == StripResult(
        kind="pdf",
        removed=(
            "pdf-docinfo",
            "pdf-xmp",
            "pdf-object-xmp",
            "pdf-piece-info",
            "pdf-last-modified",
            "pdf-thumbnails",
            "pdf-embedded-files",
            "pdf-file-id",
        ),
    )
    assert SECRET.encode() not in plain_pdf_bytes(target)
    with pikepdf.open(source) as before, pikepdf.open(target) as copy:
        assert Name.Info not in copy.trailer
        assert Name.Metadata not in copy.Root
        assert len(copy.pages) == 2
        for page in copy.pages:
            assert not {Name.Metadata, Name.PieceInfo, Name.LastModified, Name.Thumb} & set(page.obj.keys())
        assert len(copy.attachments) == 0
        assert Name.FS not in copy.pages[0].Annots[0]  # the paperclip stays, so the page looks the same; the file goes
        assert Name.Metadata not in copy.pages[0].Resources.XObject.Im0
        assert copy.trailer.ID[0] != before.trailer.ID[0]  # the new identifier does not link the copy to the source
        with copy.open_metadata(set_pikepdf_as_editor=False) as xmp:
            assert len(xmp) == 0


def test_pdf_without_metadata_reports_only_its_new_identifier(tmp_path: Path) -> None:
    source = tmp_path / "plain.pdf"
    pdf = pikepdf.new()
    pdf.add_blank_page()
    pdf.save(source)

    result, _ = strip(source, tmp_path)

    assert result == StripResult(kind="pdf", removed=("pdf-file-id",))


def test_pdf_locked_with_a_password_is_invalid_input(tmp_path: Path) -> None:
    source = tmp_path / "locked.pdf"
    pdf = pikepdf.new()
    pdf.add_blank_page()
    pdf.save(source, encryption=pikepdf.Encryption(user="open sesame", owner="owner"))

    with pytest.raises(InvalidInputError, match=r"^cannot strip locked\.pdf: the PDF is protected by a password$"):
        strip_metadata(source, tmp_path / "copy.pdf")


def test_damaged_pdf_is_invalid_input(tmp_path: Path) -> None:
    source = tmp_path / "broken.pdf"
    source.write_bytes(b"%PDF-1.7\n" + bytes(random.Random(3).randrange(256) for _ in range(200)))
    target = tmp_path / "copy.pdf"

    with pytest.raises(InvalidInputError, match=r"cannot strip broken\.pdf: pikepdf cannot read it as a PDF") as caught:
        strip_metadata(source, target)

    assert not isinstance(caught.value, UnsupportedFileError)
    assert not target.exists()


# -- refusals -----------------------------------------------------------------------------------------------------


def test_a_docx_is_refused_naming_its_kind_and_the_supported_kinds(tmp_path: Path) -> None:
    source = tmp_path / "report.docx"
    with zipfile.ZipFile(source, "w") as archive:
        archive.writestr("word/document.xml", "<w:document/>")
    target = tmp_path / "copy.docx"

    with pytest.raises(UnsupportedFileError) as caught:
        strip_metadata(source, target)

    assert caught.value.message == (
        "cannot strip report.docx: it is a zip (also docx, xlsx, odt) file; "
        "supported kinds are jpeg, png, webp, tiff, gif, pdf"
    )
    assert isinstance(caught.value, InvalidInputError)
    assert caught.value.status == 422
    assert not target.exists()


def test_random_bytes_are_refused_as_unknown(tmp_path: Path) -> None:
    source = tmp_path / "photo.jpg"  # the name says JPEG; the bytes do not
    source.write_bytes(b"\x00" + bytes(random.Random(5).randrange(256) for _ in range(500)))

    with pytest.raises(UnsupportedFileError, match="its kind is unknown") as caught:
        strip_metadata(source, tmp_path / "copy.jpg")

    assert all(kind in caught.value.message for kind in SUPPORTED_KINDS)


def test_truncated_jpeg_is_invalid_input_and_leaves_no_copy(tmp_path: Path) -> None:
    whole = io.BytesIO()
    noise((64, 64)).save(whole, format="JPEG", exif=exif_with_gps())
    source = tmp_path / "cut.jpg"
    source.write_bytes(whole.getvalue()[: len(whole.getvalue()) // 2])
    target = tmp_path / "copy.jpg"

    with pytest.raises(InvalidInputError, match=r"^cannot strip cut\.jpg: the jpeg image is damaged") as caught:
        strip_metadata(source, target)

    assert not isinstance(caught.value, UnsupportedFileError)
    assert "Traceback" not in caught.value.message
    assert not target.exists()


def test_label_replaces_the_file_name_in_messages(tmp_path: Path) -> None:
    source = tmp_path / "passport of Jane Roe.bin"
    source.write_bytes(b"\x00" * 32)

    with pytest.raises(UnsupportedFileError) as caught:
        strip_metadata(source, tmp_path / "copy", label="attachment 3")

    assert caught.value.message.startswith("cannot strip attachment 3:")
    assert "Jane" not in caught.value.message


def test_an_existing_target_is_never_overwritten(tmp_path: Path) -> None:
    source = tmp_path / "photo.png"
    noise((4, 4)).save(source)
    target = tmp_path / "copy.png"
    target.write_bytes(b"keep me")

    with pytest.raises(ConflictError):
        strip_metadata(source, target)
    with pytest.raises(ConflictError):
        strip_metadata(source, source)

    assert target.read_bytes() == b"keep me"
    with Image.open(source) as still_there:
        assert still_there.size == (4, 4)


@pytest.mark.parametrize(
    ("head", "kind"),
    [
        (b"\xff\xd8\xff\xe0\x00\x10JFIF", "jpeg"),
        (b"\x89PNG\r\n\x1a\n\x00\x00", "png"),
        (b"RIFF\x10\x00\x00\x00WEBPVP8L", "webp"),
        (b"RIFF\x10\x00\x00\x00WAVEfmt ", "unknown"),
        (b"II*\x00\x08\x00\x00\x00", "tiff"),
        (b"MM\x00*\x00\x00\x00\x08", "tiff"),
        (b"GIF89a\x01\x00", "gif"),
        (b"%PDF-1.7\n", "pdf"),
        (b"\x00\x00\x00\x1cftypheic", "iso media (heic, avif, mp4, mov)"),
        (b"", "unknown"),
    ],
)
def test_detect_kind_reads_magic_bytes(head: bytes, kind: str) -> None:
    assert detect_kind(head) == kind


# -- property -----------------------------------------------------------------------------------------------------

EXIF_TEXT = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), min_size=1, max_size=40)  # EXIF ASCII


@settings(max_examples=40, deadline=None)  # encoding time varies with the machine; the property is what matters
@given(
    size=st.tuples(st.integers(1, 24), st.integers(1, 24)),
    seed=st.integers(0, 2**16),
    artist=EXIF_TEXT,
    description=EXIF_TEXT,
    fmt=st.sampled_from(["PNG", "JPEG"]),
)
def test_no_exif_survives_in_any_small_image(
    tmp_path_factory: pytest.TempPathFactory, size: tuple[int, int], seed: int, artist: str, description: str, fmt: str
) -> None:
    directory = tmp_path_factory.mktemp("strip")  # tmp_path is per test, not per example
    source = directory / "image"
    exif = Image.Exif()
    exif[ExifTags.Base.Artist] = artist
    exif[ExifTags.Base.ImageDescription] = description
    original = noise(size, seed=seed)
    original.save(source, format=fmt, exif=exif)

    result = strip_metadata(source, directory / "copy")

    assert result.removed == ("exif",)
    with Image.open(directory / "copy") as copy:
        assert copy.format == fmt
        assert copy.size == size
        assert not copy.getexif()
        assert "exif" not in copy.info
        if fmt == "PNG":
            assert copy.tobytes() == original.tobytes()
