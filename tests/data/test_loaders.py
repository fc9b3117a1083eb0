"""Tests of the file reader and the loaders (MSSD, sessions, interactions)."""

from __future__ import annotations

import gzip
import warnings
from collections import Counter

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fidelity._validation import FidelityWarning
from fidelity.data.io import _read_table, resolve_files
from fidelity.data.loaders import (
    MOVIELENS_100K_NAMES,
    MSSD_CATEGORIES,
    MSSD_COLUMNS,
    MSSD_TIMING_COLUMNS,
    load_interactions,
    load_mssd,
    load_sessions,
)
from fidelity.data.stats import row_identifying_timing
from fidelity.data.tables import Sessions

CONTEXTS = MSSD_CATEGORIES["context_type"]
REASONS = MSSD_CATEGORIES["hist_user_behavior_reason_start"]


_BOOL_FLAGS = (
    "skip_1",
    "skip_2",
    "skip_3",
    "not_skipped",
    "hist_user_behavior_is_shuffle",
    "premium",
)


def mssd_frame(seed: int = 0, n_sessions: int = 4, bool_strings: bool = False) -> pd.DataFrame:
    """A small MSSD-format log with shuffled rows (sessions of 1..6 plays)."""
    rng = np.random.default_rng(seed)
    rows = []
    for s in range(n_sessions):
        length = int(rng.integers(1, 7))
        for p in range(1, length + 1):
            row = {
                "session_id": f"{s % 3}_{s:04d}-x",
                "session_position": p,
                "session_length": length,
                "track_id_clean": f"t_{rng.integers(0, 8)}",
                "date": "2018-07-15",
                "hour_of_day": int(rng.integers(0, 24)),
                "context_type": str(rng.choice(CONTEXTS)),
                "hist_user_behavior_reason_start": str(rng.choice(REASONS)),
                "hist_user_behavior_reason_end": str(rng.choice(REASONS)),
            }
            for c in (*MSSD_TIMING_COLUMNS[:11], "premium"):
                flag = c in _BOOL_FLAGS
                row[c] = bool(rng.integers(0, 2)) if flag else int(rng.integers(0, 3))
            rows.append(row)
    frame = pd.DataFrame(rows)[list(MSSD_COLUMNS)]
    if bool_strings:
        for c in _BOOL_FLAGS:
            frame[c] = frame[c].map({True: "True", False: "False"})
    return frame.sample(frac=1.0, random_state=seed).reset_index(drop=True)


def mssd_reference(frame: pd.DataFrame) -> pd.DataFrame:
    """Plain-pandas expectation: rows sorted by (session_id, position), sorted-id codes."""
    f = frame.sort_values(["session_id", "session_position"], kind="stable")
    out = pd.DataFrame(
        {
            "session": np.searchsorted(np.sort(f.session_id.unique()), f.session_id),
            "item": np.searchsorted(np.sort(f.track_id_clean.unique()), f.track_id_clean),
        }
    )
    for c in MSSD_TIMING_COLUMNS:
        if c in MSSD_CATEGORIES:
            out[c] = [MSSD_CATEGORIES[c].index(v) for v in f[c]]
        elif c in _BOOL_FLAGS:
            out[c] = f[c].astype(str).map({"True": 1.0, "False": 0.0}).to_numpy()
        else:
            out[c] = f[c].to_numpy(dtype=float)
    return out


def assert_same_sessions(a: Sessions, b: Sessions) -> None:
    for name in ("session", "position", "item", "timing", "session_user"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)
    for name in ("item_ids", "session_ids", "user_ids"):
        assert list(getattr(a, name)) == list(getattr(b, name)), name
    assert a.timing_names == b.timing_names


