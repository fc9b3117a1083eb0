"""Griffe extension: turn Sphinx cross-reference roles in docstrings into links.

The docstrings are numpydoc, and they name other objects with Sphinx roles
(``:func:`~fidelity.split.split_providers```, ``:class:`ProviderSplit```). mkdocstrings
does not read those roles, so this extension rewrites each one, once the package is
loaded, into an *optional* autorefs cross-reference:

- the name is resolved in the scope of the object whose docstring it is in (so a bare
  ``:func:`match_attack``` in ``fidelity.attacks`` finds ``fidelity.attacks.match_attack``);
- a leading ``~`` shows only the last component, as in Sphinx;
- a name that is not part of the documented API (``numpy.random.Generator``) stays
  plain code: optional references never fail the strict build.
"""

from __future__ import annotations

import re
from typing import Any

import griffe

ROLE = re.compile(
    r":(?:py:)?(?:func|class|meth|attr|data|mod|obj|exc|const|type):`(?P<tilde>~?)(?P<name>[^`<>]+)`"
)


def _identifier(obj: griffe.Object, name: str) -> str:
    """The full path ``name`` stands for in the scope of ``obj`` (``name`` when unknown)."""
    name = name.strip().removesuffix("()")
    if name.startswith("fidelity"):
        return name
    head, _, rest = name.partition(".")
    try:
        base = obj.resolve(head)
    except (griffe.NameResolutionError, AttributeError, KeyError):
        return name
    return f"{base}.{rest}" if rest else base


def _rewrite(obj: griffe.Object, text: str) -> str:
    def replace(match: re.Match[str]) -> str:
        name = match["name"].strip()
        shown = name.removesuffix("()").rsplit(".", 1)[-1] if match["tilde"] else name
        ident = _identifier(obj, name)
        return f'<autoref identifier="{ident}" optional><code>{shown}</code></autoref>'

    return ROLE.sub(replace, text)


def _walk(obj: griffe.Object, seen: set[int]) -> None:
    if id(obj) in seen:
        return
    seen.add(id(obj))
    if obj.docstring is not None and ":" in obj.docstring.value:
        obj.docstring.value = _rewrite(obj, obj.docstring.value)
    for member in obj.members.values():
        if not member.is_alias:
            _walk(member, seen)


class SphinxRoles(griffe.Extension):
    """Rewrite Sphinx roles into optional cross-references (see the module docstring)."""

    def on_package(self, *, pkg: griffe.Module, **kwargs: Any) -> None:
        _walk(pkg, set())
