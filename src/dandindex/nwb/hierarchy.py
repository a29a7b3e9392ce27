"""Neurodata type ancestry: from the installed NWB/hdmf schemas and a file's cached specs.

`TypeHierarchy.ancestors("core", "ElectricalSeries")` → ``["TimeSeries", "NWBDataInterface",
"NWBContainer", "Container"]``. Core and hdmf types come from the schemas pynwb ships (loaded
once per process); extension types from the JSON specifications cached in the file itself.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable
from typing import Any

INSTALLED = ("core", "hdmf-common", "hdmf-experimental")


@functools.lru_cache(maxsize=1)
def installed_parents() -> dict[str, str | None]:
    """{type: parent type} for every type in the installed core and hdmf schemas."""
    from pynwb import get_type_map

    catalog = get_type_map().namespace_catalog
    parents: dict[str, str | None] = {}
    for ns in catalog.namespaces:
        for dtype in catalog.get_namespace(ns).get_registered_types():
            chain = catalog.get_hierarchy(ns, dtype)
            for child, parent in zip(chain, list(chain[1:]) + [None], strict=True):
                parents.setdefault(str(child), str(parent) if parent else None)
    return parents


def _walk_specs(spec: Any, out: dict[str, str | None]) -> None:
    if isinstance(spec, dict):
        name = spec.get("neurodata_type_def") or spec.get("data_type_def")
        parent = spec.get("neurodata_type_inc") or spec.get("data_type_inc")
        if isinstance(name, str):
            out.setdefault(name, parent if isinstance(parent, str) else None)
        for key in ("groups", "datasets"):
            for child in spec.get(key) or []:
                _walk_specs(child, out)
    elif isinstance(spec, list):
        for item in spec:
            _walk_specs(item, out)


def parents_from_sources(sources: Iterable[str | bytes]) -> dict[str, str | None]:
    """{type: parent} from the JSON (or YAML-as-JSON) schema sources cached in a file."""
    out: dict[str, str | None] = {}
    for raw in sources:
        text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
        try:
            spec = json.loads(text)
        except (json.JSONDecodeError, TypeError):
            continue
        _walk_specs(spec, out)
    return out


class TypeHierarchy:
    """Ancestors of a type: the file's own specs first, then the installed schemas."""

    def __init__(self, file_parents: dict[str, str | None] | None = None) -> None:
        self.file_parents = file_parents or {}
        self._installed: dict[str, str | None] | None = None

    def _parent(self, name: str) -> str | None:
        if name in self.file_parents:
            return self.file_parents[name]
        if self._installed is None:
            self._installed = installed_parents()
        return self._installed.get(name)

    def ancestors(self, name: str) -> list[str]:
        out: list[str] = []
        seen = {name}
        parent = self._parent(name)
        while parent and parent not in seen:
            out.append(parent)
            seen.add(parent)
            parent = self._parent(parent)
        return out
