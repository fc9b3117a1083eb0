"""The command's help: every option explained with its default, examples, fast start-up path."""

from __future__ import annotations

import argparse
import subprocess
import sys

import pytest

from fidelity.cli import COMMANDS, build_parser, main


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    (action,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return dict(action.choices)


def test_every_option_has_help_and_every_command_examples():
    for name, sub in _subparsers(build_parser()).items():
        missing = [a.option_strings for a in sub._actions if a.option_strings and not a.help]
        assert not missing, (name, missing)
        assert "examples:" in sub.format_help(), name


def test_defaults_are_shown_once():
    text = _subparsers(build_parser())["safe-session"].format_help()
    assert "(default: 0.1)" in text  # --tolerance
    assert "(default: 0.5)" in text  # --overlap
    assert "(default: None)" not in text and "(default: False)" not in text


def test_top_level_help_loads_no_numerical_library():
    code = (
        "import sys\n"
        "from fidelity.cli import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "heavy = [m for m in ('numpy', 'pandas', 'sklearn', 'numba') if m in sys.modules]\n"
        "print(heavy)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "[]", out.stdout
    for name in COMMANDS:
        assert name in out.stdout


def test_a_command_builds_only_its_own_options(capsys):
    parser = build_parser(only="info")
    subs = _subparsers(parser)
    assert any(a.option_strings == ["--data"] for a in subs["info"]._actions)
    assert not any(a.option_strings == ["--data"] for a in subs["attack"]._actions)
    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0
