"""One self-contained HTML page that shows the label issues found in an image folder.

The page needs no network and no server: the images are inlined as base64 ``data:`` URIs,
and the styles and the script are inline too, so the file can be mailed or archived alone.
Pillow makes the thumbnails; it is an optional dependency,
``pip install "cleanlab-pdiff[images]"``.
"""

import base64
import html
import io
import numbers
from collections import Counter, namedtuple
from pathlib import Path
from string import Template

import pandas as pd

from . import images

__all__ = ["write_report"]

_COLUMNS = ("path", "given_label", "suggested_label", "label_quality", "is_label_issue")
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
#: What a card shows: the path, the escaped labels, the score and its rank (1 = worst).
_Card = namedtuple("_Card", "where given suggested score rank")
_LEGEND = (
    "Worst first. The score is the label quality: the network's probability of the given "
    "label, averaged over every epoch of training, from 0 to 1; lower = more likely wrong. "
    "#1 is the lowest score of all {n} images."
)
#: The ``Image.format`` of files inlined byte for byte, with their MIME types.
_AS_IS = {"JPEG": "image/jpeg", "PNG": "image/png"}
# The Content-Security-Policy forbids every fetch, so that a page that renders shows that
# it is self-contained. ``$`` only marks the Template's fields: the script avoids it.
_PAGE = Template("""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src data:; \
style-src 'unsafe-inline'; script-src 'unsafe-inline'">
<title>$title</title>
<style>
body{font-family:system-ui,sans-serif;margin:1.5em;color:#222} .figure{max-width:100%}
td,th{padding:.15em .8em;text-align:right} td:first-child,th:first-child{text-align:left}
#grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(${cell}px,1fr));gap:.6em}
.card{border:1px solid #ccc;border-radius:4px;padding:.4em;font-size:.8em;min-width:0}
.card[hidden]{display:none} .card.broken{background:#fee} .missing,.note{color:#c00}
.card>div{overflow:hidden;text-overflow:ellipsis}
.card img{display:block;width:${thumb}px;height:${thumb}px;object-fit:contain;
image-rendering:pixelated;margin:0 auto .3em}
</style></head>
<body data-loaded="" data-broken="">
<h1>$title</h1>
<p id="summary">$summary</p>
<table id="per-class"><tr><th>given label</th><th>rows</th><th>issues</th></tr>
$per_class</table>
$figure
$notes<p id="legend">$legend</p>
<p><label>given &rarr; suggested: <select id="pair">
$options</select></label></p>
<div id="grid">
$cards</div>
<script>
window.addEventListener("load", function () {
  var images = Array.from(document.querySelectorAll(".card img")), broken = images.filter(
    function (img) { return !(img.complete && img.naturalWidth > 0); });
  broken.forEach(function (img) {
    img.closest(".card").classList.add("broken");
    img.insertAdjacentHTML("afterend", '<p class="missing">image could not be shown</p>');
  });
  document.body.dataset.loaded = images.length - broken.length;
  document.body.dataset.broken = broken.length;
});
document.getElementById("pair").addEventListener("change", function (event) {
  var chosen = event.target.selectedOptions[0];
  document.querySelectorAll(".card").forEach(function (card) {
    card.hidden = chosen.value !== "all" && (card.dataset.given !== chosen.dataset.given
      || card.dataset.suggested !== chosen.dataset.suggested);
  });
});
</script>
</body></html>
""")


def _check_inputs(rows, noise_rate, per_class, figure_png, max_images, thumbnail):
    """Raise a TypeError or ValueError that names the first bad argument; return per_class."""
    if not isinstance(rows, pd.DataFrame):
        raise TypeError(f"rows must be a pandas DataFrame, got {type(rows).__name__}.")
    if missing := [column for column in _COLUMNS if column not in rows.columns]:
        raise ValueError(f"rows lacks the column(s) {', '.join(missing)}; needs {_COLUMNS}.")
    for column, kind, ok in (
        ("is_label_issue", "bool", pd.api.types.is_bool_dtype),
        ("label_quality", "numeric", pd.api.types.is_numeric_dtype),
    ):
        if not ok(rows[column]):
            raise TypeError(f"rows[{column!r}] must be {kind}, got {rows[column].dtype}.")
    if not isinstance(noise_rate, numbers.Real) or not 0 <= noise_rate <= 1:
        raise ValueError(f"noise_rate must be a number in [0, 1], got {noise_rate!r}.")
    for name, value in (("max_images", max_images), ("thumbnail", thumbnail)):
        if not isinstance(value, numbers.Integral) or isinstance(value, bool):
            raise TypeError(f"{name} must be a positive integer, got {value!r}.")
        if value < 1:
            raise ValueError(f"{name} must be a positive integer, got {value!r}.")
    if figure_png is not None and (
        not isinstance(figure_png, (bytes, bytearray)) or figure_png[:8] != _PNG_SIGNATURE
    ):
        raise ValueError("figure_png must be None or the bytes of a PNG file.")
    if isinstance(per_class, pd.DataFrame):
        per_class = per_class.itertuples(index=False)
    table = [tuple(entry) for entry in per_class]
    if any(len(entry) != 3 for entry in table):
        raise ValueError("per_class must hold (given label, rows, issues) triples.")
    return table


