"""``ccsim report``: one self-contained HTML file per run, checked as parsed HTML and as rendered by headless Chromium."""

from __future__ import annotations

import base64
import copy
import html.parser
import io
import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from experiments.cli import main
from experiments.report import REPORT_HTML, ReportError, read_run, write_report
from experiments.results import target_table
from experiments.runner import run_experiment
from sim.config import Scenario
from tests.conftest import TINY_SCENARIO

PNG = b"\x89PNG\r\n\x1a\n"


class _Page(html.parser.HTMLParser):
    """Tags, attributes and table rows of an HTML document."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.tables: list[list[list[str]]] = []
        self._cell: list[str] | None = None
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag == "table":
            self.tables.append([])
        elif tag == "tr":
            self.tables[-1].append([])
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self.tables[-1][-1].append("".join(self._cell).strip())
            self._cell = None

    def handle_data(self, data):
        self.text.append(data)
        if self._cell is not None:
            self._cell.append(data)


def _parse(text: str) -> _Page:
    page = _Page()
    page.feed(text)
    return page


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory) -> Path:
    data = copy.deepcopy(TINY_SCENARIO)
    data["name"] = "tiny <b>&amp;"  # names are escaped, never markup
    data["targets"].append(
        {"name": "evening <i>", "channel": "voice", "threshold": "20s", "level": 0.8,
         "window": {"start": "18:00", "end": "21:00"}, "aggregation": "every_interval"}
    )
    out = tmp_path_factory.mktemp("report") / "run"
    run_experiment(Scenario.model_validate(data), seed=2, n_replications=3, workers=1, progress=False, out_dir=out)
    return out


@pytest.fixture(scope="module")
def report(run_dir) -> tuple[Path, str]:
    path = write_report(run_dir)
    return path, path.read_text(encoding="utf-8")


def test_the_report_is_one_self_contained_file(run_dir, report):
    path, text = report
    assert path == run_dir / REPORT_HTML
    page = _parse(text)
    tags = [t for t, _ in page.tags]
    assert "script" not in tags
    assert "link" not in tags
    assert "iframe" not in tags
    for tag, attrs in page.tags:
        for key in ("src", "href"):
            value = attrs.get(key)
            if value is not None:
                assert value.startswith(("data:image/png;base64,", "#")), (tag, value[:40])
    assert "http:" not in text
    assert "https:" not in text
    assert "url(" not in text
    images = [attrs["src"] for tag, attrs in page.tags if tag == "img"]
    assert len(images) == 3 + 4  # one per target, heatmap, queue and agents, occupancy, costs
    for src in images:
        png = base64.b64decode(src.removeprefix("data:image/png;base64,"), validate=True)
        assert png.startswith(PNG)
        assert len(png) > 10_000


def test_the_report_states_targets_days_and_worst_intervals(run_dir, report):
    _, text = report
    page = _parse(text)
    assert "tiny &lt;b&gt;&amp;amp;" in text  # escaped
    assert "<b>&amp;" not in text.replace("<b>recurring", "")
    run = read_run(run_dir)
    expected = target_table(run.summary, run.scenario, run.metrics)
    targets = next(t for t in page.tables if t[0][0] == "target" and t[0][-1] == "status")
    assert [row[0] for row in targets[1:]] == ["voice 80/20", "urgent 5 min", "evening <i>"]
    assert [row[-1] for row in targets[1:]] == expected["status"].tolist()
    attained = [float(row[5].split(" ± ")[0]) for row in targets[1:]]
    np.testing.assert_allclose(attained, (expected["mean"] * 100).round(1))
    met = int((expected["status"] == "MET").sum())
    verdict = "All 3 targets MET." if met == 3 else f"{met} of 3 targets MET"
    assert verdict in text
    days = next(t for t in page.tables if t[0][0] == "day")
    assert len(days) == 1 + 1  # a one-day run
    assert days[1][0] == "Mon 2026-11-09"
    worst = next(t for t in page.tables if t[0][0] == "target" and "intervals below the level" in t[0])
    evening = worst[-1]
    assert evening[0] == "evening <i>"
    assert evening[3].endswith("of 3")  # 18:00, 19:00, 20:00
    assert evening[-1] == expected["status"].iloc[-1]
    channels = next(t for t in page.tables if t[0][0] == "channel")
    assert [row[0] for row in channels[1:]] == ["voice"]


def test_the_cli_writes_the_report_where_asked(run_dir, tmp_path, capsys):
    out = tmp_path / "sub" / "r.html"
    assert main(["report", str(run_dir), "--out", str(out), "--currency", "EUR"]) == 0
    assert "Report written" in capsys.readouterr().out
    text = out.read_text(encoding="utf-8")
    assert "labor cost (EUR/week)" in text
    assert main(["report", str(run_dir), "--out", str(out)]) == 0  # replaced atomically, no temp file left
    assert sorted(p.name for p in out.parent.iterdir()) == ["r.html"]


def _copy(run_dir: Path, tmp_path: Path) -> Path:
    copy_dir = tmp_path / "copy"
    shutil.copytree(run_dir, copy_dir)
    (copy_dir / REPORT_HTML).unlink(missing_ok=True)
    return copy_dir


def test_missing_or_incomplete_run_dirs_are_refused_clearly(run_dir, tmp_path, capsys):
    with pytest.raises(ReportError, match=r"no run directory at .*nothing; run `ccsim run SCENARIO --out"):
        read_run(tmp_path / "nothing")
    (tmp_path / "a file").write_text("x")
    with pytest.raises(ReportError, match="is a file, not a run directory"):
        read_run(tmp_path / "a file")
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "notes.txt").write_text("x")
    with pytest.raises(ReportError, match=r"not a ccsim run directory \(no manifest.json\)"):
        read_run(tmp_path / "other")

    copy_dir = _copy(run_dir, tmp_path)
    manifest = json.loads((copy_dir / "manifest.json").read_text())
    (copy_dir / "manifest.json").write_text(json.dumps({**manifest, "status": "running", "aggregated": None}))
    with pytest.raises(ReportError, match=r"incomplete run \(status 'running', 3 replications finished"):
        read_run(copy_dir)
    (copy_dir / "manifest.json").write_text(json.dumps(manifest))
    (copy_dir / "intervals.parquet").unlink()
    with pytest.raises(ReportError, match=r"is incomplete: intervals\.parquet missing"):
        read_run(copy_dir)
    assert main(["report", str(copy_dir)]) == 2
    err = capsys.readouterr().err
    assert "intervals.parquet missing" in err
    assert "Traceback" not in err
    assert not (copy_dir / REPORT_HTML).exists()


@pytest.mark.skipif(shutil.which("chromium") is None, reason="headless Chromium (Debian package chromium) not installed")
def test_chromium_renders_the_report(report, tmp_path):
    from matplotlib.image import imread

    path, _ = report
    shot = tmp_path / "shot.png"
    common = ["chromium", "--headless", "--no-sandbox", "--disable-gpu", f"--user-data-dir={tmp_path / 'profile'}"]
    subprocess.run(
        [*common, f"--screenshot={shot}", "--window-size=1280,3000", path.resolve().as_uri()],
        check=True, capture_output=True, timeout=120,
    )
    data = shot.read_bytes()
    assert data.startswith(PNG)
    assert len(data) > 50_000
    pixels = imread(io.BytesIO(data), format="png")
    assert pixels.shape[:2] == (3000, 1280)
    rgb = (pixels[..., :3] * 255).astype(np.uint8).reshape(-1, 3)
    assert len(np.unique(rgb, axis=0)) > 200  # text, tables, coloured plots: not a blank page
    assert (rgb < 128).all(axis=1).mean() > 0.002  # some dark text

    dom = subprocess.run(
        [*common, "--dump-dom", path.resolve().as_uri()], check=True, capture_output=True, text=True, timeout=120
    ).stdout
    page = _parse(dom)
    assert sum(1 for tag, _ in page.tags if tag == "img") == 7
    assert len(page.tables) >= 6
    assert "ccsim report: tiny <b>&amp;" in "".join(page.text)


def test_a_run_without_targets_is_reported(tmp_path):
    data = copy.deepcopy(TINY_SCENARIO)
    data["targets"] = []
    out = tmp_path / "run"
    run_experiment(Scenario.model_validate(data), seed=1, n_replications=2, workers=1, progress=False, out_dir=out)
    page = _parse(write_report(out).read_text(encoding="utf-8"))
    text = "".join(page.text)
    assert "The scenario has no targets." in text
    assert sum(1 for tag, _ in page.tags if tag == "img") == 4  # heatmap, queue and agents, occupancy, costs
    assert any(t[0][0] == "channel" for t in page.tables)
