"""The built wheel works on its own: installed (not editable) in a fresh venv, run from outside the source tree.

Steps (once per session, in a temporary folder): copy the source tree (so that the build leaves no ``build/`` or
``*.egg-info`` in the checkout), ``pip wheel --no-deps`` it, create a venv without pip, install the wheel with its
dependencies at the exact versions of ``requirements.lock`` (``-c``: only what the wheel needs, not the dev
tools), then from a folder outside the repository run the installed ``ccsim`` script: ``scenarios``, and
``validate`` and ``run -r 1`` on every bundled scenario, with ``CCSIM_DATA`` pointing at the data folder.

Costs: the install needs the package index (pip reaches it over the network or a local mirror) and writes
~400 MB, so everything goes to a RAM-backed tmpfs (``/dev/shm``) when there is one: on a slow disk, installing
then deleting the venv took 13 s + 19 s there against 7 s + 0.1 s in tmpfs. ``--no-compile`` skips
byte-compiling all of scipy/pandas (30 s more); the ccsim commands run with bytecode writing on instead, so the
modules they import are compiled once, into the throwaway venv. The scenario runs dominate (12 x validate + run,
up to 4 at a time). The module is marked ``slow``: ``make test`` runs it, ``make test-fast`` does not.
"""

from __future__ import annotations

import concurrent.futures
import functools
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from importlib import metadata
from pathlib import Path

import pytest

from experiments import load_scenario
from experiments.replay import data_dir, resolve_log_path

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]
SCENARIO_DIR = REPO / "experiments" / "scenarios"
BUNDLED = sorted(p.stem for p in SCENARIO_DIR.glob("*.yaml"))
"""Scenario names as in the source tree; the installed ``ccsim scenarios`` must list exactly these."""

_NOT_SOURCE = shutil.ignore_patterns(
    ".git", ".venv", "venv", "runs", "build", "dist", "*.egg-info", "__pycache__", ".*_cache", ".hypothesis"
)


def _run(cmd: list[str | Path], *, timeout: float = 600, **kwargs) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(c) for c in cmd], capture_output=True, text=True, timeout=timeout, **kwargs)


def _check(proc: subprocess.CompletedProcess[str], what: str) -> None:
    assert proc.returncode == 0, f"{what} failed ({proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"


def _version(dist: str) -> tuple[int, ...]:
    try:
        return tuple(int(part) for part in metadata.version(dist).split(".")[:2])
    except (metadata.PackageNotFoundError, ValueError):
        return ()


@functools.cache
def _missing_data(name: str) -> Path | None:
    """The replay log a bundled scenario needs if it is absent, else None."""
    scenario, base_dir = load_scenario(SCENARIO_DIR / f"{name}.yaml")
    if scenario.arrivals.kind != "replay":
        return None
    path = resolve_log_path(scenario.arrivals.path, base_dir)
    return None if path.is_file() else path


def _build_wheel(tmp: Path) -> Path:
    src, dist = tmp / "src", tmp / "dist"
    shutil.copytree(REPO, src, ignore=_NOT_SOURCE)
    cmd = [sys.executable, "-m", "pip", "wheel", "--no-deps", "-w", dist, "."]
    if _version("setuptools") >= (68,):  # the build backend is here already: no isolated build env to install
        cmd.insert(4, "--no-build-isolation")
    _check(_run(cmd, cwd=src), "pip wheel")
    (wheel,) = dist.glob("ccsim-*.whl")
    return wheel


def _make_venv(tmp: Path, wheel: Path) -> Path:
    venv = tmp / "venv"
    lock = ["-c", REPO / "requirements.lock"]
    install = ["install", "--no-compile", "--disable-pip-version-check", *lock, wheel]
    if _version("pip") >= (22, 3):  # drive the new venv with this pip: no ensurepip (~8 s)
        _check(_run([sys.executable, "-m", "venv", "--without-pip", venv]), "venv")
        cmd = [sys.executable, "-m", "pip", "--python", venv / "bin" / "python", *install]
    else:
        _check(_run([sys.executable, "-m", "venv", venv]), "venv")
        cmd = [venv / "bin" / "python", "-m", "pip", *install]
    _check(_run(cmd), "pip install of the wheel (needs the package index)")
    return venv


