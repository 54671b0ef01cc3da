"""The movie-set story of tests/test_kodi_sets_refresh.py on a real Kodi 20.1 that lists the sets folder itself.

Here the "Movie set information folder" is also a "Files" source, so ``Files.GetDirectory`` answers for it
(``CFileUtils::RemoteAccessAllowed``), and the player's path mappings cover only the library, so metarr cannot
fall back to listing its own folder: the set's new art can only come from Kodi's listing, in the paths Kodi
stores (docs/KODI-SOURCE.md (d)). One Kodi for this module.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers.kodi_real import KodiProfile, Source
from tests.test_kodi_sets_refresh import (  # noqa: F401  (fixtures, and the test run again with this module's Kodi)
    pipeline,
    test_a_sets_new_art_and_overview_reach_kodi_and_nothing_is_sent_twice,
)
from tests.test_publish import sim  # noqa: F401  (a fixture)

pytestmark = pytest.mark.timeout(900)

LIBRARY_ONLY_MAPPING = True


def kodi_profile(workdir: Path) -> KodiProfile:
    return KodiProfile(sources=[Source(workdir / "library", False, "library")], moviesets_folder=workdir / "sets",
                       extract_flags=False, file_sources=[workdir / "sets"])
