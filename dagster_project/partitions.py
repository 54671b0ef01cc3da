"""Movies and movie sets as Dagster partitions.

One dynamic partition per identified movie that is on disk. Keys are computed by the domain when a movie is
first identified (``the-matrix-1999-tmdb603``) and stored, so they stay the same when Radarr renames or
upgrades the file, and they read well in the UI's partition picker.

One ``collections`` partition per movie set (TMDB collection) a present movie belongs to, keyed by the set's
title and TMDB id (``the-matrix-collection-tmdbcol2344``: ``LibrarySet.partition_key``). The movies' metadata
reveals the sets, so the partitions sensor adds them after a fetch (a sensor's ticks are serialised; the fetch
runs, several at once, could race adding the same key) and the scan asset drops those no movie belongs to any
more.
"""

from __future__ import annotations

from collections.abc import Sequence

import dagster as dg

movies_partitions = dg.DynamicPartitionsDefinition(name="movies")
collections_partitions = dg.DynamicPartitionsDefinition(name="collections")


def partition_changes(
    current: Sequence[str], desired: Sequence[str]
) -> tuple[list[str], list[str]]:
    """(to add, to delete) so the instance's movie partitions equal ``desired``; both sorted."""
    have, want = set(current), set(desired)
    return sorted(want - have), sorted(have - want)


def partition_requests(
    current: Sequence[str], desired: Sequence[str], definition: dg.DynamicPartitionsDefinition = movies_partitions
) -> list[dg.AddDynamicPartitionsRequest | dg.DeleteDynamicPartitionsRequest]:
    add, delete = partition_changes(current, desired)
    requests: list[dg.AddDynamicPartitionsRequest | dg.DeleteDynamicPartitionsRequest] = []
    if add:
        requests.append(definition.build_add_request(add))
    if delete:
        requests.append(definition.build_delete_request(delete))
    return requests


def sync_partitions(instance: dg.DagsterInstance, desired: Sequence[str],
                    definition: dg.DynamicPartitionsDefinition = movies_partitions) -> tuple[list[str], list[str]]:
    """Apply the changes directly (used by the scan asset, which runs outside a sensor)."""
    assert definition.name is not None
    add, delete = partition_changes(instance.get_dynamic_partitions(definition.name), desired)
    if add:
        instance.add_dynamic_partitions(definition.name, add)
    for key in delete:
        instance.delete_dynamic_partition(definition.name, key)
    return add, delete
