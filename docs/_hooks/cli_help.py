"""MkDocs hook: write the ``fidelity`` command's own ``--help`` texts into the CLI page.

A line ``<!-- fidelity-help: COMMAND -->`` in a page is replaced by the help of that
sub-command (``<!-- fidelity-help: -->`` for the top-level help), formatted by the real
argument parser at a fixed width, so the page always matches the code. A marker naming an
unknown command stops the build; a command that no marker shows is reported as a warning
(which ``mkdocs build --strict`` turns into an error), so a new command cannot go
undocumented.
"""

from __future__ import annotations

import argparse
import logging
import os
import re
from typing import Any

log = logging.getLogger("mkdocs.hooks.cli_help")

MARKER = re.compile(r"^<!-- fidelity-help: *(?P<command>[\w-]*) *-->$", flags=re.M)
WIDTH = "96"


def _parsers() -> dict[str, argparse.ArgumentParser]:
    from fidelity.cli import build_parser

    parser = build_parser()
    found = {"": parser}
    for action in parser._actions:  # argparse keeps sub-parsers in this action only
        if isinstance(action, argparse._SubParsersAction):
            found.update(action.choices)
    return found


def _help(parser: argparse.ArgumentParser) -> str:
    old = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = WIDTH  # argparse wraps at the terminal width it reads here
    try:
        return parser.format_help().rstrip()
    finally:
        if old is None:
            del os.environ["COLUMNS"]
        else:
            os.environ["COLUMNS"] = old


def on_page_markdown(markdown: str, page: Any, **kwargs: Any) -> str:
    if not MARKER.search(markdown):
        return markdown
    parsers = _parsers()
    shown: set[str] = set()

    def replace(match: re.Match[str]) -> str:
        command = match["command"]
        if command not in parsers:
            known = ", ".join(sorted(c for c in parsers if c))
            raise ValueError(
                f"{page.file.src_path}: no fidelity command {command!r} (known: {known})"
            )
        shown.add(command)
        return f"```text\n{_help(parsers[command])}\n```"

    markdown = MARKER.sub(replace, markdown)
    for command in sorted(set(parsers) - shown):
        name = command or "fidelity"
        log.warning("%s shows no help for the command %r", page.file.src_path, name)
    return markdown
