"""Telling media players about every publish: Kodi (JSON-RPC), Jellyfin and Plex.

- :mod:`.mapping`: library paths → the player's paths (longest prefix wins).
- :mod:`.queue`: the publish queues one notification per changed movie and player (a store write only).
- :mod:`.deliver`: due notifications are sent in one batch per player, recorded (pending → sent | deferred |
  failed) and retried with backoff; a player failure never fails anything else.
- :mod:`.kodi`, :mod:`.jellyfin`, :mod:`.plex`: what each player is told; :mod:`.check`: ``metarr players test``.
- :mod:`.client`: credentials from the environment, short-timeout httpx, errors without secrets.
"""

from metarr_pipeline.players.deliver import DeliveryReport, deliver_notifications
from metarr_pipeline.players.queue import queue_notifications, queue_removals

__all__ = ["DeliveryReport", "deliver_notifications", "queue_notifications", "queue_removals"]