# -------------------------------------------------------------------- MSSD
def test_load_mssd_matches_pandas_reference(tmp_path):
    frame = mssd_frame(1, n_sessions=6, bool_strings=True)
    path = tmp_path / "log.csv"
    frame.to_csv(path, index=False)
    s = load_mssd(path)
    ref = mssd_reference(frame)
    np.testing.assert_array_equal(s.session, ref.session)
    np.testing.assert_array_equal(s.item, ref["item"])
    np.testing.assert_array_equal(s.timing, ref[list(MSSD_TIMING_COLUMNS)].to_numpy(np.float32))
    assert s.timing_names == MSSD_TIMING_COLUMNS
    assert s.timing.dtype == np.float32
    np.testing.assert_array_equal(s.session_user, np.arange(len(s.session_ids)))
    assert list(s.session_ids) == sorted(frame.session_id.unique())
    assert list(s.item_ids) == sorted(frame.track_id_clean.unique())
    # play order within each session follows session_position
    pos = frame.sort_values(["session_id", "session_position"]).session_position.to_numpy()
    np.testing.assert_array_equal(s.position, pos - 1)


def test_load_mssd_same_sessions_from_every_format(tmp_path):
    frame = mssd_frame(2, n_sessions=7)
    frame.to_csv(tmp_path / "a.csv", index=False)
    frame.to_csv(tmp_path / "a.csv.gz", index=False)
    frame.to_parquet(tmp_path / "a.parquet")
    half = len(frame) // 2
    (tmp_path / "dir").mkdir()
    frame.iloc[:half].to_parquet(tmp_path / "dir" / "part.0.parquet")
    frame.iloc[half:].to_csv(tmp_path / "dir" / "part.1.csv", index=False)
    (tmp_path / "dir" / "_SUCCESS").write_text("")
    (tmp_path / "glob").mkdir()
    frame.iloc[:half].to_csv(tmp_path / "glob" / "x-1.csv.gz", index=False)
    frame.iloc[half:].to_csv(tmp_path / "glob" / "x-2.csv.gz", index=False)
    strings = mssd_frame(2, n_sessions=7, bool_strings=True)
    strings.to_parquet(tmp_path / "strings.parquet")
    reference = load_mssd(tmp_path / "a.csv")
    for p in ("a.csv.gz", "a.parquet", "dir", "glob/x-*.csv.gz", "strings.parquet"):
        assert_same_sessions(load_mssd(str(tmp_path / p)), reference)


def test_load_mssd_missing_column_names_it_and_lists_found(tmp_path):
    frame = mssd_frame().rename(columns={"track_id_clean": "track_id"})
    frame.to_csv(tmp_path / "log.csv", index=False)
    with pytest.raises(ValueError, match=r"'track_id_clean'.*not found.*'track_id'"):
        load_mssd(tmp_path / "log.csv")


def test_load_mssd_subset_of_timing_columns(tmp_path):
    frame = mssd_frame().drop(columns=["date", "premium"])
    frame.to_csv(tmp_path / "log.csv", index=False)
    with pytest.raises(ValueError, match="'premium'"):
        load_mssd(tmp_path / "log.csv")
    s = load_mssd(tmp_path / "log.csv", timing_cols=("skip_2", "context_type"))
    assert s.timing_names == ("skip_2", "context_type")


@pytest.mark.parametrize("bad", [np.nan, "", "  "])
def test_load_mssd_missing_track_ids_raise_with_count(tmp_path, bad):
    frame = mssd_frame()
    frame["track_id_clean"] = frame["track_id_clean"].astype(object)
    frame.loc[[0, 2], "track_id_clean"] = bad
    frame.to_csv(tmp_path / "log.csv", index=False)
    with pytest.raises(ValueError, match=r"2 row\(s\) of column 'track_id_clean'"):
        load_mssd(tmp_path / "log.csv")


