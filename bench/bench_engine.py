"""Engine benchmark: contacts per second of ccsim next to a minimal SimPy model and Ciw; memory; whole processes.

Workload (the same for all three): M/M/c+M with 50 agents, exponential handle time of mean 5 min, load 0.9
(lambda = 0.15/s), exponential patience of mean 10 min, ~200,000 contacts, no contact log. Also: ccsim on one
simulated week of the bundled e-commerce center, once on the plain core (``ecommerce_fifo``) and once with its
policies (``ecommerce_24x7``: chat bot, priority routing with aging, skills, refund authority and team leads),
and peak memory (max RSS of a fresh process) for 1,000,000 contacts with and without the contact log, and for
250,000 without (to show it does not grow).

Timing: each model runs ``--repeat`` times, interleaved with the others (ccsim, SimPy, Ciw, ccsim, ...), and the
best run of each is reported. Speeds are contacts per second of *CPU time* of the process (``time.process_time``),
which a busy or shared machine disturbs far less than wall time; wall times are printed as well.

Whole processes (``--process-contacts``, default 1,000,000; 0 skips): the CPU time of the complete
``ccsim run <scenario> -r 1 --workers 1 --seed 1 --out <tmp>`` process (imports, scenario loading, simulation,
metrics and output writing included) on a generated M/M/50+M scenario of about that many contacts (handle exp
300 s, load 0.95, patience exp 600 s, no log; the YAML is written to a temporary folder), next to the CPU time of
a process that runs the minimal SimPy model on as many contacts (``python -c`` importing this file: numpy, simpy
and the standard library). Best of ``--process-repeat`` interleaved runs; the acceptance is ccsim <= 1/3.5 of
SimPy. CPU is user + sys of the process *and its descendants*, from ``getrusage(RUSAGE_CHILDREN)`` deltas. This
process makes itself a child subreaper (Linux ``prctl``) and reaps what the measured process leaves behind:
with ``--workers`` > 1 the runner's pool forks its workers from a multiprocessing forkserver, which is orphaned
when ccsim exits, so its CPU (all the workers') would otherwise be lost (measured: 1.6 s counted instead of 6.2 s
for ``-r 4 --workers 2``). With ``-r 1 --workers 1`` ccsim simulates in its own process. Measured processes run
with bytecode caching on, after one unmeasured warm-up, so compiling ccsim's sources is not counted.

Comparison (``--compare REV``): checks REV out into a temporary ``git worktree`` (removed afterwards) and runs the
same engine workloads for the old tree and this one, interleaved, each in a child process that imports ccsim
from its own tree (``PYTHONPATH``): the core M/M/c+M workload (``--contacts``), ``ecommerce_fifo`` and the
flagship ``ecommerce_24x7`` week. It reports contacts per CPU-second of the simulation (imports and loading
excluded) for both, the ratio new/old of the best runs and the median of the per-round ratios, then the
process CPU of ``ccsim --help`` and of ``ccsim run erlang_c_textbook -r 1 --workers 1`` for both (start-up).
Children use only API that both trees have: ``experiments.load_scenario`` and
``experiments.simulate_scenario(scenario, seed=, replication=, log=False)`` (``base_dir`` passed only if the
signature has it); contacts are ``result.stats["n_arrivals"]``, else the ``offered`` sum of the intervals frame.
Comparing a commit with itself measures the noise: on a shared 2-core machine at load 3-5, the best-of-7 ratios
of identical engine code came out 0.97-1.04 and single rounds 0.78-1.30, so judge a 5% criterion on a quiet
machine, with ``--repeat`` 7 or more, and look at both the best-run ratio and the median of the paired rounds.

Run: ``make bench`` (standard report), ``make bench-compare REV=<commit>``, or
``.venv/bin/python bench/bench_engine.py [--quick] [--json out.json] [--process-contacts N] [--compare REV]``.
ccsim is imported from the tree this file is in (not from wherever the venv's editable install points).
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import inspect
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import simpy

N_AGENTS = 50
HANDLE_S = 300.0
PATIENCE_S = 600.0
LOAD = 0.9
RATE = LOAD * N_AGENTS / HANDLE_S  # arrivals per second
PROCESS_LOAD = 0.95
PROCESS_RATE = PROCESS_LOAD * N_AGENTS / HANDLE_S

REPO = Path(__file__).resolve().parents[1]
CCSIM_MAIN = "import sys; from experiments.cli import main; sys.exit(main())"
"""What the ``ccsim`` console script runs; ``python -c CCSIM_MAIN ARGS`` is ``ccsim ARGS`` from the tree on the path."""


def mmcm_scenario(n_contacts: int, load: float = LOAD, name: str = "bench_mmcm"):
    """The benchmark workload as a ccsim scenario with about ``n_contacts`` arrivals."""
    from sim.config import single_queue

    rate = load * N_AGENTS / HANDLE_S
    return single_queue(
        arrival_rate_per_s=rate,
        mean_handle_s=HANDLE_S,
        n_agents=N_AGENTS,
        mean_patience_s=PATIENCE_S,
        horizon=f"{n_contacts / rate:.0f}s",
        name=name,
    )


def bench_ccsim(n_contacts: int, seed: int = 1) -> dict:
    """ccsim end to end (arrival generation, simulation, frames), streaming mode."""
    from sim import run

    sc = mmcm_scenario(n_contacts)
    t, cpu = time.perf_counter(), time.process_time()
    result = run(sc, seed=seed, log=False)
    wall, cpu = time.perf_counter() - t, time.process_time() - cpu
    iv = result.intervals
    n = int(result.stats["n_arrivals"])
    return {
        "contacts": n,
        "wall_s": wall,
        "cpu_s": cpu,
        "contacts_per_s": n / cpu,
        "abandon_rate": float(iv.abandoned.sum() / iv.offered.sum()),
    }


def bench_simpy_minimal(n_contacts: int, seed: int = 1, rate: float = RATE) -> dict:
    """Minimal process-per-customer SimPy model: request a Resource, or leave when patience runs out."""
    rng = np.random.default_rng(seed)
    gaps = rng.exponential(1 / rate, n_contacts).tolist()
    handles = rng.exponential(HANDLE_S, n_contacts).tolist()
    patiences = rng.exponential(PATIENCE_S, n_contacts).tolist()
    env = simpy.Environment()
    agents = simpy.Resource(env, capacity=N_AGENTS)
    counts = {"served": 0, "abandoned": 0}

    def customer(i):
        with agents.request() as req:
            got = yield req | env.timeout(patiences[i])
            if req in got:
                yield env.timeout(handles[i])
                counts["served"] += 1
            else:
                counts["abandoned"] += 1

    def source():
        for i in range(n_contacts):
            yield env.timeout(gaps[i])
            env.process(customer(i))

    env.process(source())
    t, cpu = time.perf_counter(), time.process_time()
    env.run()
    wall, cpu = time.perf_counter() - t, time.process_time() - cpu
    return {
        "contacts": n_contacts,
        "wall_s": wall,
        "cpu_s": cpu,
        "contacts_per_s": n_contacts / cpu,
        "abandon_rate": counts["abandoned"] / n_contacts,
    }


def bench_ciw(n_contacts: int, seed: int = 1) -> dict:
    """Ciw on the same M/M/c+M workload (reneging with exponential patience)."""
    import ciw

    network = ciw.create_network(
        arrival_distributions=[ciw.dists.Exponential(rate=RATE)],
        service_distributions=[ciw.dists.Exponential(rate=1 / HANDLE_S)],
        number_of_servers=[N_AGENTS],
        reneging_time_distributions=[ciw.dists.Exponential(rate=1 / PATIENCE_S)],
    )
    ciw.seed(seed)
    simulation = ciw.Simulation(network)
    t, cpu = time.perf_counter(), time.process_time()
    simulation.simulate_until_max_time(n_contacts / RATE)
    wall, cpu = time.perf_counter() - t, time.process_time() - cpu
    records = simulation.get_all_records()
    n = len(records) + len(simulation.nodes[1].all_individuals)
    reneged = sum(1 for r in records if r.record_type == "renege")
    return {
        "contacts": n,
        "wall_s": wall,
        "cpu_s": cpu,
        "contacts_per_s": n / cpu,
        "abandon_rate": reneged / max(len(records), 1),
    }


def bench_ecommerce(name: str, seed: int = 1) -> dict:
    """ccsim on a bundled e-commerce scenario (one simulated week) with its policies, streaming mode.

    ``ecommerce_24x7`` runs its bot (intent-based deflection), priority routing with aging, skills and refund
    authority limits with a team-lead pool; ``ecommerce_fifo`` is the same center on the plain core (every
    policy at its default, no bot, no approvals). The time includes building the policies from the registry.
    """
    from experiments.runner import simulate_scenario
    from experiments.scenario_files import load_scenario

    sc, base_dir = load_scenario(name)
    t, cpu = time.perf_counter(), time.process_time()
    result = simulate_scenario(sc, seed=seed, replication=0, log=False, base_dir=base_dir)
    wall, cpu = time.perf_counter() - t, time.process_time() - cpu
    n = int(result.stats["n_arrivals"])
    days = sc.horizon / 86400
    return {"contacts": n, "simulated_days": days, "wall_s": wall, "cpu_s": cpu, "contacts_per_s": n / cpu}


def _peak_memory_child(n_contacts: int, log: bool) -> None:
    from sim import run

    run(mmcm_scenario(n_contacts), seed=1, log=log)
    # VmHWM is this process's own peak (it restarts at exec); ru_maxrss keeps the parent's peak across fork+exec,
    # so it would report the benchmark process's size instead.
    try:
        with open("/proc/self/status") as fh:
            print(next(int(line.split()[1]) for line in fh if line.startswith("VmHWM:")))  # KiB
    except (OSError, StopIteration):
        print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)  # KiB on Linux


def peak_memory_mib(n_contacts: int, log: bool) -> float:
    """Max RSS (MiB) of a fresh process that simulates ``n_contacts`` contacts."""
    code = f"import bench.bench_engine as b; b._peak_memory_child({n_contacts}, {log})"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO, env=tree_env(REPO)
    )
    return int(out.stdout.strip().splitlines()[-1]) / 1024


# ------------------------------------------------------------------------------------ whole-process CPU time


def mmcm_data(n_contacts: int, load: float = LOAD, name: str = "bench_mmcm") -> dict:
    """The M/M/50+M workload as scenario data (:func:`mmcm_scenario`, dumped), for a YAML file."""
    from experiments.provenance import scenario_dict

    return _without_empty(scenario_dict(mmcm_scenario(n_contacts, load, name)))


def _without_empty(value: object) -> object:
    """Scenario data without ``None``, ``[]`` and ``{}`` entries (all defaults), so that ``--compare`` can give the
    same file to an older tree whose models lack the newer optional fields (``wrap_up``, ``plans``...)."""
    if isinstance(value, dict):
        kept = {k: _without_empty(v) for k, v in value.items()}
        return {k: v for k, v in kept.items() if v is not None and v != [] and v != {}}
    if isinstance(value, list):
        return [_without_empty(v) for v in value]
    return value


def write_scenario(folder: Path, data: dict) -> Path:
    """Write scenario data as a YAML file (JSON is YAML) and return its path."""
    path = folder / f"{data['name']}.yaml"
    path.write_text(json.dumps(data, indent=1), encoding="utf-8")
    return path


def tree_env(tree: Path) -> dict[str, str]:
    """Environment of a child that imports ccsim from ``tree``, with bytecode caching on."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONDONTWRITEBYTECODE")}
    env["PYTHONPATH"] = str(tree)
    return env


