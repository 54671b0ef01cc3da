"""A command line scripts can trust: exit codes, unknown keys, --json, dry runs, backups, pipes, help, progress.

One small library (three demo movies, two of them enriched) is scanned and enriched once through the CLI against
the built-in simulator; each test then drives ``metarr`` in-process (or as a real process where a pipe or a
terminal matters).
"""

from __future__ import annotations

import argparse
import json
import os
import pty
import select
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from metarr_pipeline.cli import build_parser, main
from metarr_pipeline.report import display_width, table
from metarr_pipeline.store import Store

ROOT = Path(__file__).resolve().parents[1]
FOLDERS = ("The Matrix (1999) {tmdb-603}", "Amélie (2001)", "Heat (1995) {tmdb-949}")


class Lib:
    def __init__(self, cfg: Path, root: Path, keys: dict[str, str]) -> None:
        self.cfg, self.root, self.keys = cfg, root, keys

    def run(self, *args: str) -> int:
        return main(["--config", str(self.cfg), *args])


@pytest.fixture(scope="module")
def lib(demo_library: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lib]:
    tmp = tmp_path_factory.mktemp("cli")
    root = tmp / "library"
    for name in FOLDERS:
        shutil.copytree(demo_library / name, root / name)
    cfg = tmp / "metarr.toml"
    cfg.write_text(f'[data]\ndir = "{tmp / "state"}"\n[library]\nroots = ["{root}"]\n[providers]\nmode = "simulator"\n', encoding="utf-8")
    with pytest.MonkeyPatch.context() as mp:
        for var in ("TMDB_API_KEY", "TMDB_READ_ACCESS_TOKEN", "FANART_API_KEY", "METARR_CONFIG"):
            mp.delenv(var, raising=False)
        assert main(["--config", str(cfg), "scan"]) == 0
        store = Store(tmp / "state" / "metarr.duckdb")
        keys = {m.folder.rsplit("/", 1)[-1]: m.partition_key for m in store.movies()}
        assert main(["--config", str(cfg), "enrich", keys[FOLDERS[0]], keys[FOLDERS[1]]]) == 0
        yield Lib(cfg, root, keys)


def _out(capsys: pytest.CaptureFixture[str]) -> tuple[str, str]:
    captured = capsys.readouterr()
    return captured.out, captured.err


# --- exit codes ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("command", [["publish"], ["enrich"], ["fetch"], ["art", "list"], ["backups"], ["restore"]])
def test_an_unknown_movie_key_is_a_usage_error(lib: Lib, command: list[str],
                                               capsys: pytest.CaptureFixture[str]) -> None:
    _out(capsys)
    assert lib.run(*command, "the-matrx-1999-tmdb603") == 2
    out, err = _out(capsys)
    assert "no movie with partition key 'the-matrx-1999-tmdb603'" in err
    assert f"did you mean '{lib.keys[FOLDERS[0]]}'" in err
    assert "0 of 0" not in out


def test_art_pick_with_an_unknown_key_is_a_usage_error(lib: Lib, capsys: pytest.CaptureFixture[str]) -> None:
    assert lib.run("art", "pick", "nope", "poster", "x") == 2
    assert "no movie with partition key 'nope'" in _out(capsys)[1]


def test_exit_1_when_any_movie_failed(lib: Lib, capsys: pytest.CaptureFixture[str]) -> None:
    heat, matrix = lib.keys[FOLDERS[2]], lib.keys[FOLDERS[0]]
    assert lib.run("publish", "--dry-run", matrix, heat) == 1  # Heat is not enriched: it would fail
    assert lib.run("publish", matrix, heat) == 1  # one of two failed: not a success
    out, _ = _out(capsys)
    assert f"{heat}: FAILED not enriched yet" in out