def test_load_mssd_duplicate_positions_and_bad_values(tmp_path):
    frame = mssd_frame()
    pd.concat([frame, frame.iloc[:1]]).to_csv(tmp_path / "dup.csv", index=False)
    with pytest.raises(ValueError, match="repeat a"):
        load_mssd(tmp_path / "dup.csv")
    bad = frame.copy()
    bad.loc[0, "context_type"] = "spaceship"
    bad.to_csv(tmp_path / "ctx.csv", index=False)
    with pytest.raises(ValueError, match=r"'context_type'.*'spaceship'"):
        load_mssd(tmp_path / "ctx.csv")
    s = load_mssd(tmp_path / "ctx.csv", categories={"context_type": (*CONTEXTS, "spaceship")})
    assert (s.timing[:, s.timing_names.index("context_type")] == len(CONTEXTS)).sum() == 1
    bad = frame.copy()
    bad["skip_1"] = bad["skip_1"].astype(object)
    bad.loc[0, "skip_1"] = "maybe"
    bad.to_csv(tmp_path / "flag.csv", index=False)
    with pytest.raises(ValueError, match=r"'skip_1'.*'maybe'"):
        load_mssd(tmp_path / "flag.csv")


def test_missing_timing_values_are_kept_and_reported(tmp_path):
    frame = mssd_frame()
    frame["hour_of_day"] = frame["hour_of_day"].astype(float)
    frame.loc[[1, 3, 4], "hour_of_day"] = np.nan
    frame.to_csv(tmp_path / "log.csv", index=False)
    with pytest.warns(FidelityWarning, match=r"'hour_of_day' has 3 missing"):
        s = load_mssd(tmp_path / "log.csv")
    assert np.isnan(s.timing[:, s.timing_names.index("hour_of_day")]).sum() == 3
    assert s.n_plays == len(frame)


def test_single_play_sessions_are_kept(tmp_path):
    frame = pd.DataFrame({"s": [1, 2, 2, 3], "i": ["a", "b", "c", "a"]})
    frame.to_csv(tmp_path / "p.csv", index=False)
    s = load_sessions(tmp_path / "p.csv", session_col="s", item_col="i")
    assert s.n_plays == 4 and s.n_sessions == 3
    with pytest.warns(FidelityWarning, match="2 session"):
        assert s.observations().n_observations == 1


# ------------------------------------------------------------ bad files
def test_missing_path_and_empty_glob(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such file"):
        load_mssd(tmp_path / "nope.csv")
    with pytest.raises(FileNotFoundError, match="matches no file"):
        load_mssd(str(tmp_path / "nope-*.csv"))


def test_empty_file_and_header_only(tmp_path):
    (tmp_path / "empty.csv").write_bytes(b"")
    with pytest.raises(ValueError, match="empty"):
        load_mssd(tmp_path / "empty.csv")
    (tmp_path / "blank.csv").write_text("\n\n")
    with pytest.raises(ValueError, match="empty"):
        load_mssd(tmp_path / "blank.csv")
    mssd_frame().iloc[:0].to_csv(tmp_path / "header.csv", index=False)
    with pytest.raises(ValueError, match="no data rows"):
        load_mssd(tmp_path / "header.csv")


def test_files_that_are_not_the_stated_format(tmp_path):
    frame = mssd_frame()
    frame.to_parquet(tmp_path / "really_parquet.csv")
    with pytest.raises(ValueError, match="is a Parquet file"):
        load_mssd(tmp_path / "really_parquet.csv")
    frame.to_csv(tmp_path / "really_csv.parquet", index=False)
    with pytest.raises(ValueError, match="not a Parquet file"):
        load_mssd(tmp_path / "really_csv.parquet")
    (tmp_path / "junk.csv").write_bytes(bytes(range(256)) * 10)
    with pytest.raises(ValueError, match="binary content"):
        load_mssd(tmp_path / "junk.csv")
    (tmp_path / "latin.csv").write_bytes(b"a,b\n\xff\xfe\xfa,1\n" * 10)
    with pytest.raises(ValueError, match="not UTF-8"):
        load_mssd(tmp_path / "latin.csv")
    frame.to_csv(tmp_path / "plain.csv.gz", index=False, compression=None)
    with pytest.raises(ValueError, match=r"not \.gz-compressed"):
        load_mssd(tmp_path / "plain.csv.gz")
    with gzip.open(tmp_path / "trunc.csv.gz", "wb") as fh:
        fh.write(frame.to_csv(index=False).encode())
    data = (tmp_path / "trunc.csv.gz").read_bytes()
    (tmp_path / "trunc.csv.gz").write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match=r"trunc\.csv\.gz"):
        load_mssd(tmp_path / "trunc.csv.gz")
    (tmp_path / "prose.csv").write_text("Dear reader,\nthis is not a log.\n")
    with pytest.raises(ValueError, match=r"'session_id'.*not found"):
        load_mssd(tmp_path / "prose.csv")