def become_subreaper() -> bool:
    """Make this process adopt orphaned descendants (Linux), so that their CPU time can be reaped and counted."""
    if not sys.platform.startswith("linux"):
        return False
    import ctypes

    pr_set_child_subreaper = 36
    return ctypes.CDLL(None, use_errno=True).prctl(pr_set_child_subreaper, 1, 0, 0, 0) == 0


def _reap_orphans(timeout_s: float = 60.0) -> int:
    """Wait for every remaining child (adopted orphans); return how many there were."""
    reaped, deadline = 0, time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            break
        if pid == 0:
            time.sleep(0.005)
        else:
            reaped += 1
    return reaped


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def process_cpu(cmd: list[str], *, cwd: Path, env: dict[str, str]) -> dict:
    """Run ``cmd`` to completion; CPU seconds (user + sys) of it and all its descendants, and wall seconds."""
    cpu, wall = _children_cpu(), time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    orphans = _reap_orphans()
    cpu, wall = _children_cpu() - cpu, time.perf_counter() - wall
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)!r} failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    return {"cpu_s": cpu, "wall_s": wall, "orphans": orphans}


def ccsim_process(tree: Path, args: list[str], scratch: Path) -> dict:
    """Process CPU of ``ccsim ARGS`` run from ``tree`` (cwd ``scratch``)."""
    return process_cpu([sys.executable, "-c", CCSIM_MAIN, *args], cwd=scratch, env=tree_env(tree))


