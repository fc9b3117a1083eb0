"""The page of the report: its CSS and template, tables, embedded figures, versions."""

from __future__ import annotations

import base64
import dataclasses
import html
import json
import os
import platform
from collections.abc import Mapping
from importlib import metadata
from pathlib import Path
from string import Template
from typing import Any

import numpy as np
import pandas as pd

from fidelity import __version__
from fidelity.plots.saving import figure_bytes

#: Packages whose versions the report lists (distribution names).
VERSION_PACKAGES = ("numpy", "pandas", "scikit-learn", "numba", "implicit", "matplotlib")

_MIME = {".png": "image/png", ".svg": "image/svg+xml", ".jpg": "image/jpeg", ".jpeg": "image/jpeg"}

_CAPTIONS = {
    "tp_rate": "Match attack true positives vs target size, one line per overlap c.",
    "fp_rate": "Match attack false positives vs target size, one line per overlap c.",
    "mi": "MI(H;O) in bits vs target size, with bootstrap CI and permutation-null band.",
    "roc": "User-level ROC on log-log axes; the dashed diagonal is chance.",
    "safe_session": "MI vs target size with the fitted power law extrapolated to full size.",
    "tradeoff": "Leakage vs recommender accuracy for each mitigation.",
}

_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;
 margin:0;background:#f6f7f9;color:#1d2330;line-height:1.45}
