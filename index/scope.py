"""Scope: which documents a question may be answered from (``qa ask --where ...``).

A scope is parsed once from ``KEY OP VALUE`` clauses, all of which a document must satisfy (AND):

    path=docs/*.md     a glob over the file's path; ``*`` stays inside one folder, ``**`` spans any
    path=notes/        a folder: the files under a folder named ``notes`` (a relative pattern matches
                       the end of the path from any folder on; ``/home/me/notes/`` anchors at the root)
    format=pdf         the format the file was read as (pdf, docx, html, markdown, frontmatter, text,
                       wikitext); ``format=pdf,docx`` for either
    date>=2020-01-01   the document's date; a bound of a year or a month compares at that precision,
                       so ``date<2021`` is "before 2021" and ``date=2020-05`` "in May 2020"
    tag=python         a front-matter field (a list field matches if any item does; ``tag`` also reads
                       ``tags``); ``updated>=2021`` compares a field's dates
    KEY!=VALUE         the negation of ``=``, for any key

Both stores resolve a scope to the documents it allows and search only their passages.

>>> scope = Scope.parse(["path=notes/", "date>=2020", "tag=python"])
>>> str(scope)
'path=notes/ date>=2020 tag=python'
>>> doc = ScopedDocument(doc_id="a", path="/home/me/notes/py.md", format="frontmatter",
...                      published="2021-03-04", fields=(Field("tags", "python"), Field("tags", "ml")))
>>> scope.allows(doc)
True
>>> Scope.parse(["date<2021"]).allows(doc), Scope.parse(["format=pdf,docx"]).allows(doc)
(False, False)
"""
from __future__ import annotations

import datetime as dt
import enum
import re
import shlex
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Iterable, Sequence, Union

import numpy as np

from ingest.types import Field

ACCEPTED_FORMS = ("path=GLOB or path=FOLDER/, format=NAME[,NAME], date>=YYYY[-MM[-DD]] "
                  "(or =, !=, <, <=, >), FIELD=VALUE (a front-matter field, e.g. tag=python)")
MAX_CLAUSES = 20
MAX_CLAUSE_CHARS = 500
_CLAUSE = re.compile(r"^[ \t]*([A-Za-z_][A-Za-z0-9_.-]*)[ \t]*(<=|>=|!=|=|<|>)[ \t]*(.*?)[ \t]*$", re.S)
_DATE_BOUND = re.compile(r"^[0-9]{4}(-[0-9]{2}(-[0-9]{2})?)?$")


def _name_other_than_date() -> str:
    """A field name that is not ``date`` in any case, as a regular expression without lookahead."""
    word = "[A-Za-z0-9_.-]"
    return (f"(?:[A-CE-Za-ce-z_]{word}*|[Dd](?:[B-Zb-z0-9_.-]{word}*)?|[Dd][Aa](?:[A-SU-Za-su-z0-9_.-]{word}*)?"
            f"|[Dd][Aa][Tt](?:[A-DF-Za-df-z0-9_.-]{word}*)?|[Dd][Aa][Tt][Ee]{word}+)")


# The clauses the REST API declares and takes (``AskRequest.where``), a subset of what ``parse_clause``
# accepts, written for ECMA-262 (JSON Schema) and Python alike (no ``.``, ``\s`` or lookahead, whose
# meanings differ), so any clause the schema allows parses: path or format, = or !=, any value; the
# date, any operator, a calendar date (days to 28); any other field, = or !=, any value.
_SPACE, _VALUE = "[ \t]*", "[^ \t\n\r\u2028\u2029][^\n\r\u2028\u2029]*"
CLAUSE_PATTERN = (f"^{_SPACE}(?:(?:path|format){_SPACE}!?={_SPACE}{_VALUE}"
                  f"|[Dd][Aa][Tt][Ee]{_SPACE}(?:<=|>=|!=|=|<|>){_SPACE}[1-9][0-9]{{3}}"
                  f"(?:-(?:0[1-9]|1[0-2])(?:-(?:0[1-9]|1[0-9]|2[0-8]))?)?{_SPACE}"
                  f"|{_name_other_than_date()}{_SPACE}!?={_SPACE}{_VALUE})$")
