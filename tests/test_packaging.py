"""The distribution as users get it: a wheel built from this tree, installed in a fresh venv.

The wheel is built offline (``pip wheel --no-deps --no-build-isolation``, with the
setuptools of the dev environment) from a copy of the sources, so the checkout is left
untouched. It is installed with ``--no-deps`` into a new virtual environment without pip
(this pip drives it through ``--python``). That venv sees the dev environment's
third-party packages through a ``.pth`` file pointing at a folder of symlinks that leaves
out every ``fidelity`` distribution and editable-install hook, so ``import fidelity`` there
can only find the installed wheel (checked by its ``__file__``).
"""

from __future__ import annotations

import email
import os
import shutil
import subprocess
import sys
import sysconfig
import tomllib
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
DIST = PYPROJECT["project"]["name"]
VERSION = PYPROJECT["project"]["version"]


def _run(*cmd: str | os.PathLike[str], cwd: Path, env: dict[str, str] | None = None) -> str:
    out = subprocess.run(
        [str(c) for c in cmd], cwd=cwd, env=env, capture_output=True, text=True, timeout=300
    )
    assert out.returncode == 0, f"{cmd} failed:\n{out.stdout}\n{out.stderr}"
    return out.stdout


def _hidden(name: str) -> bool:
    """Site-packages entries the fresh venv must not see: any fidelity dist or hook."""
    lower = name.lower()
    return lower.startswith(("fidelity", "__editable__"))


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    src = tmp_path_factory.mktemp("src")
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy2(ROOT / name, src / name)
    shutil.copytree(
        ROOT / "fidelity", src / "fidelity", ignore=shutil.ignore_patterns("__pycache__")
    )
    out = tmp_path_factory.mktemp("wheelhouse")
    _run(
        sys.executable,
        "-m",
        "pip",
        "wheel",
        "--no-deps",
        "--no-build-isolation",
        "--no-index",
        "--quiet",
        "--wheel-dir",
        out,
        src,
        cwd=src,
    )
    (built,) = out.glob("*.whl")
    return built


@pytest.fixture(scope="module")
def venv(tmp_path_factory, wheel) -> Path:
    root = tmp_path_factory.mktemp("venv")
    env_dir = root / "env"
    _run(sys.executable, "-m", "venv", "--without-pip", env_dir, cwd=root)
    python = env_dir / "bin" / "python"
    # the dev environment's third-party packages, without any fidelity
    deps = root / "deps"
    deps.mkdir()
    site = Path(sysconfig.get_paths()["purelib"])
    for entry in site.iterdir():
        if not _hidden(entry.name) and not entry.name.endswith(".pth"):
            (deps / entry.name).symlink_to(entry)
    env_site = Path(
        _run(
            python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])", cwd=root
        ).strip()
    )
    (env_site / "_fidelity_test_deps.pth").write_text(f"{deps}\n")
    _run(
        sys.executable,
        "-m",
        "pip",
        "--python",
        python,
        "install",
        "--no-deps",
        "--no-index",
        "--quiet",
        wheel,
        cwd=root,
    )
    return env_dir


def _clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}


def test_wheel_carries_the_license_and_the_type_marker(wheel):
    assert wheel.name.startswith(f"{DIST.replace('-', '_')}-{VERSION}-")
    with zipfile.ZipFile(wheel) as zf:
        names = zf.namelist()
        meta_name = next(n for n in names if n.endswith(".dist-info/METADATA"))
        meta = email.message_from_string(zf.read(meta_name).decode())
    assert "fidelity/py.typed" in names
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)
    assert meta["Name"] == DIST
    assert meta["License-Expression"] == "BSD-3-Clause"
    assert "Typing :: Typed" in meta.get_all("Classifier")


@pytest.mark.slow
def test_installed_wheel_shows_name_licence_urls_and_one_version(venv, tmp_path):
    python = venv / "bin" / "python"
    env = _clean_env()
    show = _run(
        sys.executable, "-m", "pip", "--python", python, "show", "--verbose", DIST,
        cwd=tmp_path, env=env,
    )  # fmt: skip
    fields: dict[str, list[str]] = {}
    for line in show.splitlines():
        key, sep, value = line.partition(":")
        if sep and not line.startswith(" "):
            fields.setdefault(key.strip(), []).append(value.strip())
    assert fields["Name"] == [DIST]
    assert fields["Version"] == [VERSION]
    assert fields["License-Expression"] == ["BSD-3-Clause"]
    assert Path(fields["Location"][0]).resolve().is_relative_to(venv.resolve())
    urls = PYPROJECT["project"]["urls"]
    url_lines = [ln.strip() for ln in show.splitlines() if ln.startswith("  ") and "http" in ln]
    for label, url in urls.items():
        assert f"{label}, {url}" in url_lines, (label, url_lines)

    code = (
        "import fidelity, importlib.metadata as m; "
        f"print(fidelity.__file__); print(fidelity.__version__); print(m.version({DIST!r}))"
    )
    where, version, meta_version = _run(python, "-c", code, cwd=tmp_path, env=env).split()
    assert Path(where).resolve().is_relative_to(venv.resolve())
    assert version == meta_version == VERSION
    assert (Path(where).parent / "py.typed").is_file()

    cli = _run(venv / "bin" / "fidelity", "--version", cwd=tmp_path, env=env)
    assert cli.split() == ["fidelity", VERSION]
