"""The shipped rule data.

Where ``patterns/`` lives, the one way to read and validate a file of it, and the element catalogue.
"""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from tbs_doccheck.models import ELEMENT_IDS, ElementId

CATALOGUE_FILE = "element_catalogue.json"


class PatternError(ValueError):
    """A pattern file is missing, is not JSON, or breaks the schema. Code ``P001``."""

    code = "P001-invalid-patterns"


def patterns_dir() -> Path:
    """Where the shipped pattern files live.

    The wheel carries them as ``tbs_doccheck/patterns``; a source checkout keeps them in the
    top-level ``patterns/`` folder.
    """
    packaged = resources.files("tbs_doccheck") / "patterns"
    if (packaged / "manifest.json").is_file():
        return Path(str(packaged))
    checkout = Path(__file__).resolve().parent.parent / "patterns"
    if (checkout / "manifest.json").is_file():
        return checkout
    raise PatternError("P001-invalid-patterns: no patterns/ folder found beside the package or inside it")


def read_json(folder: Path, name: str) -> Any:
    """Parse ``folder/name``; a missing or malformed file is a :class:`PatternError` naming it."""
    path = folder / name
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise PatternError(f"P001-invalid-patterns: {path}: file missing") from exc
    except json.JSONDecodeError as exc:
        raise PatternError(f"P001-invalid-patterns: {path}: invalid JSON at line {exc.lineno}: {exc.msg}") from exc


def validate(model: type[BaseModel], data: Any, where: str) -> Any:
    """``model.model_validate(data)``; the first problem becomes a :class:`PatternError` saying where."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = ".".join(str(p) for p in first["loc"])
        raise PatternError(f"P001-invalid-patterns: {where}: {loc}: {first['msg']}") from exc


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ElementEntry(_Strict):
    """How every surface words one element."""

    id: ElementId
    label: str
    definition: str
    to_fix: str
    prebill_wording: str


class RequirementEntry(_Strict):
    """One of the four CPT 77092 documentation requirements and the elements it rests on."""

    id: str
    title: str
    elements: tuple[ElementId, ...]


class ElementCatalogue(_Strict):
    """The five elements and four requirements, in their canonical order."""

    elements: tuple[ElementEntry, ...]
    requirements: tuple[RequirementEntry, ...]

    def entry(self, element: ElementId) -> ElementEntry:
        """The entry of one element."""
        return self.by_id[element]

    @property
    def by_id(self) -> MappingProxyType[str, ElementEntry]:
        """Entries by element id."""
        return MappingProxyType({e.id: e for e in self.elements})


@lru_cache(maxsize=1)
def element_catalogue() -> ElementCatalogue:
    """The shipped element catalogue (``patterns/element_catalogue.json``), validated once."""
    folder = patterns_dir()
    catalogue = validate(ElementCatalogue, read_json(folder, CATALOGUE_FILE), str(folder / CATALOGUE_FILE))
    if tuple(e.id for e in catalogue.elements) != ELEMENT_IDS:
        raise PatternError(f"P001-invalid-patterns: {folder / CATALOGUE_FILE}: elements must be {ELEMENT_IDS} in order")
    return catalogue