_GLOB_CHARS = re.compile(r"[*?\[]")


class ScopeError(ValueError):
    """A ``--where`` clause that does not parse; the message names the accepted forms."""


class Operator(enum.Enum):
    EQ = "="
    NE = "!="
    LT = "<"
    LE = "<="
    GT = ">"
    GE = ">="

    def compare(self, left: str, right: str) -> bool:
        return {Operator.EQ: left == right, Operator.NE: left != right, Operator.LT: left < right,
                Operator.LE: left <= right, Operator.GT: left > right, Operator.GE: left >= right}[self]

    @property
    def orders(self) -> bool:
        return self not in (Operator.EQ, Operator.NE)

    def compare_all(self, left: np.ndarray, right: str) -> np.ndarray:
        """``compare`` over a column of strings at once."""
        return {Operator.EQ: np.equal, Operator.NE: np.not_equal, Operator.LT: np.less, Operator.LE: np.less_equal,
                Operator.GT: np.greater, Operator.GE: np.greater_equal}[self](left, right)


@dataclass(frozen=True)
class ScopedDocument:
    """What a scope reads of a document: no text, so a store can hold every document's in memory."""

    doc_id: str
    path: str
    format: str
    published: str = ""
    fields: tuple[Field, ...] = ()


@dataclass(frozen=True, eq=False)
class ScopeTable:
    """Every document's scope fields as columns (row ``n`` is document ``n``), so a scope is decided
    for all documents at once with numpy: 100k documents in milliseconds, where a loop over
    ``ScopedDocument``s takes most of a second. Front-matter fields are one row per value, with
    the number of the document they belong to."""

    doc_ids: np.ndarray
    paths: np.ndarray           # "/a/b/c.md": backslashes as slashes, one leading slash, none trailing
    formats: np.ndarray         # lower case
    published: np.ndarray       # the date's first ten characters
    dated: np.ndarray           # bool: ``published`` starts with a date
    field_documents: np.ndarray
    field_names: np.ndarray     # lower case
    field_values: np.ndarray    # as written
    field_folded: np.ndarray    # case-folded, for = and !=
    field_dated: np.ndarray     # bool: the value starts with a date

    @classmethod
    def from_columns(cls, doc_ids: Sequence[str], paths: Sequence[str], formats: Sequence[str],
                     published: Sequence[str], fields: Sequence[tuple[int, str, str]] = ()) -> "ScopeTable":
        """Columns of equal length, and ``(document number, name, value)`` per front-matter value."""
        published = _strings([(date or "")[:10] for date in published])
        values = [value for _, _, value in fields]
        return cls(
            doc_ids=_strings(doc_ids), formats=_strings([(f or "").lower() for f in formats]),
            paths=_strings(["/" + (path or "").replace("\\", "/").strip("/") for path in paths]),
            published=published, dated=_dated(published),
            field_documents=np.fromiter((number for number, _, _ in fields), dtype=np.int64, count=len(fields)),
            field_names=_strings([name.lower() for _, name, _ in fields]), field_values=_strings(values),
            field_folded=_strings([value.casefold() for value in values]), field_dated=_dated(_strings(values)))

    @classmethod
    def of(cls, documents: Sequence[ScopedDocument]) -> "ScopeTable":
        return cls.from_columns([d.doc_id for d in documents], [d.path for d in documents],
                                [d.format for d in documents], [d.published for d in documents],
                                [(n, f.name, f.value) for n, d in enumerate(documents) for f in d.fields])

    def __len__(self) -> int:
        return len(self.doc_ids)


def _strings(values: Sequence[str]) -> np.ndarray:
    return np.array(list(values), dtype=str) if len(values) else np.zeros(0, dtype="U1")


