"""The note types the tool defines: their kinds, and the names and order of their fields and templates.

The tool owns the layout; each deck's configuration owns the ids (`[tool.ankibuild.notetypes.*]`),
because ids are what Anki matches on, and two decks must never share them. Changing a layout here
(adding, removing, reordering a field or template) is a schema change for every deck built with
ankibuild: every learner's notes would stop updating. Never do it.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Layout:
    fields: tuple[str, ...]
    templates: tuple[str, ...]
    cloze: bool = False


LAYOUTS: dict[str, Layout] = {
    "basic": Layout(fields=("Question", "Answer", "Extra", "Source", "ID"), templates=("Recall",)),
    "cloze": Layout(fields=("Text", "Extra", "Source", "ID"), templates=("Cloze",), cloze=True),
}
KINDS = tuple(LAYOUTS)
DEFAULT_KIND = "basic"