def test_directory_problems(tmp_path):
    (tmp_path / "notes.md").write_text("hello")
    with pytest.raises(ValueError, match=r"holds no CSV.*notes\.md"):
        resolve_files(tmp_path)
    pd.DataFrame({"a": [1], "b": [2]}).to_csv(tmp_path / "1.csv", index=False)
    pd.DataFrame({"a": [1], "c": [2]}).to_csv(tmp_path / "2.csv", index=False)
    with pytest.raises(ValueError, match="differ"):
        _read_table(tmp_path)
    with pytest.raises(ValueError, match=r"2\.csv: column\(s\) \['b'\] not found"):
        _read_table(tmp_path, columns=["a", "b"])


def test_read_table_natural_order_and_separators(tmp_path):
    for k in (10, 2, 1):
        pd.DataFrame({"k": [k], "v": [k * 2]}).to_csv(
            tmp_path / f"part.{k}.tsv", sep="\t", index=False
        )
    table = _read_table(tmp_path)
    assert table["k"].tolist() == [1, 2, 10]
    (tmp_path / "semi.txt").write_text("x;y\n1;2\n3;4\n")
    assert _read_table(tmp_path / "semi.txt")["y"].tolist() == [2, 4]
    (tmp_path / "colon.dat").write_text("1::2\n3::4\n")
    assert _read_table(tmp_path / "colon.dat", names=["x", "y"])["y"].tolist() == [2, 4]


def test_headerless_file_hints_names(tmp_path):
    (tmp_path / "u.data").write_text("1\t10\t3\t881250949\n2\t10\t4\t881250950\n")
    with pytest.raises(ValueError, match=r"pass names="):
        load_interactions(
            tmp_path / "u.data", user_col="user_id", item_col="item_id", time_col="timestamp"
        )
    s = load_interactions(
        tmp_path / "u.data",
        user_col="user_id",
        item_col="item_id",
        time_col="timestamp",
        names=MOVIELENS_100K_NAMES,
    )
    assert s.n_plays == 2 and s.n_users == 2