def ccsim_run_process(tree: Path, scenario: str | Path, scratch: Path) -> dict:
    """Process CPU of ``ccsim run SCENARIO -r 1 --workers 1 --seed 1 --out <fresh dir>``, and its ``offered``."""
    out = Path(tempfile.mkdtemp(dir=scratch)) / "run"  # fresh: the same --out would resume instead of running
    args = ["run", str(scenario), "-r", "1", "--workers", "1", "--seed", "1", "--out", str(out)]
    result = ccsim_process(tree, args, scratch)
    with open(out / "summary.csv", newline="") as fh:
        offered = [row["mean"] for row in csv.DictReader(fh) if (row["metric"], row["scope"]) == ("offered", "all")]
    result["contacts"] = round(float(offered[0])) if offered else None
    shutil.rmtree(out.parent, ignore_errors=True)
    return result


def simpy_process(n_contacts: int, rate: float, scratch: Path) -> dict:
    """Process CPU of a fresh interpreter that imports this file (numpy, simpy) and runs the minimal model."""
    code = (
        f"import sys; sys.path.insert(0, {str(Path(__file__).parent)!r}); import bench_engine as b; "
        f"b.bench_simpy_minimal({n_contacts}, rate={rate!r})"
    )
    result = process_cpu([sys.executable, "-c", code], cwd=scratch, env=tree_env(REPO))
    result["contacts"] = n_contacts
    return result