def _dated(dates: np.ndarray) -> np.ndarray:
    """Which of a column of strings start with a date (``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD``)."""
    return np.fromiter((bool(_DATE_BOUND.match(date[:10])) for date in dates.tolist()), dtype=bool, count=len(dates))


@dataclass(frozen=True)
class PathClause:
    """``path=PATTERN``: a glob, a folder (ending in ``/``), or a file or folder name."""

    pattern: str
    negated: bool = False

    def allows(self, document: ScopedDocument) -> bool:
        return _path_matches(self.pattern, document.path) != self.negated

    def mask(self, table: ScopeTable) -> np.ndarray:
        wanted = [part for part in self.pattern.replace("\\", "/").split("/") if part]
        folder = self.pattern.endswith("/")
        if not wanted:
            found = np.full(len(table), self.pattern.startswith("/"))
        elif _GLOB_CHARS.search(self.pattern):
            found = np.fromiter((_path_matches(self.pattern, path) for path in table.paths.tolist()), dtype=bool,
                                count=len(table))
        else:   # as _path_matches's substring case, over the column
            joined = "/" + "/".join(wanted)
            if self.pattern.startswith("/"):
                found = np.strings.startswith(table.paths, joined + "/")
            else:
                found = np.strings.find(table.paths, joined + "/") >= 0
            if not folder:
                found |= (table.paths == joined) if self.pattern.startswith("/") else np.strings.endswith(table.paths, joined)
        return found != self.negated

    def __str__(self) -> str:
        return f"path{'!=' if self.negated else '='}{self.pattern}"


@dataclass(frozen=True)
class FormatClause:
    formats: frozenset[str]
    negated: bool = False

    def allows(self, document: ScopedDocument) -> bool:
        return (document.format.lower() in self.formats) != self.negated

    def mask(self, table: ScopeTable) -> np.ndarray:
        return np.isin(table.formats, sorted(self.formats)) != self.negated

    def __str__(self) -> str:
        return f"format{'!=' if self.negated else '='}{','.join(sorted(self.formats))}"


@dataclass(frozen=True)
class DateClause:
    """``date OP BOUND`` on the document's date, compared at the bound's precision (year, month, day)."""

    operator: Operator
    bound: str

    def allows(self, document: ScopedDocument) -> bool:
        return _date_compares(self.operator, document.published, self.bound)

    def mask(self, table: ScopeTable) -> np.ndarray:
        return _date_mask(self.operator, table.published, table.dated, self.bound)

    def __str__(self) -> str:
        return f"date{self.operator.value}{self.bound}"


@dataclass(frozen=True)
class FieldClause:
    """``NAME OP VALUE`` on a front-matter field: ``=`` and ``!=`` compare text without case; the
    ordering operators take a date bound and compare the field's dates."""

    name: str
    operator: Operator
    value: str

    def allows(self, document: ScopedDocument) -> bool:
        names = {self.name, self.name + "s"}
        values = [field.value for field in document.fields if field.name.lower() in names]
        if self.operator is Operator.NE:
            return all(value.casefold() != self.value.casefold() for value in values)
        if self.operator is Operator.EQ:
            return any(value.casefold() == self.value.casefold() for value in values)
        return any(_date_compares(self.operator, value, self.value) for value in values)

    def mask(self, table: ScopeTable) -> np.ndarray:
        named = np.isin(table.field_names, [self.name, self.name + "s"])
        if self.operator in (Operator.EQ, Operator.NE):
            hit = named & (table.field_folded == self.value.casefold())
        else:
            hit = named & _date_mask(self.operator, table.field_values, table.field_dated, self.value)
        found = np.zeros(len(table), dtype=bool)
        found[table.field_documents[hit]] = True
        return ~found if self.operator is Operator.NE else found

    def __str__(self) -> str:
        return f"{self.name}{self.operator.value}{self.value}"


Clause = Union[PathClause, FormatClause, DateClause, FieldClause]