main{max-width:1100px;margin:0 auto;padding:24px 28px 48px;background:#fff}
h1{margin:0 0 4px;font-size:1.9em}h2{margin-top:2em;border-bottom:1px solid #dde;padding-bottom:4px}
.meta{color:#667;font-size:.9em;margin:0}
.safe{margin:24px 0;padding:18px 24px;border:2px solid #2b6cb0;border-radius:10px;
 background:#f0f6ff}
.safe .label{text-transform:uppercase;letter-spacing:.06em;color:#2b6cb0;font-weight:600}
.safe .big{font-size:3.4em;font-weight:700;line-height:1.1;margin:6px 0}
.safe.paper{border:1px solid #a0aec0;background:#f7f8fa}
.safe.paper .label{color:#4a5568}.safe.paper .big{font-size:1.8em}
.warning{margin-top:12px;padding:10px 14px;border-left:6px solid #c53030;background:#fff5f5;
 color:#822727;font-weight:600}
.note{margin-top:12px;color:#555;font-style:italic}
.scroll{overflow-x:auto}
table{border-collapse:collapse;font-size:.85em;margin:8px 0}
th,td{border:1px solid #d5d9e0;padding:3px 8px;text-align:right;white-space:nowrap}
th{background:#eef1f5}table.kv td:first-child,table.kv th{text-align:left}
table.kv td{text-align:left;white-space:normal}
figure{margin:24px 0;text-align:center}figure img{max-width:100%;height:auto}
figcaption{color:#444;font-size:.92em;margin-top:6px}
"""

_TEMPLATE = Template("""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>$title</title>
<style>$css</style>
</head>
<body>
<main>
<h1>$title</h1>
<p class="meta">Generated $timestamp with fidelity $version</p>
<section id="verdict">
$verdict
</section>
<section id="readings">
$readings
</section>
<section id="safe-session">
$safe
</section>
<section id="exposure-section">
$exposure
</section>
<section id="figures">
<h2>Figures</h2>
$figures
</section>
<section id="results">
<h2>Results</h2>
$results
</section>
<section id="data">
$data
</section>
<section id="data-summary">
<h2>Data summary</h2>
$data_summary
</section>
<section id="parameters">
<h2>Parameters</h2>
$parameters
</section>
<section id="versions">
<h2>Versions</h2>
$versions
</section>
</main>
</body>
</html>
""")


def _as_dict(name: str, obj: Any) -> dict[str, Any]:
    """A mapping, an object with ``to_dict()``, a dataclass or a plain object as a dict."""
    if isinstance(obj, Mapping):
        return dict(obj)
    if hasattr(obj, "to_dict") and not isinstance(obj, (pd.DataFrame, pd.Series)):
        return dict(obj.to_dict())
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: getattr(obj, f.name) for f in dataclasses.fields(obj)}
    if isinstance(obj, pd.Series):
        return obj.to_dict()
    if hasattr(obj, "__dict__"):
        return {k: v for k, v in vars(obj).items() if not k.startswith("_")}
    raise TypeError(
        f"{name} must be a mapping, a dataclass or an object with to_dict(); "
        f"got {type(obj).__name__}"
    )


def _fmt(value: Any) -> str:
    """Plain-text rendering of a parameter value (escaped later)."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, bool) or value is None:
        return str(value)
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return f"{value:.6g}"
    if isinstance(value, (list, tuple, set, frozenset, np.ndarray)):
        return ", ".join(
            _fmt(v)
            for v in (sorted(value, key=str) if isinstance(value, (set, frozenset)) else value)
        )
    if isinstance(value, Mapping):
        return json.dumps({str(k): _fmt(v) for k, v in value.items()})
    return str(value)


def _kv_table(name: str, obj: Any) -> str:
    items = _as_dict(name, obj) if obj is not None else {}
    if not items:
        return '<p class="note">(none given)</p>'
    rows = "\n".join(
        f"<tr><td>{html.escape(str(k))}</td><td>{html.escape(_fmt(v))}</td></tr>"
        for k, v in items.items()
    )
    return f'<table class="kv">\n<tr><th>name</th><th>value</th></tr>\n{rows}\n</table>'


def _cell(v: Any) -> str:
    if isinstance(v, float) and v.is_integer() and abs(v) < 1e15:
        return str(int(v))
    return f"{v:.4g}"


#: The columns people read first, in this order (those present are shown up front).
KEY_COLUMNS = (
    "overlap",
    "target_size",
    "recommender",
    "attack",
    "threat",
    "mitigation",
    "auc",
    "advantage",
    "tpr_at_1pct_fpr",
    "tp",
    "fp",
    "accuracy",
    "mi",
    "mi_plugin",
    "mi_above_null",
    "safe_session_size",
    "validated_safe_size",
)


def _results_table(results: pd.DataFrame) -> str:
    """The key columns (those that vary or matter), then every column behind a summary."""
    if results.empty:
        return '<p class="note">(no results)</p>'
    key = [c for c in KEY_COLUMNS if c in results.columns and results[c].notna().any()]
    constant = [c for c in key[:6] if results[c].nunique(dropna=False) == 1 and len(results) > 1]
    shown = [c for c in key if c not in constant]
    note = (
        "Same in every row: "
        + ", ".join(f"{c} = {_fmt(results[c].iloc[0])}" for c in constant)
        + ". "
        if constant
        else ""
    )
    compact = results[shown].to_html(
        index=False, escape=True, float_format=_cell, na_rep="–", border=0, classes="results"
    )
    full = results.to_html(
        index=False, escape=True, float_format=_cell, na_rep="–", border=0, classes="results"
    )
    return (
        f'<p class="note">{html.escape(note)}One row per configuration; every column of the '
        "results table (results.csv) is below.</p>"
        f"{compact}<details><summary>All {len(results.columns)} columns</summary>"
        f'<div class="scroll">{full}</div></details>'
    )


def _figure_uri(name: str, fig: Any) -> str:
    if isinstance(fig, (str, os.PathLike)):
        path = Path(fig)
        mime = _MIME.get(path.suffix.lower())
        if mime is None:
            raise ValueError(
                f"figures[{name!r}]: file must end in one of {sorted(_MIME)}; got {str(path)!r}"
            )
        if not path.is_file():
            raise FileNotFoundError(f"figures[{name!r}]: no such file {str(path)!r}")
        data = path.read_bytes()
    elif hasattr(fig, "savefig"):
        mime, data = "image/png", figure_bytes(fig, "png")
    else:
        raise TypeError(
            f"figures[{name!r}] must be a matplotlib Figure, a path to a PNG/SVG/JPEG file, or "
            f"a (figure, caption) tuple; got {type(fig).__name__}"
        )
    return f"data:{mime};base64," + base64.b64encode(data).decode("ascii")


def _figures_block(figures: Mapping[str, Any]) -> str:
    parts = []
    for name, value in figures.items():
        fig, caption = value if isinstance(value, tuple) and len(value) == 2 else (value, None)
        if caption is None:
            known = next((c for k, c in _CAPTIONS.items() if str(name).startswith(k)), "")
            caption = f"{name}. {known}".strip()
        parts.append(
            f'<figure><img src="{_figure_uri(str(name), fig)}" alt="{html.escape(str(caption))}">'
            f"<figcaption>{html.escape(str(caption))}</figcaption></figure>"
        )
    return "\n".join(parts) or '<p class="note">(no figures)</p>'


def _versions() -> dict[str, str]:
    out = {"fidelity": __version__, "python": platform.python_version()}
    for pkg in VERSION_PACKAGES:
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            out[pkg] = "not installed"
    return out
