"""Plain-language display of result objects: a compact repr, notebook HTML and a table.

A result class inherits :class:`DisplayMixin` and implements two methods:

- ``summary()``: one or two plain sentences that say what the result means;
- ``to_dict()``: the result's scalars, flat (``{name: number or string}``).

It then gets:

- ``__repr__``: the class name and its fields, scalars written out (floats to 4
  significant digits), arrays summarised by shape and dtype, nested objects by their type
  name, so that a result with a million per-observation hits still prints on one line;
- ``_repr_html_``: in a notebook, the summary sentence above a small table of the
  ``to_dict()`` scalars;
- ``to_frame()``: a one-row :class:`pandas.DataFrame` of ``to_dict()`` (a class whose
  natural table has one row per user or per size overrides it).

The repr is installed even on a ``@dataclass`` (which would otherwise write its own
repr with every array in full): the mixin puts its ``__repr__`` on each subclass that
does not define one in its class body, and ``dataclass`` keeps a ``__repr__`` it finds
there. Fields declared with ``field(repr=False)`` are left out of the repr.
"""

from __future__ import annotations

import dataclasses
import html
import math
import numbers
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

__all__ = ["DisplayMixin", "Displayable", "compact_repr", "format_value", "html_table"]

#: Longest string written out in full in a repr (longer ones are cut with an ellipsis).
MAX_TEXT = 60
#: Longest list or tuple of scalars written out in full in a repr.
MAX_ITEMS = 6


@runtime_checkable
class Displayable(Protocol):
    """What a result type offers: a plain summary, flat scalars and a one-row table."""

    def summary(self) -> str:
        """One or two plain sentences."""
        ...

    def to_dict(self) -> dict[str, Any]:
        """The result's scalars, flat."""
        ...

    def to_frame(self) -> pd.DataFrame:
        """The result as a table."""
        ...


def _is_scalar(value: Any) -> bool:
    return value is None or isinstance(value, (str, bool, numbers.Number, np.generic))


def format_value(value: Any) -> str:
    """A scalar as text: floats to 4 significant digits, others as ``repr`` (strings quoted).

    Parameters
    ----------
    value : object
        A scalar (``None``, bool, int, float, str or a NumPy scalar).

    Returns
    -------
    str
    """
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, bool) or value is None:
        return repr(value)
    if isinstance(value, numbers.Integral):
        return str(int(value))
    if isinstance(value, numbers.Real):
        v = float(value)
        return repr(v) if math.isnan(v) or math.isinf(v) else f"{v:.4g}"
    if isinstance(value, str) and len(value) > MAX_TEXT:
        return repr(value[: MAX_TEXT - 3] + "...")
    return repr(value)


def _summarise(value: Any) -> str:
    """Short text of any field value: scalars in full, containers and objects by shape."""
    if _is_scalar(value):
        return format_value(value)
    if isinstance(value, np.ndarray):
        return f"array(shape={value.shape}, dtype={value.dtype})"
    if isinstance(value, (list, tuple)):
        if len(value) > MAX_ITEMS or not all(_is_scalar(v) for v in value):
            return f"{type(value).__name__}(len={len(value)})"
        inner = ", ".join(format_value(v) for v in value)
        if isinstance(value, list):
            return f"[{inner}]"
        return f"({inner},)" if len(value) == 1 else f"({inner})"
    if isinstance(value, Mapping):
        return f"{{{len(value)} items}}"
    shape = getattr(value, "shape", None)
    if isinstance(shape, tuple):  # pandas objects and other array-likes
        return f"{type(value).__name__}(shape={shape})"
    return f"{type(value).__name__}(...)"


def _fields(obj: Any) -> list[tuple[str, Any]]:
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return [(f.name, getattr(obj, f.name)) for f in dataclasses.fields(obj) if f.repr]
    return [(k, v) for k, v in vars(obj).items() if not k.startswith("_")]


def compact_repr(obj: Any) -> str:
    """``ClassName(field=value, ...)`` with arrays and nested objects summarised.

    Parameters
    ----------
    obj : object
        A dataclass instance (its fields with ``repr=True``) or any object (its public
        instance attributes).

    Returns
    -------
    str
        One line: scalars written out, arrays as ``array(shape=..., dtype=...)``,
        mappings as ``{n items}``, other objects as ``TypeName(...)``.
    """
    body = ", ".join(f"{name}={_summarise(value)}" for name, value in _fields(obj))
    return f"{type(obj).__name__}({body})"


def html_table(scalars: Mapping[str, Any], *, caption: str = "") -> str:
    """A small HTML table (one row per key) of the scalar values of ``scalars``.

    Parameters
    ----------
    scalars : mapping of str to object
        Non-scalar values are shown summarised (as in :func:`compact_repr`).
    caption : str
        Text above the table (escaped).

    Returns
    -------
    str
        A ``<table>`` element; every key and value is HTML-escaped.
    """
    rows = "".join(
        f"<tr><th style='text-align:left'>{html.escape(str(key))}</th>"
        f"<td style='text-align:right'>{html.escape(_summarise(value))}</td></tr>"
        for key, value in scalars.items()
    )
    cap = f"<caption>{html.escape(caption)}</caption>" if caption else ""
    return f"<table class='fidelity-result'>{cap}<tbody>{rows}</tbody></table>"


class DisplayMixin:
    """Compact repr, notebook HTML and a default ``to_frame()`` for a result class.

    Subclasses implement :meth:`summary` and :meth:`to_dict` (see the module docstring).
    """

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # Put the compact repr in the subclass's own namespace unless it writes its own:
        # @dataclass then keeps it instead of generating a repr of every field in full.
        if "__repr__" not in cls.__dict__:
            cls.__repr__ = DisplayMixin.__repr__  # type: ignore[method-assign]

    def summary(self) -> str:
        """One or two plain sentences that say what the result means."""
        raise NotImplementedError(f"{type(self).__name__} must implement summary()")

    def to_dict(self) -> dict[str, Any]:
        """The result's scalars, flat."""
        raise NotImplementedError(f"{type(self).__name__} must implement to_dict()")

    def to_frame(self) -> pd.DataFrame:
        """One row: the columns of :meth:`to_dict`."""
        import pandas as pd

        return pd.DataFrame([self.to_dict()])

    def __repr__(self) -> str:
        return compact_repr(self)

    def _repr_html_(self) -> str:
        summary = html.escape(self.summary())
        table = html_table(self.to_dict(), caption=type(self).__name__)
        return f"<div class='fidelity-result'><p>{summary}</p>{table}</div>"