@dataclass(frozen=True)
class Scope:
    """Clauses a document must all satisfy; an empty scope allows every document."""

    clauses: tuple[Clause, ...] = ()

    @classmethod
    def parse(cls, texts: str | Sequence[str] | None) -> "Scope":
        """A scope from ``--where`` clauses (one string, or one per clause); ``ScopeError`` on a bad one.

        >>> Scope.parse("format=pdf").clauses
        (FormatClause(formats=frozenset({'pdf'}), negated=False),)
        >>> Scope.parse("colour~blue")
        Traceback (most recent call last):
        ...
        index.scope.ScopeError: where clause 'colour~blue' does not parse; use path=GLOB or path=FOLDER/, format=NAME[,NAME], date>=YYYY[-MM[-DD]] (or =, !=, <, <=, >), FIELD=VALUE (a front-matter field, e.g. tag=python)
        """
        if texts is None:
            return cls()
        if isinstance(texts, str):
            texts = [texts]
        if not isinstance(texts, (list, tuple)) or not all(isinstance(text, str) for text in texts):
            raise ScopeError(f"where takes text clauses, not {type(texts).__name__}; use {ACCEPTED_FORMS}")
        texts = [text for text in texts if text.strip()]
        if len(texts) > MAX_CLAUSES:
            raise ScopeError(f"where takes at most {MAX_CLAUSES} clauses, not {len(texts)}")
        return cls(tuple(parse_clause(text) for text in texts))

    @classmethod
    def parse_line(cls, line: str) -> "Scope":
        """A scope from one line of clauses separated by spaces, quoted where a value holds one (a text box).

        >>> str(Scope.parse_line('path=notes/  tag="machine learning"'))
        'path=notes/ tag=machine learning'
        """
        if len(line) > MAX_CLAUSES * MAX_CLAUSE_CHARS:
            raise ScopeError(f"the scope is {len(line):,} characters long; the limit is {MAX_CLAUSES * MAX_CLAUSE_CHARS:,}")
        try:
            return cls.parse(shlex.split(line))
        except ValueError as error:
            if isinstance(error, ScopeError):
                raise
            raise ScopeError(f"the scope {line[:60]!r} does not split into clauses ({error}); use {ACCEPTED_FORMS}") from None

    def allows(self, document: ScopedDocument) -> bool:
        return all(clause.allows(document) for clause in self.clauses)

    def allowed(self, documents: Iterable[ScopedDocument]) -> list[ScopedDocument]:
        return [document for document in documents if self.allows(document)]

    def mask(self, table: ScopeTable) -> np.ndarray:
        """Which of ``table``'s documents the scope allows, all at once (the same answer as ``allows``)."""
        allowed = np.ones(len(table), dtype=bool)
        for clause in self.clauses:
            allowed &= clause.mask(table)
        return allowed

    def __bool__(self) -> bool:
        return bool(self.clauses)

    def __str__(self) -> str:
        return " ".join(map(str, self.clauses))


def parse_clause(text: str) -> Clause:
    """One ``KEY OP VALUE`` clause, or a ``ScopeError`` that shows it and names the accepted forms."""
    shown = repr(text if len(text) <= 60 else text[:57] + "...")
    if len(text) > MAX_CLAUSE_CHARS:
        raise ScopeError(f"where clause {shown} is {len(text):,} characters long; the limit is {MAX_CLAUSE_CHARS}")
    match = _CLAUSE.match(text)
    if not match or not match[3]:
        raise ScopeError(f"where clause {shown} does not parse; use {ACCEPTED_FORMS}")
    key, operator, value = match[1].lower(), Operator(match[2]), match[3]
    if key in ("path", "format") and operator.orders:
        raise ScopeError(f"where clause {shown}: {key} takes = or !=, not {operator.value}; use {ACCEPTED_FORMS}")
    if key == "path":
        return PathClause(value, negated=operator is Operator.NE)
    if key == "format":
        formats = frozenset(name.strip().lower().lstrip(".") for name in value.split(",") if name.strip())
        return FormatClause(formats, negated=operator is Operator.NE)
    if key == "date" or operator.orders:
        if not _is_date_bound(value):
            raise ScopeError(f"where clause {shown}: {value!r} is not a date; write YYYY, YYYY-MM or YYYY-MM-DD")
        if key == "date":
            return DateClause(operator, value)
    return FieldClause(key, operator, value)


