"""The benchmark's steps in order (``python -m bench``): library, simulator, priming, stages, analysis alone,
verdicts, profiles of the stages that missed a target, results. See the package's docstring."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import bench
from bench import ROOT
from bench.instance import INSTANCES, drop_instance, fresh_dagster_home
from bench.library import CASES, TEMPLATES, library_plan, make_library, make_templates
from bench.profiles import write_profile
from bench.report import update_readme, write_results
from bench.simulator import (
    IMAGE_SETS,
    SimulatorProcess,
    image_set_note,
    mark_primed,
    primed_up_to,
    request_log_limit,
)
from bench.stages import (
    ORIGINAL_WEIGHTS,
    RESCORE_WEIGHTS,
    StageRunner,
    run_worker,
    write_config,
)
from bench.targets import CONNECTIONS, LATENCY, TMDB_RPS, classify, cold_figures, verdicts
from bench.ticks import partition_count_problem, run_ticks

STAGES = ("cold", "warm", "rescore")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=(bench.__doc__ or "").split("\n\n")[0])
    parser.add_argument("--n", type=int, default=int(os.environ.get("N", "1000")), help="movies (default 1000)")
    parser.add_argument("--work", type=Path, default=ROOT / "bench" / "work")
    parser.add_argument("--results", type=Path, default=ROOT / "bench" / "results")
    parser.add_argument("--profile", choices=("never", "missed", "always"), default="missed",
                        help="py-spy profile of stages that miss a target (a second run of that stage)")
    parser.add_argument("--stages", default="cold,warm,rescore,ticks",
                        help="without cold, warm/rescore/ticks run on the state an earlier run left")
    parser.add_argument("--images", choices=tuple(IMAGE_SETS), default=os.environ.get("IMAGES") or "full",
                        help="the simulator's image set: full, or light (at most 3 images per kind; its own work "
                             "dir and primed cache marker, results named -light)")
    parser.add_argument("--prime", choices=("auto", "skip"), default=os.environ.get("PRIME") or "auto",
                        help="skip: no priming run; the cold stage then pays the simulator's drawing (said in the "
                             "results) and marks the cache primed for later runs")
    parser.add_argument("--label", default="", help="added to the result files' names (no README update)")
    parser.add_argument("--instance", choices=INSTANCES, default=os.environ.get("INSTANCE") or "sqlite",
                        help="the Dagster instance: sqlite (dagster.yaml) or postgres (dagster.postgres.yaml, on "
                             "the checkout's private cluster)")
    return parser.parse_args(argv)


def initial_results(date: str, n: int, plan: list[dict[str, Any]], instance: str, images: str) -> dict[str, Any]:
    return {
        "image_set": image_set_note(images), "images": images, "max_images_per_kind": IMAGE_SETS[images],
        "date": date, "n_movies": n, "instance": instance,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "limits": {"latency_s": LATENCY, "tmdb_api_rps": TMDB_RPS, "connections_per_host": CONNECTIONS,
                   "client": "limits set equal to the simulator's (see bench/README.md)"},
        "library": {"movies": n, "untagged": sum(1 for m in plan if not m["tagged"]),
                    "cases": {case: sum(case in m["cases"] for m in plan) for case in CASES},
                    "templates": [spec for _, spec in TEMPLATES]},
        "stages": {}, "profiles": {}, "failures": [],
    }


def prime(sim: SimulatorProcess, sim_cache: Path, work: Path, library: Path, n: int,
          results: dict[str, Any], instance: str, images: str) -> None:
    """Render the images once, so the simulator's drawing is not measured (once per library size and image set)."""
    if primed_up_to(sim_cache, images) >= n:
        return
    print("bench: priming the simulator's image cache (unmeasured; once per library size) ...")
    scratch = work / "prime"
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir()
    write_config(scratch / "metarr.toml", scratch / "state", library, sim)
    fresh_dagster_home(scratch / "dagster", instance)
    result = run_worker("prime", ["scan", "enrich"], scratch / "metarr.toml", scratch / "dagster", work, sim)
    print(f"bench: primed in {result['wall_s']} s ({result['requests']['total']} requests)")
    results["prime_s"] = result["wall_s"]
    drop_instance(scratch / "dagster")
    shutil.rmtree(scratch, ignore_errors=True)
    mark_primed(sim_cache, images, n)


def run_stages(runner: StageRunner, wanted: list[str], results: dict[str, Any]) -> None:
    if "cold" in wanted:
        runner.reset()
    elif not runner.state.exists():
        raise SystemExit("without the cold stage, an earlier run's state is needed in " + str(runner.state))
    if "cold" in wanted:
        cold = runner.run("cold", ["scan", "enrich", "publish"], None)
        cold.update(cold_figures(cold, runner.n))
        results["stages"]["cold"] = cold
    if "warm" in wanted:
        results["stages"]["warm"] = runner.run("warm", ["scan", "enrich", "publish"])
    if "rescore" in wanted:
        results["stages"]["rescore"] = runner.run("rescore", ["backfill"], RESCORE_WEIGHTS)
    if "ticks" in wanted:  # on the state the stages left
        results["ticks"] = run_ticks(runner)
        problem = partition_count_problem(results["ticks"]["graphql"], runner.n)
        if problem:
            results["failures"].append(problem)