def _scratch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh folder, in RAM-backed ``/dev/shm`` if it has room (fast to fill and delete), else pytest's tmp."""
    shm = Path("/dev/shm")
    try:
        if shm.is_dir() and os.access(shm, os.W_OK) and shutil.disk_usage(shm).free > 2 * 1024**3:
            return Path(tempfile.mkdtemp(prefix="ccsim-packaging-", dir=shm))
    except OSError:
        pass
    return tmp_path_factory.mktemp("packaging")


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory):
    """``(venv, workdir, env, timings, wheel)``: the wheel installed in a fresh venv, and a folder outside the repo."""
    tmp = _scratch(tmp_path_factory)
    timings: dict[str, float] = {}
    t = time.perf_counter()
    wheel = _build_wheel(tmp)
    timings["wheel"] = time.perf_counter() - t
    t = time.perf_counter()
    venv = _make_venv(tmp, wheel)
    timings["venv+install"] = time.perf_counter() - t
    workdir = tmp / "outside"
    workdir.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV", "CCSIM_"))}
    env.update(CCSIM_DATA=str(data_dir()), PATH=f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}")
    yield venv, workdir, env, timings, wheel
    print(f"\npackaging timings (s): {json.dumps({k: round(v, 1) for k, v in timings.items()})}")
    shutil.rmtree(tmp, ignore_errors=True)  # a venv with scipy & co is ~400 MB


def _ccsim(installed, *args: str | Path) -> subprocess.CompletedProcess[str]:
    venv, workdir, env, _, _ = installed
    return _run([venv / "bin" / "ccsim", *args], cwd=workdir, env=env)


@pytest.fixture(scope="module")
def scenario_runs(installed) -> dict[str, tuple[subprocess.CompletedProcess[str], ...]]:
    """``ccsim validate NAME`` and ``ccsim run NAME -r 1`` of every bundled scenario with its data, in parallel."""
    _, workdir, _, timings, _ = installed

    def one(name: str) -> tuple[subprocess.CompletedProcess[str], ...]:
        validate = _ccsim(installed, "validate", name)
        out = workdir / "runs" / name
        run = _ccsim(installed, "run", name, "-r", "1", "--seed", "1", "--workers", "1", "--no-progress", "--out", out)
        return validate, run

    names = [name for name in BUNDLED if _missing_data(name) is None]
    _ccsim(installed, "--help")  # compiles the common imports once, before the parallel runs
    t = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(max_workers=min(4, os.cpu_count() or 2)) as pool:
        results = dict(zip(names, pool.map(one, names), strict=True))
    timings["validate+run all"] = time.perf_counter() - t
    return results


def test_wheel_ships_every_bundled_scenario_file(installed) -> None:
    *_, wheel = installed
    with zipfile.ZipFile(wheel) as zf:
        shipped = {name for name in zf.namelist() if name.startswith("experiments/scenarios/")}
    expected = {f"experiments/scenarios/{p.name}" for p in SCENARIO_DIR.iterdir() if p.is_file()}
    assert expected - shipped == set(), "scenario files missing from the wheel (see package-data in pyproject.toml)"


def test_installed_package_is_imported_from_the_venv_not_the_repo(installed) -> None:
    venv, workdir, env, _, _ = installed
    code = (
        "import json, sysconfig, sim, policies, experiments, experiments.cli; "
        "print(json.dumps([sysconfig.get_paths()['purelib'], sim.__file__, policies.__file__, experiments.__file__]))"
    )
    proc = _run([venv / "bin" / "python", "-c", code], cwd=workdir, env=env)
    _check(proc, "import in the venv")
    purelib, *files = (Path(p).resolve() for p in json.loads(proc.stdout))
    assert purelib.is_relative_to(venv.resolve())
    for file in files:
        assert file.is_relative_to(purelib), f"{file} is not in the venv's site-packages {purelib}"
        assert not file.is_relative_to(REPO), f"{file} comes from the source tree"


def test_installed_ccsim_lists_the_bundled_scenarios(installed) -> None:
    proc = _ccsim(installed, "scenarios")
    _check(proc, "ccsim scenarios")
    # Rich table without a box: one row per scenario, " name   description", continuation lines indented.
    listed = [line.split()[0] for line in proc.stdout.splitlines()[1:] if line[:1] == " " and line[1:2].strip()]
    assert listed == BUNDLED


@pytest.mark.parametrize("name", BUNDLED)
def test_installed_ccsim_validates_and_runs(installed, scenario_runs, name: str) -> None:
    missing = _missing_data(name)
    if missing is not None:
        pytest.skip(f"{name} replays {missing}, which is absent: set CCSIM_DATA to the data folder")
    validate, run = scenario_runs[name]
    _check(validate, f"ccsim validate {name}")
    assert validate.stdout.startswith("OK ")
    _check(run, f"ccsim run {name}")
    out = installed[1] / "runs" / name
    assert (out / "summary.csv").is_file(), f"no summary.csv in {sorted(p.name for p in out.iterdir())}"
    assert (out / "manifest.json").is_file()
