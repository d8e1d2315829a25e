"""`evidencechain reproduce` as a user runs it: consent, running, comparing, recording."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import EXAMPLE_SITE, make_workspace, run_cli
from evidencechain import cli_reproduce
from evidencechain.cli import main
from evidencechain.reproduce import LOG_FILE, RECORD_FILE, probe_isolation

PRINT_METRICS = b"print('loading')\nprint('precision=0.700')\nprint('precision=0.881')\n"


def _workspace(tmp_path: Path, commands: list[str], expected: str = "",
               files: dict[str, bytes] | None = None, extra: str = "") -> Path:
    manifest = ("repo:\n  path: code\nreproduce:\n  commands:\n"
                + "".join(f"    - {json.dumps(c)}\n" for c in commands)
                + "  environment: Python 3\n" + expected + extra)
    code = {"code/train.py": PRINT_METRICS, **(files or {})}
    return make_workspace(tmp_path / "ws", manifest, code)


def _expect(name: str, value: float, tolerance: float | None = None,
            pattern: str | None = None) -> str:
    text = f"  expected:\n    {name}:\n      value: {value}\n"
    if tolerance is not None:
        text += f"      tolerance: {tolerance}\n"
    if pattern:
        text += f"      pattern: {json.dumps(pattern)}\n"
    return text


def _record(ws: Path) -> dict:
    return json.loads((ws / "projects/p" / RECORD_FILE).read_text(encoding="utf-8"))


def _log(ws: Path) -> str:
    return (ws / "projects/p" / LOG_FILE).read_text(encoding="utf-8")


ISOLATION = probe_isolation()
needs_read_only = pytest.mark.skipif(not ISOLATION.read_only_outside_copy,
                                     reason=f"no read-only sandbox here: {ISOLATION.describe()}")


# --- consent ----------------------------------------------------------------------------------

def test_without_yes_and_without_a_terminal_nothing_runs_and_it_exits_2(tmp_path):
    ws = _workspace(tmp_path, ["python train.py"])

    result = run_cli("reproduce", ws)

    assert result.exit_code == 2
    assert "warning: reproduce runs code written by someone else" in result.output
    assert "1. python train.py" in result.output
    assert "pass --yes to run it (there is no terminal to ask on)" in result.output
    assert not (ws / "projects/p" / RECORD_FILE).exists()


def test_on_a_terminal_it_asks_and_a_no_runs_nothing(tmp_path, monkeypatch):
    monkeypatch.setattr(cli_reproduce, "_interactive", lambda: True)
    ws = _workspace(tmp_path, ["python train.py"])

    refused = CliRunner().invoke(main, ["reproduce", str(ws)], input="n\n")
    assert refused.exit_code == 1
    assert "Nothing was run." in refused.output
    assert not (ws / "projects/p" / RECORD_FILE).exists()

    agreed = CliRunner().invoke(main, ["reproduce", str(ws)], input="y\n")
    assert agreed.exit_code == 0, agreed.output
    assert (ws / "projects/p" / RECORD_FILE).exists()


@pytest.mark.parametrize(("args", "message"), [
    (["--project", "nope"], "no project has slug 'nope'; slugs are: p"),
    (["--timeout", "soon"], "'soon' is not a duration"),
    (["--timeout", "0s"], "the time limit must be more than zero"),
])
def test_wrong_usage_exits_2(tmp_path, args, message):
    ws = _workspace(tmp_path, ["python train.py"])

    result = run_cli("reproduce", ws, "--yes", *args)

    assert result.exit_code == 2
    assert message in result.output


def test_a_project_without_commands_or_code_is_a_usage_error(tmp_path):
    ws = make_workspace(tmp_path / "ws")

    assert "no project declares reproduce.commands" in run_cli("reproduce", ws, "--yes").output
    result = run_cli("reproduce", ws, "--yes", "--project", "p")
    assert result.exit_code == 2
    assert "project 'p' declares no reproduce.commands" in result.output


@pytest.mark.parametrize(("text", "seconds"), [
    ("90s", 90), ("30m", 1800), ("1h30m", 5400), ("2h", 7200), ("45", 45), ("1.5m", 90),
])
def test_durations(text, seconds):
    assert cli_reproduce.Duration().convert(text, None, None) == seconds


# --- running and comparing ------------------------------------------------------------------

def test_a_claim_within_tolerance_is_reproduced_and_recorded(tmp_path):
    ws = _workspace(tmp_path, ["python -c \"print('tests ok')\"", "python train.py"],
                    _expect("precision", 0.88, 0.01, r"precision=([0-9.]+)"))

    result = run_cli("reproduce", ws, "--yes", "--project", "p")

    assert result.exit_code == 0, result.output
    # The badge says what the run measured, not only that it matched a claim.
    assert "p: reproduced 1 of 1 metrics (precision 0.881) in" in result.output
    assert "[1/2] running: python -c" in result.output  # the progress line
    assert "[2/2] ok in" in result.output
    record = _record(ws)
    assert record["status"] == "passed"
    assert [c["exit_code"] for c in record["commands"]] == [0, 0]
    (metric,) = record["metrics"]
    assert (metric["value"], metric["outcome"]) == (0.881, "reproduced")  # the last match wins
    assert record["source"]["kind"] == "content-hash"
    assert record["tools"]["python"] and record["tools"]["evidencechain"]
    log = (ws / "projects/p" / LOG_FILE).read_bytes()
    import hashlib
    assert record["log"]["sha256"] == hashlib.sha256(log).hexdigest()
    assert b"$ python train.py\nloading\nprecision=0.700\nprecision=0.881\n" in log


def test_a_claim_outside_tolerance_differs_and_a_missing_one_is_not_produced(tmp_path):
    expected = _expect("precision", 0.95, 0.01, r"precision=([0-9.]+)") + (
        "    recall:\n      value: 0.5\n")
    ws = _workspace(tmp_path, ["python train.py"], expected)

    result = run_cli("reproduce", ws, "--yes")

    assert result.exit_code == 1
    outcomes = {m["name"]: (m["value"], m["outcome"]) for m in _record(ws)["metrics"]}
    assert outcomes == {"precision": (0.881, "differs"), "recall": (None, "not produced")}
    assert "reproduced 0 of 2 metrics" in result.output
    assert "!! recall: claimed 0.5 ± 0, got nothing: not produced" in result.output


def test_metrics_can_come_from_a_declared_result_file(tmp_path):
    writer = (b"import json, pathlib\npathlib.Path('out').mkdir()\n"
              b"pathlib.Path('out/metrics.json').write_text(json.dumps("
              b"{'test': {'recall': 0.74}}))\n")
    expected = "  result_file: out/metrics.json\n" + _expect("test.recall", 0.75, 0.02)
    ws = _workspace(tmp_path, ["python eval.py"], expected, {"code/eval.py": writer})

    result = run_cli("reproduce", ws, "--yes")

    assert result.exit_code == 0, result.output
    (metric,) = _record(ws)["metrics"]
    assert (metric["value"], metric["outcome"], metric["source"]) == (
        0.74, "reproduced", "result file out/metrics.json")


def test_a_failing_command_stops_the_run_and_is_recorded(tmp_path):
    ws = _workspace(tmp_path, ["python -c 'import sys; print(\"boom\"); sys.exit(3)'",
                               "python train.py"], _expect("precision", 0.88, 0.01))

    result = run_cli("reproduce", ws, "--yes")

    assert result.exit_code == 1
    record = _record(ws)
    assert record["status"] == "failed"
    assert [(c["status"], c["exit_code"]) for c in record["commands"]] == [
        ("failed", 3), ("not run", None)]
    assert record["metrics"][0]["outcome"] == "not produced"
    assert "reproduction failed: command 1 of 2 exited with 3" in result.output
    assert "boom" in _log(ws)


def _processes_with(marker: str) -> list[str]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            except OSError:
                continue
            if marker in cmdline:
                found.append(cmdline)
    return found


def test_the_time_limit_kills_the_whole_process_group(tmp_path):
    # A background child that detaches from the shell would outlive a plain kill.
    ws = _workspace(tmp_path, ["sleep 313.25 & sleep 313.5"])

    started = time.monotonic()
    result = run_cli("reproduce", ws, "--yes", "--timeout", "1s")

    assert time.monotonic() - started < 20
    assert result.exit_code == 1
    record = _record(ws)
    assert record["status"] == "timed out"
    assert record["commands"][0]["status"] == "timed out"
    assert record["timeout_seconds"] == 1.0
    assert "reproduction timed out after" in result.output
    time.sleep(0.3)
    assert _processes_with("313.25") == [] and _processes_with("313.5") == []


def test_commands_get_a_private_home_and_tmpdir_and_none_of_our_variables(tmp_path,
                                                                           monkeypatch):
    monkeypatch.setenv("EVIDENCECHAIN_TEST_SECRET", "s3cret")
    home_marker = Path.home() / "evidencechain-reproduce-test.txt"
    assert not home_marker.exists()
    ws = _workspace(tmp_path, [
        "echo pwned > \"$HOME/evidencechain-reproduce-test.txt\"",
        "python -c \"import os, tempfile; print('home=' + os.environ['HOME']); "
        "print('tmp=' + tempfile.gettempdir())\"",
        "echo secret=${EVIDENCECHAIN_TEST_SECRET:-none}",
    ])

    result = run_cli("reproduce", ws, "--yes")

    assert result.exit_code == 0, result.output
    assert not home_marker.exists()
    log = _log(ws)
    home = log.split("\nhome=")[1].splitlines()[0]
    tmp = log.split("\ntmp=")[1].splitlines()[0]
    assert Path(home).parent == Path(tmp).parent  # both inside the one temporary folder
    assert "secret=none" in log
    assert not Path(home).parent.exists()  # and it is removed afterwards


@needs_read_only
def test_writes_outside_the_copy_do_not_land(tmp_path):
    ws_dir = tmp_path / "ws"
    targets = [ws_dir / "projects/p/evil.txt", ws_dir / "projects/p/code/train.py",
               tmp_path / "evil.txt"]
    commands = [f"echo pwned > {t} || true" for t in targets]
    commands += ["echo pwned > ../../../evil.txt || true",
                 "python -c \"import socket; s = socket.socket(); s.settimeout(3); "
                 "print('network', s.connect_ex(('192.0.2.1', 80)))\""]
    ws = _workspace(tmp_path, commands)
    original = (ws / "projects/p/code/train.py").read_bytes()

    result = run_cli("reproduce", ws, "--yes")

    assert result.exit_code == 0, result.output
    assert not (ws / "projects/p/evil.txt").exists()
    assert not (tmp_path / "evil.txt").exists()
    assert (ws / "projects/p/code/train.py").read_bytes() == original
    log = _log(ws)
    assert log.count("Read-only file system") >= 3
    assert "network 101" in log  # ENETUNREACH: no interface but a down loopback
    isolation = _record(ws)["isolation"]
    assert isolation == {**isolation, "network_off": True, "read_only_outside_copy": True,
                         "own_process_namespace": True}


def test_links_leading_out_of_the_repository_are_not_copied(tmp_path):
    ws = _workspace(tmp_path, ["cat outside.txt || echo not-there", "cat inside.txt"])
    code = ws / "projects/p/code"
    (tmp_path / "secret.txt").write_text("top secret\n")
    os.symlink(tmp_path / "secret.txt", code / "outside.txt")
    os.symlink("train.py", code / "inside.txt")

    result = run_cli("reproduce", ws, "--yes")

    assert result.exit_code == 0, result.output
    log = _log(ws)
    assert "top secret" not in log and "not-there" in log
    assert f"# not copied: outside.txt -> {tmp_path / 'secret.txt'}" in log
    assert "precision=0.881" in log  # the link inside the repo works


# --- what build and check make of the record ---------------------------------------------------

def test_build_shows_the_badge_with_the_log_one_click_away(tmp_path):
    ws = _workspace(tmp_path, ["python train.py"],
                    _expect("precision", 0.88, 0.01, r"precision=([0-9.]+)"),
                    {"code/run.sh": b"python train.py\n"})
    assert run_cli("reproduce", ws, "--yes").exit_code == 0

    result = run_cli("build", ws)

    assert result.exit_code == 0, result.output
    page = (ws / "site/projects/p/index.html").read_text(encoding="utf-8")
    assert '<span class="ec-badge ec-ok">reproduced 1 of 1 metrics (precision 0.881) in' in page
    assert '<a href="reproduction-log.txt">log</a>' in page
    assert '<a href="reproduction.json">record</a>' in page
    assert "stale" not in page
    published = ws / "site/projects/p/reproduction-log.txt"
    assert published.read_bytes() == (ws / "projects/p" / LOG_FILE).read_bytes()
    assert (ws / "site/projects/p/reproduction.json").is_file()
    # The audit checklist sits in the same section.
    assert '<span class="ec-badge ec-ok">found</span> <strong>Run script or container recipe' \
           "</strong>: run.sh" in page
    assert '<span class="ec-badge ec-bad">missing</span> <strong>Tests in the repository' in page


def test_a_changed_code_folder_makes_the_record_stale(tmp_path):
    ws = _workspace(tmp_path, ["python train.py"], _expect("precision", 0.881))
    assert run_cli("reproduce", ws, "--yes").exit_code == 0
    assert "stale" not in run_cli("check", ws).output
    (ws / "projects/p/code/__pycache__").mkdir()  # caches do not count
    (ws / "projects/p/code/__pycache__/train.cpython-311.pyc").write_bytes(b"x")
    assert "stale" not in run_cli("check", ws).output

    (ws / "projects/p/code/train.py").write_bytes(PRINT_METRICS + b"print('changed')\n")
    check = run_cli("check", ws)

    assert check.exit_code == 0
    assert (f"projects/p/{RECORD_FILE}:" in check.output
            and "warning: $.source: the reproduction is stale: files in code changed since "
                "the run; run `evidencechain reproduce` again" in check.output)
    assert run_cli("build", ws).exit_code == 0
    page = (ws / "site/projects/p/index.html").read_text(encoding="utf-8")
    assert '<span class="ec-badge ec-unknown">stale</span>' in page
    assert "Stale: files in code changed since the run." in page


def test_changed_claims_make_the_record_stale(tmp_path):
    ws = _workspace(tmp_path, ["python train.py"], _expect("precision", 0.881))
    assert run_cli("reproduce", ws, "--yes").exit_code == 0
    manifest = ws / "projects/p/evidence.yml"
    manifest.write_text(manifest.read_text().replace("value: 0.881", "value: 0.95"))

    output = run_cli("check", ws).output

    assert "the claimed values (reproduce.expected) changed since the run" in output


def test_a_record_in_the_repo_folder_itself_does_not_stale_itself(tmp_path):
    manifest = ("repo:\n  path: .\nreproduce:\n  commands:\n    - python train.py\n"
                + _expect("precision", 0.881))
    ws = make_workspace(tmp_path / "ws", manifest, {"train.py": PRINT_METRICS})

    assert run_cli("reproduce", ws, "--yes").exit_code == 0
    assert run_cli("reproduce", ws, "--yes").exit_code == 0  # the old record is not copied in

    output = run_cli("check", ws).output
    assert "stale" not in output and "warning:" not in output


@pytest.mark.parametrize(("corrupt", "located"), [
    (lambda text: text[:40], f"projects/p/{RECORD_FILE}:3:14: warning: not a valid "
                             "reproduction record: Unterminated string"),
    (lambda text: text.replace('"status": "passed"', '"status": "great"'),
     f"projects/p/{RECORD_FILE}:6:13: warning: $.status: not a valid reproduction record: "
     '"great" is not one of: passed, failed, timed out'),
    (lambda text: text.replace('"record_version": 1', '"record_version": 1, "extra": 2'),
     "unknown key 'extra'"),
])
def test_a_corrupt_record_is_a_located_warning_never_a_crash(tmp_path, corrupt, located):
    ws = _workspace(tmp_path, ["python train.py"], _expect("precision", 0.881))
    assert run_cli("reproduce", ws, "--yes").exit_code == 0
    path = ws / "projects/p" / RECORD_FILE
    path.write_text(corrupt(path.read_text(encoding="utf-8")), encoding="utf-8")

    check = run_cli("check", ws)
    build = run_cli("build", ws)

    assert check.exit_code == 0, check.output
    assert located in check.output
    assert build.exit_code == 0, build.output
    page = (ws / "site/projects/p/index.html").read_text(encoding="utf-8")
    assert "reproduced 1 of 1" not in page
    assert not (ws / "site/projects/p" / LOG_FILE).exists()


def test_an_altered_log_is_flagged_and_not_published(tmp_path):
    ws = _workspace(tmp_path, ["python train.py"], _expect("precision", 0.881))
    assert run_cli("reproduce", ws, "--yes").exit_code == 0
    log = ws / "projects/p" / LOG_FILE
    log.write_text(log.read_text().replace("precision=0.700", "precision=0.999"))

    check = run_cli("check", ws)

    assert f"warning: $.log.sha256: the reproduction log {LOG_FILE} does not match the " \
           "sha256 in the record" in check.output
    assert run_cli("build", ws).exit_code == 0
    page = (ws / "site/projects/p/index.html").read_text(encoding="utf-8")
    assert "log missing or altered" in page
    assert not (ws / "site/projects/p" / LOG_FILE).exists()


def test_the_example_carries_a_fresh_reproduced_record():
    check = run_cli("check", EXAMPLE_SITE, "--format", "json")

    report = json.loads(check.output)
    assert check.exit_code == 0
    assert not [p for p in report["problems"] if "reproduction" in p["file"]], (
        "the example's reproduction record is stale or broken: run `evidencechain reproduce "
        "example_site --project support-ticket-classifier --yes`")
    assert {p["slug"]: p["completeness"] for p in report["projects"]} == {
        "brand-campaign-visuals": 100, "support-ticket-classifier": 100,
        "legible-lettering-study": 100}
    record = json.loads((EXAMPLE_SITE / "projects/support-ticket-classifier"
                         / RECORD_FILE).read_text(encoding="utf-8"))
    assert record["status"] == "passed"
    assert [m["outcome"] for m in record["metrics"]] == ["reproduced"]


def test_the_built_example_shows_the_reproduced_badge(built_example):
    page = (built_example / "projects/support-ticket-classifier/index.html").read_text(
        encoding="utf-8")

    assert '<span class="ec-badge ec-ok">reproduced 1 of 1 metrics (precision 0.62) in' in page
    # What the run covers (synthetic tickets, not the headline's 0.87) follows the badge.
    badge = page.index("reproduced 1 of 1 metrics")
    assert page.index("120 synthetic", badge) < page.index("<pre><code>", badge)
    assert (built_example / "projects/support-ticket-classifier" / LOG_FILE).is_file()
