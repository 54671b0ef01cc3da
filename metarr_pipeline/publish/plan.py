"""What one movie's folder should hold: the NFO, rank-named artwork, ``.actors/`` (and ``extrafanart/``).

Paths come from :mod:`naming`; nothing is read from the library or the blob store here (the next step checks
each file only as deeply as it needs). An image whose original could not be fetched is left out of the plan
and reported, and its name goes into ``keep`` so an earlier file of ours at that name is not removed.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from metarr_pipeline.metadata.merge import locked_fields
from metarr_pipeline.metadata.trailers import current_trailer_url
from metarr_pipeline.models import UserState
from metarr_pipeline.publish import naming
from metarr_pipeline.publish.context import PublishContext
from metarr_pipeline.publish.nfo import NfoActor, NfoInput, nfo_certification, render_nfo
from metarr_pipeline.publish.report import MoviePublish
from metarr_pipeline.publish.trailer import local_trailer
from metarr_pipeline.store import MovieRecord


@dataclass(frozen=True)
class Planned:
    path: str  # relative to the movie folder
    role: str  # nfo | art | actor | extrafanart
    sha256: str
    data: bytes | None = None  # NFO text
    blob: tuple[str, str] | None = None  # (sha, ext) for images
    url: str = ""  # where an image's original can be downloaded again
    what: str = ""  # how messages name an image ("poster 1", "headshot of ...")


def plan_movie(movie: MovieRecord, ctx: PublishContext, result: MoviePublish, keep: set[str]) -> list[Planned]:
    """The NFO first, then artwork by type and rank, then actor headshots."""
    assert movie.id is not None
    plan = _plan_artwork(movie, ctx, result, keep)
    actors, headshots = _plan_actors(movie, ctx)
    plan.extend(headshots)
    plan.insert(0, _plan_nfo(movie, ctx, actors))
    return plan


def is_kept(path: str, keep: set[str]) -> bool:
    """A file of ours named for an image whose new original could not be fetched (``keep`` holds the
    names without their extension, which depends on the image not yet known)."""
    return any(path.startswith(prefix) and "/" not in path[len(prefix):] for prefix in keep)


def _plan_artwork(movie: MovieRecord, ctx: PublishContext, result: MoviePublish, keep: set[str]) -> list[Planned]:
    assert movie.id is not None
    kind, base = movie.kind, movie.basename or ""
    plan: list[Planned] = []
    extrafanart = ctx.settings.publish.extrafanart
    for row in ctx.selected.get(movie.id, []):
        what, sha = f"{row['type']} {row['selected_rank']}", row["blob_sha"]
        if not sha:
            reason = ctx.deferred_errors.get((movie.id, row["candidate_id"]), "not downloaded")
            result.warnings.append(f"{what}: its original {row['url']} is not cached and could not be downloaded "
                                   f"({reason}): not published")
            keep.add(naming.artwork_path(kind, base, row["type"], row["selected_rank"], ""))
            if extrafanart and row["type"] == "fanart":
                keep.add(naming.extrafanart_path(row["selected_rank"], ""))
            continue
        blob = (sha, getattr(ctx.blob_rows.get(sha), "ext", None) or "jpg")
        plan.append(Planned(naming.artwork_path(kind, base, row["type"], row["selected_rank"], blob[1]), "art",
                            sha, blob=blob, url=row["url"], what=what))
        if extrafanart and row["type"] == "fanart":
            plan.append(Planned(naming.extrafanart_path(row["selected_rank"], blob[1]), "extrafanart", sha,
                                blob=blob, url=row["url"], what=what))
    return plan


def _plan_actors(movie: MovieRecord, ctx: PublishContext) -> tuple[list[NfoActor], list[Planned]]:
    """Every actor goes into the NFO; a headshot file only for one with a cached image and a usable,
    not yet used file name (two actors of the same name share Kodi's one file name)."""
    assert movie.id is not None
    actors_dir = naming.actors_dir(movie.kind)
    nfo_actors: list[NfoActor] = []
    headshots: list[Planned] = []
    used: set[str] = set()
    for actor in ctx.actors.get(movie.id, []):
        nfo_actors.append(NfoActor(actor.name, actor.role or "", actor.position, actor.thumb_url or ""))
        if not actor.blob_sha:
            continue
        ext = getattr(ctx.blob_rows.get(actor.blob_sha), "ext", None) or "jpg"
        # None for a name Kodi cannot match, one over NAME_MAX bytes included: a shortened file would never be
        # found, so that actor keeps the NFO's <thumb> URL and the movie still publishes (no "File name too long")
        name = naming.actor_file_name(actor.name, ext)
        if name is None or name in used:
            continue
        used.add(name)
        headshots.append(Planned(f"{actors_dir}/{name}", "actor", actor.blob_sha, blob=(actor.blob_sha, ext),
                                 url=actor.thumb_url or "", what=f"headshot of {actor.name}"))
    return nfo_actors, headshots


def _plan_nfo(movie: MovieRecord, ctx: PublishContext, actors: list[NfoActor]) -> Planned:
    """The NFO rendered now (it is small): the user's state and foreign tags, read at scan, carried over."""
    assert movie.id is not None
    nfo_state = movie.nfo()
    fields = ctx.metadata[movie.id].fields()
    meta = ctx.settings.metadata
    mpaa_locked = "mpaa" in locked_fields(movie.lockdata, movie.locked_fields)
    has_local = local_trailer(movie.folder, movie.kind, movie.basename or "", movie.video_file) is not None
    data = render_nfo(NfoInput(
        fields=fields,
        mpaa=nfo_certification(fields, mpaa_locked, meta.certification_countries, meta.certification_prefixes),
        trailer="" if has_local else current_trailer_url(str(fields.get("trailer") or "")),
        default_rating=ctx.settings.ratings.default,
        streams=ctx.streams.get(movie.id),
        actors=actors,
        user_state=UserState(**nfo_state.get("user_state", {})),
        foreign_tags=nfo_state.get("foreign_tags", []),
        lockdata=movie.lockdata,
        locked_fields=movie.locked_fields,
        dateadded=f"{movie.first_seen:%Y-%m-%d %H:%M:%S}",
    ))
    path = naming.nfo_path(movie.kind, movie.basename or "", movie.video_file)
    return Planned(path, "nfo", hashlib.sha256(data).hexdigest(), data=data)
