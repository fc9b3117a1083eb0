"""One self-contained HTML report of a fidelity run.

The file embeds every figure as a base64 data URI, carries its own CSS, and references no
external script, style sheet, font or image: it opens offline in any browser. It is written
atomically (temporary file in the same folder, then :func:`os.replace`), so a failure never
leaves a partial report behind.
"""

from __future__ import annotations

import base64
import dataclasses
import html
import json
import math
import os
import platform
from collections.abc import Mapping
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from string import Template
from typing import Any

import numpy as np
import pandas as pd

from fidelity import __version__
from fidelity.plots.saving import _atomic_write_bytes, figure_bytes

__all__ = ["write_report"]

#: Packages whose versions the report lists (distribution names).
VERSION_PACKAGES = ("numpy", "pandas", "scikit-learn", "numba", "implicit", "matplotlib")
#: p-value at or above which the MI is reported as not above its permutation null.
NULL_ALPHA = 0.05

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
<section id="safe-session">
$safe
</section>
<section id="parameters">
<h2>Parameters</h2>
$parameters
</section>
<section id="data-summary">
<h2>Data summary</h2>
$data_summary
</section>
<section id="results">
<h2>Results</h2>
<div class="scroll">
$results
</div>
</section>
<section id="figures">
<h2>Figures</h2>
$figures
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


def _scalar(d: Mapping[str, Any], *names: str) -> float | None:
    """The first of ``names`` in ``d`` holding a finite-or-infinite real scalar, else None."""
    for n in names:
        v = d.get(n)
        if v is None or isinstance(v, (bool, str)) or np.ndim(v) != 0:
            continue
        try:
            v = float(v)
        except (TypeError, ValueError):
            continue
        if not math.isnan(v):
            return v
    return None


def _num(v: float | None, spec: str = ".4g") -> str:
    return "n/a" if v is None else format(v, spec)


def _last_finite(d: Mapping[str, Any], name: str) -> float | None:
    """Last value of a 1-D numeric array field (the largest measured size), if finite."""
    v = d.get(name)
    if v is None or isinstance(v, str) or np.ndim(v) != 1 or len(v) == 0:
        return None
    try:
        last = float(np.asarray(v, dtype=float)[-1])
    except (TypeError, ValueError):
        return None
    return last if math.isfinite(last) else None


def _null_check(d: Mapping[str, Any], mi: float | None) -> tuple[bool | None, str | None]:
    """Whether the MI is above its permutation null, and a sentence saying what was compared."""
    null_mean = _scalar(d, "mi_null_mean", "null_mean")
    null_std = _scalar(d, "mi_null_std", "null_std")
    p_value = _scalar(d, "mi_p_value", "p_value")
    explicit = d.get("above_null", d.get("mi_above_null"))
    text = None
    if null_mean is not None:
        text = f"Permutation null: {_num(null_mean)} ± {_num(null_std)} bits" + (
            f", p = {p_value:.3g}." if p_value is not None else "."
        )
    if isinstance(explicit, (bool, np.bool_)):
        return bool(explicit), text
    if p_value is not None:
        return p_value < NULL_ALPHA, text
    if null_mean is not None and mi is not None:
        return mi > null_mean + 2 * (null_std or 0.0), text
    # a self-evaluation curve: compare at the largest measured size
    mi_last, null_last = _last_finite(d, "mi"), _last_finite(d, "null_mean")
    if mi_last is not None and null_last is not None:
        sd = _last_finite(d, "mi_std") or 0.0
        size = _last_finite(d, "sizes")
        text = (
            f"At the largest measured size ({_num(size, ',.0f')} users): MI {_num(mi_last)} "
            f"± {_num(sd)} bits (sd over repeats), permutation null {_num(null_last)} bits."
        )
        return mi_last > null_last + 2 * sd, text
    return None, None


