"""``metarr publish --dry-run`` for people: each movie's files, one line each, with what would happen."""

from __future__ import annotations

from collections.abc import Sequence

from metarr_pipeline.publish.dry_run import ACTIONS, MoviePlan


def print_plan(plans: Sequence[MoviePlan]) -> None:
    totals = dict.fromkeys(ACTIONS, 0)
    for plan in plans:
        print(f"{plan.partition_key}  ({plan.folder})")
        if plan.error:
            print(f"  FAILED {plan.error}")
            continue
        for step in plan.files:
            totals[step.action] += 1
            print(f"  {step.action:<9} {step.path}" + (f"  ({step.why})" if step.why else ""))
        for warning in plan.warnings:
            print(f"  warning: {warning}")
    failed = sum(1 for p in plans if p.error)
    print(f"\nDry run, nothing written: {len(plans)} movies ({failed} would fail); "
          + ", ".join(f"{n} {action}" for action, n in totals.items()) + ".")
