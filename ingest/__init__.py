"""Ingest stage: files → cleaned ``Document``s → ``Passage``s."""
from ingest.chunker import Chunker
from ingest.loader import DocumentLoader, detect_format
from ingest.types import Document, Passage, Span

__all__ = ["Chunker", "Document", "DocumentLoader", "Passage", "Span", "detect_format", "BUNDLED_CORPUS"]

from pathlib import Path as _Path

BUNDLED_CORPUS = _Path(__file__).parent / "corpus"