def _safe_block(safe_session: Any) -> str:
    if safe_session is None:
        return (
            '<div class="safe"><div class="label">Safe session size</div>'
            '<div class="big">not estimated</div></div>'
        )
    d = _as_dict("safe_session", safe_session)
    if dataclasses.is_dataclass(safe_session) and not isinstance(safe_session, type):
        fields = {f.name: getattr(safe_session, f.name) for f in dataclasses.fields(safe_session)}
        d = {**fields, **d}
    size = _scalar(d, "safe_session_size", "size", "n")
    if size is None and "safe_session_size" in d and d["safe_session_size"] is None:
        size = math.inf  # None: no finite size reaches the bound (MI <= 0)
    if size is None:
        raise ValueError(
            f"safe_session: no 'safe_session_size' value found; keys found: {sorted(d)!r}"
        )
    shown = "unbounded" if math.isinf(size) else f"{size:,.0f} observations"
    mi = _scalar(d, "mi_used", "mi_full", "mi_extrapolated", "extrapolated_mi", "mi")
    lo = _scalar(d, "mi_full_low", "mi_ci_low", "ci_low")
    hi = _scalar(d, "mi_full_high", "mi_ci_high", "ci_high")
    success = _scalar(d, "success", "success_probability", "p_success")
    full_size = _scalar(d, "full_size")
    bound = _scalar(d, "bound", "fano_bound")
    size_lo = _scalar(d, "safe_session_size_low", "safe_session_size_ci_low", "size_ci_low")
    size_hi = _scalar(d, "safe_session_size_high", "safe_session_size_ci_high", "size_ci_high")
    lines = []
    if size_lo is not None or size_hi is not None:
        lines.append(
            f"Confidence interval of the size: {_num(size_lo, ',.0f')} to "
            f"{_num(size_hi, ',.0f')} observations."
        )
    point = _scalar(d, "mi")  # the point estimate, when the bound uses another MI
    if point is not None and mi is not None and not math.isclose(point, mi):
        used = f"the MI used for the bound is {_num(mi)} bits (point estimate {_num(point)})"
    else:
        point, used = mi, f"MI(H;O) = {_num(mi)} bits"
    lines.append(
        f"From {used}"
        + (f", CI {_num(lo)} to {_num(hi)}" if lo is not None or hi is not None else "")
        + (f", extrapolated to {full_size:,.0f} users" if full_size is not None else "")
        + (
            f", for an adversary success probability of {success:g}"
            if success is not None
            else ", from the Fano bound N ≥ 1 / MI"
        )
        + (f" (bound: N ≥ {bound:.4g} observations)." if bound is not None else ".")
    )
    above, null_text = _null_check(d, point)
    if null_text:
        lines.append(null_text)
    body = "".join(f"<p>{html.escape(t)}</p>" for t in lines)
    if above is False:
        body += (
            '<div class="warning">Warning: the MI is not above its permutation null; it is '
            "indistinguishable from the finite-sample effect, and the size above is the "
            "conservative plug-in reading, not evidence of a population difference.</div>"
        )
    elif above is None:
        body += '<p class="note">No permutation null was given: the MI was not tested.</p>'
    return (
        '<div class="safe"><div class="label">Safe session size from MI(H;O) '
        "(the paper's data-only Fano reading)</div>"
        f'<div class="big" id="safe-session-size">{html.escape(shown)}</div>'
        f"{body}</div>"
    )


def _verdict_block(curve: Any) -> str:
    """The headline: the attack-validated safe session size and its one-sentence verdict."""
    if curve is None:
        return ""
    validated = curve.validated
    scenario = curve.scenario
    config = (
        f"Scenario: overlap {scenario.overlap:g}, target size "
        f"{'all of T' if scenario.target_size is None else scenario.target_size}, "
        f"{scenario.recommender}, mode {scenario.mode}, mitigation {scenario.mitigation}, "
        f"seed {scenario.seed}; attacks: {', '.join(r.label for r in curve.requests)}; "
        f"tolerance on the advantage {validated.tolerance:g} (upper {curve.confidence:.0%} "
        "bound)."
    )
    return (
        '<div class="safe"><div class="label">Attack-validated safe session size</div>'
        f'<div class="big" id="validated-size">{html.escape(validated.label)} observations</div>'
        f'<p id="verdict-sentence"><strong>{html.escape(curve.summary())}</strong></p>'
        f'<p class="note">{html.escape(config)}</p></div>'
    )


