"""``index.scope``: every clause form, what each allows, and the one-line refusals."""
import pytest

from index.scope import (DateClause, FieldClause, FormatClause, Operator, PathClause, Scope, ScopedDocument, ScopeTable,
                         ScopeError)
from ingest.types import Field

NOTE = ScopedDocument("n", "/home/me/notes/2021/kestrel.md", "frontmatter", "2021-06-14",
                      (Field("tags", "birds"), Field("tags", "Python"), Field("updated", "2022-01-05")))
REPORT = ScopedDocument("r", "/home/me/reports/survey.pdf", "pdf", "2019-03-02")
UNDATED = ScopedDocument("u", "/srv/docs/readme.md", "markdown")


@pytest.mark.parametrize("text, clause", [
    ("path=docs/*.md", PathClause("docs/*.md")),
    ("path=notes/", PathClause("notes/")),
    ("path!=notes/", PathClause("notes/", negated=True)),
    ("format=pdf", FormatClause(frozenset({"pdf"}))),
    ("format=PDF,.docx", FormatClause(frozenset({"pdf", "docx"}))),
    ("format!=pdf", FormatClause(frozenset({"pdf"}), negated=True)),
    ("date>=2020-01-01", DateClause(Operator.GE, "2020-01-01")),
    ("date<2021", DateClause(Operator.LT, "2021")),
    ("date <= 2020-05", DateClause(Operator.LE, "2020-05")),
    ("date>2020", DateClause(Operator.GT, "2020")),
    ("date=2021-06", DateClause(Operator.EQ, "2021-06")),
    ("date!=2021", DateClause(Operator.NE, "2021")),
    ("tag=python", FieldClause("tag", Operator.EQ, "python")),
    ("Author=Ada Lovelace", FieldClause("author", Operator.EQ, "Ada Lovelace")),
    ("tag!=draft", FieldClause("tag", Operator.NE, "draft")),
    ("updated>=2022", FieldClause("updated", Operator.GE, "2022")),
])
def test_every_clause_form_parses_into_its_typed_clause(text, clause):
    assert Scope.parse([text]).clauses == (clause,)


@pytest.mark.parametrize("clauses, allowed", [
    (["path=notes/"], {"n"}),
    (["path=notes"], {"n"}),
    (["path=kestrel.md"], {"n"}),
    (["path=notes/*.md"], set()),                 # * stays inside one folder
    (["path=notes/**/*.md"], {"n"}),
    (["path=*.md"], {"n", "u"}),
    (["path=/home/me/"], {"n", "r"}),
    (["path=/me/"], set()),                       # an absolute pattern anchors at the root
    (["path=note/"], set()),                      # a folder by its whole name only
    (["path!=notes/"], {"r", "u"}),
    (["format=pdf"], {"r"}),
    (["format=pdf,frontmatter"], {"n", "r"}),
    (["format!=pdf"], {"n", "u"}),
    (["date>=2020-01-01"], {"n"}),
    (["date<2021"], {"r"}),                       # an undated document has no date to be before 2021
    (["date<=2021"], {"n", "r"}),                 # at the bound's precision: all of 2021
    (["date>2021"], set()),
    (["date=2021-06"], {"n"}),
    (["date!=2021"], {"r", "u"}),
    (["tag=python"], {"n"}),                      # tag reads tags; a list matches if any item does; no case
    (["tags=birds"], {"n"}),
    (["tag!=python"], {"r", "u"}),
    (["updated>=2022"], {"n"}),
    (["updated<2022"], set()),
    (["path=/home/me/", "date>=2020"], {"n"}),    # clauses AND
    ([], {"n", "r", "u"}),
])
def test_each_clause_allows_the_documents_it_names(clauses, allowed):
    scope = Scope.parse(clauses)
    assert {d.doc_id for d in scope.allowed([NOTE, REPORT, UNDATED])} == allowed