def test_unknown_artwork_type_is_a_usage_error_naming_the_known_types(lib: Lib,
                                                                      capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        lib.run("art", "list", lib.keys[FOLDERS[0]], "--type", "posterz")
    assert exit_info.value.code == 2
    err = _out(capsys)[1]
    assert "unknown artwork type 'posterz'" in err and "poster" in err and "clearlogo" in err


# --- JSON ------------------------------------------------------------------------------------------------


def test_status_json(lib: Lib, capsys: pytest.CaptureFixture[str]) -> None:
    _out(capsys)
    assert lib.run("status", "--json") == 0
    movies = json.loads(_out(capsys)[0])
    by_key = {m["key"]: m for m in movies}
    matrix = by_key[lib.keys[FOLDERS[0]]]
    assert (matrix["status"], matrix["tmdb_id"], matrix["enriched"]) == ("identified", 603, True)
    assert by_key[lib.keys[FOLDERS[2]]]["enriched"] is False


def test_art_list_json(lib: Lib, capsys: pytest.CaptureFixture[str]) -> None:
    _out(capsys)
    assert lib.run("art", "list", lib.keys[FOLDERS[0]], "--type", "poster", "--json") == 0
    rows = json.loads(_out(capsys)[0])
    assert rows and {r["type"] for r in rows} == {"poster"}
    assert any(r["selected_rank"] == 1 for r in rows)


def test_enrich_and_publish_json(lib: Lib, capsys: pytest.CaptureFixture[str]) -> None:
    matrix = lib.keys[FOLDERS[0]]
    _out(capsys)
    assert lib.run("enrich", matrix, "--json") == 0
    report = json.loads(_out(capsys)[0])  # stdout is nothing but the JSON
    assert report["enrich"]["summary"]["movies"] == 1
    assert report["enrich"]["movies"][0]["partition_key"] == matrix
    assert report["fetch"]["summary"]["movies"] == 1
    assert lib.run("publish", matrix, "--json") == 0
    report = json.loads(_out(capsys)[0])
    assert report["summary"]["movies"] == 1 and report["movies"][0]["status"] == "published"


# --- publish --dry-run, backups and restore ---------------------------------------------------------------


def _tree(root: Path) -> dict[str, tuple[int, int]]:
    return {str(p.relative_to(root)): (p.stat().st_size, p.stat().st_mtime_ns) for p in root.rglob("*")}


def test_dry_run_plans_without_writing_then_backups_and_restore(lib: Lib, capsys: pytest.CaptureFixture[str]) -> None:
    amelie = lib.keys[FOLDERS[1]]
    folder = lib.root / FOLDERS[1]
    user_nfo = (folder / "Amélie (2001).nfo").read_bytes()
    db = Path(str(lib.cfg.parent / "state" / "metarr.duckdb"))
    state_before = Store(db).publish_state()
    before = _tree(lib.root)
    _out(capsys)
    assert lib.run("publish", "--dry-run", amelie) == 0
    out, _ = _out(capsys)
    assert _tree(lib.root) == before and Store(db).publish_state() == state_before  # nothing written anywhere
    assert "write     Amélie (2001).nfo  (the user's own NFO" in out
    assert "write     Amélie (2001)-poster.jpg  (new)" in out
    assert "Dry run, nothing written" in out
    assert lib.run("publish", "--dry-run", "--json", amelie) == 0
    plan = json.loads(_out(capsys)[0])
    assert {f["action"] for f in plan[0]["files"]} == {"write"}

    assert lib.run("publish", amelie) == 0
    assert (folder / "Amélie (2001).nfo").read_bytes() != user_nfo
    _out(capsys)
    assert lib.run("publish", "--dry-run", amelie) == 0  # after publishing, everything is in place
    out, _ = _out(capsys)
    assert "write " not in out and "unchanged Amélie (2001).nfo" in out

    assert lib.run("backups", amelie) == 0
    out, _ = _out(capsys)
    assert "  1  " in out and "Amélie (2001).nfo" in out
    assert lib.run("backups", amelie, "--json") == 0
    backups = json.loads(_out(capsys)[0])
    assert [b["number"] for b in backups] == [1] and backups[0]["cached"] is True
    assert lib.run("restore", amelie, "--at", "2") == 1  # no such backup
    assert "no backup number 2" in _out(capsys)[1]
    assert lib.run("restore", amelie) == 0
    assert (folder / "Amélie (2001).nfo").read_bytes() == user_nfo
    assert Store(db).movie_by_partition(amelie).manual  # type: ignore[union-attr]
    _out(capsys)
    assert lib.run("publish", "--dry-run", amelie) == 0  # the restored file is the user's again
    assert "write     Amélie (2001).nfo  (the user's own NFO" in _out(capsys)[0]


# --- pipes, terminals, wide characters, the simulator, help -------------------------------------------------


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("TMDB_API_KEY", "TMDB_READ_ACCESS_TOKEN",
                                                            "FANART_API_KEY")}
    return {**env, "PYTHONPATH": str(ROOT)}


