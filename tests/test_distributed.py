"""Out-of-core MI and sweeps on a Dask LocalCluster: exactly the in-memory numbers."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fidelity._dask import get_client
from fidelity._validation import FidelityWarning
from fidelity.data import load_mssd, paper_filter
from fidelity.data.lazy import scan_mssd
from fidelity.data.lazy_filters import lazy_paper_filter
from fidelity.data.synthetic import make_sessions
from fidelity.data.synthetic_mssd import write_mssd_parquet
from fidelity.experiment import RESULT_COLUMNS, SweepGrid, run_sweep
from fidelity.histograms import ObservationHistogram
from fidelity.information import mutual_information
from fidelity.partitioned import partitioned_histogram, partitioned_mutual_information
from fidelity.split import hash_providers, split_by_hash

pytestmark = pytest.mark.dask


@pytest.fixture(scope="module")
def mssd_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("mssd")
    write_mssd_parquet(
        out, n_sessions=1200, partition_size=300, random_state=3, show_progress=False
    )
    return out


@pytest.fixture(scope="module")
def eager(mssd_dir):
    return load_mssd(mssd_dir)


def _same_estimate(got, want):
    assert got.plugin == want.plugin  # exactly, not approximately
    assert got.mi == want.mi
    assert got.corrected == want.corrected
    for name in ("n_adversary", "n_target", "n_users_adversary", "n_users_target", "n_values"):
        assert getattr(got, name) == getattr(want, name), name
    assert got.features == want.features


@pytest.mark.parametrize(
    "overlap, seed, features, bins",
    [
        (0.0, 0, ("item", "next_item"), None),
        (0.5, 7, ("item", "next_item"), None),
        (0.2, 1, ("item", "next_item", "not_skipped", "hour_of_day"), None),
        (0.0, 2, ("next_item", "hour_of_day"), {"hour_of_day": [6.0, 12.0, 18.0]}),
    ],
)
def test_partitioned_mi_equals_in_memory(client, mssd_dir, eager, overlap, seed, features, bins):
    kwargs = dict(overlap=overlap, random_state=seed)
    got = partitioned_mutual_information(
        scan_mssd(mssd_dir),
        features=features,
        timing_bins=bins,
        correction="miller-madow",
        **kwargs,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FidelityWarning)
        obs_a, obs_t = split_by_hash(eager.observations(), **kwargs)
    want = mutual_information(
        obs_a, obs_t, features=features, timing_bins=bins, correction="miller-madow"
    )
    _same_estimate(got, want)
    assert got.n_permutations == 0 and got.null_mean is None


def test_partitioned_mi_after_paper_filter(client, mssd_dir, eager):
    kwargs = dict(n_items=60, min_listened=10)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FidelityWarning)
        lazy = lazy_paper_filter(scan_mssd(mssd_dir), **kwargs)
        got = partitioned_mutual_information(lazy, random_state=4, prior=0.3)
        want = mutual_information(
            *split_by_hash(paper_filter(eager, **kwargs).observations(), random_state=4),
            prior=0.3,
            n_permutations=0,  # the null-less twin (the in-memory default now takes a null)
        )
    _same_estimate(got, want)


def test_partitioned_histogram_equals_in_memory(client, mssd_dir, eager):
    hist = partitioned_histogram(
        scan_mssd(mssd_dir), overlap=0.3, random_state=9, scheduler=client.scheduler.address
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FidelityWarning)
        want = ObservationHistogram.from_observations(
            *split_by_hash(eager.observations(), overlap=0.3, random_state=9)
        )
    np.testing.assert_array_equal(hist.keys, want.keys)
    np.testing.assert_array_equal(hist.counts_a, want.counts_a)
    np.testing.assert_array_equal(hist.counts_t, want.counts_t)
    assert hist.radices == want.radices


def test_partitioned_mi_refuses_data_dependent_bins(mssd_dir):
    with pytest.raises(ValueError, match="timing_bins"):
        partitioned_mutual_information(
            scan_mssd(mssd_dir), features=("item", "hour_of_day"), timing_bins=4
        )
    with pytest.raises(TypeError, match="LazySessions"):
        partitioned_mutual_information(make_sessions(10, 3, 20, random_state=0))


# ----------------------------------------------------------------------------- hash split
@settings(max_examples=25, deadline=None)
@given(
    n=st.integers(1, 400),
    overlap=st.floats(0.0, 1.0),
    seed=st.integers(0, 2**32),
)
def test_hash_providers_matches_its_definition(n, overlap, seed):
    ids = np.array([f"s{i}" for i in range(n)], dtype=object)
    in_a, in_t = hash_providers(ids, overlap=overlap, random_state=seed)
    # same seed, same split, whatever the order or chunking of the ids
    rev_a, rev_t = hash_providers(ids[::-1], overlap=overlap, random_state=seed)
    np.testing.assert_array_equal(in_a, rev_a[::-1])
    np.testing.assert_array_equal(in_t, rev_t[::-1])
    if overlap == 0.0:
        assert not (in_a & in_t).any()
        assert (in_a | in_t).all()
    # common users are a subset of A's, the others of T's half
    both = in_a & in_t
    assert both.sum() <= in_a.sum()


def test_hash_providers_fractions_and_seeds():
    ids = np.arange(20_000)
    in_a, in_t = hash_providers(ids, overlap=0.5, random_state=1)
    assert abs(in_a.mean() - 0.5) < 0.02 and abs(in_t.mean() - 0.5) < 0.02
    assert abs((in_a & in_t).sum() / in_a.sum() - 0.5) < 0.03
    other, _ = hash_providers(ids, overlap=0.5, random_state=2)
    assert (other != in_a).mean() > 0.4
    with pytest.raises(ValueError, match="random_state"):
        hash_providers(ids, random_state=None)
    with pytest.raises(ValueError, match="overlap"):
        hash_providers(ids, overlap=1.5)


# ----------------------------------------------------------------------------- sweeps
def test_sweep_on_dask_equals_local(client):
    obs = make_sessions(n_sessions=400, random_state=11).observations()
    grid = SweepGrid(
        overlaps=(0.0, 1.0),
        target_sizes=(50, 150),
        recommenders=("markov",),
        seeds=(0,),
        n_permutations=3,
        n_bootstrap=3,
    )
    local = run_sweep(obs, grid, show_progress=False)
    remote = run_sweep(obs, grid, scheduler=client.scheduler.address, show_progress=False)
    same_client = run_sweep(obs, grid, scheduler=client, show_progress=False)
    compared = [c for c in RESULT_COLUMNS if c != "elapsed_s"]
    for table in (remote, same_client):
        assert list(table.columns) == list(RESULT_COLUMNS)
        for col in compared:
            a, b = local[col].to_numpy(), table[col].to_numpy()
            assert (a == b)[~local[col].isna().to_numpy()].all(), col
            np.testing.assert_array_equal(local[col].isna(), table[col].isna())


def test_get_client_rejects_other_types():
    with pytest.raises(TypeError, match="scheduler"):
        get_client(8786)


def _open_clients() -> int:
    import gc

    from distributed import Client

    return sum(isinstance(o, Client) and o.status != "closed" for o in gc.get_objects())


def test_clients_opened_for_an_address_are_closed(client, mssd_dir):
    # A client left open keeps reconnecting in the background once its cluster is gone
    # (and touches the global `random` state doing so).
    before = _open_clients()
    lazy = scan_mssd(mssd_dir)
    lazy.item_vocabulary(scheduler=client.scheduler.address)
    partitioned_histogram(lazy, overlap=0.3, random_state=9, scheduler=client.scheduler.address)
    assert _open_clients() == before
