"""Document metadata: what every ingested document must say about itself.

Metadata comes, in increasing priority, from defaults derived from the file path, an optional
`_meta.yaml` in the document's folder (defaults for the whole folder, e.g. `visibility: internal`),
the document's own front matter (Markdown), and an optional sidecar `<file name>.meta.yaml`.

Visibility fails closed: a document none of these gives a visibility has `visibility=None` here; the
ingest job gives it the configured default (`GCOT_DEFAULT_VISIBILITY`, `internal` unless changed) and
reports it, and anything that reads a chunk without a known visibility treats it as `internal`.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
from pathlib import Path
from typing import Any, Literal

import yaml

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from gcot.settings import Visibility

DocType = Literal["statement", "policy", "skills-framework", "standard", "guidance", "faq"]

FOLDER_DEFAULTS_NAME = "_meta.yaml"
SIDECAR_SUFFIX = ".meta.yaml"

_DOC_ID = re.compile(r"^[a-z0-9][a-z0-9._-]{0,127}$")


class MetadataError(ValueError):
    """Metadata that is missing, malformed or of the wrong type."""


class DocumentMeta(BaseModel):
    """Validated metadata of one source document."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    doc_id: str
    title: str
    doc_type: DocType = "guidance"
    visibility: Visibility | None = None
    """None when no metadata source states it (the ingest job applies the configured default)."""
    visibility_from: str = ""
    """Where the visibility came from: `front matter`, `sidecar`, a `_meta.yaml` path, or `` (nowhere)."""
    source_url: str = ""
    related_urls: list[str] = Field(default_factory=list)
    publisher: str = ""
    published: dt.date | None = None
    topics: list[str] = Field(default_factory=list)
    summary_of: str = ""

    @field_validator("doc_id")
    @classmethod
    def _doc_id_is_slug(cls, value: str) -> str:
        if not _DOC_ID.match(value):
            msg = f"doc_id {value!r} must be lowercase letters, digits, '.', '_' or '-'"
            raise ValueError(msg)
        return value

    @field_validator("topics", "related_urls", mode="before")
    @classmethod
    def _list_of_strings(cls, value: Any) -> Any:
        if isinstance(value, str):
            msg = "must be a list, not a string"
            raise ValueError(msg)
        return value

    def chunk_metadata(self) -> dict[str, str | int]:
        """Flat, Chroma-safe metadata copied onto every chunk of the document."""
        return {
            "doc_id": self.doc_id,
            "title": self.title,
            "doc_type": self.doc_type,
            "visibility": self.visibility or "internal",  # fail closed if no default was applied
            "source_url": self.source_url,
            "publisher": self.publisher,
            "published": self.published.isoformat() if self.published else "",
            "topics": ",".join(self.topics),
        }


def default_doc_id(path: Path, root: Path) -> str:
    """A stable doc_id from the path relative to the source root: `policy/uk/TSA 2021.pdf` -> `policy-uk-tsa-2021`."""
    relative = path.relative_to(root).with_suffix("")
    slug = re.sub(r"[^a-z0-9]+", "-", relative.as_posix().lower()).strip("-")
    return slug[:128] or "document"


def read_yaml_mapping(path: Path) -> dict[str, Any]:
    """Read a YAML file that must hold a mapping. Raises MetadataError with the reason."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        msg = f"unreadable metadata file {path.name}: {exc}"
        raise MetadataError(msg) from exc
    if not isinstance(data, dict):
        msg = f"metadata file {path.name} must hold a mapping, not {type(data).__name__}"
        raise MetadataError(msg)
    return data


def metadata_files(path: Path, root: Path) -> list[Path]:
    """Folder defaults (outermost first) and the sidecar that apply to `path`, if they exist."""
    folders = [path.parent, *path.parent.parents]
    found = [
        folder / FOLDER_DEFAULTS_NAME
        for folder in reversed(folders)
        if folder.is_relative_to(root) and (folder / FOLDER_DEFAULTS_NAME).is_file()
    ]
    sidecar = path.with_name(path.name + SIDECAR_SUFFIX)
    if sidecar.is_file():
        found.append(sidecar)
    return found


_GUARDED_KEYS = ("visibility", "doc_id")
"""Keys whose silent loss is harmful: a misspelt `visiblity: internal` would publish the document."""


def _reject_misspelt_keys(values: dict[str, Any]) -> None:
    """Unknown keys are ignored, except near-misses of the guarded ones, which are errors."""
    for key in values:
        if not isinstance(key, str) or key in DocumentMeta.model_fields:
            continue
        close = difflib.get_close_matches(key.lower(), _GUARDED_KEYS, n=1, cutoff=0.8)
        if close:
            msg = f"invalid metadata ({key}: unknown key, did you mean {close[0]!r}?)"
            raise MetadataError(msg)


def build_metadata(
    path: Path, root: Path, *, front_matter: dict[str, Any] | None = None, fallback_title: str = ""
) -> DocumentMeta:
    """Merge defaults, folder metadata, front matter and sidecar into a validated DocumentMeta.

    Raises:
        MetadataError: when a value has the wrong type or a required value is missing.
    """
    merged: dict[str, Any] = {"doc_id": default_doc_id(path, root), "title": fallback_title or path.stem}
    source = ""
    files = metadata_files(path, root)
    for folder_file in files[:-1] if files and files[-1].name.endswith(SIDECAR_SUFFIX) else files:
        values = {k: v for k, v in read_yaml_mapping(folder_file).items() if k not in ("doc_id", "visibility_from")}
        source = str(folder_file) if "visibility" in values else source
        merged.update(values)
    front_matter = {k: v for k, v in (front_matter or {}).items() if k != "visibility_from"}
    source = "front matter" if "visibility" in front_matter else source
    merged.update(front_matter)
    if files and files[-1].name.endswith(SIDECAR_SUFFIX):
        sidecar = {k: v for k, v in read_yaml_mapping(files[-1]).items() if k != "visibility_from"}
        source = "sidecar" if "visibility" in sidecar else source
        merged.update(sidecar)
    merged["visibility_from"] = source if merged.get("visibility") is not None else ""
    _reject_misspelt_keys(merged)
    try:
        return DocumentMeta.model_validate(merged)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or 'metadata'}: {err['msg']}" for err in exc.errors()
        )
        msg = f"invalid metadata ({problems})"
        raise MetadataError(msg) from exc