@pytest.mark.parametrize("text, words", [
    ("colour~blue", "does not parse"),
    ("=pdf", "does not parse"),
    ("format=", "does not parse"),
    ("just words", "does not parse"),
    ("date>=soon", "not a date"),
    ("date>=2021-02-30", "not a date"),
    ("date=21", "not a date"),
    ("rating>5", "not a date"),
    ("path<docs", "path takes = or !="),
    ("format>=pdf", "format takes = or !="),
    ("path=" + "a" * 600, "characters long"),
])
def test_a_bad_clause_is_one_line_that_names_the_accepted_forms(text, words):
    with pytest.raises(ScopeError) as refused:
        Scope.parse([text])
    message = str(refused.value)
    assert words in message and "\n" not in message
    assert "does not parse" not in words or "path=GLOB" in message


def test_too_many_clauses_or_non_text_are_refused():
    with pytest.raises(ScopeError, match="at most 20"):
        Scope.parse([f"tag=t{n}" for n in range(21)])
    with pytest.raises(ScopeError, match="text clauses"):
        Scope.parse([3])
    with pytest.raises(ScopeError, match="text clauses"):
        Scope.parse({"path": "x"})


def test_a_line_of_clauses_splits_on_spaces_and_keeps_quoted_values():
    assert Scope.parse_line('path=notes/ tag="machine learning"') == Scope.parse(["path=notes/", "tag=machine learning"])
    assert not Scope.parse_line("   ")
    with pytest.raises(ScopeError, match="does not split"):
        Scope.parse_line('tag="open')


def test_a_scope_is_hashable_and_equal_by_its_clauses():
    assert hash(Scope.parse(["format=pdf", "date<2021"])) == hash(Scope.parse(["format = pdf", "date<2021"]))
    assert str(Scope.parse(["format=pdf", "date<2021"])) == "format=pdf date<2021"


def test_a_pattern_of_many_double_stars_stays_fast():
    import time

    deep = ScopedDocument("d", "/" + "/".join(["a"] * 60) + "/x.md", "markdown")
    clock = time.perf_counter()
    assert not Scope.parse(["path=" + "/".join(["**"] * 30) + "/y.md"]).allows(deep)
    assert time.perf_counter() - clock < 2


@pytest.mark.parametrize("clauses", [[c] for c in (
    "path=notes/", "path=notes", "path=kestrel.md", "path=notes/*.md", "path=notes/**/*.md", "path=*.md",
    "path=/home/me/", "path=/me/", "path=note/", "path!=notes/", "path=/", "format=pdf", "format!=pdf",
    "date>=2020-01-01", "date<2021", "date<=2021", "date>2021", "date=2021-06", "date!=2021", "tag=python",
    "tags=BIRDS", "tag!=python", "updated>=2022", "updated<2022", "year>=2020", "year<2020")] + [[]])
def test_the_column_mask_decides_as_each_document_does(clauses):
    documents = [NOTE, REPORT, UNDATED, ScopedDocument("y", "C:\\data\\notes\\y.txt", "text", "2020", (Field("year", "2021"),))]
    scope = Scope.parse(clauses)
    assert scope.mask(ScopeTable.of(documents)).tolist() == [scope.allows(d) for d in documents]


def test_every_clause_the_rest_schema_allows_parses():
    import re

    from hypothesis import HealthCheck, given, settings, strategies as st

    from index.scope import CLAUSE_PATTERN

    @settings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck))
    @given(st.from_regex(CLAUSE_PATTERN, fullmatch=True))
    def parses(clause):
        Scope.parse([clause])

    parses()
    for allowed in ("path=docs/*.md", "format=pdf,docx", "date>=2020-01-01", "date<2021", "tag=python", "draft!=true",
                    "Dates=x", "dat=x"):
        assert re.fullmatch(CLAUSE_PATTERN, allowed), allowed
    for refused in ("date=soon", "DATE>=soon", "path<x", "tag>=2020", "tag=", "date>=2021-02-30", "tag=a\rb"):
        assert not re.fullmatch(CLAUSE_PATTERN, refused), refused
