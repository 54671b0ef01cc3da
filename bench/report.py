"""The results: ``<stem>.json`` (everything measured), ``<stem>.md`` (the table), and the README's table.

The README's Benchmark tables (between the ``bench:`` markers for SQLite, ``bench-postgres:`` for PostgreSQL)
are refreshed only by a full 1,000-movie run on that instance.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bench import ROOT
from bench.targets import CONNECTIONS, LATENCY, TMDB_RPS

STAGE_HEADER = ("| stage | wall s | bound s (ratio) | CPU s pipeline / simulator | peak RSS MB | requests API / images "
                "| MB down | images analysed | files written | Dagster runs | Dagster ms/movie |")


def _stage_row(name: str, s: dict[str, Any]) -> str:
    req = s["requests"]
    api = req["by_host"].get("tmdb_api", 0) + req["by_host"].get("fanart_api", 0)
    bound = f"{s['bound']['bound_s']} ({s['ratio_to_bound']}×)" if s.get("bound") else "–"
    c = s["dagster"]["counters"]
    return (f"| {name} | {s['wall_s']} | {bound} | {s['cpu_s']} / {s['simulator_cpu_s']} | {s['peak_rss_mb']:.0f} "
            f"| {api} / {req['image_downloads']} | {req['image_bytes'] / 1e6:.1f} | {c.get('previews_analysed', 0)} "
            f"| {c.get('files_written', 0)} | {s['dagster']['dagster_runs']} "
            f"| {s['dagster']['dagster_overhead_ms_per_movie']} |")


JOB_HEADER = ("| stage | job | runs | movies | partitions registered | wall s | domain s | Dagster s |",
              "|---|---|---|---|---|---|---|---|")
TICK_HEADER = ("| measurement | seconds | process wall s | peak RSS MB | answer |", "|---|---|---|---|---|")


def job_rows(stages: dict[str, Any]) -> list[str]:
    """Per stage and job: its runs' wall time, the domain's share and Dagster's (the scan job's row is the scan
    and the registration of the movies' partitions)."""
    rows = []
    for name, stage in stages.items():
        by_job: dict[str, list[dict[str, Any]]] = {}
        for run in stage["runs"]:
            by_job.setdefault(run["job"], []).append(run)
        for job, runs in by_job.items():
            wall, domain = sum(r["wall_s"] for r in runs), sum(r["domain_s"] for r in runs)
            added = sum(r["counters"].get("partitions_added", 0) for r in runs)
            rows.append(f"| {name} | {job} | {len(runs)} | {sum(r['partitions'] for r in runs)} | {added} "
                        f"| {wall:.1f} | {domain:.1f} | {wall - domain:.1f} |")
    return rows


def _tick_answer(name: str, tick: dict[str, Any]) -> str:
    if name == "graphql":
        stats = tick.get("partition_stats") or {}
        return (f"{tick['asset']}: {stats.get('numMaterialized')} materialised, {stats.get('numFailed')} failed of "
                f"{stats.get('numPartitions')} partitions ({tick['answer_bytes'] / 1e3:.0f} kB; workspace load "
                f"{tick['workspace_load_s']} s, repeated query {tick['repeat_s']} s)")
    if name == "review_page":
        return "median server ms: " + ", ".join(f"{page} {r['median_ms']}" for page, r in tick["pages"].items())
    return f"{tick['run_requests']} run requests" + (f" ({tick['skip_reason']})" if tick.get("skip_reason") else "")


TICK_LABELS = {"schedule": "schedule tick: library_enrichment_schedule",
               "auto_publish_sensor": "sensor tick: auto_publish_sensor",
               "config_change_sensor": "sensor tick: config_change_backfill_sensor",
               "graphql": "GraphQL partition status", "review_page": "review page: library listing"}


def tick_rows(ticks: dict[str, dict[str, Any]]) -> list[str]:
    """One row per measurement of the ``ticks`` step: its own time, its process's wall and peak, its answer."""
    return [f"| {TICK_LABELS.get(name, name)} | {t['seconds']} | {t['process_wall_s']} | {t['peak_rss_mb']:.0f} "
            f"| {_tick_answer(name, t)} |" for name, t in ticks.items()]


def markdown(results: dict[str, Any]) -> str:
    n = results["n_movies"]
    lines = [f"**{n} movies**, {results.get('image_set', 'full image set')}, {results['date']}, "
             f"{results['machine']['cpus']} cores, Dagster instance "
             f"{results.get('instance', 'sqlite')}, simulator on the same "
             f"machine ({int(LATENCY * 1000)} ms latency, TMDB {int(TMDB_RPS)} req/s, {CONNECTIONS} connections "
             f"per host)."]
    if results.get("unprimed"):
        lines += ["", "The simulator's image cache was not primed (`--prime skip`): the cold stage's wall time and "
                  "the simulator's CPU include drawing every image, so the cold stage is not comparable with its "
                  "bound."]
    lines += ["", STAGE_HEADER, "|---|---|---|---|---|---|---|---|---|---|---|"]
    lines += [_stage_row(name, s) for name, s in results["stages"].items()]
    if results["stages"]:
        lines += ["", "Runs per job (the scan job's row: the scan and the registration of the movie partitions):",
                  "", *JOB_HEADER, *job_rows(results["stages"])]
    if results.get("ticks"):
        lines += ["", "Between runs, on the state the stages left (each in its own process):", "", *TICK_HEADER,
                  *tick_rows(results["ticks"])]
    if results.get("failures"):
        lines += ["", *(f"**FAILED**: {problem}" for problem in results["failures"])]
    other = {name: s["other_processes_cpu_s"] for name, s in results["stages"].items()
             if s.get("other_processes_cpu_s", 0) > 10}
    if other:
        lines += ["", "Other programs on the machine used CPU during the stages (timings are inflated): "
                  + ", ".join(f"{k} {v:.0f} s" for k, v in other.items()) + "."]
    lines += ["", "| target | measured | met |", "|---|---|---|"]
    lines += [f"| {v['target']} | {v['measured']} | {'yes' if v['met'] else '**no**'} |" for v in results["verdicts"]]
    if results.get("profiles"):
        lines += ["", "Profiles of the stages that missed a target: " + ", ".join(
            f"`{Path(p).name}`" for p in results["profiles"].values())]
    return "\n".join(lines) + "\n"


def write_results(folder: Path, stem: str, results: dict[str, Any]) -> str:
    table = markdown(results)
    (folder / f"{stem}.json").write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    (folder / f"{stem}.md").write_text(table)
    return table


def update_readme(table: str, instance: str = "sqlite") -> bool:
    """Refresh the README's table of this instance (``bench:`` markers for SQLite, ``bench-postgres:``)."""
    readme = ROOT / "README.md"
    text = readme.read_text(encoding="utf-8")
    marker = "bench" if instance == "sqlite" else f"bench-{instance}"
    start, end = f"<!-- {marker}:start -->", f"<!-- {marker}:end -->"
    if start not in text or end not in text:
        return False
    head, rest = text.split(start, 1)
    _, tail = rest.split(end, 1)
    readme.write_text(f"{head}{start}\n{table}{end}{tail}", encoding="utf-8")
    return True