# ----------------------------------------------------------- load_sessions
def test_load_sessions_order_users_and_timing(tmp_path):
    frame = pd.DataFrame(
        {
            "sess": ["b", "a", "b", "a", "b", "c"],
            "song": [30, 10, 20, 20, 10, 30],
            "pos": [3, 2, 1, 1, 3, 1],
            "user": ["u2", "u1", "u2", "u1", "u2", "u1"],
            "skip": ["True", "False", "false", "TRUE", "True", "False"],
        }
    )
    frame.to_csv(tmp_path / "s.csv", index=False)
    s = load_sessions(
        tmp_path / "s.csv", session_col="sess", item_col="song", timing_cols=("skip",)
    )
    # file order within session (stable)
    assert s.to_frame(original_ids=True)["item"].tolist() == [10, 20, 30, 20, 10, 30]
    np.testing.assert_array_equal(s.timing[:, 0], [0, 1, 1, 0, 1, 0])
    np.testing.assert_array_equal(s.session_user, [0, 1, 2])
    s = load_sessions(
        tmp_path / "s.csv", session_col="sess", item_col="song", order_col="pos", user_col="user"
    )
    f = s.to_frame(original_ids=True)
    # ties on pos (session b: 3, 3) keep file order
    assert f["item"].tolist() == [20, 10, 20, 30, 10, 30]
    assert f["user"].tolist() == ["u1", "u1", "u2", "u2", "u2", "u1"]
    np.testing.assert_array_equal(s.session_user, [0, 1, 0])
    assert s.n_users == 2 and s.n_sessions == 3
    # a string order column (ISO times) sorts as well
    frame.assign(pos=[f"2024-01-0{p}" for p in frame["pos"]]).to_csv(tmp_path / "t.csv")
    t = load_sessions(tmp_path / "t.csv", session_col="sess", item_col="song", order_col="pos")
    np.testing.assert_array_equal(t.item, s.item)
    frame.loc[0, "user"] = "u1"
    frame.to_csv(tmp_path / "conflict.csv", index=False)
    with pytest.raises(ValueError, match=r"user_col='user': 1 session"):
        load_sessions(
            tmp_path / "conflict.csv", session_col="sess", item_col="song", user_col="user"
        )
    with pytest.raises(ValueError, match=r"\['sesion'\] not found.*'sess'"):
        load_sessions(tmp_path / "s.csv", session_col="sesion", item_col="song")
    with pytest.raises(TypeError, match="timing_cols"):
        load_sessions(tmp_path / "s.csv", session_col="sess", item_col="song", timing_cols="skip")


@settings(max_examples=25, deadline=None)
@given(
    sessions=st.lists(st.integers(0, 5), min_size=1, max_size=40),
    data=st.data(),
)
def test_load_sessions_matches_pandas_groupby(tmp_path_factory, sessions, data):
    n = len(sessions)
    items = data.draw(st.lists(st.integers(-3, 6), min_size=n, max_size=n))
    weights = data.draw(st.lists(st.floats(-5, 5, width=32), min_size=n, max_size=n))
    frame = pd.DataFrame({"s": sessions, "i": items, "w": weights})
    path = tmp_path_factory.mktemp("h") / "t.parquet"
    frame.to_parquet(path)
    s = load_sessions(path, session_col="s", item_col="i", timing_cols=["w"])
    ref = frame.assign(row=np.arange(n)).sort_values(["s", "row"])
    assert s.to_frame(original_ids=True)["item"].tolist() == ref["i"].tolist()
    assert s.to_frame(original_ids=True)["session"].tolist() == ref["s"].tolist()
    np.testing.assert_array_equal(s.timing[:, 0], ref["w"].to_numpy(np.float32))
    np.testing.assert_array_equal(s.position, ref.groupby("s").cumcount().to_numpy())


# ------------------------------------------------------- load_interactions
def interactions_reference(frame: pd.DataFrame, gap: float | None) -> pd.DataFrame:
    f = frame.assign(row=np.arange(len(frame))).sort_values(["u", "t", "row"])
    diff = f.groupby("u")["t"].diff()
    new = diff.isna() | (diff > gap if gap is not None else False)
    f["session"] = new.cumsum() - 1
    f["dt"] = np.where(new, 0.0, diff.fillna(0.0))
    return f


