"""The HTML report: parses, self-contained, every figure, safe session size, escaping, atomic."""

from __future__ import annotations

import base64
import os
from dataclasses import dataclass
from html.parser import HTMLParser

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from fidelity.plots import plot_fp_rate, plot_tp_rate, save_figure
from fidelity.report import write_report

VOID = {"meta", "img", "br", "hr", "link", "input", "source", "col", "wbr"}
EVIL = "<script>alert('pwned')</script>&\"x\""


class Walker(HTMLParser):
    """Collects tags, attributes and text, checks that elements nest properly."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.tags: list[tuple[str, dict]] = []
        self.errors: list[str] = []
        self.text: list[str] = []
        self.by_id: dict[str, list[str]] = {}
        self._open_ids: list[tuple[str, int]] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags.append((tag, attrs))
        if tag not in VOID:
            self.stack.append(tag)
            if "id" in attrs:
                self.by_id[attrs["id"]] = []
                self._open_ids.append((attrs["id"], len(self.stack)))

    def handle_startendtag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_endtag(self, tag):
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes {self.stack[-1:]!r}")
            return
        self._open_ids = [(i, d) for i, d in self._open_ids if d < len(self.stack)]
        self.stack.pop()

    def handle_data(self, data):
        self.text.append(data)
        for key, _ in self._open_ids:
            self.by_id[key].append(data)


def parse(path) -> Walker:
    walker = Walker()
    walker.feed(path.read_text(encoding="utf-8"))
    walker.close()
    return walker


def results_table() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "overlap": [0.0, 1.0, 0.0, 1.0],
            "target_size": [100, 100, 200, 200],
            "recommender": "markov",
            "seed": 0,
            "tp": [0.0, 0.31234567, 0.0, 0.25],
            "fp": [0.3, 0.0, 0.25, 0.0],
            "mi": [0.05, 0.051, 0.025, 0.026],
            "auc": [np.nan, np.nan, np.nan, np.nan],
            "config_id": ["a", "b", "c", EVIL],
        }
    )


SAFE = {
    "safe_session_size": 12345,
    "mi": 8.1e-5,
    "mi_ci_low": 7e-5,
    "mi_ci_high": 9e-5,
    "success": 0.75,
    "mi_null_mean": 2e-5,
    "mi_null_std": 1e-6,
    "mi_p_value": 0.001,
}


@pytest.fixture(scope="module")
def figure_files(tmp_path_factory):
    results = results_table()
    folder = tmp_path_factory.mktemp("figs")
    return save_figure(plot_fp_rate(results), folder / "fp_rate")


def write(tmp_path, figure_files, **kwargs):
    results = results_table()
    args = {
        "results": results,
        "figures": {
            "tp_rate": plot_tp_rate(results),
            "custom": (plot_fp_rate(results), "my caption <b>"),
            "fp_rate_png": figure_files[0],
            "fp_rate_svg": str(figure_files[1]),
        },
        "safe_session": SAFE,
        "parameters": {"overlaps": [0.0, 1.0], "seed": 0, "evil": EVIL},
        "data_summary": {"observations": 1400, "users": 100},
    }
    args.update(kwargs)
    return write_report(tmp_path / "out" / "report.html", **args)


def test_report_parses_and_embeds_every_figure(tmp_path, figure_files):
    path = write(tmp_path, figure_files)
    assert path == tmp_path / "out" / "report.html"
    w = parse(path)
    assert not w.errors, w.errors
    assert w.stack == []
    tags = [t for t, _ in w.tags]
    for main in ("html", "head", "body", "main", "title", "style", "table", "figure"):
        assert main in tags
    images = [a for t, a in w.tags if t == "img"]
    assert len(images) == 4 == tags.count("figure") == tags.count("figcaption")
    mimes = sorted(a["src"].split(";")[0] for a in images)
    assert mimes == ["data:image/png"] * 3 + ["data:image/svg+xml"]
    svg_uri = next(a["src"] for a in images if a["src"].startswith("data:image/svg"))
    assert base64.b64decode(svg_uri.split(",", 1)[1]) == figure_files[1].read_bytes()
    png = base64.b64decode(images[0]["src"].split(",", 1)[1])
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    text = "".join(w.text)
    assert "my caption <b>" in text  # escaped caption, shown as text
    for section in ("Parameters", "Data summary", "Results", "Figures", "Versions"):
        assert section in text
    for pkg in (
        "fidelity",
        "python",
        "numpy",
        "pandas",
        "scikit-learn",
        "numba",
        "implicit",
        "matplotlib",
    ):
        assert pkg in text
    assert "Generated 20" in text  # timestamp
    # results table: floats formatted, NaN shown, rows all present
    assert "0.3123" in text and "0.31234567" not in text
    assert tags.count("tr") >= 4 + 1 + 3 + 2 + 8


def test_report_shows_safe_session_size_large(tmp_path, figure_files):
    w = parse(write(tmp_path, figure_files))
    big = [a for t, a in w.tags if a.get("id") == "safe-session-size"]
    assert len(big) == 1 and "big" in big[0]["class"]
    assert "".join(w.by_id["safe-session-size"]) == "12,345 observations"
    text = "".join(w.by_id["safe-session"])
    assert "8.1e-05" in text and "0.75" in text
    assert "not above its permutation null" not in text


def test_report_is_offline(tmp_path, figure_files):
    path = write(tmp_path, figure_files)
    page = path.read_text(encoding="utf-8")
    w = parse(path)
    for tag, attrs in w.tags:
        assert tag not in ("script", "link", "iframe", "object", "embed")
        for key in ("src", "href"):
            if key in attrs:
                assert attrs[key].startswith("data:"), (tag, key)
    assert "http://" not in page and "https://" not in page
    assert "@import" not in page and "url(" not in page


def test_report_escapes_user_strings(tmp_path, figure_files):
    path = write(tmp_path, figure_files, title="Report <i>x</i>")
    w = parse(path)
    assert not w.errors
    assert not any(t in ("script", "i") for t, _ in w.tags)
    text = "".join(w.text)
    assert text.count(EVIL) == 2  # the parameter and the results cell, as plain text
    assert "Report <i>x</i>" in text
    assert "&lt;script&gt;" in path.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    "null",
    [
        {"mi_p_value": 0.4},
        {"mi_p_value": None, "mi_null_mean": 8e-5, "mi_null_std": 1e-6},
        {"above_null": False},
    ],
)
def test_report_warns_when_mi_not_above_null(tmp_path, figure_files, null):
    safe = {**SAFE, **null}
    text = "".join(parse(write(tmp_path, figure_files, safe_session=safe)).text)
    assert "Warning: the MI is not above its permutation null" in text


def test_report_safe_session_from_object_and_none(tmp_path, figure_files):
    class Estimate:
        def __init__(self):
            self.safe_session_size = 77.0
            self.mi = 0.01
            self.sizes = np.array([1, 2])  # non-scalar fields are ignored

    text = "".join(parse(write(tmp_path, figure_files, safe_session=Estimate())).text)
    assert "77 observations" in text and "MI was not tested" in text
    text = "".join(parse(write(tmp_path, figure_files, safe_session=None)).text)
    assert "not estimated" in text
    with pytest.raises(ValueError, match="safe_session_size"):
        write(tmp_path, figure_files, safe_session={"mi": 0.1})


@dataclass(frozen=True)
class CurveEstimate:
    """Stand-in with the fields of fidelity.safe_session.SafeSessionEstimate the report reads."""

    sizes: np.ndarray
    mi: np.ndarray
    mi_std: np.ndarray
    null_mean: np.ndarray
    full_size: int
    mi_full: float
    mi_full_low: float
    mi_full_high: float
    safe_session_size: int
    safe_session_size_low: int
    safe_session_size_high: int
    success: float | None

    def to_dict(self):
        out = {k: getattr(self, k) for k in ("safe_session_size", "mi_full", "full_size")}
        return {**out, "sizes": self.sizes.tolist(), "mi": self.mi.tolist()}


@pytest.mark.parametrize("null_factor, warned", [(0.5, False), (0.95, True)])
def test_report_safe_session_from_curve_estimate(tmp_path, figure_files, null_factor, warned):
    mi = np.array([0.2, 0.1, 0.05])
    est = CurveEstimate(
        sizes=np.array([100, 200, 400]),
        mi=mi,
        mi_std=mi * 0.05,
        null_mean=mi * null_factor,
        full_size=20_000,
        mi_full=0.002,
        mi_full_low=0.0015,
        mi_full_high=0.0025,
        safe_session_size=499,
        safe_session_size_low=399,
        safe_session_size_high=666,
        success=None,
    )
    w = parse(write(tmp_path, figure_files, safe_session=est))
    assert "".join(w.by_id["safe-session-size"]) == "499 observations"
    text = "".join(w.by_id["safe-session"])
    assert "399 to 666 observations" in text
    assert "MI(H;O) = 0.002 bits, CI 0.0015 to 0.0025, extrapolated to 20,000 users" in text
    assert "Fano bound" in text
    assert "largest measured size (400 users)" in text
    assert ("Warning: the MI is not above its permutation null" in text) is warned


def test_report_bound_from_upper_limit_tests_the_point_estimate(tmp_path, figure_files):
    # shaped like fidelity.information.SafeSessionSize.to_dict(): the bound uses the upper CI
    # limit (mi_used) while the null test must use the point estimate (mi)
    safe = {
        "safe_session_size": None,
        "bound": 0.518,
        "mi_used": 0.364,
        "mi": 0.27,
        "mi_null_mean": 0.265,
        "mi_null_std": 0.004,
        "success": 0.75,
    }
    w = parse(write(tmp_path, figure_files, safe_session=safe))
    assert "".join(w.by_id["safe-session-size"]) == "unbounded"
    text = "".join(w.by_id["safe-session"])
    assert "the MI used for the bound is 0.364 bits (point estimate 0.27)" in text
    assert "N ≥ 0.518 observations" in text
    assert "not above its permutation null" in text  # 0.27 <= 0.265 + 2 * 0.004


def test_report_bad_input(tmp_path, figure_files):
    with pytest.raises(TypeError, match="results"):
        write(tmp_path, figure_files, results={"a": 1})
    with pytest.raises(FileNotFoundError, match=r"missing\.png"):
        write(tmp_path, figure_files, figures={"x": tmp_path / "missing.png"})
    with pytest.raises(ValueError, match=r"figures\['x'\]"):
        write(tmp_path, figure_files, figures={"x": tmp_path / "file.gif"})
    with pytest.raises(TypeError, match=r"figures\['x'\]"):
        write(tmp_path, figure_files, figures={"x": 42})
    assert not (tmp_path / "out" / "report.html").exists()


def test_report_atomic_when_a_figure_fails(tmp_path, figure_files):
    path = write(tmp_path, figure_files)
    before = path.read_bytes()

    class Exploding(Figure):
        def savefig(self, *args, **kwargs):
            raise RuntimeError("boom")

    figures = {"ok": plot_tp_rate(results_table()), "bad": Exploding()}
    with pytest.raises(RuntimeError, match="boom"):
        write(tmp_path, figure_files, figures=figures)
    assert path.read_bytes() == before
    assert [p.name for p in path.parent.iterdir()] == ["report.html"]
    with pytest.raises(RuntimeError, match="boom"):
        write_report(tmp_path / "fresh" / "r.html", results=results_table(), figures=figures)
    assert not (tmp_path / "fresh" / "r.html").exists()


def test_report_atomic_when_the_write_fails(tmp_path, figure_files, monkeypatch):
    path = write(tmp_path, figure_files)
    before = path.read_bytes()

    def failing_replace(src, dst):
        raise OSError("no space left")

    monkeypatch.setattr(os, "replace", failing_replace)
    with pytest.raises(OSError, match="no space left"):
        write(tmp_path, figure_files, title="new")
    assert path.read_bytes() == before
    assert [p.name for p in path.parent.iterdir()] == ["report.html"]