def test_stdout_closed_early_ends_quietly(lib: Lib) -> None:
    proc = subprocess.Popen([sys.executable, "-m", "metarr_pipeline.cli", "--config", str(lib.cfg), "scan"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=_env(), cwd=ROOT)
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # like `| head` that has read what it wanted: every write now fails
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == 141, err
    assert "Traceback" not in err and "BrokenPipe" not in err, err


def _run_on_a_terminal(args: list[str]) -> tuple[int, str]:
    controller, terminal = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "metarr_pipeline.cli", *args], stdout=terminal,
                            stderr=subprocess.PIPE, env={**_env(), "COLUMNS": "100", "TERM": "xterm"}, cwd=ROOT)
    os.close(terminal)
    chunks: list[bytes] = []
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        ready, _, _ = select.select([controller], [], [], 1.0)
        if ready:
            try:
                data = os.read(controller, 65536)
            except OSError:  # the other side closed: the process is done
                break
            if not data:
                break
            chunks.append(data)
        elif proc.poll() is not None:
            break
    os.close(controller)
    return proc.wait(timeout=60), b"".join(chunks).decode(errors="replace")


def test_progress_bar_on_a_terminal_and_never_in_a_pipe(lib: Lib, capsys: pytest.CaptureFixture[str]) -> None:
    keys = [lib.keys[FOLDERS[0]], lib.keys[FOLDERS[1]]]
    code, shown = _run_on_a_terminal(["--config", str(lib.cfg), "fetch", *keys])
    assert code == 0, shown
    assert "Fetching provider data" in shown and "━" in shown, shown
    _out(capsys)
    assert lib.run("fetch", *keys) == 0  # captured: not a terminal
    out, err = _out(capsys)
    assert "Fetching provider data" not in out + err and "━" not in out + err and "\x1b[" not in out


def test_table_aligns_double_width_titles() -> None:
    text = table(("movie", "state"), [("七人の侍-1954-tmdb346", "identified"), ("heat-1995", "identified"),
                                      ("Amélie", "gone")])
    lines = text.splitlines()
    columns = {display_width(line[:line.index(state)]) for line, state in zip(
        lines, ["state", "-", "identified", "identified", "gone"], strict=True) if state != "-"}
    assert len(columns) == 1, text
    assert display_width("七人の侍") == 8


def test_simulator_after_global_options(lib: Lib, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--config", str(lib.cfg), "-v", "simulator", "--help"])
    assert exit_info.value.code == 0
    assert "--latency" in _out(capsys)[0]  # the simulator's own options, not metarr's stub


def _parsers(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()) -> Iterator[
        tuple[tuple[str, ...], argparse.ArgumentParser]]:
    yield path, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, child in action.choices.items():
                yield from _parsers(child, (*path, name))


def test_help_of_every_subcommand_names_every_option(capsys: pytest.CaptureFixture[str]) -> None:
    seen = []
    for path, parser in _parsers(build_parser()):
        if path == ("simulator",):
            continue  # its help is the simulator's own parser's: test_simulator_after_global_options
        with pytest.raises(SystemExit) as exit_info:
            main([*path, "--help"])
        assert exit_info.value.code == 0, path
        out = _out(capsys)[0]
        for action in parser._actions:
            for option in action.option_strings:
                assert option in out, (path, option)
        seen.append(path)
    assert {("backups",), ("restore",), ("art", "list"), ("players", "notify"), ("publish",)} <= set(seen)
