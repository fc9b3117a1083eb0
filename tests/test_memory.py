"""keep_freed_memory: applied only where fidelity owns the process, and switchable off."""

from __future__ import annotations

import platform
import subprocess
import sys

import pytest

glibc = pytest.mark.skipif(
    platform.system() != "Linux" or platform.libc_ver()[0] != "glibc",
    reason="the setting exists for glibc only",
)


def _run(code: str, **env: str) -> str:
    import os

    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, **env},
    )
    return result.stdout.strip()


@glibc
def test_keep_freed_memory_applies_once_and_can_be_switched_off():
    code = "from fidelity._memory import keep_freed_memory as k; print(k(), k())"
    assert _run(code) == "True True"
    assert _run(code, FIDELITY_KEEP_FREED_MEMORY="0") == "False False"


def test_importing_fidelity_leaves_malloc_alone():
    code = (
        "import fidelity, fidelity.experiment, fidelity.cli, fidelity._memory as m; "
        "print(m._applied)"
    )
    assert _run(code) == "False"


def test_cli_called_with_argv_leaves_the_process_alone(capsys):
    from fidelity import _memory
    from fidelity.cli import main

    before = _memory._applied
    assert main(["info", "--json"]) == 0  # the synthetic default
    assert capsys.readouterr().out.strip().startswith("{")
    assert _memory._applied == before