def _data_uri(file, thumbnail, Image):
    """Return a ``data:`` URI of ``file`` whose longer side is at most ``thumbnail`` pixels.

    Raises OSError, or another of the errors ``images.pillow`` lists, when the file can't be read
    or decoded.
    """
    raw = Path(file).read_bytes()
    with Image.open(io.BytesIO(raw)) as image:
        downscaled = max(image.size) > thumbnail
        if not downscaled and image.format in _AS_IS:
            image.load()  # a truncated file fails here, not as a broken image in the browser
            return f"data:{_AS_IS[image.format]};base64,{base64.b64encode(raw).decode()}"
        from PIL import ImageOps

        image.draft("RGB", (thumbnail, thumbnail))  # a JPEG decodes at 1/2 to 1/8 scale
        # Browsers show a JPEG upright by its EXIF orientation; so does its thumbnail.
        image = ImageOps.exif_transpose(image)
        image.thumbnail((thumbnail, thumbnail))
    # JPEG is far smaller for photographs; PNG keeps small images exact, and transparency.
    as_jpeg = downscaled and "A" not in image.getbands() and "transparency" not in image.info
    if as_jpeg and image.mode not in ("RGB", "L"):
        image = image.convert("RGB")
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG" if as_jpeg else "PNG", quality=85)
    mime = "image/jpeg" if as_jpeg else "image/png"
    return f"data:{mime};base64,{base64.b64encode(buffer.getvalue()).decode()}"


def _path_html(where):
    """Return the HTML of a file's path that wraps only after a '/', never inside a name.

    The card's lines wrap only at spaces and at these ``<wbr>`` (no copied path holds
    them): a name too long for a line of its own is cut with an ellipsis, and the whole
    path is the tooltip. Extra boxes per part would do the same at a third more load time.
    """
    escaped = html.escape(where)
    return f'<div class="path" title="{escaped}">{escaped.replace("/", "/<wbr>")}</div>'


def _score_text(score):
    """Return a label-quality score with three significant digits, e.g. ``1.02e-05``.

    Examples
    --------
    >>> [_score_text(score) for score in (0.05, 0.000387, 1.0234e-05, 1.0)]
    ['0.0500', '0.000387', '1.02e-05', '1.00']
    """
    return f"{score:#.3g}"


def _card(file, card, thumbnail, pillow):
    """Return one card's HTML, and whether its image could be inlined (labels come escaped)."""
    try:
        source = _data_uri(file, thumbnail, pillow[0])
        picture, ok = f'<img src="{source}" alt="{html.escape(card.where)}">', True
    except pillow[1] as exc:
        reason = html.escape(f"{type(exc).__name__}: {exc}")
        picture, ok = f'<p class="missing">image could not be read ({reason})</p>', False
    score = _score_text(card.score)
    return (
        f'<div class="card" data-given="{card.given}" data-suggested="{card.suggested}">'
        f"{picture}{_path_html(card.where)}"
        f'<div title="{card.given}">given: {card.given}</div>'
        f'<div title="{card.suggested}">suggested: {card.suggested}</div>'
        f'<div class="score" title="label quality {card.score:.6g}">'
        f"score: {score} (#{card.rank})</div></div>\n"
    ), ok


