"""Writing the ``{basename}.nfo`` Kodi reads, and reading our own NFO back to check it.

Kodi 20's NFO reader is the target (``docs/KODI.md`` wins over the wiki and other tools): writers go in
``<credits>``, exactly one default ``<rating>`` and a default ``<uniqueid>`` (Kodi's ``imdbnumber`` is
the default uniqueid, empty without one), one element per list value, no artwork URLs (local files win
and we write local files). Elements follow the order of Kodi's own NFO export so a diff against an NFO
Kodi exported stays readable.

Kodi's parser is lenient but Jellyfin's, Plex's and ours are not, so the output is well-formed XML built
with lxml, with every character XML 1.0 forbids removed, even inside the user's foreign tags. The user's
state and foreign tags are carried over: publishing must never cost a watched flag or a custom tag.

Output is deterministic (same input, same bytes) so the publish stage can skip files whose bytes are
already right and keep a stable NFO hash.

Modules, in reading order:

- ``model``: ``NfoInput`` and ``NfoActor``, everything an NFO is made of, decided beforehand.
- ``render``: ``render_nfo``, the elements in Kodi's export order, one call per section:
  - ``values``: text cleaned of what XML forbids, empty values left out, numbers in a stable form;
  - ``fields``: the certification (``kodi_mpaa``) and the movie set;
  - ``ids``: ratings and unique ids, one default each;
  - ``fileinfo``: the probed streams (``nfo_streams``: what of a probe an NFO carries);
  - ``actors``: ``<actor>`` elements;
  - ``user``: the user's resume point and foreign tags, carried over, and the final layout.
- ``read``: ``read_back``, our own NFO parsed strictly into the values it carries.
"""

from metarr_pipeline.publish.nfo.fields import kodi_mpaa
from metarr_pipeline.publish.nfo.fileinfo import kodi_audio_codec, nfo_streams
from metarr_pipeline.publish.nfo.model import NfoActor, NfoInput
from metarr_pipeline.publish.nfo.read import read_back
from metarr_pipeline.publish.nfo.render import XML_DECLARATION, render_nfo
from metarr_pipeline.publish.nfo.values import clean_xml_text

__all__ = [
    "XML_DECLARATION", "NfoActor", "NfoInput", "clean_xml_text", "kodi_audio_codec", "kodi_mpaa", "nfo_streams",
    "read_back",
    "render_nfo",
]
