"""Lazy, partitioned data on a Dask LocalCluster: same numbers as the eager loaders/filters."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from fidelity._validation import FidelityWarning
from fidelity.cli import main
from fidelity.data import MSSD_COLUMNS, load_mssd, load_sessions, paper_filter
from fidelity.data.lazy import LazySessions, scan_mssd, scan_sessions
from fidelity.data.lazy_filters import lazy_keep_top_items, lazy_paper_filter
from fidelity.data.synthetic import make_sessions
from fidelity.data.synthetic_mssd import write_mssd_parquet

pytestmark = pytest.mark.dask

FIELDS = (
    "session",
    "position",
    "item",
    "timing",
    "session_user",
    "item_ids",
    "session_ids",
    "user_ids",
)


@pytest.fixture(scope="module")
def mssd_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("mssd")
    write_mssd_parquet(
        out, n_sessions=1500, partition_size=400, random_state=0, show_progress=False
    )
    return out


def assert_same_sessions(expected, got):
    for name in FIELDS:
        a, b = getattr(expected, name), getattr(got, name)
        assert a.dtype == b.dtype, name
        np.testing.assert_array_equal(a, b, err_msg=name)
    assert expected.timing_names == got.timing_names


def test_scan_is_one_partition_per_file(mssd_dir):
    lazy = scan_mssd(mssd_dir)
    assert isinstance(lazy, LazySessions)
    assert lazy.n_partitions == 4
    assert lazy.item_ids is None


def test_to_sessions_equals_load_mssd(client, mssd_dir):
    assert_same_sessions(load_mssd(mssd_dir), scan_mssd(mssd_dir).to_sessions())
    # through an address instead of the default client
    lazy = scan_mssd(mssd_dir, timing_cols=("not_skipped", "context_type"))
    got = lazy.to_sessions(scheduler=client.scheduler.address)
    want = load_mssd(mssd_dir, timing_cols=("not_skipped", "context_type"))
    assert_same_sessions(want, got)


def _messages(record):
    return [str(w.message) for w in record if issubclass(w.category, FidelityWarning)]


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(n_items=40, min_listened=12),
        dict(n_items=40, min_listened=12, split_sessions=False),
        dict(n_items=25, session_length=15, min_listened=5, contexts=["radio", "catalog"]),
    ],
)
def test_paper_filter_equals_eager(client, mssd_dir, kwargs):
    with warnings.catch_warnings(record=True) as eager_w:
        warnings.simplefilter("always")
        want = paper_filter(load_mssd(mssd_dir), **kwargs)
    with warnings.catch_warnings(record=True) as lazy_w:
        warnings.simplefilter("always")
        lazy = lazy_paper_filter(scan_mssd(mssd_dir), **kwargs)
    assert lazy.item_ids is not None and len(lazy.item_ids) == kwargs["n_items"]
    assert_same_sessions(want, lazy.to_sessions())
    # the full-length and listened steps report the same counts as the eager filter
    eager_msgs, lazy_msgs = _messages(eager_w), _messages(lazy_w)
    for k in range(2):
        assert eager_msgs[k] == lazy_msgs[k]
    n_removed = int(eager_msgs[-1].split("removed ")[1].split(" of")[0])
    assert f"removed {n_removed} of" in lazy_msgs[-1]


def test_keep_top_items_alone_and_present_vocabulary(client, mssd_dir):
    from fidelity.data import keep_top_items

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FidelityWarning)
        want = keep_top_items(load_mssd(mssd_dir), 30)
        lazy = lazy_keep_top_items(scan_mssd(mssd_dir), 30)
        assert_same_sessions(want, lazy.to_sessions())
        present = lazy.to_sessions(session_vocabulary="present")
    assert present.n_plays == want.n_plays
    np.testing.assert_array_equal(present.item, want.item)
    with pytest.raises(ValueError, match="already filtered"):
        lazy_keep_top_items(lazy, 10)
    with pytest.raises(ValueError, match="session_vocabulary"):
        lazy.to_sessions(session_vocabulary="all")


def _write_generic(folder, n_files=3):
    """CSV partitions of plays with users spanning files, rows shuffled within each file."""
    s = make_sessions(
        90,
        6,
        30,
        n_users=40,
        outside_share=0.0,
        full_session_share=1.0,
        hour_of_day="user",
        random_state=5,
    )
    frame = s.to_frame(original_ids=True)
    frame["user"] = "u" + frame["user"].astype(str)
    frame["session"] = "s" + frame["session"].astype(str)
    frame["t"] = frame["position"] * 10 + 3
    rng = np.random.default_rng(0)
    part = rng.integers(0, n_files, 90)[s.session]  # whole sessions per file
    for k in range(n_files):
        rows = frame[part == k].sample(frac=1.0, random_state=k)
        rows.drop(columns="position").to_csv(folder / f"plays-{k}.csv", index=False)
    return dict(
        session_col="session",
        item_col="item",
        order_col="t",
        timing_cols=("skip", "hour_of_day"),
        user_col="user",
    )


def test_scan_sessions_with_users_equals_load_sessions(client, tmp_path):
    kwargs = _write_generic(tmp_path)
    want = load_sessions(tmp_path, **kwargs)
    got = scan_sessions(tmp_path, **kwargs).to_sessions()
    assert_same_sessions(want, got)
    with pytest.raises(ValueError, match="missing"):
        scan_sessions(tmp_path, **{**kwargs, "order_col": "missing"})


def test_partial_session_is_reported(client, mssd_dir, tmp_path):
    table = pd.read_parquet(mssd_dir / "part-00000.parquet")
    table.iloc[:-1].to_parquet(tmp_path / "cut.parquet")
    with pytest.raises(ValueError, match="session_length"):
        scan_mssd(tmp_path).to_sessions()
    assert scan_mssd(tmp_path, check_sessions=False).to_sessions().n_plays == len(table) - 1


def test_sessions_spanning_files_are_detected(client, mssd_dir, tmp_path):
    table = pd.read_parquet(mssd_dir / "part-00001.parquet")
    first = table["session_position"] <= 5
    table[first].to_parquet(tmp_path / "a.parquet")
    table[~first].to_parquet(tmp_path / "b.parquet")
    lazy = scan_mssd(tmp_path, check_sessions=False)
    with pytest.raises(ValueError, match="more than one partition"):
        lazy.check_whole_sessions()
    scan_mssd(mssd_dir).check_whole_sessions()  # whole sessions: no error


def test_missing_column_is_named(tmp_path):
    pd.DataFrame({"session_id": ["a"], "session_position": [1]}).to_parquet(tmp_path / "x.parquet")
    with pytest.raises(ValueError, match="track_id_clean"):
        scan_mssd(tmp_path)


# ----------------------------------------------------------------------------- synth
def test_write_mssd_parquet_format(mssd_dir):
    files = sorted(mssd_dir.iterdir())
    assert [f.name for f in files] == [f"part-{i:05d}.parquet" for i in range(4)]
    frame = pd.read_parquet(files[0])
    assert tuple(frame.columns) == MSSD_COLUMNS
    g = frame.groupby("session_id", sort=False)
    assert (g["session_position"].min() == 1).all()
    assert (g.size() == g["session_length"].first()).all()
    assert g["session_length"].first().between(10, 20).all()
    assert frame["track_id_clean"].str.startswith("t_").all()
    assert (
        (frame["skip_3"] | frame["not_skipped"]) & ~(frame["skip_3"] & frame["not_skipped"])
    ).all()
    assert (frame["skip_1"] <= frame["skip_2"]).all() and (frame["skip_2"] <= frame["skip_3"]).all()
    pauses = frame[["no_pause_before_play", "short_pause_before_play", "long_pause_before_play"]]
    assert (pauses.sum(axis=1) == 1).all()
    assert frame["hour_of_day"].between(0, 23).all()
    assert len(pd.read_parquet(files[-1]).drop_duplicates("session_id")) == 300


def test_write_mssd_parquet_depends_only_on_seed_and_sizes(tmp_path, mssd_dir):
    write_mssd_parquet(
        tmp_path / "a", n_sessions=700, partition_size=400, random_state=0, show_progress=False
    )
    for k in range(1):  # same seed and partition size: the same first partition
        pd.testing.assert_frame_equal(
            pd.read_parquet(tmp_path / "a" / f"part-{k:05d}.parquet"),
            pd.read_parquet(mssd_dir / f"part-{k:05d}.parquet"),
        )
    other = write_mssd_parquet(
        tmp_path / "b", n_sessions=400, partition_size=400, random_state=1, show_progress=False
    )
    assert not pd.read_parquet(other[0]).equals(pd.read_parquet(mssd_dir / "part-00000.parquet"))
    with pytest.raises(ValueError, match="already holds"):
        write_mssd_parquet(tmp_path / "a", n_sessions=10, show_progress=False)
    paths = write_mssd_parquet(tmp_path / "a", n_sessions=10, overwrite=True, show_progress=False)
    assert sorted(p.name for p in (tmp_path / "a").iterdir()) == ["part-00000.parquet"]
    assert paths == [tmp_path / "a" / "part-00000.parquet"]
    with pytest.raises(ValueError, match="n_sessions"):
        write_mssd_parquet(tmp_path / "c", n_sessions=0, show_progress=False)


def test_cli_synth(tmp_path, capsys):
    assert (
        main(
            [
                "synth",
                "--sessions",
                "30",
                "--partition-size",
                "20",
                "--out",
                str(tmp_path),
                "--quiet",
            ]
        )
        == 0
    )
    assert len(list(tmp_path.glob("part-*.parquet"))) == 2
    assert load_mssd(tmp_path).n_sessions == 30