@settings(max_examples=25, deadline=None)
@given(
    users=st.lists(st.sampled_from(["x", "y", "z", "w"]), min_size=1, max_size=40),
    data=st.data(),
    gap=st.one_of(st.none(), st.integers(1, 50)),
)
def test_load_interactions_matches_pandas(tmp_path_factory, users, data, gap):
    n = len(users)
    times = data.draw(st.lists(st.integers(0, 200), min_size=n, max_size=n))
    items = data.draw(st.lists(st.integers(0, 9), min_size=n, max_size=n))
    frame = pd.DataFrame({"u": users, "i": items, "t": times})
    path = tmp_path_factory.mktemp("h") / "e.csv"
    frame.to_csv(path, index=False)
    s = load_interactions(
        path,
        user_col="u",
        item_col="i",
        time_col="t",
        session_gap=gap,
        time_since_previous=True,
        hour_of_day=True,
    )
    ref = interactions_reference(frame, gap)
    out = s.to_frame(original_ids=True)
    assert out["item"].tolist() == ref["i"].tolist()
    assert out["user"].tolist() == ref["u"].tolist()
    np.testing.assert_array_equal(s.session, ref["session"].to_numpy())
    np.testing.assert_array_equal(s.timing[:, 0], ref["dt"].to_numpy(np.float32))
    hours = pd.to_datetime(ref["t"], unit="s", utc=True).dt.hour.to_numpy()
    np.testing.assert_array_equal(s.timing[:, 1], hours)
    assert s.timing_names == ("time_since_previous", "hour_of_day")
    # every session belongs to the user of its plays
    users_of_rows = pd.factorize(ref["u"], sort=True)[0]
    np.testing.assert_array_equal(s.session_user[s.session], users_of_rows)


def test_load_interactions_datetimes_and_gap_forms(tmp_path):
    frame = pd.DataFrame(
        {
            "user": ["a", "a", "a", "b", "b"],
            "item": ["m1", "m2", "m3", "m1", "m1"],
            "when": [
                "2024-01-01 10:00",
                "2024-01-01 10:20",
                "2024-01-01 12:00",
                "2024-01-02 23:59",
                "2024-01-03 00:10",
            ],
        }
    )
    frame.to_csv(tmp_path / "e.csv", index=False)
    kw = {"user_col": "user", "item_col": "item", "time_col": "when"}
    derived = {"time_since_previous": True, "hour_of_day": True}
    for gap in ("30min", pd.Timedelta(minutes=30), 1800):
        s = load_interactions(tmp_path / "e.csv", session_gap=gap, **kw, **derived)
        assert list(s.session_ids) == ["a#0", "a#1", "b#0"]
        np.testing.assert_array_equal(s.session_user, [0, 0, 1])
        np.testing.assert_array_equal(s.timing[:, 0], [0, 1200, 0, 0, 660])
        np.testing.assert_array_equal(s.timing[:, 1], [10, 10, 12, 23, 0])
    s = load_interactions(tmp_path / "e.csv", **kw)
    assert list(s.session_ids) == ["a", "b"] and s.n_sessions == 2
    with pytest.raises(ValueError, match="positive"):
        load_interactions(tmp_path / "e.csv", session_gap=-5, **kw)
    with pytest.raises(ValueError, match="session_gap"):
        load_interactions(tmp_path / "e.csv", session_gap="soon", **kw)
    with pytest.raises(TypeError, match="session_gap"):
        load_interactions(tmp_path / "e.csv", session_gap=[1], **kw)
    frame.assign(when=[1, 2, 3, 4, 5]).to_csv(tmp_path / "n.csv", index=False)
    with pytest.raises(ValueError, match="time_unit=None"):
        load_interactions(tmp_path / "n.csv", session_gap="1h", time_unit=None, **kw)
    s = load_interactions(
        tmp_path / "n.csv", session_gap=1, time_unit=None, time_since_previous=True, **kw
    )
    assert s.timing_names == ("time_since_previous",)
    with pytest.raises(ValueError, match="hour_of_day=True needs a calendar time"):
        load_interactions(tmp_path / "n.csv", time_unit=None, hour_of_day=True, **kw)
    frame.assign(when=["2024-01-01", None, "x", "y", "z"]).to_csv(tmp_path / "b.csv", index=False)
    with pytest.raises(ValueError, match=r"time_col='when': 1 row"):
        load_interactions(tmp_path / "b.csv", **kw)
    frame.assign(when=["2024-01-01", "when?", "x", "y", "z"]).to_csv(
        tmp_path / "c.csv", index=False
    )
    with pytest.raises(ValueError, match="cannot parse"):
        load_interactions(tmp_path / "c.csv", **kw)