def bench_processes(n_contacts: int, repeat: int) -> dict:
    """ccsim run vs minimal SimPy as whole processes, on ~``n_contacts`` contacts of M/M/50+M at load 0.95."""
    with tempfile.TemporaryDirectory(prefix="ccsim-bench-") as tmp:
        scratch = Path(tmp)
        scenario = write_scenario(scratch, mmcm_data(n_contacts, PROCESS_LOAD, name=f"bench_mm50m_{n_contacts}"))
        ccsim_run_process(REPO, "erlang_c_textbook", scratch)  # warm-up: writes ccsim's bytecode caches
        jobs = {
            "ccsim_run": lambda: ccsim_run_process(REPO, scenario, scratch),
            "simpy_minimal": lambda: simpy_process(n_contacts, PROCESS_RATE, scratch),
            "ccsim_help": lambda: ccsim_process(REPO, ["--help"], scratch),
            "import_cli": lambda: process_cpu(
                [sys.executable, "-c", "import experiments.cli"], cwd=scratch, env=tree_env(REPO)
            ),
        }
        runs: dict[str, list[dict]] = {key: [] for key in jobs}
        for _ in range(repeat):
            for key, job in jobs.items():
                runs[key].append(job())
    figures = {key: min(results, key=lambda r: r["cpu_s"]) for key, results in runs.items()}
    for key, results in runs.items():
        figures[key]["all_cpu_s"] = [round(r["cpu_s"], 2) for r in results]
    figures["ccsim_over_simpy_cpu"] = figures["ccsim_run"]["cpu_s"] / figures["simpy_minimal"]["cpu_s"]
    return figures


