"""Helpers shared by tests (importable because pytest puts tests/ on the path)."""
from __future__ import annotations

import signal
from pathlib import Path

import pytest

from eval import BENCH

REPO = Path(__file__).resolve().parents[1]
WIKI_SEED = "002_73259c55204946b0.txt"


def bench_path(*parts: str) -> Path:
    """A path in ../shared/bench, or a clean skip where that folder is absent."""
    path = BENCH.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"{path} is not here (../shared/bench is read in place, never copied into the project)")
    return path


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def restore_sigint() -> None:
    """For ``Popen(preexec_fn=...)``: the child gets Ctrl-C as from a terminal. A shell that starts
    the test run in the background (``pytest &``) leaves SIGINT ignored, children inherit that, and
    Python then installs no KeyboardInterrupt handler: the interrupt tests would test nothing."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


FORMAT_FIXTURES = REPO / "tests" / "fixtures" / "formats"
KESTREL_PAGES = [
    ("Introduction", "The Kestrel survey of the Wenlow estuary ran from April to July 2021. "
                     "Twelve volunteers took part under the county bird recorder."),
    ("Methods", "Observers walked fixed transects every Tuesday and logged each nest with a GPS unit. "
                "Nests were checked again after fourteen days."),
    ("Results", "The survey counted 412 nesting pairs. Nesting success fell to 61 percent after the June storm, "
                "which flooded the lower salt marsh."),
]


def make_pdf(path: Path, pages=KESTREL_PAGES, title: str = "Kestrel survey 2021") -> Path:
    """A real multi-page PDF with a text layer and an outline entry (bookmark) per page (fpdf2)."""
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_title(title)
    pdf.set_font("Helvetica", size=12)
    for heading, body in pages:
        pdf.add_page()
        pdf.start_section(heading, level=0)
        pdf.multi_cell(0, 8, f"{heading}\n{body}")
    pdf.output(str(path))
    return path


def make_scanned_pdf(path: Path) -> Path:
    """A PDF page with a picture-like shape and no text layer, as a scanner makes."""
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.rect(20, 20, 120, 160, style="F")
    pdf.output(str(path))
    return path


def make_encrypted_pdf(path: Path) -> Path:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_font("Helvetica", size=12)
    pdf.add_page()
    pdf.cell(0, 10, "Board minutes: the merger is approved.")
    pdf.set_encryption(owner_password="owner", user_password="reader")
    pdf.output(str(path))
    return path


def make_docx(path: Path) -> Path:
    """A Word file with a title, Heading 1 and 2 styles, a table and core properties (python-docx)."""
    import datetime

    import docx

    document = docx.Document()
    document.core_properties.title = "Volunteer handbook"
    document.core_properties.created = datetime.datetime(2023, 9, 1, 10, 0)
    document.add_heading("Volunteer handbook", level=0)
    document.add_heading("Shifts", level=1)
    document.add_paragraph("Each shift lasts four hours and starts at 8:00 or 13:00.")
    document.add_heading("Weekend shifts", level=2)
    document.add_paragraph("Weekend volunteers receive a lunch voucher from the café.")
    document.add_heading("Safety", level=1)
    document.add_paragraph("Report every injury to the duty manager, Priya Natarajan, before leaving the site.")
    table = document.add_table(rows=2, cols=2)
    for (row, column), text in {(0, 0): "Role", (0, 1): "Contact", (1, 0): "Duty manager", (1, 1): "ext. 204"}.items():
        table.cell(row, column).text = text
    document.save(str(path))
    return path


def mixed_folder(folder: Path) -> Path:
    """A folder with one real file of each new format: PDF, web page, Word file, Markdown."""
    import shutil

    folder.mkdir(parents=True, exist_ok=True)
    make_pdf(folder / "kestrel-survey.pdf")
    make_docx(folder / "volunteer-handbook.docx")
    shutil.copy(FORMAT_FIXTURES / "harbour-ferry.html", folder / "harbour-ferry.html")
    shutil.copy(FORMAT_FIXTURES / "allotment-notes.md", folder / "allotment-notes.md")
    return folder


SEED_TOP5 = Path(__file__).parent / "fixtures" / "seed_top5.json"


def seed_top5(store, embedder) -> dict[str, dict[str, list[str]]]:
    """``{mode: {question id: ["source:ordinal" of each of the top 5]}}`` for the seed questions
    over an index of the bundled corpus: the same for every store, whatever its passage ids."""
    from eval.seeds import load_seed_questions
    from qa.api import QA
    from qa.retriever import MODES

    names = {passage.passage_id: f"{document.source}:{passage.ordinal}"
             for document in store.documents() for passage, _ in store.passages_of(document.doc_id)}
    qa = QA(store, embedder)
    return {mode: {question.qid: [names[hit.passage.passage_id] for hit in qa.retrieve(question.question, 5, mode)]
                   for question in load_seed_questions()} for mode in MODES}


def recorded_seed_top5() -> dict[str, dict[str, list[str]]]:
    import json

    return json.loads(SEED_TOP5.read_text())


def qdrant_passages_file(folder: Path) -> Path:
    """The SQLite file a Qdrant local store at ``folder`` keeps docqa's passages in."""
    return folder / "collection" / "docqa" / "storage.sqlite"


def source_lines_of(document, needle: str) -> tuple[int, int] | None:
    """The source lines (a Word file's paragraphs) that ``needle``, the first time it occurs in the
    document's cleaned text, comes from."""
    from ingest.types import source_lines

    start = document.text.index(needle)
    return source_lines(document.source_map, start, start + len(needle))
