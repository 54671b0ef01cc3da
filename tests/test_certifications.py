"""Certifications: every country's kept, the NFO's chosen along the configured ladder, in each country's form.

The end-to-end case runs the real scan → fetch → enrich → publish against the loopback simulator, whose
catalog has Amélie with a US release but no US rating (British 15, German 6).
"""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

import pytest
from lxml import etree

from metarr_pipeline.config import InvalidSetting, MetadataSettings, load_settings
from metarr_pipeline.errors import ConfigError
from metarr_pipeline.metadata.certifications import on_ladder, release_certifications
from metarr_pipeline.metadata.merge import locked_fields, merge
from metarr_pipeline.publish.nfo import nfo_certification
from metarr_pipeline.simulator import Simulator, SimulatorConfig
from metarr_pipeline.store import Store
from tests.test_providers import make_settings
from tests.test_publish import enrich_all, publish

AMELIE = "Amélie (2001)"
MATRIX = "The Matrix (1999) {tmdb-603}"

RELEASES = {"results": [
    {"iso_3166_1": "US", "release_dates": [{"certification": "", "type": 1}, {"certification": "", "type": 3}]},
    {"iso_3166_1": "gb", "release_dates": [{"certification": "12", "type": 4}, {"certification": "15", "type": 3}]},
    {"iso_3166_1": "DE", "release_dates": [{"certification": " 6 ", "type": 3}]},
    {"iso_3166_1": "FR", "release_dates": []},
]}


def test_every_country_with_a_certification_is_kept_with_its_preferred_release() -> None:
    assert release_certifications(RELEASES) == {"DE": "6", "GB": "15"}  # theatrical before digital; US has none
    assert release_certifications(None) == {}


@pytest.mark.parametrize(("ladder", "prefixes", "expected"), [
    (("US",), {}, ""),  # the scraper's behaviour: one country, nothing there, nothing written
    (("US", "GB", "DE"), {}, "UK:15"),
    (("DE", "GB"), {}, "DE:6"),
    (("DE",), {"DE": "FSK "}, "FSK 6"),
    (("DE",), {"DE": ""}, "6"),
    (("FR", "NL"), {}, ""),
])
def test_ladder_takes_the_first_country_that_has_one(ladder, prefixes, expected) -> None:
    assert on_ladder(release_certifications(RELEASES), ladder, prefixes) == expected


def test_us_keeps_the_scrapers_rated_prefix() -> None:
    assert on_ladder({"US": "PG-13", "GB": "12A"}, ("US", "GB"), {}) == "Rated PG-13"


def test_nfo_certification_respects_a_user_lock_and_falls_back_to_the_stored_value() -> None:
    fields = {"mpaa": "NC-17", "certifications": {"GB": "18"}}
    assert nfo_certification(fields, False, ("US", "GB"), {}) == "UK:18"
    assert nfo_certification(fields, True, ("US", "GB"), {}) == "Rated NC-17"  # the user's own, locked
    assert nfo_certification({"mpaa": "PG"}, False, ("US", "GB"), {}) == "Rated PG"  # older data: no countries


def test_certifications_merge_per_country_and_lock_with_mpaa() -> None:
    merged = merge({"certifications": {"NL": "16"}}, {"certifications": {"GB": "15"}}).fields
    assert merged["certifications"] == {"NL": "16", "GB": "15"}
    assert "certifications" in locked_fields(False, ["OfficialRating"])
    assert "certifications" in locked_fields(False, (), ["mpaa"])


@pytest.mark.parametrize(("body", "message"), [
    ('certification_countries = ["us"]', "metadata.certification_countries[0] must be an upper-case ISO 3166-1"),
    ('certification_countries = []', "metadata.certification_countries is empty"),
    ('certification_countries = ["US", "GB", "US"]', "metadata.certification_countries[2] repeats 'US'"),
    ('certification_countries = "US"', "'metadata.certification_countries' must be a list"),
    ('certification_prefixes = { Germany = "FSK " }', "metadata.certification_prefixes.Germany must be"),
    ('certification_prefixes = { DE = "FSK FSK FSK FSK FSK" }', "at most 16 characters"),
])
def test_bad_metadata_settings_name_the_key_and_the_file(tmp_path: Path, body: str, message: str) -> None:
    cfg = tmp_path / "metarr.toml"
    cfg.write_text(f"[metadata]\n{body}\n", encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_settings(cfg, check_roots=False)
    assert message in str(err.value) and str(cfg) in str(err.value)


def test_metadata_settings_check_their_values_outside_the_loader() -> None:
    with pytest.raises(InvalidSetting, match="certification_countries\\[1\\]"):
        MetadataSettings(certification_countries=("US", "GBR"))


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory):
    with Simulator(SimulatorConfig(image_cache_dir=tmp_path_factory.mktemp("simcache"))) as s:
        yield s


def _mpaa(root: Path, folder: str, basename: str) -> str | None:
    return etree.parse(str(root / folder / f"{basename}.nfo")).getroot().findtext("mpaa")


def test_published_nfo_follows_the_ladder_against_the_simulator(demo_library: Path, tmp_path: Path,
                                                                 sim: Simulator) -> None:
    root = tmp_path / "library"
    for name in (AMELIE, MATRIX):
        shutil.copytree(demo_library / name, root / name)
    settings = make_settings(tmp_path, sim, root=root,
                             extra='[metadata]\ncertification_countries = ["US", "GB", "DE"]\n')
    store = Store(settings.database_path)
    enrich_all(settings, store)
    amelie = next(m for m in store.movies() if m.folder.endswith(AMELIE))
    stored = store.movie_metadata([amelie.id])[amelie.id].fields()["certifications"]
    assert {"GB": "15", "DE": "6"}.items() <= stored.items() and "US" not in stored  # every country kept

    publish(settings, store)
    assert _mpaa(root, AMELIE, "Amélie (2001)") == "UK:15"  # not empty: the next country on the ladder
    assert _mpaa(root, MATRIX, "The Matrix (1999) {tmdb-603}") == "Rated R"  # the US form, as Kodi's scraper writes it

    german = replace(settings, metadata=MetadataSettings(("DE", "US"), {"DE": "FSK "}))
    publish(german, store)  # a ladder change is a publish, no new provider request
    assert _mpaa(root, AMELIE, "Amélie (2001)") == "FSK 6"
