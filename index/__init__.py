"""Index stage: passages → embeddings → FAISS + BM25 + SQLite, versioned on disk.

Names load on first use (``from index import IndexStore``), so importing one module of the stage
(``index.backends``, ``index.settings``) does not import FAISS, bm25s and the builder with it:
``qa stats`` needs none of them.
"""
from ingest.lazy import lazy_exports

_EXPORTS = {
    "BuildReport": "index.builder", "IndexBuilder": "index.builder",
    "DEFAULT_MODEL": "index.embedder", "Embedder": "index.embedder", "ModelUnavailable": "index.embedder",
    "IndexMismatch": "index.store", "IndexNotFound": "index.store", "IndexStore": "index.store",
    "IndexStoreError": "index.store", "Manifest": "index.store",
}
__all__ = sorted(_EXPORTS)

__getattr__ = lazy_exports('index', _EXPORTS, globals())
