"""A scope (``index.scope``) as a Qdrant payload filter on the passage points.

Qdrant's payload conditions cannot say "under a folder named notes" or "``docs/*.md``", so the scope
is decided per document, over the side collection's records (path, format, date, front-matter
fields), and becomes one ``doc_id`` condition on the passages (the ``doc_id`` payload is indexed).
The filter goes into every prefetch as well as the query, so each ranking spends its candidates on
allowed passages only (a filter on the fused query alone would drop hits after the fact).

>>> from index.scope import Scope, ScopedDocument, ScopeTable
>>> documents = ScopeTable.of([ScopedDocument("a", "/n/a.md", "markdown"), ScopedDocument("b", "/n/b.pdf", "pdf")])
>>> passage_filter(Scope.parse("format=pdf"), documents).must[0].match.any
['b']
>>> passage_filter(Scope.parse("format=docx"), documents) is NOTHING
True
"""
from __future__ import annotations

from qdrant_client import models

from index.scope import Scope, ScopedDocument, ScopeTable
from index.store import fields_from_lists

# Side-collection fields a scope reads.
SCOPE_FIELDS = ["doc_id", "path", "format", "published", "fields", "state"]
# What ``passage_filter`` returns when the scope allows no document: the store answers no hit
# without asking the engine.
NOTHING = models.Filter(must=[models.HasIdCondition(has_id=[])])


def scoped_document(payload: dict) -> ScopedDocument:
    """A side-collection record as a scope reads it (records written before ``--where`` have no fields)."""
    return ScopedDocument(payload["doc_id"], payload.get("path", ""), payload.get("format") or "",
                          payload.get("published") or "", fields_from_lists(payload.get("fields")))


def passage_filter(scope: Scope, documents: ScopeTable) -> models.Filter:
    """The filter that keeps the passages of the documents ``scope`` allows, or ``NOTHING``."""
    allowed = documents.doc_ids[scope.mask(documents)].tolist()
    if not allowed:
        return NOTHING
    return models.Filter(must=[models.FieldCondition(key="doc_id", match=models.MatchAny(any=allowed))])
