"""One self-contained HTML report of a fidelity run.

The file embeds every figure as a base64 data URI, carries its own CSS, and references no
external script, style sheet, font or image: it opens offline in any browser. It is written
atomically (temporary file in the same folder, then :func:`os.replace`), so a failure never
leaves a partial report behind.
"""

from __future__ import annotations

import html
import os
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from fidelity.plots.saving import _atomic_write_bytes
from fidelity.report.page import (
    _CSS,
    _TEMPLATE,
    _figures_block,
    _kv_table,
    _results_table,
    _versions,
)
from fidelity.report.sections import (
    _data_block,
    _exposure_block,
    _readings_block,
    _safe_block,
    _verdict_block,
)

__all__ = ["write_report"]


def write_report(
    path: str | os.PathLike,
    *,
    results: pd.DataFrame,
    figures: Mapping[str, Any],
    safe_session: Any = None,
    session_curve: Any = None,
    data_note: str | None = None,
    calibration: pd.DataFrame | None = None,
    exposure: pd.DataFrame | None = None,
    exposure_note: str = "",
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
        size and verdict lead the report, followed by its data-only (MI(H;O), with the
        timing attribution) and model-aware (I(M;S)) readings.
    data_note : str, optional
        Which data the report ran on (one sentence).
    calibration : pandas.DataFrame, optional
        A calibration table to show with it (the synthetic default's, against MSSD).
    exposure : pandas.DataFrame, optional
        The "users most exposed" counts (:func:`fidelity.evaluation.exposure_counts`;
        counts only, never ids), with ``exposure_note`` saying which attack they are of.
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
        readings=_readings_block(session_curve),
        data=_data_block(data_note, calibration),
        exposure=_exposure_block(exposure, exposure_note),
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
