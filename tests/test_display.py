"""The display mixin on a toy result: compact repr, notebook HTML, default to_frame."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pytest

from fidelity._display import Displayable, DisplayMixin, compact_repr, format_value, html_table


@dataclass(frozen=True)
class Inner:
    auc: float


@dataclass(frozen=True, eq=False)
class ToyResult(DisplayMixin):
    name: str
    n_users: int
    auc: float
    hits: np.ndarray
    inner: Inner
    levels: tuple[float, ...] = (0.001, 0.01)
    ci: dict[str, tuple[float, float]] = field(default_factory=dict)
    hidden: np.ndarray | None = field(default=None, repr=False)

    def summary(self) -> str:
        return f"The {self.name} attack tells members apart with AUC {self.auc:.2f}."

    def to_dict(self) -> dict[str, object]:
        return {"name": self.name, "n_users": self.n_users, "auc": self.auc, "note": "<b>&"}


def _toy(n: int = 1_000_000) -> ToyResult:
    rng = np.random.default_rng(0)
    return ToyResult(
        name="match",
        n_users=n,
        auc=0.7312345,
        hits=rng.random(n) < 0.5,
        inner=Inner(0.5),
        ci={"auc": (0.7, 0.75)},
        hidden=np.arange(3),
    )


def test_repr_writes_scalars_and_summarises_arrays_by_shape():
    text = repr(_toy())
    assert text == (
        "ToyResult(name='match', n_users=1000000, auc=0.7312, "
        "hits=array(shape=(1000000,), dtype=bool), inner=Inner(...), "
        "levels=(0.001, 0.01), ci={1 items})"
    )


def test_repr_is_short_whatever_the_array_size():
    small, large = repr(_toy(10)), repr(_toy(2_000_000))
    assert len(large) < 200
    assert len(large) - len(small) == 2 * (len("2000000") - len("10"))  # n_users and the shape


def test_dataclass_keeps_the_mixin_repr_but_a_class_of_its_own_wins():
    @dataclass
    class Own(DisplayMixin):
        x: np.ndarray

        def __repr__(self) -> str:
            return "own"

    @dataclass
    class Plain(DisplayMixin):
        x: np.ndarray

    assert repr(Own(np.zeros(3))) == "own"
    assert repr(Plain(np.zeros((2, 3)))) == "Plain(x=array(shape=(2, 3), dtype=float64))"


def test_fields_left_out_of_the_repr_stay_out():
    assert "hidden" not in repr(_toy(5))


def test_long_containers_and_strings_are_cut():
    @dataclass
    class Many(DisplayMixin):
        values: list[int]
        text: str
        frame: pd.DataFrame

    r = repr(Many(list(range(100)), "x" * 500, pd.DataFrame({"a": range(7)})))
    assert r.startswith("Many(values=list(len=100), text='xxx")
    assert "..." in r and len(r) < 150
    assert r.endswith("frame=DataFrame(shape=(7, 1)))")


def test_html_has_the_summary_and_an_escaped_table_of_the_scalars():
    page = _toy(5)._repr_html_()
    assert "<p>The match attack tells members apart with AUC 0.73.</p>" in page
    assert "<th style='text-align:left'>auc</th><td style='text-align:right'>0.7312</td>" in page
    assert "&lt;b&gt;&amp;" in page and "<b>&" not in page
    assert page.count("<tr>") == 4
    assert "<caption>ToyResult</caption>" in page


def test_default_to_frame_is_one_row_of_to_dict():
    frame = _toy(5).to_frame()
    assert list(frame.columns) == ["name", "n_users", "auc", "note"]
    assert len(frame) == 1
    assert frame.loc[0, "auc"] == pytest.approx(0.7312345)
    assert frame.loc[0, "n_users"] == 5


def test_a_result_without_summary_or_to_dict_says_which_is_missing():
    @dataclass
    class Bare(DisplayMixin):
        x: int

    with pytest.raises(NotImplementedError, match=r"Bare must implement summary\(\)"):
        Bare(1).summary()
    with pytest.raises(NotImplementedError, match=r"Bare must implement to_dict\(\)"):
        Bare(1).to_frame()


def test_toy_result_satisfies_the_protocol():
    assert isinstance(_toy(3), Displayable)
    assert not isinstance(Inner(0.1), Displayable)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (None, "None"),
        (True, "True"),
        (np.bool_(False), "False"),
        (3, "3"),
        (np.int64(12), "12"),
        (0.123456, "0.1235"),
        (np.float32(2.5), "2.5"),
        (1e-9, "1e-09"),
        (math.nan, "nan"),
        (math.inf, "inf"),
        ("label", "'label'"),
    ],
)
def test_format_value(value, text):
    assert format_value(value) == text


def test_plain_objects_show_their_public_attributes():
    class Obj:
        def __init__(self) -> None:
            self.a = 1.0
            self.b = np.ones((4, 2), dtype=np.float32)
            self._private = 3

    assert compact_repr(Obj()) == "Obj(a=1, b=array(shape=(4, 2), dtype=float32))"


def test_html_table_without_caption():
    table = html_table({"x": np.arange(3)})
    assert "<caption>" not in table
    assert "array(shape=(3,), dtype=int64)" in table
