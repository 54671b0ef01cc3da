"""The two image hosts: TMDB's CDN (``/t/p/{size}/{file}``) and fanart.tv's assets host
(``/fanart/movies/{id}/{type}/{name}`` full size, ``/preview/movies/...`` at most 200 px wide).

Sizes follow TMDB: ``original`` is the real size (the declared one, unless the catalog planted a wrong
declaration), ``wNNN`` that width and ``hNNN`` that height with
the aspect kept, never larger than the original (TMDB does not upscale).
"""

from __future__ import annotations

from metarr_pipeline.simulator.catalog import Catalog
from metarr_pipeline.simulator.entries import ImageEntry
from metarr_pipeline.simulator.renditions import Renditions
from metarr_pipeline.simulator.replies import Reply, Request, html_reply
from metarr_pipeline.simulator.settings import SimulatorConfig
from metarr_pipeline.simulator.tmdb_json import ALL_SIZES

PREVIEW_WIDTH = 200


def rendition_size(image: ImageEntry, size: str) -> tuple[int, int]:
    """Pixel size of a TMDB size name (``w300``, ``h632``, ``original``) for this image, from its real size."""
    real_width, real_height = image.real_size
    if size == "original":
        return real_width, real_height
    target = int(size[1:])
    if size[0] == "w":
        width = min(target, real_width)
        return width, max(1, round(real_height * width / real_width))
    height = min(target, real_height)
    return max(1, round(real_width * height / real_height)), height


def _image_reply(image: ImageEntry, data: bytes) -> Reply:
    return Reply(200, data, image.content_type)


class TmdbImages:
    def __init__(self, catalog: Catalog, renditions: Renditions) -> None:
        self.catalog, self.renditions = catalog, renditions

    @staticmethod
    def kind_of(path: str) -> str:
        return "image" if path.startswith("/t/p/") else "other"

    def handle(self, request: Request, config: SimulatorConfig) -> Reply:
        parts = request.path.split("/")  # ["", "t", "p", size, file]
        if len(parts) != 5 or parts[1:3] != ["t", "p"] or parts[3] not in ALL_SIZES:
            return html_reply(404, "Not Found")
        image = self.catalog.tmdb_image(parts[4])
        if image is None:
            return html_reply(404, "Not Found")
        width, height = rendition_size(image, parts[3])
        return _image_reply(image, self.renditions.get(image, width, height))


class FanartAssets:
    def __init__(self, catalog: Catalog, renditions: Renditions) -> None:
        self.catalog, self.renditions = catalog, renditions

    @staticmethod
    def kind_of(path: str) -> str:
        if path.startswith("/fanart/"):
            return "image"
        return "preview" if path.startswith("/preview/") else "other"

    def handle(self, request: Request, config: SimulatorConfig) -> Reply:
        parts = request.path.split("/")  # ["", "fanart"|"preview", "movies", id, type, name]
        if len(parts) != 6 or parts[1] not in ("fanart", "preview") or parts[2] != "movies" or not parts[3].isdigit():
            return html_reply(404, "Not Found")
        image = self.catalog.fanart_image(int(parts[3]), parts[4], parts[5])
        if image is None:
            return html_reply(404, "Not Found")
        width, height = image.width, image.height
        if parts[1] == "preview" and width > PREVIEW_WIDTH:
            width, height = PREVIEW_WIDTH, max(1, round(height * PREVIEW_WIDTH / width))
        return _image_reply(image, self.renditions.get(image, width, height))