def _cell(v: Any) -> str:
    if isinstance(v, float) and v.is_integer() and abs(v) < 1e15:
        return str(int(v))
    return f"{v:.4g}"


def _results_table(results: pd.DataFrame) -> str:
    if results.empty:
        return '<p class="note">(no results)</p>'
    return results.to_html(
        index=False, escape=True, float_format=_cell, na_rep="–", border=0, classes="results"
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
            f'<figure><img src="{_figure_uri(str(name), fig)}" alt="{html.escape(str(name))}">'
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


def write_report(
    path: str | os.PathLike,
    *,
    results: pd.DataFrame,
    figures: Mapping[str, Any],
    safe_session: Any = None,
    session_curve: Any = None,
    parameters: Mapping[str, Any] | None = None,
    data_summary: Mapping[str, Any] | None = None,
    title: str = "fidelity report",
) -> Path:
    """Write one self-contained HTML report and return its path.

    Parameters
    ----------
    path : str or os.PathLike
        Output file (``.html``); missing folders are created. Written atomically.
    results : pandas.DataFrame
        The tidy results table (escaped, floats to 4 significant digits).
    figures : mapping of str to Figure, path or (Figure or path, caption)
        Each is embedded as a base64 data URI (a Figure is rendered to PNG; a PNG, SVG or JPEG
        file is embedded as is, SVG through ``<img>`` so no script in it can run). The key
        names the figure; the caption is the given one or the key with a standard description.
    safe_session : mapping, dataclass or object, optional
        Shown in large type, e.g. a ``fidelity.safe_session.SafeSessionEstimate`` or a dict.
        Keys (or attributes): ``safe_session_size`` (required); optionally
        ``safe_session_size_low``/``_high``, ``mi_used`` or ``mi_full`` (or ``mi``: the MI it
        came from; a ``safe_session_size`` of None reads "unbounded"),
        ``mi_full_low``/``_high`` (or ``mi_ci_low``/``_high``), ``full_size``, ``success``,
        ``mi_null_mean``/``mi_null_std``, ``mi_p_value``, ``above_null``. A warning is shown
        when the MI is not above its null: ``above_null`` false, else ``mi_p_value >= 0.05``,
        else ``mi <= mi_null_mean + 2 mi_null_std``, else (curve arrays ``mi``, ``mi_std``,
        ``null_mean``) at the largest measured size ``mi <= null_mean + 2 mi_std``.
        None shows "not estimated". This is the paper's data-only reading.
    session_curve : SessionCurve, optional
        From :func:`fidelity.evaluation.session_curve`: its attack-validated safe session
        size and verdict lead the report.
    parameters, data_summary : mapping, optional
        Shown as name/value tables (values escaped).
    title : str
        Page title and heading.

    Returns
    -------
    pathlib.Path
    """
    if not isinstance(results, pd.DataFrame):
        raise TypeError(f"results must be a pandas DataFrame; got {type(results).__name__}")
    if not isinstance(figures, Mapping):
        raise TypeError(f"figures must be a mapping name -> figure; got {type(figures).__name__}")
    versions = _versions()
    page = _TEMPLATE.substitute(
        title=html.escape(str(title)),
        css=_CSS,
        timestamp=html.escape(datetime.now(UTC).isoformat(timespec="seconds")),
        version=html.escape(versions["fidelity"]),
        verdict=_verdict_block(session_curve),
        safe=_safe_block(safe_session),
        parameters=_kv_table("parameters", parameters),
        data_summary=_kv_table("data_summary", data_summary),
        results=_results_table(results),
        figures=_figures_block(figures),
        versions=_kv_table("versions", versions),
    )
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    _atomic_write_bytes(out, page.encode("utf-8"))
    return out