def test_load_interactions_derives_timing_only_when_asked(tmp_path):
    frame = pd.DataFrame(
        {"u": [1, 1, 2, 2], "i": [5, 6, 5, 7], "t": [100, 160, 50, 3650], "r": [4, 3, 5, 1]}
    )
    frame.to_csv(tmp_path / "e.csv", index=False)
    kw = {"user_col": "u", "item_col": "i", "time_col": "t"}
    plain = load_interactions(tmp_path / "e.csv", **kw)
    assert plain.timing_names == () and plain.timing.shape == (4, 0)
    s = load_interactions(tmp_path / "e.csv", timing_cols=("r",), hour_of_day=True, **kw)
    assert s.timing_names == ("hour_of_day", "r")
    np.testing.assert_array_equal(s.timing[:, 0], [0, 0, 0, 1])
    np.testing.assert_array_equal(s.timing[:, 1], [4, 3, 5, 1])
    s = load_interactions(tmp_path / "e.csv", time_since_previous=True, **kw)
    np.testing.assert_array_equal(s.timing[:, 0], [0, 60, 0, 3600])
    with pytest.raises(TypeError, match="time_since_previous must be True or False"):
        load_interactions(tmp_path / "e.csv", time_since_previous="yes", **kw)


def _reference_row_identifying(items, values):
    """Plain-Python share of rows whose song repeats but whose (song, value) does not."""
    songs = Counter(items)
    pairs = Counter(zip(items, values, strict=True))
    hits = sum(songs[i] > 1 and pairs[(i, v)] == 1 for i, v in zip(items, values, strict=True))
    return hits / len(items)


@settings(max_examples=40, deadline=None)
@given(
    items=st.lists(st.integers(0, 5), min_size=1, max_size=60),
    data=st.data(),
    min_distinct=st.integers(1, 6),
)
def test_row_identifying_timing_matches_plain_reference(items, data, min_distinct):
    n = len(items)
    values = data.draw(st.lists(st.integers(0, 40), min_size=n, max_size=n))
    coarse = [v % 3 for v in values]
    s = Sessions.from_codes(
        np.zeros(n, dtype=np.int64),
        np.asarray(items),
        np.column_stack([values, coarse]).astype(np.float32),
        ("fine", "coarse"),
    )
    got = row_identifying_timing(s, min_distinct=min_distinct, threshold=0.0)
    for name, col in (("fine", values), ("coarse", coarse)):
        if len(set(col)) <= min_distinct:
            assert name not in got
        else:
            assert got[name] == pytest.approx(_reference_row_identifying(items, col))


def test_row_identifying_timing_warns_from_every_loader(tmp_path):
    rng = np.random.default_rng(0)
    n = 400
    frame = pd.DataFrame(
        {
            "s": np.repeat(np.arange(40), 10),
            "i": rng.integers(0, 8, n),
            "t": np.cumsum(rng.integers(1, 10_000, n)),  # continuous, nearly unique
            "flag": rng.integers(0, 2, n),
        }
    )
    frame.to_csv(tmp_path / "plays.csv", index=False)
    kw = {"session_col": "s", "item_col": "i"}
    with pytest.warns(FidelityWarning, match=r"load_sessions: timing feature\(s\) 't' \("):
        load_sessions(tmp_path / "plays.csv", timing_cols=("t", "flag"), **kw)
    with warnings.catch_warnings():
        warnings.simplefilter("error", FidelityWarning)  # a flag is not reported
        load_sessions(tmp_path / "plays.csv", timing_cols=("flag",), **kw)
    ikw = {"user_col": "s", "item_col": "i", "time_col": "t"}
    with pytest.warns(FidelityWarning, match="load_interactions: .*'time_since_previous'"):
        load_interactions(tmp_path / "plays.csv", time_since_previous=True, **ikw)
    with warnings.catch_warnings():
        warnings.simplefilter("error", FidelityWarning)
        load_interactions(tmp_path / "plays.csv", hour_of_day=True, **ikw)


