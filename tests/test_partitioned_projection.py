"""Out of core, only the columns a statistic needs are read, with the same numbers.

Parquet (column projection, ids from the dictionary) and CSV (``usecols``) give the MI of
the in-memory path exactly, after the paper's filter too; the reader reads the id, order,
song, ``session_length`` and the timing features asked for, nothing else.
"""

from __future__ import annotations

import functools
import warnings

import dask
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from fidelity._validation import FidelityWarning
from fidelity.data import load_mssd, paper_filter
from fidelity.data.lazy import (
    partition_observations,
    partition_provider_observations,
    scan_mssd,
)
from fidelity.data.lazy_filters import lazy_paper_filter
from fidelity.data.synthetic_mssd import write_mssd_parquet
from fidelity.information import mutual_information
from fidelity.partitioned import partitioned_mutual_information
from fidelity.split import split_by_hash
from fidelity.split.hashing import _hash_key, _hash_split, take_providers

pytestmark = pytest.mark.dask

ALWAYS = {"session_id", "session_position", "track_id_clean", "session_length"}


@pytest.fixture(scope="module")
def parquet_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("mssd-parquet")
    write_mssd_parquet(
        out, n_sessions=900, partition_size=300, random_state=11, show_progress=False
    )
    return out


@pytest.fixture(scope="module")
def csv_dir(parquet_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("mssd-csv")
    for k, path in enumerate(sorted(parquet_dir.glob("*.parquet"))):
        pd.read_parquet(path).to_csv(out / f"part-{k}.csv", index=False)
    return out


def _quiet(func, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FidelityWarning)
        return func(*args, **kwargs)


def _same(got, want):
    assert got.plugin == want.plugin  # exactly
    assert got.mi == want.mi
    for name in ("n_adversary", "n_target", "n_users_adversary", "n_users_target", "n_values"):
        assert getattr(got, name) == getattr(want, name), name


CASES = [
    (("item", "next_item"), None, 0.0, 0),
    (("item", "hour_of_day"), {"hour_of_day": [6.0, 12.0, 18.0]}, 0.3, 5),
    (("next_item", "not_skipped", "context_type"), None, 0.0, 2),
]


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
@pytest.mark.parametrize("features, bins, overlap, seed", CASES)
def test_projected_mi_equals_in_memory(
    client, parquet_dir, csv_dir, fmt, features, bins, overlap, seed
):
    folder = parquet_dir if fmt == "parquet" else csv_dir
    kwargs = dict(features=features, timing_bins=bins, overlap=overlap, random_state=seed)
    lazy = scan_mssd(folder)
    got = _quiet(partitioned_mutual_information, lazy, **kwargs)
    # the same code with the projection switched off (an opaque frame: every column read)
    full = _quiet(partitioned_mutual_information, lazy.with_frame(lazy.frame), **kwargs)
    obs = _quiet(load_mssd(folder).observations)
    want = mutual_information(
        *split_by_hash(obs, overlap=overlap, random_state=seed),
        features=features,
        timing_bins=bins,
        n_permutations=0,
    )
    _same(got, want)
    _same(full, want)


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_projected_mi_after_paper_filter(client, parquet_dir, csv_dir, fmt):
    folder = parquet_dir if fmt == "parquet" else csv_dir
    kwargs = dict(n_items=50, min_listened=10, contexts=["user_collection", "catalog"])
    lazy = _quiet(lazy_paper_filter, scan_mssd(folder), **kwargs)
    # the filter's own columns are kept, the others dropped
    projected = lazy.project(("hour_of_day",))
    assert set(projected.timing_names) == {"not_skipped", "context_type", "hour_of_day"}
    assert projected.timing_names == tuple(
        n for n in lazy.timing_names if n in set(projected.timing_names)
    )
    assert projected.reader.timing_cols == projected.timing_names
    got = _quiet(
        partitioned_mutual_information, lazy, random_state=3, features=("item", "next_item")
    )
    eager = _quiet(paper_filter, load_mssd(folder), **kwargs)
    want = mutual_information(
        *split_by_hash(_quiet(eager.observations), random_state=3), n_permutations=0
    )
    _same(got, want)


def _record_parquet_reads(monkeypatch):
    seen = []
    original = pq.ParquetFile.read

    def read(self, columns=None, **kwargs):
        seen.append(tuple(columns))
        return original(self, columns=columns, **kwargs)

    monkeypatch.setattr(pq.ParquetFile, "read", read)
    return seen


def _record_csv_reads(monkeypatch):
    seen = []
    original = pd.read_csv

    def read_csv(*args, **kwargs):
        if kwargs.get("usecols") is not None:
            seen.append(tuple(kwargs["usecols"]))
        return original(*args, **kwargs)

    monkeypatch.setattr(pd, "read_csv", read_csv)
    return seen


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_only_the_needed_columns_are_read(monkeypatch, parquet_dir, csv_dir, fmt):
    folder = parquet_dir if fmt == "parquet" else csv_dir
    lazy = scan_mssd(folder)
    seen = (
        _record_parquet_reads(monkeypatch) if fmt == "parquet" else _record_csv_reads(monkeypatch)
    )
    # in this process (the synchronous scheduler), so that the spy sees every read
    with dask.config.set(scheduler="synchronous"):
        _quiet(
            partitioned_mutual_information,
            lazy,
            features=("item", "hour_of_day"),
            timing_bins={"hour_of_day": [12.0]},
        )
    item_pass = [c for c in seen if set(c) == {"track_id_clean"}]
    main_pass = [c for c in seen if set(c) != {"track_id_clean"}]
    assert len(item_pass) == lazy.n_partitions
    assert len(main_pass) == lazy.n_partitions
    for columns in main_pass:
        assert set(columns) == ALWAYS | {"hour_of_day"}, columns
    # the unprojected table reads every default timing column
    seen.clear()
    lazy.frame.partitions[0].compute(scheduler="synchronous")
    assert set(seen[-1]) == ALWAYS | set(lazy.timing_names)
    assert len(lazy.timing_names) > 10


def test_projected_partition_equals_the_full_one(parquet_dir, csv_dir):
    for folder in (parquet_dir, csv_dir):
        lazy = scan_mssd(folder)
        keep = ("context_type", "hour_of_day")
        part = lazy.project(keep).frame.partitions[1].compute(scheduler="synchronous")
        full = lazy.frame.partitions[1].compute(scheduler="synchronous")
        dropped = [c for c in lazy.timing_names if c not in keep]
        pd.testing.assert_frame_equal(part, full.drop(columns=dropped))


def test_project_refuses_unknown_columns(parquet_dir):
    with pytest.raises(ValueError, match="timing_names"):
        scan_mssd(parquet_dir).project(("no_such_column",))
    with pytest.raises(ValueError, match="features"):
        partitioned_mutual_information(scan_mssd(parquet_dir), features=("item", "nope"))


def _mssd_table(parquet_dir, n_sessions: int) -> pd.DataFrame:
    """The whole first ``n_sessions`` sessions of a synthetic partition."""
    frame = pd.read_parquet(sorted(parquet_dir.glob("*.parquet"))[0])
    first = pd.unique(frame["session_id"])[:n_sessions]
    return frame[frame["session_id"].isin(first)].reset_index(drop=True)


def test_dictionary_columns_in_chunks_and_unused_values(client, parquet_dir, tmp_path):
    """Row groups with different dictionaries, values no row uses: the eager numbers."""
    frame = _mssd_table(parquet_dir, 120)
    table = pa.Table.from_pandas(frame, preserve_index=False)
    # ids as dictionary arrays whose dictionary holds a value no row uses
    for name in ("session_id", "track_id_clean"):
        values = table.column(name).to_pylist()
        dictionary = pa.array([*sorted(set(values)), "unused"])
        indices = pa.array([dictionary.to_pylist().index(v) for v in values], pa.int32())
        col = pa.DictionaryArray.from_arrays(indices, dictionary)
        table = table.set_column(table.schema.get_field_index(name), name, col)
    pq.write_table(table, tmp_path / "a.parquet", row_group_size=37)  # several chunks
    want = load_mssd(tmp_path)
    got = scan_mssd(tmp_path).to_sessions()
    np.testing.assert_array_equal(want.item_ids, got.item_ids)
    np.testing.assert_array_equal(want.session_ids, got.session_ids)
    np.testing.assert_array_equal(want.item, got.item)
    np.testing.assert_array_equal(want.session, got.session)
    np.testing.assert_array_equal(want.timing, got.timing)
    assert "unused" not in set(got.item_ids)
    mi = _quiet(partitioned_mutual_information, scan_mssd(tmp_path), random_state=1)
    ref = mutual_information(
        *split_by_hash(_quiet(want.observations), random_state=1), n_permutations=0
    )
    _same(mi, ref)


@pytest.mark.parametrize("bad", [None, " "])
def test_missing_or_empty_song_id_is_refused_as_eagerly(parquet_dir, tmp_path, bad):
    frame = _mssd_table(parquet_dir, 10)
    frame.loc[3, "track_id_clean"] = bad
    frame.to_parquet(tmp_path / "a.parquet", index=False)
    with pytest.raises(ValueError) as eager:
        load_mssd(tmp_path)
    with pytest.raises(ValueError) as lazy:
        scan_mssd(tmp_path).frame.compute(scheduler="synchronous")
    assert str(eager.value) in str(lazy.value) or "track_id_clean" in str(lazy.value)
    assert "track_id_clean" in str(lazy.value)


def test_the_filter_count_reads_only_its_columns(monkeypatch, parquet_dir):
    seen = _record_parquet_reads(monkeypatch)
    with dask.config.set(scheduler="synchronous"):
        _quiet(lazy_paper_filter, scan_mssd(parquet_dir), n_items=50, contexts=["catalog"])
    count_pass = [c for c in seen if set(c) != {"track_id_clean"}]
    assert count_pass and all(
        set(c) == ALWAYS | {"not_skipped", "context_type"} for c in count_pass
    ), count_pass


def test_provider_observations_equal_the_split_of_all(parquet_dir):
    """The split gathers each holder's rows alone, as take_providers on the whole partition."""
    lazy = _quiet(lazy_paper_filter, scan_mssd(parquet_dir), n_items=40, min_listened=10)
    key = _hash_key(6)
    for k in range(lazy.n_partitions):
        pdf = lazy.frame.partitions[k].compute(scheduler="synchronous")
        assert pdf["run"].any()  # sessions cut by the top-songs filter: several runs
        kwargs = dict(item_ids=lazy.item_ids, timing_names=lazy.timing_names)
        obs, n_single = partition_observations(pdf, **kwargs)
        split = functools.partial(_hash_split, overlap=0.4, key=key)
        want = take_providers(obs, *split(obs.user_ids))
        *got, got_single = partition_provider_observations(pdf, split, **kwargs)
        assert got_single == n_single
        for a, b in zip(want, got, strict=True):
            for name in ("user", "session", "item", "next_item", "timing", "user_ids"):
                np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)
            assert len(a.session_ids) == len(b.session_ids)
