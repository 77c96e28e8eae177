"""Run folders are safe: one writer at a time, ccsim's own marker, checks before work, a folder consistent at every
instant, clear messages for unusable output paths, and names shown on the terminal without control characters.

The concurrency tests start real ``ccsim run`` processes (the CLI's ``main`` with the fake backends of
``tests/conftest.py``); the file-system tests create the real condition (a read-only or full tmpfs, ``chattr +i``)
and skip, saying why, where it cannot be created.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

import experiments.files as files
from experiments.cli import main
from experiments.lock import LOCK_FILE, FolderLock, LockHeld
from experiments.run_dir import RUN_FORMAT, RunDirError, default_out_dir, replication_dir
from experiments.runner import run_experiment
from experiments.terminal import printable
from sim.config import Scenario
from sim.result import RunResult
from tests.conftest import FAKES, TINY_SCENARIO, fake_simulate, write_scenario

ROOT = Path(__file__).resolve().parents[2]
FRAMES = ("intervals", "staffing", "agents", "frt_hist")


def _experiment(scenario: Scenario, out: Path, n: int, *, seed: int = 3, **kwargs) -> object:
    backends = {**FAKES, **kwargs}
    return run_experiment(scenario, seed=seed, n_replications=n, out_dir=out, workers=1, progress=False, **backends)


def _tree(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _manifest(out: Path) -> dict:
    return json.loads((out / "manifest.json").read_text(encoding="utf-8"))


# ------------------------------------------------------------------------------------- real ccsim processes


def gated_simulate(scenario: Scenario, *, seed: int, replication: int = 0, **kwargs) -> RunResult:
    """Fake engine for subprocesses: announces itself in ``$CCSIM_TEST_GATE`` and waits there for a ``go`` file."""
    gate = Path(os.environ["CCSIM_TEST_GATE"])
    (gate / f"running-{os.getpid()}").touch()
    deadline = time.monotonic() + 60
    while not (gate / "go").exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    return fake_simulate(scenario, seed=seed, replication=replication, **kwargs)


_DRIVER = """
import sys
import experiments.runner as runner
from tests.conftest import fake_measure, fake_summarize
from tests.experiments.test_run_folders import gated_simulate
runner._default_simulate = lambda: gated_simulate
runner._default_measure = lambda: fake_measure
runner._default_summarize = lambda: fake_summarize
from experiments.cli import main
sys.exit(main(sys.argv[1:]))
"""


def _ccsim(gate: Path, *args: str) -> subprocess.Popen[str]:
    """``ccsim ARGS`` in a new process, with :func:`gated_simulate` as its engine."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "CCSIM_TEST_GATE": str(gate)}
    return subprocess.Popen(
        [sys.executable, "-c", _DRIVER, *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait_for(condition, what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


@pytest.fixture
def gate(tmp_path: Path) -> Path:
    folder = tmp_path / "gate"
    folder.mkdir()
    return folder


def _run_args(scenario: Path, out: Path, seed: int, n: int = 2) -> list[str]:
    return ["run", str(scenario), "--out", str(out), "--seed", str(seed), "-r", str(n), "--workers", "1"]


def test_second_run_into_a_busy_folder_is_refused_naming_the_holder(
    tiny_scenario_file: Path, tmp_path: Path, gate: Path
):
    out = tmp_path / "run"
    first = _ccsim(gate, *_run_args(tiny_scenario_file, out, seed=1), "--no-progress")
    try:
        _wait_for(lambda: (gate / f"running-{first.pid}").exists(), "the first run's first replication")
        # Another seed, and the same seed: both refused because the folder is busy, before any replication runs.
        for seed in (2, 1):
            second = _ccsim(gate, *_run_args(tiny_scenario_file, out, seed=seed))
            _, err = second.communicate(timeout=60)
            assert second.returncode == 2, err
            assert "is in use by another ccsim run" in err
            assert f"pid {first.pid}" in err
            assert "started 20" in err
            assert "Traceback" not in err
            assert not (gate / f"running-{second.pid}").exists()
        waiting = _ccsim(gate, *_run_args(tiny_scenario_file, out, seed=1, n=3), "--wait")
        time.sleep(1.0)
        assert waiting.poll() is None  # blocked on the lock, not refused
        (gate / "go").touch()
        _, err = first.communicate(timeout=60)
        assert first.returncode == 0, err
        _, err = waiting.communicate(timeout=60)
        assert waiting.returncode == 0, err
        assert "3 replications (2 reused)" in err
    finally:
        (gate / "go").touch()
        for proc in (first,):
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=60)
    manifest = _manifest(out)
    assert (manifest["seed"], manifest["replications"], manifest["status"]) == (1, [0, 1, 2], "complete")
    assert set(pd.read_parquet(out / "metrics.parquet")["seed"]) == {1}
    assert not (out / LOCK_FILE).exists()


def test_two_runs_started_together_never_mix(tiny_scenario_file: Path, tmp_path: Path, gate: Path):
    (gate / "go").touch()
    out = tmp_path / "run"
    procs = {seed: _ccsim(gate, *_run_args(tiny_scenario_file, out, seed=seed, n=4)) for seed in (1, 2)}
    results = {seed: (proc.communicate(timeout=120), proc.returncode) for seed, proc in procs.items()}
    codes = sorted(code for _, code in results.values())
    assert codes == [0, 2], results
    winner = next(seed for seed, (_, code) in results.items() if code == 0)
    loser_err = next(out_err[1] for out_err, code in results.values() if code == 2)
    assert "in use by another ccsim run" in loser_err or "results are never mixed" in loser_err
    assert _manifest(out)["seed"] == winner
    metrics = pd.read_parquet(out / "metrics.parquet")
    assert set(metrics["seed"]) == {winner}
    assert set(pd.read_csv(out / "summary.csv")["n"]) == {4}
    for rep in range(4):
        assert set(pd.read_parquet(replication_dir(out, rep) / "metrics.parquet")["seed"]) == {winner}


def test_lock_of_a_killed_run_is_released(tiny_scenario: Scenario, tiny_scenario_file: Path, tmp_path: Path, gate):
    out = tmp_path / "run"
    first = _ccsim(gate, *_run_args(tiny_scenario_file, out, seed=3))
    _wait_for(lambda: (gate / f"running-{first.pid}").exists(), "the first run's first replication")
    assert (out / LOCK_FILE).exists()
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=60)
    assert (out / LOCK_FILE).exists()  # left behind by kill -9, but no longer locked by anyone
    result = _experiment(tiny_scenario, out, 2, seed=3)
    assert result.reused == ()
    assert _manifest(out)["status"] == "complete"
    assert not (out / LOCK_FILE).exists()


def test_folder_lock_in_process(tmp_path: Path):
    with FolderLock(tmp_path, command=["me"]):
        holder = json.loads((tmp_path / LOCK_FILE).read_text())
        assert (holder["pid"], holder["command"]) == (os.getpid(), ["me"])
        with pytest.raises(LockHeld) as held, FolderLock(tmp_path):
            pass
        assert held.value.holder["pid"] == os.getpid()
    assert not (tmp_path / LOCK_FILE).exists()
    with FolderLock(tmp_path):  # free again
        pass


def test_run_refuses_a_locked_folder_in_process(tiny_scenario: Scenario, tmp_path: Path):
    out = tmp_path / "run"
    out.mkdir()
    with FolderLock(out), pytest.raises(RunDirError, match=f"in use by another ccsim run \\(pid {os.getpid()}"):
        _experiment(tiny_scenario, out, 1)
    assert list(out.iterdir()) == []


# ------------------------------------------------------------------------------ checks before work, marker


def test_scenario_and_seed_are_checked_before_any_work(
    tiny_scenario: Scenario, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    out = tmp_path / "run"
    _experiment(tiny_scenario, out, 1, seed=3)

    def no_work(*args, **kwargs):
        raise AssertionError("work started before the run directory was checked")

    monkeypatch.setattr("experiments.runner.scenario_replay", no_work)
    with pytest.raises(RunDirError, match="seed 3, not 4"):
        _experiment(tiny_scenario, out, 2, seed=4, simulate=no_work)


def test_manifest_carries_ccsims_marker(tiny_scenario: Scenario, tmp_path: Path):
    _experiment(tiny_scenario, tmp_path / "run", 1)
    manifest = _manifest(tmp_path / "run")
    assert manifest["format"] == RUN_FORMAT
    assert manifest["aggregated"] == manifest["replications"] == [0]


def test_manifest_without_the_marker_is_never_overwritten(tiny_scenario: Scenario, tmp_path: Path):
    out = tmp_path / "run"
    _experiment(tiny_scenario, out, 1)
    foreign = _manifest(out)
    del foreign["format"]  # everything else matches this scenario and seed
    (out / "manifest.json").write_text(json.dumps(foreign))
    before = _tree(out)
    with pytest.raises(RunDirError, match=r"not a ccsim run directory.*never overwritten"):
        _experiment(tiny_scenario, out, 2)
    assert _tree(out) == before


def test_foreign_manifest_in_an_otherwise_empty_folder_is_refused(tiny_scenario: Scenario, tmp_path: Path):
    (tmp_path / "manifest.json").write_text('{"tool": "someone else", "seed": 3}')
    with pytest.raises(RunDirError, match="not a ccsim run directory"):
        _experiment(tiny_scenario, tmp_path, 1)
    assert _tree(tmp_path) == {"manifest.json": b'{"tool": "someone else", "seed": 3}'}


def test_folder_with_only_a_killed_runs_lock_file_is_used(tiny_scenario: Scenario, tmp_path: Path):
    (tmp_path / LOCK_FILE).write_text('{"pid": 1}')
    (tmp_path / ".manifest.json.abcd_123.tmp").write_text("{")
    _experiment(tiny_scenario, tmp_path, 1)
    assert _manifest(tmp_path)["status"] == "complete"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_stale_temp_files_are_removed_on_resume(tiny_scenario: Scenario, tmp_path: Path):
    out = tmp_path / "run"
    _experiment(tiny_scenario, out, 2)
    stale = [out / ".summary.csv.k2j4_x9q.tmp", replication_dir(out, 1) / ".intervals.parquet.0a1b2c3d.tmp"]
    kept = [out / "notes.tmp", out / ".notes.tmp"]  # not write_atomic's names
    for path in (*stale, *kept):
        path.write_text("partial")
    _experiment(tiny_scenario, out, 3)
    assert [p.exists() for p in stale] == [False, False]
    assert [p.exists() for p in kept] == [True, True]


# ------------------------------------------------------------------------------ consistent at every instant


def _check_consistent(out: Path) -> int:
    """Assert the consistency rule of experiments.run_dir on the folder as it is now; return the revision."""
    if not (out / "manifest.json").exists():
        return 0
    manifest = _manifest(out)
    for rep in manifest["replications"]:
        folder = replication_dir(out, rep)
        for name in (*FRAMES, "metrics"):
            assert (folder / f"{name}.parquet").is_file(), (rep, name)
    aggregated = manifest["aggregated"]
    if manifest["status"] == "complete":
        assert aggregated == manifest["replications"]
    if aggregated is not None and (out / "metrics.parquet").exists():
        assert sorted(pd.read_parquet(out / "metrics.parquet")["replication"].unique()) == aggregated
        assert set(pd.read_csv(out / "summary.csv")["n"]) == {len(aggregated)}
        for name in FRAMES:
            assert sorted(pd.read_parquet(out / f"{name}.parquet")["replication"].unique()) == aggregated, name
    return manifest["revision"]


def test_extending_a_run_keeps_the_folder_consistent_at_every_instant(
    tiny_scenario: Scenario, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    out = tmp_path / "run"
    revisions: list[int] = []
    real_write_atomic = files.write_atomic

    def checked_write_atomic(path, writer):
        revisions.append(_check_consistent(out))
        written = real_write_atomic(path, writer)
        revisions.append(_check_consistent(out))
        return written

    monkeypatch.setattr(files, "write_atomic", checked_write_atomic)
    _experiment(tiny_scenario, out, 2)
    _experiment(tiny_scenario, out, 5)  # extend
    _experiment(tiny_scenario, out, 5, log=True)  # rewrite every replication, adding the contact log
    _experiment(tiny_scenario, out, 5)  # without the log: top-level contacts.parquet would be stale
    assert len(revisions) > 50
    assert revisions == sorted(revisions)
    assert not (out / "contacts.parquet").exists()
    assert _manifest(out)["status"] == "complete"


# ------------------------------------------------------------------------------ default folder from a name


@pytest.mark.parametrize(
    ("name", "folder"),
    [
        ("tiny", "tiny"),
        ("Black Friday / peak", "Black Friday _ peak"),
        ("../../etc", "_.._etc"),
        ("/etc/passwd", "_etc_passwd"),
        ("..\\windows", "_windows"),
        (".hidden", "hidden"),
        ("a\x1b[2Jb\nc", "a_[2Jb_c"),
        ("双十一 大促", "双十一 大促"),
    ],
)
def test_default_out_dir_stays_inside_runs(name: str, folder: str):
    assert default_out_dir(name) == Path("runs") / folder


@pytest.mark.parametrize("name", ["..", ".", " ", "", "x" * 300])
def test_default_out_dir_refuses_names_that_cannot_be_a_folder(name: str):
    with pytest.raises(RunDirError, match="pass --out"):
        default_out_dir(name)


def test_run_without_out_keeps_a_hostile_name_inside_runs(
    fake_backends: dict, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
):
    work = tmp_path / "work"
    work.mkdir()
    path = write_scenario(tmp_path / "s.yaml", {**TINY_SCENARIO, "name": "../../escaped"})
    monkeypatch.chdir(work)
    code = main(["run", str(path), "-r", "1", "--workers", "1"])
    err = capsys.readouterr().err
    if code == 2 and "escaped" in err and "runs" not in err:
        pytest.skip(f"the scenario name is refused by validation: {err.strip()}")
    assert code == 0, err
    assert (work / "runs" / "_.._escaped" / "manifest.json").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.yaml", "work"]


# ------------------------------------------------------------------------------ output paths that cannot work


def _run_cli(scenario: Path, out: Path, capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[int, str]:
    code = main(["run", str(scenario), "--out", str(out), "--workers", "1", "-r", "2", *extra])
    return code, capsys.readouterr().err


def _one_line_error(err: str, *words: str) -> None:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("ccsim: error: ")
    for word in words:
        assert word in lines[0], (word, err)


def test_out_under_a_regular_file(
    fake_backends: dict, tiny_scenario_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    (tmp_path / "file.txt").write_text("x")
    before = _tree(tmp_path)
    code, err = _run_cli(tiny_scenario_file, tmp_path / "file.txt" / "sub" / "run", capsys)
    assert code == 2
    _one_line_error(err, f"{tmp_path / 'file.txt'} is a file, not a folder")
    assert _tree(tmp_path) == before


def test_out_is_a_dangling_symlink(
    fake_backends: dict, tiny_scenario_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    (tmp_path / "link").symlink_to(tmp_path / "nowhere")
    code, err = _run_cli(tiny_scenario_file, tmp_path / "link", capsys)
    assert code == 2
    _one_line_error(err, str(tmp_path / "link"), "symbolic link", "does not exist")
    assert not (tmp_path / "nowhere").exists()
    code, err = _run_cli(tiny_scenario_file, tmp_path / "link" / "run", capsys)
    assert code == 2
    _one_line_error(err, "symbolic link", "does not exist")
    assert not (tmp_path / "nowhere").exists()


@contextlib.contextmanager
def _tmpfs(path: Path, options: str) -> Iterator[Path]:
    path.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(path)], capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({done.stderr.strip() or 'mount failed'}): needs root in a VM")
    try:
        yield path
    finally:
        subprocess.run(["umount", str(path)], check=False)


def _fill(folder: Path) -> Path:
    """Fill the file system of ``folder`` up to the last byte with one file; return it."""
    filler = folder / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o644)
    try:
        for size in (65536, 4096, 512, 1):
            with contextlib.suppress(OSError):
                while os.write(fd, b"\0" * size):
                    pass
    finally:
        os.close(fd)
    return filler


def test_out_on_a_read_only_file_system(
    fake_backends: dict, tiny_scenario_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    with _tmpfs(tmp_path / "ro", "ro,size=1m") as ro:
        code, err = _run_cli(tiny_scenario_file, ro / "run", capsys)
        assert code == 2
        _one_line_error(err, str(ro / "run"), "read-only file system")
        assert list(ro.iterdir()) == []


@pytest.fixture
def immutable(tmp_path: Path) -> Iterator[Path]:
    folder = tmp_path / "immutable"
    folder.mkdir()
    done = subprocess.run(["chattr", "+i", str(folder)], capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot make a folder immutable here ({done.stderr.strip()}): needs chattr, root, ext4/xfs")
    try:
        yield folder
    finally:
        subprocess.run(["chattr", "-i", str(folder)], check=False)


def test_out_in_or_at_an_immutable_folder(
    fake_backends: dict, tiny_scenario_file: Path, immutable: Path, capsys: pytest.CaptureFixture[str]
):
    for out in (immutable / "run", immutable):
        code, err = _run_cli(tiny_scenario_file, out, capsys)
        assert code == 2
        _one_line_error(err, str(immutable), "operation not permitted", "immutable")
        assert list(immutable.iterdir()) == []


def test_out_on_a_full_disk_writes_nothing(
    fake_backends: dict, tiny_scenario_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    with _tmpfs(tmp_path / "full", "size=256k") as full:
        _fill(full)
        code, err = _run_cli(tiny_scenario_file, full / "runs" / "x", capsys)
        assert code == 2
        _one_line_error(err, str(full / "runs" / "x"), "no space left on device")
        assert [p.name for p in full.iterdir()] == ["filler"]


def test_disk_full_mid_run_keeps_finished_replications_for_a_resume(
    fake_backends: dict,
    tiny_scenario: Scenario,
    tiny_scenario_file: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
):
    with _tmpfs(tmp_path / "disk", "size=2m") as disk:
        out = disk / "run"

        def filling_simulate(scenario: Scenario, *, seed: int, replication: int = 0, **kwargs) -> RunResult:
            if replication == 1:
                _fill(disk)
            return fake_simulate(scenario, seed=seed, replication=replication, **kwargs)

        monkeypatch.setattr("experiments.runner._default_simulate", lambda: filling_simulate)
        code, err = _run_cli(tiny_scenario_file, out, capsys, "--seed", "3")
        assert code == 2
        assert err.startswith(f"ccsim: error: cannot write {out / 'replications' / 'rep-0001'}")
        assert "no space left on device" in err
        assert "finished replications are kept" in err
        assert "Traceback" not in err
        assert not [p for p in out.rglob("*") if files.is_temp_file(p.name)]
        assert not (replication_dir(out, 1) / "metrics.parquet").exists()
        manifest = _manifest(out)
        assert (manifest["replications"], manifest["status"]) == ([0], "running")
        (disk / "filler").unlink()
        monkeypatch.setattr("experiments.runner._default_simulate", lambda: fake_simulate)
        code, err = _run_cli(tiny_scenario_file, out, capsys, "--seed", "3")
        assert code == 0, err
        assert "2 replications (1 reused)" in err
        fresh = _experiment(tiny_scenario, tmp_path / "fresh", 2, seed=3)
        pd.testing.assert_frame_equal(pd.read_parquet(out / "metrics.parquet"), fresh.metrics)


def test_unwritable_output_is_refused_before_the_replay_log_is_read_when_the_folder_is_foreign(
    tiny_scenario: Scenario, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    (tmp_path / "file").write_text("x")
    monkeypatch.setattr("experiments.runner.scenario_replay", lambda *a: pytest.fail("read the replay log first"))
    with pytest.raises(RunDirError, match="is a file, not a folder"):
        _experiment(tiny_scenario, tmp_path / "file" / "run", 1)


# ------------------------------------------------------------------------------ control characters


ESC_NAMES = {
    "channel": "voice\x1b[2J",
    "group": "agents\x9b31m",
    "target": "t\x1b]0;pwned\x07",
    "scenario": "tiny\u202eevil",
}


def test_names_are_printed_with_control_characters_escaped(
    fake_backends: dict, tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    # Validation refuses such names (they must be printable); the refusal quotes them, escaped, and the --out path
    # with its escape sequence is shown as text too.
    data = json.loads(json.dumps(TINY_SCENARIO))
    ch, group = ESC_NAMES["channel"], ESC_NAMES["group"]
    data["name"] = ESC_NAMES["scenario"]
    data["channels"] = {ch: data["channels"]["voice"]}
    data["arrivals"]["channels"] = {ch: data["arrivals"]["channels"]["voice"]}
    data["groups"] = {group: {**data["groups"]["agents"], "channels": [ch]}}
    data["targets"] = [{**data["targets"][0], "name": ESC_NAMES["target"], "channel": ch}]
    path = write_scenario(tmp_path / "esc.yaml", data)
    assert main(["run", str(path), "--out", str(tmp_path / "run\x1b[1m"), "--workers", "1", "-r", "2"]) == 2
    captured = capsys.readouterr()
    shown = captured.out + captured.err
    for char in ("\x1b", "\x9b", "\x07", "\u202e"):
        assert char not in shown, repr(char)
    assert printable(ESC_NAMES["channel"]) in shown  # voice\x1b[2J, as text
    assert "\\u202e" in shown


def test_error_messages_escape_control_characters(
    fake_backends: dict, tiny_scenario_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    (tmp_path / "f\x1b[31m").write_text("x")
    code, err = _run_cli(tiny_scenario_file, tmp_path / "f\x1b[31m" / "run\nfake line", capsys)
    assert code == 2
    assert "\x1b" not in err
    _one_line_error(err, "f\\x1b[31m", "run\\nfake line")


def test_every_error_message_is_escaped_at_the_edge(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    missing = tmp_path / "scenario\x1b[2J\x9b.yaml"  # quoted raw by the scenario loader's message
    assert main(["run", str(missing), "--out", str(tmp_path / "run")]) == 2
    err = capsys.readouterr().err
    assert "\x1b" not in err
    assert "\x9b" not in err
    assert "scenario\\x1b[2J\\x9b.yaml" in err


def test_printable_escapes_c0_c1_and_bidi_controls():
    assert printable("plain 中文 text") == "plain 中文 text"
    assert (
        printable("a\x00b\x1bc\x7fd\x85e\x9bf\u202eg\u2028h\ti")
        == "a\\x00b\\x1bc\\x7fd\\x85e\\x9bf\\u202eg\\u2028h\\ti"
    )
    assert printable("one\ntwo\x1b", keep_newlines=True) == "one\ntwo\\x1b"


def test_write_errors_name_the_file(tmp_path: Path):
    files.write_json(tmp_path / "missing" / "deeper" / "x.json", {})  # works: folders are created
    shutil.rmtree(tmp_path / "missing")
    (tmp_path / "missing").write_text("a file")
    with pytest.raises(files.OutputError) as raised:
        files.write_json(tmp_path / "missing" / "x.json", {})
    assert raised.value.errno in (errno.ENOTDIR, errno.EEXIST)
    assert str(raised.value).startswith(f"cannot write {tmp_path / 'missing' / 'x.json'}: ")