def print_processes(p: dict, n_contacts: int, repeat: int) -> None:
    run, simpy_ = p["ccsim_run"], p["simpy_minimal"]
    print(f"\nwhole processes, CPU = user + sys incl. descendants; best of {repeat} interleaved runs")
    print(f"  ccsim run M/M/{N_AGENTS}+M load {PROCESS_LOAD}, -r 1 --workers 1, no log: {run['contacts']:,} contacts, "
          f"{run['cpu_s']:.2f} s CPU, {run['wall_s']:.2f} s wall, orphans reaped {run['orphans']} "
          f"(all: {run['all_cpu_s']})")
    print(f"  minimal SimPy model process: {n_contacts:,} contacts, {simpy_['cpu_s']:.2f} s CPU, "
          f"{simpy_['wall_s']:.2f} s wall (all: {simpy_['all_cpu_s']})")
    print(f"  start-up alone: ccsim --help {p['ccsim_help']['cpu_s']:.2f} s CPU, "
          f"python -c 'import experiments.cli' {p['import_cli']['cpu_s']:.2f} s CPU")
    ratio = p["ccsim_over_simpy_cpu"]
    verdict = "met" if ratio <= 1 / 3.5 else "NOT met"
    print(f"  ccsim / SimPy process CPU: {ratio:.3f} (SimPy / ccsim = {1 / ratio:.2f}x); "
          f"acceptance <= 1/3.5 = {1 / 3.5:.3f}: {verdict}")


# ------------------------------------------------------------------------------------------ --compare REV


COMPARE_WORKLOADS: tuple[tuple[str, str], ...] = (
    ("core", "core M/M/50+M, load 0.9"),
    ("ecommerce_fifo", "ecommerce_fifo week (plain core)"),
    ("ecommerce_24x7", "ecommerce_24x7 week (flagship)"),
)


def _child(spec: dict) -> None:
    """In a child process whose ``sys.path`` starts with ``spec["tree"]``: time one simulation, print JSON."""
    cpu = time.process_time()
    import experiments
    from experiments import load_scenario

    import_cpu = time.process_time() - cpu
    scenario, base_dir = load_scenario(spec["scenario"])
    kwargs = {"base_dir": base_dir} if "base_dir" in inspect.signature(experiments.simulate_scenario).parameters else {}
    # A first replication untimed: lazy imports and caches are start-up (measured apart), not engine speed.
    experiments.simulate_scenario(scenario, seed=spec["seed"], replication=1, log=False, **kwargs)
    t, cpu = time.perf_counter(), time.process_time()
    result = experiments.simulate_scenario(scenario, seed=spec["seed"], replication=0, log=False, **kwargs)
    wall, cpu = time.perf_counter() - t, time.process_time() - cpu
    try:
        n, source = int(result.stats["n_arrivals"]), "stats.n_arrivals"
    except (AttributeError, KeyError, TypeError):
        n, source = int(result.intervals["offered"].sum()), "intervals.offered"
    out = {"contacts": n, "count_source": source, "cpu_s": cpu, "wall_s": wall, "import_cpu_s": import_cpu}
    print(json.dumps({**out, "contacts_per_s": n / cpu, "module": experiments.__file__}))