def write_report(
    path,
    rows,
    *,
    root,
    noise_rate,
    per_class,
    figure_png=None,
    title="Label issues",
    max_images=2000,
    thumbnail=128,
):
    """Write one self-contained HTML page that shows the flagged images, worst first.

    The page holds a summary (images, estimated noise rate, images flagged), the issues per
    given label, the figure if given, a line that says what the score means, a menu that
    shows one (given, suggested) pair only, and a card per flagged image: the image, its
    path, labels, label-quality score (three significant digits, so that tiny scores still
    rank) and rank among all rows (#1: the lowest score). A path wraps only after a '/',
    and a name too long for its card is cut with an ellipsis, the whole path being its
    tooltip. Everything is inline, so the file opens anywhere, without a network or a
    server.

    Parameters
    ----------
    path : path-like
        The ``.html`` file to write (replaced if it exists).
    rows : pandas.DataFrame
        One row per image, with the columns ``path`` (relative to ``root``),
        ``given_label``, ``suggested_label``, ``label_quality`` (in [0, 1], lower is more
        likely wrong) and ``is_label_issue`` (bool). The cards follow ascending
        ``label_quality``: worst first.
    root : path-like
        The folder that the ``path`` column is relative to.
    noise_rate : float
        The estimated share of wrong labels, in [0, 1].
    per_class : pandas.DataFrame or iterable of tuple
        Issues per given label: (given label, rows, issues) triples, or a DataFrame whose
        three columns hold them in that order.
    figure_png : bytes, default=None
        A PNG image, such as the delta-distribution plot, shown above the cards.
    title : str, default="Label issues"
        The page's title and heading.
    max_images : int, default=2000
        At most this many flagged images get a card, the worst ones; the page then says
        "showing the N worst of M flagged images; the CSV lists every image". This keeps
        the page quick to write and to open for a folder of 50,000 images, whatever its
        share of flagged labels.
    thumbnail : int, default=128
        The longest side of an inlined image, in pixels. An image no larger that is a JPEG
        or PNG file is inlined as it is; a larger one is scaled down and re-encoded as JPEG
        (quality 85), or as PNG if it has transparency, so that a folder of photographs
        gives a page of reasonable size (about 5 kB per 128-pixel card).

    Returns
    -------
    n_rendered : int
        The number of cards on the page. An image that can't be read or decoded gets a
        card with a text placeholder instead of the image, and the page counts them.

    Examples
    --------
    >>> import tempfile
    >>> rows = pd.DataFrame({"path": ["cat/1.png", "dog/2.png"], "given_label": ["cat", "dog"],
    ...     "suggested_label": "dog", "label_quality": [0.1, 0.9],
    ...     "is_label_issue": [True, False]})
    >>> with tempfile.TemporaryDirectory() as folder:  # no images there: placeholders
    ...     write_report(Path(folder, "issues.html"), rows, root=folder, noise_rate=0.5,
    ...                  per_class=[("cat", 1, 1), ("dog", 1, 0)])
    1
    """
    table = _check_inputs(rows, noise_rate, per_class, figure_png, max_images, thumbnail)
    pillow = images.pillow()
    ranked = rows.sort_values("label_quality", kind="stable", ignore_index=True)
    flagged = ranked[ranked["is_label_issue"]]
    shown = flagged.head(max_images)
    givens, suggesteds = (
        [html.escape(label) for label in shown[key].astype(str)]
        for key in ("given_label", "suggested_label")
    )
    entries = map(
        _Card,
        shown["path"].astype(str),
        givens,
        suggesteds,
        shown["label_quality"],
        shown.index + 1,
    )
    cards = [_card(Path(root, card.where), card, thumbnail, pillow) for card in entries]
    pairs = Counter(zip(givens, suggesteds, strict=True)).most_common()
    notes = []
    if len(shown) < len(flagged):
        notes.append(
            f"showing the {len(shown)} worst of {len(flagged)} flagged images; "
            "the CSV lists every image"
        )
    if unreadable := sum(not ok for _, ok in cards):
        notes.append(f"{unreadable} of the images shown could not be read: see their cards")
    figure = "" if figure_png is None else base64.b64encode(figure_png).decode()
    page = _PAGE.substitute(
        title=html.escape(str(title)),
        summary=f"{len(rows)} images; estimated noise rate {noise_rate:.1%}; "
        f"{len(flagged)} flagged as label issues",
        per_class="".join(
            "<tr>" + "".join(f"<td>{html.escape(str(v))}</td>" for v in entry) + "</tr>\n"
            for entry in table
        ),
        figure=figure and f'<img class="figure" src="data:image/png;base64,{figure}" alt="figure">',
        notes="".join(f'<p class="note">{note}</p>\n' for note in notes),
        legend=_LEGEND.format(n=len(rows)),
        options=f'<option value="all">all ({len(shown)})</option>\n'
        + "".join(
            f'<option value="{i}" data-given="{g}" data-suggested="{s}">{g} &rarr; {s} ({n})'
            "</option>\n"
            for i, ((g, s), n) in enumerate(pairs)
        ),
        cards="".join(card for card, _ in cards) or "<p>No image is flagged.</p>\n",
        thumb=thumbnail,
        cell=thumbnail + 24,
    )
    # The page is whole before the file is opened: a bad image or input leaves no half page.
    Path(path).write_text(page, encoding="utf-8")
    return len(shown)
