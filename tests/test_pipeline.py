"""The main job end to end: results, figures, an offline HTML report and results.json."""

from __future__ import annotations

import json
from html.parser import HTMLParser

import pytest

from fidelity import FidelityWarning
from fidelity.data import make_sessions
from fidelity.experiment import SweepGrid
from fidelity.pipeline import grid_for, reproduce


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.images: list[str] = []
        self.links: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "img":
            self.images.append(attrs.get("src", ""))
        for key in ("href", "src"):
            if attrs.get(key):
                self.links.append(attrs[key])

    def handle_data(self, data):
        self.text.append(data)


@pytest.fixture(scope="module")
def outcome(tmp_path_factory):
    obs = make_sessions(n_sessions=600, random_state=3).observations()
    grid = SweepGrid(
        overlaps=(0.0, 1.0), target_sizes=(60, 240), recommenders=("markov",),
        n_permutations=3, n_bootstrap=3,
    )  # fmt: skip
    out = tmp_path_factory.mktemp("reproduce")
    return reproduce(obs, grid, out=out, data_label="synthetic test", show_progress=False)


def test_report_is_self_contained_and_complete(outcome):
    html = outcome.report_path.read_text()
    parser = _Collector()
    parser.feed(html)
    parser.close()
    # every figure that was saved is embedded in the report
    assert len(parser.images) == len(outcome.figure_paths)
    assert all(src.startswith("data:image/") for src in parser.images)
    # nothing is fetched from the network
    assert not [link for link in parser.links if link.startswith(("http:", "https:", "//"))]
    text = " ".join(parser.text)
    assert str(outcome.safe_session.safe_session_size) in text
    assert "synthetic test" in text


def test_results_json_matches_the_table(outcome):
    payload = json.loads(outcome.json_path.read_text())
    assert len(payload["results"]) == len(outcome.results)
    assert payload["safe_session"]["safe_session_size"] == (outcome.safe_session.safe_session_size)
    mi = [row["mi"] for row in payload["results"]]
    assert mi == pytest.approx(outcome.results["mi"].tolist())
    for paths in outcome.figure_paths.values():
        assert all(p.is_file() and p.stat().st_size > 0 for p in paths)


def test_default_grid_is_the_papers_when_the_data_allow():
    whole = {"outside_share": 0.0, "full_session_share": 1.0}  # one user per session
    big = make_sessions(n_sessions=8200, random_state=0, **whole).observations()
    assert grid_for(big).target_sizes == (500, 1000, 2000, 4000)
    small = make_sessions(n_sessions=400, random_state=0).observations()
    with pytest.warns(FidelityWarning, match="target sizes set to"):
        sizes = grid_for(small).target_sizes
    assert max(sizes) <= 200 and len(sizes) >= 3


def _report_html(outcome) -> str:
    return outcome.report_path.read_text()


def test_report_leads_with_the_validated_size_and_one_verdict(outcome):
    html = _report_html(outcome)
    curve = outcome.session_curve
    verdict = html.index('id="validated-size"')
    assert verdict < html.index('id="safe-session-size"')  # the paper's reading comes after
    assert f"{curve.validated.label} observations" in html[verdict : verdict + 200]
    parser = _Collector()
    parser.feed(html)
    text = " ".join(parser.text)
    assert curve.summary() in text
    # the verdict names the scenario and the attacks it was validated against
    assert f"overlap {curve.scenario.overlap:g}" in text and "mimic (scores)" in text


def test_report_figures_say_which_configuration_they_show(outcome):
    html = _report_html(outcome)
    captions = [c.split("</figcaption>")[0] for c in html.split("<figcaption>")[1:]]
    assert len(captions) == len(outcome.figure_paths)
    assert len(set(captions)) == len(captions)  # no two captions are copies
    scenario_words = f"target size {outcome.session_curve.scenario.target_size}"
    curve_caption = next(c for c in captions if c.startswith("Leakage against session length"))
    assert scenario_words in curve_caption
    assert all("Sweep:" in c for c in captions if c.startswith("The paper&#x27;s figure"))
    alts = [a.split('"')[0] for a in html.split('alt="')[1:]]
    assert alts == captions  # images carry their caption as alt text


def test_report_table_leads_with_the_columns_people_read(outcome):
    html = _report_html(outcome)
    first_table = html[html.index('id="results"') :].split("</table>")[0]
    headers = [h.split("</th>")[0] for h in first_table.split("<th>")[1:]]
    assert headers[:3] == ["overlap", "target_size", "auc"]  # constant columns are noted
    assert "mi" in headers and "config_id" not in headers
    assert f"All {len(outcome.results.columns)} columns" in html


def test_report_counts_users_most_exposed_without_ids(outcome):
    html = _report_html(outcome)
    section = html[html.index('id="exposure"') : html.index('id="figures"')]
    assert "n_above_0.9" in section and "No user id is shown" in section
    headers = [h.split("</th>")[0] for h in section.split("<th>")[1:]]
    assert "user" not in headers and "user_code" not in headers and "score" not in headers
    n_rows = section.count("<tr>") - 1  # a few count rows, not one row per user
    assert 1 <= n_rows < 20 < len(outcome.session_curve.signals[0].observation_scores)


def test_synthetic_report_says_it_is_calibrated(tmp_path):
    from fidelity.cli import main

    argv = ["reproduce", "--sessions", "400", "--quick", "--out", str(tmp_path), "--quiet"]
    argv += ["--grid", str(_tiny_grid(tmp_path))]
    assert main(argv) == 0
    html = (tmp_path / "report.html").read_text()
    assert "calibrated on the public MSSD aidl sample" in html
    assert "auc: match label, target 500" in html  # the calibration table's rows


def _tiny_grid(tmp_path):
    path = tmp_path / "grid.toml"
    path.write_text(
        'overlaps = [0.5]\ntarget_sizes = [40]\nrecommenders = ["markov"]\n'
        "n_permutations = 2\nn_bootstrap = 2\n"
    )
    return path
