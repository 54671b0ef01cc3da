"""Telling media players about every publish: Kodi (JSON-RPC), Jellyfin and Plex.

Where it sits: after publish. Publishing queues one notification per changed movie and player (a store
write only); delivery, later and separately, reads the due notifications, tells each player, and records
what happened. Nothing here can fail a publish: a player that is offline or refuses us is retried later.

Modules in reading order:

- :mod:`.types`: what every player shares: :class:`~.types.Notification`, :class:`~.types.Outcome`,
  :class:`~.types.CheckReport` and the :class:`~.types.Player` protocol (imports no player);
- :mod:`.errors`, :mod:`.client`: player errors; credentials from the environment, short-timeout httpx,
  errors without secrets;
- :mod:`.mapping`: library paths → the player's paths (longest prefix wins);
- :mod:`.kodi`, :mod:`.jellyfin`, :mod:`.plex`: what each player is told; :mod:`.kodi_sets`: Kodi's movie
  sets brought up to date after a batch (Kodi takes a set's art and overview only when it creates the set);
- :mod:`.registry`: config ``type`` → player class, and :func:`~.registry.open_player` (the only module that
  imports every player, so there is no import cycle);
- :mod:`.queue`: the publish queues notifications;
- :mod:`.deliver`: due notifications are sent in one batch per player, recorded (pending → sent | deferred |
  failed) and retried with backoff; a player failure never fails anything else;
- :mod:`.check`: ``metarr players test``; :mod:`.report`: words for people.
"""

from metarr_pipeline.players.deliver import DeliveryReport, deliver_notifications
from metarr_pipeline.players.queue import queue_notifications, queue_removals

__all__ = ["DeliveryReport", "deliver_notifications", "queue_notifications", "queue_removals"]
