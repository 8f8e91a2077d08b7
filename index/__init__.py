"""Index stage: passages → embeddings → FAISS + BM25 + SQLite, versioned on disk."""
from index.builder import BuildReport, IndexBuilder
from index.embedder import DEFAULT_MODEL, Embedder, ModelUnavailable
from index.store import IndexMismatch, IndexNotFound, IndexStore, IndexStoreError, Manifest

__all__ = ["BuildReport", "DEFAULT_MODEL", "Embedder", "IndexBuilder", "IndexMismatch", "IndexNotFound",
           "IndexStore", "IndexStoreError", "Manifest", "ModelUnavailable"]