# -------------------------------------------------------------- real data
@pytest.mark.realdata
def test_real_mssd_reference_file(shared_data):
    path = shared_data / "mssd-mini-partial" / "from-christiansprecher" / "very_small.csv"
    s = load_mssd(path)
    raw = pd.read_csv(path)
    assert s.n_sessions == raw.session_id.nunique() == 11
    assert s.n_plays == len(raw) == 201
    with warnings.catch_warnings():
        warnings.simplefilter("error", FidelityWarning)  # no single-play session here
        assert s.observations().n_observations == 190
    assert s.timing_names == MSSD_TIMING_COLUMNS
    assert not np.isnan(s.timing).any()
    not_skipped = s.timing[:, s.timing_names.index("not_skipped")]
    ordered = raw.sort_values(["session_id", "session_position"])
    np.testing.assert_array_equal(not_skipped, ordered.not_skipped.astype(float))
    assert s.n_items == raw.track_id_clean.nunique()


@pytest.mark.realdata
def test_real_aidl_sample(shared_data):
    path = shared_data / "mssd-aidl-sessions-sample" / "mini-spotify-data.csv"
    s = load_sessions(path, session_col="user_id", item_col="song_id", timing_cols=("skipped",))
    raw = pd.read_csv(path)
    assert s.n_plays == len(raw) == 193_693
    assert s.n_sessions == raw.user_id.nunique() == 10_000
    assert s.n_items == raw.song_id.nunique() == 5_792
    assert s.observations().n_observations == 193_693 - 10_000
    # file order kept: previous_song chains to the previous play of the session
    f = s.to_frame(original_ids=True)
    prev = f.groupby("session")["item"].shift(1).fillna(-1).astype(int)
    np.testing.assert_array_equal(prev.to_numpy(), raw.previous_song.to_numpy())


@pytest.mark.realdata
def test_real_movielens(shared_data):
    path = shared_data / "movielens-100k" / "u.data"
    raw = pd.read_csv(path, sep="\t", header=None, names=list(MOVIELENS_100K_NAMES))
    s = load_interactions(
        path,
        user_col="user_id",
        item_col="item_id",
        time_col="timestamp",
        names=MOVIELENS_100K_NAMES,
    )
    assert s.n_plays == len(raw) == 100_000
    assert s.n_users == raw.user_id.nunique() == 943
    assert s.n_items == raw.item_id.nunique() == 1_682
    assert s.n_sessions == 943
    assert s.timing_names == ()
    with pytest.warns(FidelityWarning, match="'time_since_previous' \\(2[0-9]% of plays\\)"):
        timed = load_interactions(
            path,
            user_col="user_id",
            item_col="item_id",
            time_col="timestamp",
            names=MOVIELENS_100K_NAMES,
            time_since_previous=True,
            hour_of_day=True,
        )
    assert timed.timing_names == ("time_since_previous", "hour_of_day")
    g = load_interactions(
        path,
        user_col="user_id",
        item_col="item_id",
        time_col="timestamp",
        names=MOVIELENS_100K_NAMES,
        session_gap="1h",
    )
    assert g.n_users == 943 and g.n_plays == 100_000
    per_user = np.bincount(g.session_user[np.unique(g.session)])
    assert (per_user > 1).any()
    # reference count of sessions with plain pandas
    r = raw.sort_values(["user_id", "timestamp"], kind="stable")
    gap = r.groupby("user_id").timestamp.diff()
    assert g.n_sessions == int((gap.isna() | (gap > 3600)).sum())