def run_child(tree: Path, scenario: str | Path) -> dict:
    spec = json.dumps({"tree": str(tree), "scenario": str(scenario), "seed": 1})
    proc = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "--child", spec],
        cwd=tree, env=tree_env(tree), capture_output=True, text=True,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"child for {tree} / {scenario} failed:\n{proc.stderr[-3000:]}")
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    if not Path(result["module"]).resolve().is_relative_to(tree.resolve()):
        raise RuntimeError(f"child imported ccsim from {result['module']}, not from {tree}")
    return result


def _git(*args: str) -> str:
    return subprocess.run(["git", "-C", str(REPO), *args], capture_output=True, text=True, check=True).stdout.strip()


@contextlib.contextmanager
def git_worktree(rev: str) -> Iterator[tuple[Path, str]]:
    """Check ``rev`` out into a temporary detached worktree; yield ``(path, label)``; remove it afterwards."""
    sha = _git("rev-parse", "--verify", f"{rev}^{{commit}}")
    tmp = Path(tempfile.mkdtemp(prefix="ccsim-bench-compare-"))
    tree = tmp / f"tree-{sha[:9]}"
    _git("worktree", "add", "--detach", "--quiet", str(tree), sha)
    try:
        yield tree, f"{sha[:9]} ({_git('log', '-1', '--format=%s', sha)[:60]})"
    finally:
        subprocess.run(["git", "-C", str(REPO), "worktree", "remove", "--force", str(tree)], capture_output=True)
        shutil.rmtree(tmp, ignore_errors=True)


def compare(rev: str, n_contacts: int, repeat: int) -> dict:
    """Old (``rev``) vs this tree: engine speed on the compare workloads and start-up, interleaved."""
    head = _git("rev-parse", "--short=9", "HEAD")
    new_label = head + (" + uncommitted changes" if _git("status", "--porcelain", "--untracked-files=no") else "")
    with git_worktree(rev) as (old_tree, old_label), tempfile.TemporaryDirectory(prefix="ccsim-bench-") as tmp:
        scratch = Path(tmp)
        core = write_scenario(scratch, mmcm_data(n_contacts, LOAD, name=f"bench_mmcm_{n_contacts}"))
        scenarios = {"core": core, "ecommerce_fifo": "ecommerce_fifo", "ecommerce_24x7": "ecommerce_24x7"}
        trees = {"old": old_tree, "new": REPO}
        for tree in trees.values():  # warm-up: bytecode caches of both trees
            ccsim_run_process(tree, "erlang_c_textbook", scratch)
        engine: dict[str, dict[str, list[dict]]] = {w: {"old": [], "new": []} for w, _ in COMPARE_WORKLOADS}
        startup: dict[str, dict[str, list[dict]]] = {k: {"old": [], "new": []} for k in ("help", "run_erlang_c")}
        for round_ in range(repeat):
            order = ("old", "new") if round_ % 2 == 0 else ("new", "old")  # alternate who goes first
            for workload, _ in COMPARE_WORKLOADS:
                for side in order:
                    engine[workload][side].append(run_child(trees[side], scenarios[workload]))
            for side in order:
                startup["help"][side].append(ccsim_process(trees[side], ["--help"], scratch))
                startup["run_erlang_c"][side].append(ccsim_run_process(trees[side], "erlang_c_textbook", scratch))
    figures: dict = {"rev": rev, "old": old_label, "new": new_label, "repeat": repeat, "engine": {}, "startup": {}}
    for workload, runs in engine.items():
        best = {side: max(rs, key=lambda r: r["contacts_per_s"]) for side, rs in runs.items()}
        paired = [n["contacts_per_s"] / o["contacts_per_s"] for o, n in zip(runs["old"], runs["new"], strict=True)]
        figures["engine"][workload] = {
            **{f"{side}_contacts_per_s": best[side]["contacts_per_s"] for side in runs},
            **{f"{side}_contacts": best[side]["contacts"] for side in runs},
            "ratio_best": best["new"]["contacts_per_s"] / best["old"]["contacts_per_s"],
            "ratio_median_paired": statistics.median(paired),
            "paired_ratios": [round(r, 3) for r in paired],
            "count_source": {side: best[side]["count_source"] for side in runs},
        }
    for key, runs in startup.items():
        best = {side: min(r["cpu_s"] for r in rs) for side, rs in runs.items()}
        figures["startup"][key] = {
            "old_cpu_s": best["old"], "new_cpu_s": best["new"], "ratio": best["new"] / best["old"],
            "old_all": [round(r["cpu_s"], 2) for r in runs["old"]],
            "new_all": [round(r["cpu_s"], 2) for r in runs["new"]],
        }
    return figures


