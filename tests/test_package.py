"""The top-level namespace: every advertised name resolves."""

from __future__ import annotations

import subprocess
import sys

import pytest

import fidelity


@pytest.mark.parametrize("name", fidelity.__all__)
def test_every_public_name_resolves(name):
    assert getattr(fidelity, name) is not None


def test_unknown_name_is_an_attribute_error():
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        fidelity.nope  # noqa: B018


def test_import_is_light():
    code = "import sys, fidelity; print('numba' in sys.modules, 'implicit' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]
