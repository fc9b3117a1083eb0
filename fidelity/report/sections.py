"""The report's sections: the verdict, the safe session sizes and the readings behind them."""

from __future__ import annotations

import dataclasses
import html
import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from fidelity.report.page import _as_dict

#: p-value at or above which the MI is reported as not above its permutation null.
NULL_ALPHA = 0.05


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
    lines.append(
        "This is the paper's method: the Fano bound of the plug-in MI between two halves of "
        "the data, extrapolated to all users. It uses no model and no attack; the "
        "attack-validated size above is the one that holds against this toolkit's attacks."
    )
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
        '<div class="safe paper"><div class="label">The paper\'s self-evaluation: safe '
        "session size from MI(H;O) extrapolated (data only)</div>"
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


def _df_table(frame: pd.DataFrame, caption: str = "") -> str:
    """A small escaped table of a DataFrame (no index)."""
    cap = f"<caption>{html.escape(caption)}</caption>" if caption else ""
    body = frame.to_html(index=False, escape=True, na_rep="–", border=0, float_format=_cell4)
    return body.replace('<table class="dataframe">', f'<table class="dataframe">{cap}', 1)


def _cell4(v: float) -> str:
    return f"{v:.4g}"


def _readings_block(curve: Any) -> str:
    """The data-only MI reading of the headline scenario and the model-aware I(M;S)."""
    if curve is None or getattr(curve, "information", None) is None:
        return ""
    info = curve.information
    est = info.estimate
    lines = [
        f"MI(H;O) between the adversary's and the target's data = {est.mi:.4g} bits "
        f"({est.estimator} estimate"
        + (
            f", {est.confidence:.0%} interval {est.ci_low:.4g} to {est.ci_high:.4g}"
            if est.ci_low is not None
            else ""
        )
        + f"), over {'+'.join(est.features)}; plug-in value {est.plugin:.4g} bits."
    ]
    if est.null_mean is not None:
        verdict = "above" if est.above_null else "not above"
        lines.append(
            f"The plug-in MI is {verdict} its user-level permutation null (null mean "
            f"{est.null_mean:.4g} bits, p = {est.p_value:.3g})."
        )
    fano = info.fano
    lines.append(
        f"The paper's data-only Fano size: {fano.size} observations."
        if fano.size is not None
        else str(fano.no_bound)
    )
    if info.attribution is not None:
        att = info.attribution
        p = att.difference_p_value
        lines.append(
            f"Timing channel: MI of (s, s') {att.items.mi:.4g} bits, with the timing features "
            f"({'+'.join(att.timing)}) {att.with_timing.mi:.4g} bits: the timing adds "
            f"{att.difference:.4g} bits" + (f" (p = {p:.3g})." if p is not None else ".")
        )
    for sig in getattr(curve, "signal_information", ()):
        lines.append(f"Model-aware reading: {sig.summary()}")
    items = "".join(f"<li>{html.escape(t)}</li>" for t in lines)
    return f"<h2>What the data and the model reveal</h2><ul>{items}</ul>"


def _data_block(data_note: str | None, calibration: pd.DataFrame | None) -> str:
    """Which data the report ran on, and the synthetic data's calibration when relevant."""
    if not data_note and calibration is None:
        return ""
    out = "<h2>Data</h2>"
    if data_note:
        out += f'<p id="data-note">{html.escape(data_note)}</p>'
    if calibration is not None and len(calibration):
        out += _df_table(
            calibration,
            "Calibration of the synthetic default against the MSSD aidl sample "
            "(documented figures, seed 0)",
        )
    return out


def _exposure_block(exposure: pd.DataFrame | None, note: str) -> str:
    """ "Users most exposed": counts only, never ids."""
    if exposure is None or not len(exposure):
        return ""
    return f'<h2 id="exposure">Users most exposed</h2><p>{html.escape(note)}</p>' + _df_table(
        exposure
    )
