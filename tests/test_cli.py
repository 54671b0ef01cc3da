"""The public command line: every command has --help, scan and status work, errors are one clear line."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from metarr_pipeline.cli import build_parser, main


def test_every_command_has_help(capsys: pytest.CaptureFixture[str]) -> None:
    parser = build_parser()
    commands = next(a for a in parser._actions if a.dest == "command").choices
    assert {"scan", "status", "demo"} <= set(commands)
    for name in [None, *commands]:
        with pytest.raises(SystemExit) as exit_info:
            main([name, "--help"] if name else ["--help"])
        assert exit_info.value.code == 0
        out = capsys.readouterr().out
        assert "usage: metarr" in out


def test_scan_then_status(demo_library: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                          monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("TMDB_API_KEY", "TMDB_READ_ACCESS_TOKEN", "FANART_API_KEY"):
        monkeypatch.delenv(var, raising=False)
    cfg = tmp_path / "metarr.toml"
    cfg.write_text(f'[data]\ndir = "{tmp_path / "state"}"\n[library]\nroots = ["{demo_library}"]\n'
                   '[providers]\nmode = "simulator"\n', encoding="utf-8")
    assert main(["--config", str(cfg), "scan"]) == 0
    out = capsys.readouterr().out
    # Without a TMDB key the built-in simulator answers the search and IMDb rungs, and says so.
    assert "built-in simulator" in out
    assert "13 folders, 12 identified, 1 unidentified" in out
    assert "Untitled Home Video" in out and "TMDB search found no movie" in out

    assert main(["--config", str(cfg), "status"]) == 0
    out = capsys.readouterr().out
    line = next(ln for ln in out.splitlines() if ln.startswith("blade-runner-2049-2017-tmdb335984"))
    assert "identified" in line and "tmdb 335984 (name)" in line and "hevc 320x134" in line and "hdr10" in line
    kimi = next(ln for ln in out.splitlines() if ln.startswith("kimi-no-na-wa-2016-tmdb372058"))
    assert "tmdb 372058 (search)" in kimi  # the romanised folder name, found through an alternative title
    assert "12 identified, 1 unidentified" in out

    assert main(["--config", str(cfg), "status", "--problems"]) == 0
    out = capsys.readouterr().out
    assert "Untitled Home Video" in out and "the-matrix-1999" not in out


def test_config_error_is_one_line_and_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = tmp_path / "metarr.toml"
    cfg.write_text('[library]\nroots = ["nowhere"]\nfoo = 1\n', encoding="utf-8")
    assert main(["--config", str(cfg), "scan"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("metarr: configuration error:") and "library.foo" in err and str(cfg) in err


def test_console_script_is_installed(tmp_path: Path) -> None:
    exe = Path(sys.executable).with_name("metarr")
    proc = subprocess.run([str(exe), "--help"], capture_output=True, text=True, timeout=60,
                          env={**os.environ, "METARR_CONFIG": str(tmp_path / "none.toml")})
    assert proc.returncode == 0 and "scan" in proc.stdout and "status" in proc.stdout
