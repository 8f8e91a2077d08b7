"""Input crafted or broken to hurt: bounded time and memory, one warning per problem, nothing lost
that could be kept, and nothing read from outside the folders the user named."""
import bz2
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ingest.chunker import Chunker
from ingest.formats.frontmatter import parse_front_matter
from ingest.loader import DocumentLoader
from support import REPO


def _page(title, text, namespace="0"):
    return (f"<page><title>{title}</title><ns>{namespace}</ns><revision><text>{text}</text></revision></page>")


def _dump(pages) -> bytes:
    return ("<mediawiki xmlns=\"http://www.mediawiki.org/xml/export-0.10/\">" + "".join(pages) + "</mediawiki>").encode()


def _article(number):
    return _page(f"Article {number}", f"'''Article {number}''' is about topic number {number}. It has a second sentence.")


def _load(paths, **options):
    loader = DocumentLoader(**options)
    return list(loader(paths)), loader.warnings


@pytest.mark.parametrize("unit", ["{{a|b ", "[[a|{{b|", "<ref>x ", "[[a|b "])
def test_crafted_unclosed_wikitext_parses_in_bounded_time(tmp_path, unit):
    page = tmp_path / "crafted.wiki"
    page.write_text("'''Crafted''' page. [[Link]] and {{lang|fr|mot}}.\n" + unit * (200 * 1024 // len(unit)))
    started = time.process_time()
    documents, warnings = _load([page])
    assert time.process_time() - started < 10, "a 200 KB page took 47 s before the fix at 68 KB"
    assert len(documents) == 1 and documents[0].text.startswith("Crafted page.")
    assert len(warnings) == 1 and "unclosed" in warnings[0].reason and "\n" not in str(warnings[0])


def test_one_bad_page_skips_only_itself(tmp_path):
    pages = [_article(n) for n in range(40)]
    pages[20] = _page("Broken", "text", namespace="zero")
    dump = tmp_path / "dump.xml.bz2"
    dump.write_bytes(bz2.compress(_dump(pages)))
    documents, warnings = _load([dump])
    assert len(documents) == 39 and "Article 39" in {d.title for d in documents}
    assert [w.path for w in warnings] == [f"{dump}#Broken"] and "namespace 'zero' is not a number" in warnings[0].reason


def test_dump_page_over_the_size_limit_is_skipped_with_its_name(tmp_path):
    pages = [_article(1), _page("Huge", "word " * 300_000), _article(2)]
    dump = tmp_path / "bomb.xml.bz2"
    dump.write_bytes(bz2.compress(_dump(pages)))
    assert dump.stat().st_size < 10_000
    documents, warnings = _load([dump], max_bytes=1024 * 1024)
    assert {d.title for d in documents} == {"Article 1", "Article 2"}
    assert warnings[0].path.endswith("#Huge") and "over the 1 MB limit per page" in warnings[0].reason


def test_dump_decompressed_size_is_capped(tmp_path):
    dump = tmp_path / "big.xml.bz2"
    dump.write_bytes(bz2.compress(_dump([_article(n) for n in range(2000)])))
    documents, warnings = _load([dump], max_dump_bytes=50_000)
    assert 0 < len(documents) < 2000
    assert f"{len(documents)} pages indexed, the rest is lost" in warnings[0].reason and "limit per dump" in warnings[0].reason


def test_truncated_multi_block_dump_keeps_pages_and_says_how_many(tmp_path):
    blocks = [bz2.compress(_dump([_article(n) for n in range(30)])[:-len("</mediawiki>")])]
    blocks.append(bz2.compress(b"".join(_article(n).encode() for n in range(30, 60)) + b"</mediawiki>"))
    dump = tmp_path / "cut.xml.bz2"
    dump.write_bytes(blocks[0] + blocks[1][: len(blocks[1]) // 2])
    documents, warnings = _load([dump])
    assert len(documents) == 30
    assert len(warnings) == 1 and warnings[0].reason.startswith("30 pages indexed, the rest is lost")


def test_truncated_single_block_dump_keeps_what_it_can_and_is_not_called_binary(tmp_path):
    data = bz2.compress(_dump([_article(n) for n in range(40)]))
    tail_cut = tmp_path / "tail.xml.bz2"
    tail_cut.write_bytes(data[:-3])
    documents, warnings = _load([tail_cut])
    assert len(documents) == 40 and "pages indexed" in warnings[0].reason
    half = tmp_path / "half.xml.bz2"
    half.write_bytes(data[: len(data) // 2])
    documents, warnings = _load([half])
    assert documents == [] and "binary file" not in warnings[0].reason and "ends before its first complete block" in warnings[0].reason


@pytest.mark.slow   # a 5 MB line through the tokenizer: about 15 s
def test_an_unsplittable_five_megabyte_line_keeps_the_token_cap_and_memory_bound(tmp_path):
    script = f"""
import random, resource, sys
from pathlib import Path
sys.path.insert(0, {str(REPO)!r})
from index.embedder import Embedder
from ingest.chunker import Chunker
from ingest.loader import DocumentLoader
random.seed(3)
words = ["".join(random.choice("abcdefghij") for _ in range(random.randint(3, 9))) for _ in range(1000)]
path = Path({str(tmp_path / 'line.txt')!r})
path.write_text("Title\\n\\n" + " ".join(random.choice(words) for _ in range(5_000_000 // 7)) + "x" * 20000)
embedder = Embedder()
embedder.count_tokens(["load the tokenizer first"])
baseline_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
document = next(iter(DocumentLoader()([path])))
passages = Chunker(count_tokens=embedder.count_tokens)(document)
peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
longest = max(max(embedder.count_tokens([p.text for p in passages[i:i + 500]])) for i in range(0, len(passages), 500))
assert all(p.text == document.text[p.start:p.end] for p in passages)
print(len(document.text), len(passages), longest, baseline_mb, peak_mb)
"""
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    characters, passages, longest, baseline_mb, peak_mb = map(int, result.stdout.split())
    assert characters > 5_000_000 and passages > 1000
    assert longest <= 200, "every passage keeps the 200-token cap"
    # The file's own cost, above the interpreter, libraries and tokenizer (about 300 MB here).
    assert peak_mb - baseline_mb < 1024, f"reading and chunking took {peak_mb - baseline_mb} MB above a {baseline_mb} MB start (2.9 GB before the fix)"


def test_links_out_of_the_folder_are_skipped_and_broken_links_warned(tmp_path):
    outside = tmp_path / "secret.txt"
    outside.write_text("Secret\n\nThe root password is hunter2.")
    folder = tmp_path / "notes"
    folder.mkdir()
    (folder / "real.txt").write_text("Real note\n\nA real note inside the folder.")
    (folder / "inside-link.txt").symlink_to(folder / "real.txt")
    (folder / "passwd.txt").symlink_to(outside)
    (folder / "dangling.txt").symlink_to(tmp_path / "nowhere.txt")
    (folder / "loop-a.txt").symlink_to(folder / "loop-b.txt")
    (folder / "loop-b.txt").symlink_to(folder / "loop-a.txt")
    documents, warnings = _load([folder])
    assert "hunter2" not in " ".join(d.text for d in documents)
    reasons = {Path(w.path).name: w.reason for w in warnings}
    assert "outside" in reasons["passwd.txt"]
    assert "dangling or looping" in reasons["dangling.txt"] and "dangling or looping" in reasons["loop-a.txt"]
    explicit, _ = _load([folder / "passwd.txt"])
    assert "hunter2" in explicit[0].text, "a link named on the command line is the user's choice"


def test_unreadable_folder_and_file_are_warned_with_permission_denied(tmp_path, monkeypatch):
    folder = tmp_path / "docs"
    (folder / "locked").mkdir(parents=True)
    (folder / "locked" / "a.txt").write_text("A\n\nHidden.")
    (folder / "open.txt").write_text("Open\n\nVisible.")
    (folder / "private.txt").write_text("Private\n\nSecret.")
    real_scandir, real_read = os.scandir, Path.read_bytes

    def scandir(path="."):
        if str(path).endswith("locked"):
            raise PermissionError(13, "Permission denied", str(path))
        return real_scandir(path)

    def read_bytes(self):
        if self.name == "private.txt":
            raise PermissionError(13, "Permission denied", str(self))
        return real_read(self)

    # Root reads anything, so denial is simulated where the operating system would raise it.
    monkeypatch.setattr(os, "scandir", scandir)
    monkeypatch.setattr(Path, "read_bytes", read_bytes)
    documents, warnings = _load([folder])
    assert [d.source for d in documents] == ["open.txt"]
    reasons = {Path(w.path).name: w.reason for w in warnings}
    assert reasons == {"locked": "skipped folder: cannot read: permission denied",
                       "private.txt": "skipped: cannot read: permission denied"}


@pytest.mark.parametrize("encoding, bom", [("utf-16", b""), ("utf-16-le", b""), ("utf-16-be", b""),
                                           ("utf-16-le", b"\xff\xfe")])
def test_utf16_files_are_read_not_called_binary(tmp_path, encoding, bom):
    path = tmp_path / "wide.txt"
    path.write_bytes(bom + "Wide note\n\nThe café opened in Zürich in 1998.".encode(encoding))
    documents, warnings = _load([path])
    assert warnings == [] and documents[0].text == "Wide note\n\nThe café opened in Zürich in 1998."


def test_an_impossible_front_matter_date_drops_only_that_field():
    document = parse_front_matter("---\ntitle: Launch notes\ndate: 2023-02-30\nurl: https://example.org/launch\n"
                                  "---\nWe launched the service.\n")
    assert (document.title, document.url, document.published) == ("Launch notes", "https://example.org/launch", "")


def test_chunker_hard_wraps_a_word_longer_than_any_passage():
    from ingest.types import Document

    text = "Start. " + "x" * 30_000 + " end."
    document = Document("d", "p", "s", "t", text, "text", "h")
    passages = Chunker(max_tokens=50, count_tokens=lambda texts: [len(t) // 4 + 1 for t in texts])(document)
    assert all(p.text == text[p.start:p.end] for p in passages)
    assert max(len(p.text) for p in passages) <= 200 and len(passages) > 30_000 / 200


def _docx_bomb(path: Path, unpacked_bytes: int) -> Path:
    """A valid Word file whose document.xml unpacks to ``unpacked_bytes``: empty paragraphs, each
    followed by a megabyte of whitespace, which deflate squeezes about a thousandfold."""
    import io
    import zipfile

    import docx

    buffer = io.BytesIO()
    document = docx.Document()
    document.add_paragraph("Bomb heading")
    document.add_paragraph("The real text of the bomb.")
    document.save(buffer)
    with zipfile.ZipFile(buffer) as source, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as bomb:
        for item in source.infolist():
            data = source.read(item)
            if item.filename != "word/document.xml":
                bomb.writestr(item.filename, data)
                continue
            head, tail = data.split(b"</w:p>", 1)
            with bomb.open("word/document.xml", "w", force_zip64=True) as member:
                member.write(head + b"</w:p>")
                block = b"<w:p/>" + b" " * ((1 << 20) - 6)
                for _ in range(unpacked_bytes // len(block)):
                    member.write(block)
                member.write(tail)
    return path


def test_a_docx_zip_bomb_is_refused_in_bounded_time_with_one_line(tmp_path):
    bomb = _docx_bomb(tmp_path / "bomb.docx", 400 * 1024 * 1024)
    assert bomb.stat().st_size < 2 * 1024 * 1024
    started = time.perf_counter()
    documents, warnings = _load([bomb])
    elapsed = time.perf_counter() - started
    assert documents == []
    assert len(warnings) == 1 and "\n" not in warnings[0].reason
    assert "unpacks to over" in warnings[0].reason and "MB" in warnings[0].reason, warnings[0].reason
    assert elapsed < 5, f"refusing the bomb took {elapsed:.1f} s"


def test_a_file_over_the_size_limit_is_refused_before_it_is_read(tmp_path):
    sparse = tmp_path / "sparse.txt"
    with open(sparse, "wb") as handle:
        handle.truncate(8 * 1024 ** 3)   # 8 GB that take no disk
    started = time.perf_counter()
    documents, warnings = _load([sparse])
    elapsed = time.perf_counter() - started
    assert documents == []
    assert [w.reason for w in warnings] == ["skipped: 8192.0 MB is over the 20 MB limit per file"]
    assert elapsed < 1, f"the size check took {elapsed:.1f} s: the file was read before it"


@pytest.mark.slow   # 60,000 headings chunked and embedded: about 18 s
def test_sixty_thousand_headings_do_not_give_sixty_thousand_passages(tmp_path):
    page = tmp_path / "headings.md"
    page.write_text("# Many headings\n\n" + "".join(f"## Heading {n}\n\nFact {n}.\n\n" for n in range(60_000)))
    documents, warnings = _load([page])
    passages = Chunker()(documents[0])
    assert len(passages) < 10_000, f"{len(passages)} passages for 60,000 tiny sections"
    assert all(p.text == documents[0].text[p.start:p.end] for p in passages)
    assert all(len(p.text.split()) <= 200 / 1.3 for p in passages)
    assert any("Fact 59999." in p.text for p in passages)


@pytest.mark.parametrize("max_tokens, overlap, expected", [
    (200, -1, "overlap must be from 0 to"), (200, 1000, "overlap must be from 0 to"),
    (100_000, 1, "max_tokens must be from 8 to"), (4, 1, "max_tokens must be from 8 to")])
def test_chunking_settings_out_of_range_are_refused_naming_the_range(max_tokens, overlap, expected):
    with pytest.raises(ValueError, match=expected):
        Chunker(max_tokens=max_tokens, overlap_sentences=overlap)


def _pdf(page_count: int, stream: bytes) -> bytes:
    """A PDF of ``page_count`` pages that all draw the one Flate-compressed content ``stream``."""
    import zlib

    packed = zlib.compress(stream, 9)
    kids = b" ".join(b"%d 0 R" % (5 + i) for i in range(page_count))
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [" + kids + b"] /Count %d >>" % page_count,
               b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
               b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(packed) + packed + b"\nendstream"]
    objects += [b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 3 0 R >> >> "
                b"/Contents 4 0 R >>"] * page_count
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1) + b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


@pytest.mark.slow   # runs the PDF worker into its memory cap: about 16 s
def test_a_pdf_content_stream_bomb_is_refused_within_the_memory_and_time_bounds(tmp_path):
    line = b"BT /F1 12 Tf 72 720 Td (" + b"A" * 200 + b") Tj ET\n"
    bomb = tmp_path / "bomb.pdf"
    bomb.write_bytes(_pdf(1, line * (160 * 1024 * 1024 // len(line))))   # 160 MB of text objects
    assert bomb.stat().st_size < 1024 * 1024
    script = f"""
import resource, sys, time
sys.path.insert(0, {str(REPO)!r})
from ingest.loader import DocumentLoader
baseline_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
loader = DocumentLoader()
started = time.perf_counter()
documents = list(loader([{str(bomb)!r}]))
elapsed = time.perf_counter() - started
peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
worker_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024
print(len(documents), round(elapsed), peak_mb - baseline_mb, worker_mb)
print(*[w.reason for w in loader.warnings], sep="\\n")
"""
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    numbers, *reasons = result.stdout.splitlines()
    documents, elapsed, caller_mb, worker_mb = map(int, numbers.split())
    assert documents == 0 and len(reasons) == 1 and "needs over 768 MB of memory" in reasons[0], reasons
    assert caller_mb < 100, f"the caller grew by {caller_mb} MB"
    assert worker_mb < 800 and elapsed < 60, (worker_mb, elapsed)


def test_a_pdf_past_the_page_cap_keeps_the_first_pages_and_says_so(tmp_path):
    from ingest.formats import pdf

    many = tmp_path / "many.pdf"
    many.write_bytes(_pdf(pdf.MAX_PAGES + 10, b"BT /F1 12 Tf 72 720 Td (Every page says the same.) Tj ET\n"))
    documents, warnings = _load([many])
    assert len(documents[0].pages) == pdf.MAX_PAGES
    assert [w.reason for w in warnings] == [f"only the first {pdf.MAX_PAGES:,} of {pdf.MAX_PAGES + 10:,} pages are indexed"]
