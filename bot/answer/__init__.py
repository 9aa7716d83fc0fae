"""Grounded answering: turn retrieved chunks into a cited answer (or a clear no-answer)."""

from bot.types import Answer, Citation, RetrievedChunk, Turn

__all__ = ["Answer", "Citation", "RetrievedChunk", "Turn"]
