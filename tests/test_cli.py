"""The ``detainers`` command line: exit codes, messages, and outputs left intact on failure."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from analysis.cli import main
from analysis.paths import METRICS_TABLE_FILE, PROCESSED_DIR

FIXTURES = Path(__file__).parent / "fixtures"


def test_validate_prints_a_summary(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", "--data-dir", str(data_dir)]) == 0
    out = capsys.readouterr().out
    assert "valid" in out and "5 counts for 1 agency by 2 counting parties" in out


def test_validate_reports_problems_without_traceback(swap_in, capsys: pytest.CaptureFixture[str]) -> None:
    data_dir = swap_in("detainer_requests.csv", "invalid/requests_fractional.csv")
    assert main(["validate", "--data-dir", str(data_dir)]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert f"{data_dir / 'detainer_requests.csv'}:2: requests: found 10.5: must be a whole number" in captured.err
    assert "Traceback" not in captured.err


def test_usage_error_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["validate", "--no-such-option"])
    assert caught.value.code == 2
    assert "usage: detainers" in capsys.readouterr().err


def test_console_script_and_module_run_as_processes(data_dir: Path) -> None:
    bad = data_dir.parent / "bad"
    shutil.copytree(data_dir, bad)
    shutil.copyfile(FIXTURES / "invalid" / "requests_negative.csv", bad / "detainer_requests.csv")
    script = [str(Path(sys.executable).with_name("detainers"))]
    module = [sys.executable, "-m", "analysis"]
    # What: both ways in start and exit as processes; each reads data once (valid for one, invalid for the other).
    good = subprocess.run([*script, "validate", "--data-dir", str(data_dir)], capture_output=True, text=True)
    assert good.returncode == 0, good.stderr
    failed = subprocess.run([*module, "validate", "--data-dir", str(bad)], capture_output=True, text=True)
    assert failed.returncode == 1
    assert "must not be negative" in failed.stderr and "Traceback" not in failed.stderr
    for command in (script, module):
        usage = subprocess.run([*command, "frobnicate"], capture_output=True, text=True)
        assert usage.returncode == 2 and "invalid choice: 'frobnicate'" in usage.stderr


def test_the_command_exits_with_mains_status_its_objects_frozen(data_dir: Path, monkeypatch) -> None:
    """``entry`` (the console script's and ``python -m analysis``'s way in) exits with what ``main`` returned, and has
    frozen the objects out of the cycle collector first, so the process's end does not walk them."""
    import gc

    from analysis.cli import entry

    monkeypatch.setattr(sys, "argv", ["detainers", "validate", "--data-dir", str(data_dir)])
    before = gc.get_freeze_count()
    try:
        with pytest.raises(SystemExit) as ended:
            entry()
        assert ended.value.code == 0 and gc.get_freeze_count() > before
    finally:
        gc.unfreeze()  # what: this test process goes on, and collects as before


def test_process_writes_the_metrics_table(data_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "processed"
    assert main(["process", "--data-dir", str(data_dir), "--processed-dir", str(out)]) == 0
    lines = (out / METRICS_TABLE_FILE).read_text().splitlines()
    assert len(lines) == 1 + 5
    assert not list(out.glob(".*.tmp")), "no temporary file is left behind"


def test_process_on_bad_data_keeps_the_previous_output(swap_in, tmp_path: Path) -> None:
    out = tmp_path / "processed"
    out.mkdir()
    previous = out / METRICS_TABLE_FILE
    previous.write_text("good output\n")
    data_dir = swap_in("detainer_requests.csv", "invalid/requests_duplicate.csv")
    assert main(["process", "--data-dir", str(data_dir), "--processed-dir", str(out)]) == 1
    assert previous.read_text() == "good output\n"


def test_committed_metrics_table_reproduces(tmp_path: Path) -> None:
    assert main(["process", "--processed-dir", str(tmp_path)]) == 0
    rebuilt = (tmp_path / METRICS_TABLE_FILE).read_bytes()
    assert rebuilt == (PROCESSED_DIR / METRICS_TABLE_FILE).read_bytes(), "run `make report` and commit"


def test_a_relative_path_is_taken_from_the_working_folder(tmp_path: Path, capsys, monkeypatch) -> None:
    """`cd story && detainers validate --data-dir data/raw` checks story/data/raw, not the package's own."""
    story = tmp_path / "story"
    shutil.copytree(Path(__file__).parent / "fixtures" / "valid", story / "data" / "raw")
    requests = story / "data" / "raw" / "detainer_requests.csv"
    requests.write_text(requests.read_text().replace(",25,1,24,", ',"1,526",1,24,', 1))
    monkeypatch.chdir(story)
    assert main(["validate", "--data-dir", "data/raw"]) == 1
    err = capsys.readouterr().err
    assert f"{story / 'data' / 'raw' / 'detainer_requests.csv'}:3: requests: found 1,526" in err


def test_an_os_error_is_one_line_naming_the_path_and_what_to_do(data_dir: Path, tmp_path: Path, capsys) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    assert main(["process", "--data-dir", str(data_dir), "--processed-dir", str(blocker / "processed")]) == 1
    (line,) = capsys.readouterr().err.splitlines()
    assert line.startswith(f"error: {blocker / 'processed'}") and "[Errno" not in line
    assert line.endswith("a part of the path is a file, not a folder: choose another path")


@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_a_ctrl_c_lost_inside_a_finaliser_still_ends_the_report_as_interrupted() -> None:
    """Python only prints an exception raised inside ``__del__``: a Ctrl-C landing there would let a report run to
    its end and exit 0. The report's handlers note the signal, so it still ends as interrupted."""
    import os
    import signal

    from analysis.pipeline.interrupts import noted

    reached, before = [], signal.getsignal(signal.SIGINT)

    class Finaliser:
        def __del__(self) -> None:
            os.kill(os.getpid(), signal.SIGINT)
            for _ in range(100_000):  # what: the handler runs in here, and its KeyboardInterrupt is lost
                pass

    with pytest.raises(KeyboardInterrupt), noted():
        Finaliser()
        reached.append("the code after the finaliser ran")
    assert reached, "the KeyboardInterrupt was not lost, so this test proves nothing"
    assert signal.getsignal(signal.SIGINT) is before, "the handler before is put back"


def test_the_help_of_the_export_commands_names_every_format_read(capsys) -> None:
    from analysis.ice.read import FORMATS

    for command in ("ingest-ice", "ice-facilities"):
        with pytest.raises(SystemExit):
            main([command, "--help"])
        said = " ".join(capsys.readouterr().out.split())
        assert [suffix for suffix in FORMATS if f"{suffix}," not in said and f"{suffix} " not in said] == []
