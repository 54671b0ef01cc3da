"""Catalog entries in TMDB v3's JSON shapes: field names, nesting and null-vs-empty exactly as the real
API sends them, because the real client is written against those and must work here unchanged.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from metarr_pipeline.simulator.catalog import Catalog
from metarr_pipeline.simulator.entries import (
    CastCredit,
    CollectionEntry,
    CrewCredit,
    ImageEntry,
    MovieEntry,
    Person,
    Translation,
)
from metarr_pipeline.simulator.reference import COUNTRIES, LANGUAGES
from metarr_pipeline.simulator.videos import movie_videos

POSTER_SIZES = ("w92", "w154", "w185", "w342", "w500", "w780", "original")
BACKDROP_SIZES = ("w300", "w780", "w1280", "original")
LOGO_SIZES = ("w45", "w92", "w154", "w185", "w300", "w500", "original")
PROFILE_SIZES = ("w45", "w185", "h632", "original")
STILL_SIZES = ("w92", "w185", "w300", "original")
ALL_SIZES = frozenset((*POSTER_SIZES, *BACKDROP_SIZES, *LOGO_SIZES, *PROFILE_SIZES, *STILL_SIZES))
APPENDABLE = ("images", "credits", "release_dates", "external_ids", "keywords", "alternative_titles", "translations",
              "videos")


def configuration(images_host: str) -> dict[str, Any]:
    base = f"http://{images_host}/t/p/"
    return {
        "images": {
            "base_url": base, "secure_base_url": base, "backdrop_sizes": list(BACKDROP_SIZES),
            "logo_sizes": list(LOGO_SIZES), "poster_sizes": list(POSTER_SIZES),
            "profile_sizes": list(PROFILE_SIZES), "still_sizes": list(STILL_SIZES),
        },
        "change_keys": [],
    }


def movie(entry: MovieEntry, catalog: Catalog, language: str, append: Iterable[str],
          image_languages: frozenset[str | None] | None,
          video_languages: frozenset[str | None] | None = None, max_images: int | None = None) -> dict[str, Any]:
    """``GET /movie/{id}``. ``image_languages``: the parsed include_image_language (None = absent, which
    like TMDB keeps only images in the request language, so textless ones are lost); ``video_languages``
    the same for include_video_language and the videos; ``max_images``: images per kind at most (the
    config's ``max_images_per_kind``)."""
    text = entry.text(language)
    collection = catalog.collection(entry.collection_id) if entry.collection_id else None
    data: dict[str, Any] = {
        "adult": False,
        "backdrop_path": _backdrop_path(entry),
        "belongs_to_collection": None if collection is None else {
            "id": collection.id, "name": collection.text(language).title,
            "poster_path": collection.poster.path, "backdrop_path": collection.backdrop.path,
        },
        "budget": 0,
        "genres": [{"id": g.id, "name": g.name} for g in entry.genres],
        "homepage": "",
        "id": entry.id,
        "imdb_id": entry.imdb_id,
        "origin_country": list(entry.production_countries[:1]),
        "original_language": entry.original_language,
        "original_title": entry.original_title,
        "overview": text.overview,
        "popularity": entry.popularity,
        "poster_path": _poster_path(entry, language),
        "production_companies": [
            {"id": c.id, "logo_path": c.logo_path, "name": c.name, "origin_country": c.origin_country}
            for c in entry.production_companies
        ],
        "production_countries": [{"iso_3166_1": c, "name": COUNTRIES.get(c, c)} for c in entry.production_countries],
        "release_date": entry.release_date,
        "revenue": 0,
        "runtime": entry.runtime,
        "spoken_languages": [
            {"english_name": LANGUAGES.get(code, (code, code))[0], "iso_639_1": code,
             "name": LANGUAGES.get(code, (code, code))[1]} for code in entry.spoken_languages
        ],
        "status": entry.status,
        "tagline": entry.tagline,
        "title": text.title,
        "video": False,
        "vote_average": entry.vote_average,
        "vote_count": entry.vote_count,
    }
    for section in append:
        if section in APPENDABLE:
            data[section] = movie_section(entry, section, language, image_languages, catalog.seed,
                                          video_languages, max_images)
    return data


def movie_section(entry: MovieEntry, section: str, language: str,
                  image_languages: frozenset[str | None] | None, seed: int = 0,
                  video_languages: frozenset[str | None] | None = None,
                  max_images: int | None = None) -> dict[str, Any]:
    """One appendable part (also served alone at ``/movie/{id}/{section}``, then with an ``id``)."""
    if section == "videos":
        allowed = video_languages if video_languages is not None else frozenset({language})
        return {"results": [
            {"iso_639_1": v.language, "iso_3166_1": v.country, "name": v.name, "key": v.key, "site": v.site,
             "size": v.size, "type": v.type, "official": v.official, "published_at": v.published_at,
             "id": f"{entry.id:x}{slot:02d}{v.key[:8]}"}
            for slot, v in enumerate(movie_videos(seed, entry.id, entry.original_language, entry.release_date))
            if v.language in allowed]}
    if section == "images":
        allowed = image_languages if image_languages is not None else frozenset({language})
        return {key: _images(entry.tmdb_images(kind), allowed, max_images)
                for key, kind in (("backdrops", "backdrop"), ("logos", "logo"), ("posters", "poster"))}
    if section == "credits":
        return {"cast": [_cast(c) for c in entry.cast], "crew": [_crew(c) for c in entry.crew]}
    if section == "release_dates":
        countries: dict[str, list[dict[str, Any]]] = {}
        for r in entry.release_dates:
            countries.setdefault(r.country, []).append({
                "certification": r.certification, "descriptors": [], "iso_639_1": "", "note": r.note,
                "release_date": r.release_date, "type": r.type,
            })
        return {"results": [{"iso_3166_1": c, "release_dates": dates} for c, dates in countries.items()]}
    if section == "external_ids":
        return {"imdb_id": entry.imdb_id, "wikidata_id": entry.wikidata_id, "facebook_id": entry.facebook_id,
                "instagram_id": entry.instagram_id, "twitter_id": entry.twitter_id}
    if section == "keywords":
        return {"keywords": [{"id": k, "name": name} for k, name in entry.keywords]}
    if section == "alternative_titles":
        return {"titles": [{"iso_3166_1": country, "title": title, "type": ""}
                           for country, title in entry.alternative_titles]}
    if section == "translations":
        english = Translation("en", entry.title, entry.overview)
        return {"translations": [_translation(t, entry) for t in (english, *entry.translations)]}
    raise KeyError(section)


def _translation(t: Translation, entry: MovieEntry) -> dict[str, Any]:
    """One entry of ``/movie/{id}/translations`` in TMDB's shape (an empty title: TMDB has none for it)."""
    country = {"en": "US", "ja": "JP", "ko": "KR", "zh": "CN"}.get(t.language, t.language.upper())
    english_name, name = LANGUAGES.get(t.language, (t.language, t.language))
    return {"iso_3166_1": country, "iso_639_1": t.language, "name": name, "english_name": english_name,
            "data": {"title": t.title, "overview": t.overview, "homepage": "", "tagline": "",
                     "runtime": entry.runtime}}


def collection(entry_id: int, catalog: Catalog, language: str, append: tuple[str, ...] = (),
               image_languages: frozenset[str | None] | None = None,
               max_images: int | None = None) -> dict[str, Any] | None:
    """``/collection/{id}``; ``append_to_response=images`` adds its posters and backdrops like a movie's."""
    found = catalog.collection(entry_id)
    if found is None:
        return None
    text = found.text(language)
    parts = [m for m in (catalog.movie(i) for i in found.parts) if m is not None]
    parts.sort(key=lambda m: (m.release_date, m.id))
    data = {
        "id": found.id, "name": text.title, "overview": text.overview, "poster_path": found.poster.path,
        "backdrop_path": found.backdrop.path,
        "parts": [{**movie_summary(m, language), "media_type": "movie"} for m in parts],
    }
    if "images" in append:
        data["images"] = collection_images(found, language, image_languages, max_images)
    return data


def collection_images(found: CollectionEntry, language: str, image_languages: frozenset[str | None] | None,
                      max_images: int | None = None) -> dict[str, Any]:
    """A collection's images, filtered by ``include_image_language`` as TMDB does (else the request's language),
    the first ``max_images`` of each kind (None: all)."""
    allowed = image_languages if image_languages is not None else frozenset({language})
    return {key: _images([i for i in found.images if i.kind == kind], allowed, max_images)
            for key, kind in (("backdrops", "backdrop"), ("posters", "poster"))}


def movie_summary(entry: MovieEntry, language: str) -> dict[str, Any]:
    """A movie as lists show it (search results, find results, collection parts)."""
    text = entry.text(language)
    return {
        "adult": False, "backdrop_path": _backdrop_path(entry), "genre_ids": [g.id for g in entry.genres],
        "id": entry.id, "original_language": entry.original_language, "original_title": entry.original_title,
        "overview": text.overview, "popularity": entry.popularity, "poster_path": _poster_path(entry, language),
        "release_date": entry.release_date, "title": text.title, "video": False,
        "vote_average": entry.vote_average, "vote_count": entry.vote_count,
    }


def _images(images: Iterable[ImageEntry], allowed: frozenset[str | None], max_images: int | None
            ) -> list[dict[str, Any]]:
    """One kind's list as served: the images in an allowed language, the first ``max_images`` of them (None: all;
    best-voted first, so a lighter catalog keeps each movie's best)."""
    return [_image(i) for i in [i for i in images if i.language in allowed][:max_images]]


def _image(image: ImageEntry) -> dict[str, Any]:
    return {"aspect_ratio": round(image.aspect_ratio, 3), "height": image.height, "iso_639_1": image.language,
            "file_path": image.path, "vote_average": image.vote_average, "vote_count": image.vote_count,
            "width": image.width}


def _person(person: Person) -> dict[str, Any]:
    return {"adult": False, "gender": person.gender, "id": person.id,
            "known_for_department": person.known_for_department, "name": person.name,
            "original_name": person.name, "popularity": person.popularity, "profile_path": person.profile_path}


def _cast(credit: CastCredit) -> dict[str, Any]:
    return {**_person(credit.person), "cast_id": credit.cast_id, "character": credit.character,
            "credit_id": credit.credit_id, "order": credit.order}


def _crew(credit: CrewCredit) -> dict[str, Any]:
    return {**_person(credit.person), "credit_id": credit.credit_id, "department": credit.department,
            "job": credit.job}


def _poster_path(entry: MovieEntry, language: str) -> str | None:
    """TMDB's main poster depends on the language asked for: best in it, else English, else any."""
    posters = entry.tmdb_images("poster")
    for wanted in (language, "en"):
        for poster in posters:
            if poster.language == wanted:
                return poster.path
    return posters[0].path if posters else None


def _backdrop_path(entry: MovieEntry) -> str | None:
    """The best textless backdrop, else the best one."""
    backdrops = entry.tmdb_images("backdrop")
    chosen = next((b for b in backdrops if b.language is None), backdrops[0] if backdrops else None)
    return chosen.path if chosen else None