def _is_date_bound(value: str) -> bool:
    if not _DATE_BOUND.match(value):
        return False
    parts = [int(part) for part in value.split("-")] + [1, 1]
    try:
        dt.date(*parts[:3])
    except ValueError:
        return False
    return True


def _date_compares(operator: Operator, date: str, bound: str) -> bool:
    """``date OP bound`` at the bound's precision; a document without a date satisfies only ``!=``."""
    if not _DATE_BOUND.match(date[:10]) or len(date) < len(bound):
        return operator is Operator.NE
    return operator.compare(date[:len(bound)], bound)


def _date_mask(operator: Operator, dates: np.ndarray, dated: np.ndarray, bound: str) -> np.ndarray:
    """``_date_compares`` over a column of dates (their first ten characters) at once."""
    if not len(dates):
        return np.zeros(0, dtype=bool)
    usable = dated & (np.strings.str_len(dates) >= len(bound))
    head = dates.astype(f"U{len(bound)}")     # at the bound's precision
    return np.where(usable, operator.compare_all(head, bound), operator is Operator.NE)


def _path_matches(pattern: str, path: str) -> bool:
    """Whether ``path`` is, or lies under, what ``pattern`` names, matching relative patterns from any
    folder of the path on.

    >>> _path_matches("docs/*.md", "/w/docs/a.md"), _path_matches("docs/*.md", "/w/docs/sub/a.md")
    (True, False)
    >>> _path_matches("docs/**/*.md", "/w/docs/sub/a.md"), _path_matches("notes/", "/w/notes/x/y.txt")
    (True, True)
    >>> _path_matches("notes", "/w/notebook.txt"), _path_matches("/w/", "/w/a.txt"), _path_matches("/x/", "/w/x/a")
    (False, True, False)
    """
    wanted = tuple(part for part in pattern.replace("\\", "/").split("/") if part)
    if not wanted:
        return pattern.startswith("/")
    folder, glob = pattern.endswith("/"), bool(_GLOB_CHARS.search(pattern))
    if not glob:     # the common case, by substring: a scope is decided for every document at once
        slashed, joined = "/" + path.replace("\\", "/").strip("/"), "/" + "/".join(wanted)
        if pattern.startswith("/"):
            return slashed.startswith(joined + "/") or (not folder and slashed == joined)
        return joined + "/" in slashed or (not folder and slashed.endswith(joined))
    parts = tuple(part for part in path.replace("\\", "/").split("/") if part)
    for start in ([0] if pattern.startswith("/") else range(len(parts))):
        tail = parts[start:]
        if glob and not folder:
            ends = [len(tail)]                       # the file itself
        elif folder:
            ends = range(1, len(tail))               # a folder with something under it
        else:
            ends = range(1, len(tail) + 1)           # the file, or a folder it is in
        if any(_glob_matches(wanted, tail[:end]) for end in ends):
            return True
    return False


def _glob_matches(pattern: tuple[str, ...], parts: tuple[str, ...]) -> bool:
    """Component-wise glob over the whole of ``parts``: ``*`` within a name, ``**`` over any names.
    Memoised over positions, so a pattern of many ``**`` stays quadratic, not exponential."""
    seen: dict[tuple[int, int], bool] = {}

    def match(p: int, q: int) -> bool:
        if (p, q) not in seen:
            if p == len(pattern):
                seen[p, q] = q == len(parts)
            elif pattern[p] == "**":
                seen[p, q] = match(p + 1, q) or (q < len(parts) and match(p, q + 1))
            else:
                seen[p, q] = q < len(parts) and fnmatchcase(parts[q], pattern[p]) and match(p + 1, q + 1)
        return seen[p, q]

    return match(0, 0)