def print_compare(f: dict, n_contacts: int) -> None:
    print(f"old: {f['old']}\nnew: {f['new']} (this tree)")
    print(f"best of {f['repeat']} interleaved child processes each; contacts per CPU-second of the simulation "
          "(imports and scenario loading excluded)")
    print(f"{'workload':<36}{'contacts':>10}{'old c/s':>11}{'new c/s':>11}{'new/old':>9}{'median':>8}  per round")
    for workload, label in COMPARE_WORKLOADS:
        e = f["engine"][workload]
        label = label.replace("core M/M/50+M", f"core M/M/50+M {n_contacts:,}")
        contacts = f"{e['new_contacts']:,}" + ("" if e["old_contacts"] == e["new_contacts"] else " (differ!)")
        print(f"{label:<36}{contacts:>10}{e['old_contacts_per_s']:>11,.0f}{e['new_contacts_per_s']:>11,.0f}"
              f"{e['ratio_best']:>9.3f}{e['ratio_median_paired']:>8.3f}  {e['paired_ratios']}")
    print("start-up, process CPU s (user + sys, best):")
    for key, label in (("help", "ccsim --help"), ("run_erlang_c", "ccsim run erlang_c_textbook -r 1 --workers 1")):
        s_ = f["startup"][key]
        print(f"  {label:<46} old {s_['old_cpu_s']:.2f}  new {s_['new_cpu_s']:.2f}  new/old {s_['ratio']:.3f}  "
              f"(old {s_['old_all']}, new {s_['new_all']})")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--contacts", type=int, default=200_000, help="contacts on the M/M/c+M workload")
    parser.add_argument("--ciw-contacts", type=int, default=50_000, help="contacts for Ciw (slower)")
    parser.add_argument("--memory-contacts", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5, help="timed runs per model; the best is reported")
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    parser.add_argument("--json", help="also write the figures to this JSON file")
    parser.add_argument(
        "--process-contacts", type=int, default=1_000_000, help="contacts of the whole-process measure (0: skip)"
    )
    parser.add_argument("--process-repeat", type=int, default=3, help="runs of each whole process; the best counts")
    parser.add_argument(
        "--compare", metavar="REV", help="only compare this tree with commit REV (engine speed and start-up)"
    )
    parser.add_argument("--child", help=argparse.SUPPRESS)  # internal: one --compare measurement
    args = parser.parse_args(argv)
    if args.child:
        spec = json.loads(args.child)
        sys.path.insert(0, spec["tree"])
        _child(spec)
        return 0
    sys.path.insert(0, str(REPO))  # bench this tree, whatever the venv's editable install points at
    become_subreaper()
    if args.quick:
        args.contacts, args.ciw_contacts, args.memory_contacts, args.repeat = 20_000, 5_000, 50_000, 1
        args.process_contacts, args.process_repeat = min(args.process_contacts, 50_000), 1
    if args.compare:
        figures = compare(args.compare, args.contacts, args.repeat)
        print_compare(figures, args.contacts)
        if args.json:
            with open(args.json, "w") as fh:
                json.dump(figures, fh, indent=2)
        return 0

    jobs = {
        "ccsim_mmcm": lambda: bench_ccsim(args.contacts),
        "simpy_minimal": lambda: bench_simpy_minimal(args.contacts),
        "ciw": lambda: bench_ciw(args.ciw_contacts),
        "ccsim_ecommerce_plain": lambda: bench_ecommerce("ecommerce_fifo"),
        "ccsim_ecommerce_policies": lambda: bench_ecommerce("ecommerce_24x7"),
    }
    runs: dict[str, list[dict]] = {key: [] for key in jobs}
    for _ in range(args.repeat):  # interleaved, so that a noisy spell hits every model alike
        for key, job in jobs.items():
            runs[key].append(job())
    figures: dict = {"python": platform.python_version(), "machine": platform.machine(), "simpy": simpy.__version__}
    for key, results in runs.items():
        figures[key] = max(results, key=lambda r: r["contacts_per_s"])
        figures[key]["all_contacts_per_s"] = [round(r["contacts_per_s"]) for r in results]
    figures["ratio_vs_simpy"] = figures["ccsim_mmcm"]["contacts_per_s"] / figures["simpy_minimal"]["contacts_per_s"]
    figures["ratio_vs_ciw"] = figures["ccsim_mmcm"]["contacts_per_s"] / figures["ciw"]["contacts_per_s"]
    policies = figures["ccsim_ecommerce_policies"]["contacts_per_s"]
    figures["policies_vs_plain_ecommerce"] = policies / figures["ccsim_ecommerce_plain"]["contacts_per_s"]
    figures["policies_vs_plain_mmcm"] = policies / figures["ccsim_mmcm"]["contacts_per_s"]
    quarter = max(args.memory_contacts // 4, 1)
    figures["peak_mib"] = {
        f"{quarter}_no_log": peak_memory_mib(quarter, False),
        f"{args.memory_contacts}_no_log": peak_memory_mib(args.memory_contacts, False),
        f"{args.memory_contacts}_log": peak_memory_mib(args.memory_contacts, True),
    }

    print(f"M/M/c+M: {N_AGENTS} agents, handle exp {HANDLE_S:g}s, load {LOAD}, patience exp {PATIENCE_S:g}s")
    print(f"best of {args.repeat} interleaved runs; contacts/s of CPU time")
    print(f"{'model':<28}{'contacts':>10}{'cpu s':>8}{'wall s':>8}{'contacts/s':>12}{'abandon':>9}")
    for key in ("ccsim_mmcm", "simpy_minimal", "ciw"):
        r = figures[key]
        print(
            f"{key:<28}{r['contacts']:>10,}{r['cpu_s']:>8.2f}{r['wall_s']:>8.2f}{r['contacts_per_s']:>12,.0f}"
            f"{r['abandon_rate']:>9.3f}"
        )
    print(f"ccsim / minimal SimPy: {figures['ratio_vs_simpy']:.2f}x   ccsim / Ciw: {figures['ratio_vs_ciw']:.1f}x")
    for key, label in (("ccsim_ecommerce_plain", "ecommerce_fifo (plain core)"),
                       ("ccsim_ecommerce_policies", "ecommerce_24x7 (bot, priorities, skills, empowerment)")):
        e = figures[key]
        print(f"{label}, {e['simulated_days']:g} days: {e['contacts']:,} contacts in {e['cpu_s']:.2f} s CPU "
              f"= {e['contacts_per_s']:,.0f} contacts/s (all runs: {e['all_contacts_per_s']})")
    print(f"policies / plain core: {figures['policies_vs_plain_ecommerce']:.2f}x on the same e-commerce week, "
          f"{figures['policies_vs_plain_mmcm']:.2f}x of the M/M/c+M core workload (acceptance: >= 0.5x)")
    for key, mib in figures["peak_mib"].items():
        print(f"peak memory, {key.replace('_', ' ')}: {mib:,.0f} MiB")
    if args.process_contacts > 0:
        figures["processes"] = bench_processes(args.process_contacts, args.process_repeat)
        print_processes(figures["processes"], args.process_contacts, args.process_repeat)
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(figures, fh, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
