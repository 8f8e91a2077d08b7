"""``qa index`` on a folder of a real PDF, web page, Word file and Markdown file, then ``qa ask``
citing the PDF by page, every citation's span being the cited text."""
import json

from index import IndexStore
from qa.cli import main as cli
from support import mixed_folder


def test_index_reads_all_four_formats_and_ask_cites_the_pdf_page(tmp_path, capsys):
    folder, index_dir = mixed_folder(tmp_path / "docs"), tmp_path / "index"
    assert cli(["index", str(folder), "--index", str(index_dir)]) == 0
    assert "4 documents" in capsys.readouterr().out
    store = IndexStore.open(index_dir)
    assert sorted(d.format for d in store.documents()) == ["docx", "html", "markdown", "pdf"]
    texts = {d.doc_id: d.text for d in store.documents()}

    assert cli(["ask", "How many nesting pairs did the Kestrel survey count?", "--index", str(index_dir), "--json"]) == 0
    answer = json.loads(capsys.readouterr().out)
    cited = answer["answer_citation"]
    assert (cited["source"], cited["page"]) == ("kestrel-survey.pdf", 3) and answer["short"] == "412"
    assert texts[cited["doc_id"]][cited["clean_start"]:cited["clean_end"]] == answer["answer"]
    short = answer["short_citation"]
    assert texts[short["doc_id"]][short["clean_start"]:short["clean_end"]] == "412" and short["page"] == 3
    for hit in answer["hits"]:
        citation = hit["citation"]
        assert texts[citation["doc_id"]][citation["clean_start"]:citation["clean_end"]] == hit["passage"]["text"]
        assert (citation["page"] is not None) == citation["source"].endswith(".pdf")

    assert cli(["ask", "When does the MV Tern enter service?", "--index", str(index_dir)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Answer: 28 March\n") and "harbour-ferry.html" in out
    assert cli(["ask", "Who should injuries be reported to?", "--index", str(index_dir)]) == 0
    assert "volunteer-handbook.docx, paragraph 7 (Safety" in capsys.readouterr().out
    assert cli(["ask", "What was the pH of the soil?", "--index", str(index_dir), "-k", "1"]) == 0
    assert "allotment-notes.md:8 (Allotment notes > Soil" in capsys.readouterr().out
