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
