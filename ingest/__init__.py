"""Ingest stage: files → cleaned ``Document``s → ``Passage``s.

Names load on first use (``from ingest import DocumentLoader``), so a module that needs only
``ingest.chunker`` or ``ingest.types`` does not import every format's parser with it.
"""
from pathlib import Path as _Path

from ingest.lazy import lazy_exports

BUNDLED_CORPUS = _Path(__file__).parent / "corpus"

_EXPORTS = {
    "Chunker": "ingest.chunker", "DocumentLoader": "ingest.loader", "detect_format": "ingest.loader",
    "Document": "ingest.types", "Passage": "ingest.types", "Span": "ingest.types",
}
__all__ = sorted([*_EXPORTS, "BUNDLED_CORPUS"])

__getattr__ = lazy_exports('ingest', _EXPORTS, globals())