def measure_analysis(runner: StageRunner) -> dict[str, Any]:
    """Image analysis alone, over (up to 3,000 of) the previews the stages fetched; nothing (no verdict) when they
    fetched none (a warm or re-score run without a cold one: "0 a second" would be a verdict on nothing)."""
    sim = runner.sim
    previews = [f"{sim.urls['tmdb_images'].rsplit('/t/p', 1)[0]}{r['path']}" if r["host"] == "tmdb_images"
                else f"http://{sim.urls['fanart_assets'].split('/')[2]}{r['path']}"
                for r in sim.requests() if classify(r) in ("tmdb_preview", "fanart_preview") and r["status"] == 200]
    previews = list(dict.fromkeys(previews))[:3000]
    if not previews:
        return {}
    analysis = run_worker("analysis", [], runner.config, runner.dagster_home, runner.work, sim,
                          extra={"previews": previews})
    return analysis["analysis"]


def profile_stages(runner: StageRunner, results: dict[str, Any], mode: str, folder: Path, stem: str,
                   rebuild_library: Callable[[], None]) -> None:
    """A second, profiled run of every stage that missed a target (``--profile missed``), or of all of them."""
    missed = {v["stage"] for v in results["verdicts"] if not v["met"]} & set(STAGES)
    to_profile = {"never": set(), "missed": missed, "always": set(STAGES)}[mode] & set(results["stages"])
    for name in STAGES:
        if name not in to_profile:
            continue
        target = folder / f"{stem}-{name}"
        if name == "cold":  # a cold run needs an empty state and a pristine library
            rebuild_library()
            runner.reset()
            profiled = runner.run("cold", ["scan", "enrich", "publish"], None, profile_to=target)
        elif name == "warm":
            profiled = runner.run("warm", ["scan", "enrich", "publish"], profile_to=target)
        else:  # flip the weights: the same amount of re-scoring
            now = json.loads(runner.weights_file.read_text())
            profiled = runner.run("rescore", ["backfill"], ORIGINAL_WEIGHTS if now == RESCORE_WEIGHTS
                                  else RESCORE_WEIGHTS, profile_to=target)
        path = write_profile(name, target, profiled, results["stages"][name]["wall_s"])
        results["profiles"][name] = str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)
        results["stages"][name]["profiled_run"] = {"wall_s": profiled["wall_s"], "cpu_s": profiled["cpu_s"]}


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    n = args.n
    light = "" if args.images == "full" else f"-{args.images}"
    work = args.work.resolve() / f"n{n}{light}"  # a light state never mixes with a full one
    work.mkdir(parents=True, exist_ok=True)
    args.results.mkdir(parents=True, exist_ok=True)
    stages_wanted = args.stages.split(",")
    unknown = set(stages_wanted) - {*STAGES, "ticks"}
    if unknown:
        raise SystemExit(f"--stages: unknown stage(s) {', '.join(sorted(unknown))}; known: cold, warm, rescore, ticks")
    date = dt.date.today().isoformat()
    stem = (date if n == 1000 else f"{date}-n{n}") + ("-postgres" if args.instance == "postgres" else "") + \
        light + (f"-{args.label}" if args.label else "")

    print(f"bench: {n} movies, {image_set_note(args.images)}, work dir {work}, Dagster instance {args.instance}")
    t = time.perf_counter()
    plan = library_plan(n)
    templates = make_templates(args.work.resolve() / "templates")
    library = work / "library"
    if "cold" in stages_wanted or not library.exists():
        make_library(library, plan, templates)
    print(f"bench: library generated in {time.perf_counter() - t:.1f} s "
          f"({sum(1 for m in plan if not m['tagged'])} folders without an id tag; hostile cases: "
          + ", ".join(f"{case} {sum(case in m['cases'] for m in plan)}" for case in CASES) + ")")

    sim_cache = args.work.resolve() / "simulator-cache"
    sim = SimulatorProcess(work, sim_cache, args.images, request_log_limit(n))
    results = initial_results(date, n, plan, args.instance, args.images)
    try:
        if args.prime == "auto":
            prime(sim, sim_cache, work, library, n, results, args.instance, args.images)
        else:
            results["unprimed"] = "cold" in stages_wanted and primed_up_to(sim_cache, args.images) < n
        runner = StageRunner(n=n, work=work, library=library, sim=sim, instance=args.instance)
        run_stages(runner, stages_wanted, results)
        if "cold" in results["stages"]:  # it fetched every image a prime would
            mark_primed(sim_cache, args.images, n)
        results["analysis"] = measure_analysis(runner)
        results["verdicts"] = verdicts(results, n)
        for verdict in results["verdicts"] if results.get("unprimed") else []:
            if verdict["target"].startswith("cold: wall"):
                verdict["measured"] += " (unprimed: includes the simulator's drawing)"
        results["simulator_peak_rss_mb"] = round(sim.peak_rss_mb(), 1)
        write_results(args.results, stem, results)
        profile_stages(runner, results, args.profile, args.results, stem,
                       rebuild_library=lambda: make_library(library, plan, templates))
    finally:
        sim.stop()

    table = write_results(args.results, stem, results)
    print()
    print(table)
    print(f"bench: wrote {args.results / (stem + '.json')} and .md")
    if n == 1000 and not args.label and not light and set(stages_wanted) >= set(STAGES) \
            and update_readme(table, args.instance):
        print("bench: README.md's Benchmark table updated")
    for problem in results["failures"]:
        print(f"bench: FAILED: {problem}")
    return 1 if results["failures"] else 0
