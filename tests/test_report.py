"""The HTML report: self-contained, escaped, capped, thumbnailed, and rendered by a browser."""

import base64
import io
import json
import re
import subprocess
from html.parser import HTMLParser

import conftest
import numpy as np
import pandas as pd
import pytest

Image = pytest.importorskip("PIL.Image")

from cleanlab_pdiff.report import write_report  # noqa: E402

ODD = '<b>&"'  # a label and a folder name that must be escaped
#: (path, given, suggested, label_quality, is_label_issue), ranked worst first.
ROWS = [
    ("dog/1.jpg", "dog", "cat", 0.05, True),
    ("cat/0.png", "cat", "dog", 0.10, True),
    ("cat/big.jpg", "cat", "dog", 0.15, True),
    (f"{ODD}/2.jpg", ODD, "cat", 0.20, True),
    ("cat/3.png", "cat", "dog", 0.30, True),
    ("cat/4.png", "cat", "cat", 0.80, False),
    ("dog/5.jpg", "dog", "dog", 0.90, False),
]
FLAGGED = [row[0] for row in ROWS if row[4]]
COLUMNS = ["path", "given_label", "suggested_label", "label_quality", "is_label_issue"]
PER_CLASS = [("cat", 4, 3), ("dog", 2, 1), (ODD, 1, 1)]


def _image(path, size, seed):
    path.parent.mkdir(parents=True, exist_ok=True)
    pixels = np.random.default_rng(seed).integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)
    Image.fromarray(pixels).save(path)


@pytest.fixture
def folder(tmp_path):
    """An image folder of small PNG and JPEG files and one 600x400 photograph."""
    root = tmp_path / "images"
    for seed, (where, *_) in enumerate(ROWS):
        _image(root / where, (600, 400) if "big" in where else (32, 24), seed)
    return root


def _write(tmp_path, root, rows=ROWS, **options):
    options = {"noise_rate": 0.125, "per_class": PER_CLASS, **options}
    page = tmp_path / "report.html"
    n_rendered = write_report(page, pd.DataFrame(rows, columns=COLUMNS), root=root, **options)
    return n_rendered, page.read_text(encoding="utf-8")


class _Page(HTMLParser):
    """The cards (their attributes, image and text) and the pair options of a page."""

    def __init__(self, text):
        super().__init__()
        self.cards, self.options, self.body, self.policy = [], [], {}, None
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "body":
            self.body = attrs
        elif tag == "meta" and attrs.get("http-equiv") == "Content-Security-Policy":
            self.policy = attrs["content"]
        elif tag == "div" and "card" in attrs.get("class", "").split():
            self.cards.append({**attrs, "img": None, "text": ""})
        elif tag == "img" and self.cards and "class" not in attrs:
            self.cards[-1]["img"] = attrs
        elif tag == "option":
            self.options.append([attrs, ""])

    def handle_endtag(self, tag):
        # A card's text is its lines, each ended by "|"; a <wbr> splits no line.
        if tag in ("div", "p") and self.cards and not self.cards[-1]["text"].endswith("|"):
            self.cards[-1]["text"] += "|"

    def handle_data(self, data):
        data = data.strip()
        if not data or self.lasttag == "script":
            return
        if self.lasttag == "option" and self.options:
            self.options[-1][1] += data
        elif self.cards:
            self.cards[-1]["text"] += data


def _decoded(card):
    head, data = card["img"]["src"].split(",", 1)
    return head, Image.open(io.BytesIO(base64.b64decode(data)))


def test_the_page_references_nothing_outside_itself(tmp_path, folder):
    figure = io.BytesIO()
    Image.new("RGB", (40, 30), "white").save(figure, format="PNG")
    _, text = _write(tmp_path, folder, figure_png=figure.getvalue())
    for outside in ("http://", "https://", "file:", 'src="/', "href=", "url(", "@import"):
        assert outside not in text
    sources = re.findall(r'src="([^"]*)"', text)
    assert len(sources) == len(FLAGGED) + 1  # the figure too
    assert all(source.startswith("data:image/") for source in sources)
    # The browser too refuses any fetch: only data: images, inline styles and script.
    assert _Page(text).policy.startswith("default-src 'none'; img-src data:; ")


def test_cards_show_the_flagged_images_worst_first(tmp_path, folder):
    shuffled = [ROWS[i] for i in (4, 0, 6, 3, 1, 5, 2)]
    n_rendered, text = _write(tmp_path, folder, rows=shuffled)
    cards = _Page(text).cards
    assert n_rendered == len(cards) == len(FLAGGED)
    assert [card["img"]["alt"] for card in cards] == FLAGGED
    first = cards[0]
    assert (first["data-given"], first["data-suggested"]) == ("dog", "cat")
    assert first["text"] == "dog/1.jpg|given: dog|suggested: cat|score: 0.0500 (#1)|"
    assert "12.5%" in text and "7 images" in text and "5 flagged" in text
    assert "<tr><td>dog</td><td>2</td><td>1</td></tr>" in text


def test_labels_paths_and_title_are_escaped(tmp_path, folder):
    _, text = _write(tmp_path, folder, title="<i>report</i>")
    assert "&lt;i&gt;report&lt;/i&gt;" in text and "<i>" not in text
    assert ODD not in text
    escaped = "&lt;b&gt;&amp;&quot;"
    assert f'data-given="{escaped}"' in text
    assert f'alt="{escaped}/2.jpg"' in text
    assert f"<td>{escaped}</td>" in text
    card = next(card for card in _Page(text).cards if card["data-given"] == ODD)
    assert card["text"].startswith(f"{ODD}/2.jpg|given: {ODD}|")


def test_scores_keep_three_digits_say_their_rank_and_what_they_mean(tmp_path, folder):
    scores = [1.0234e-05, 0.000387, 0.0041, 0.25, 0.5, 0.00012, 0.9]  # cat/4.png: unflagged
    rows = [(*row[:3], score, row[4]) for row, score in zip(ROWS, scores, strict=True)]
    _, text = _write(tmp_path, folder, rows=rows)
    lines = [card["text"].split("|")[-2] for card in _Page(text).cards]
    # Ranked among all 7 images: the unflagged cat/4.png is #2.
    assert lines == [
        "score: 1.02e-05 (#1)",
        "score: 0.000387 (#3)",
        "score: 0.00410 (#4)",
        "score: 0.250 (#5)",
        "score: 0.500 (#6)",
    ]
    assert 'title="label quality 1.0234e-05"' in text
    legend = re.search(r'<p id="legend">([^<]*)</p>', text).group(1)
    assert "probability of the given label, averaged over every epoch" in legend
    assert "from 0 to 1; lower = more likely wrong" in legend
    assert "#1 is the lowest score of all 7 images" in legend


def test_paths_may_wrap_after_a_slash_only_and_name_themselves(tmp_path, folder):
    _, text = _write(tmp_path, folder)
    assert '<div class="path" title="cat/big.jpg">cat/<wbr>big.jpg</div>' in text
    assert "overflow-wrap:anywhere" not in text  # it broke names anywhere: "horse_0195.j|pg"
    escaped = "&lt;b&gt;&amp;&quot;"
    assert f'<div class="path" title="{escaped}/2.jpg">{escaped}/<wbr>2.jpg</div>' in text


def test_max_images_keeps_the_worst_and_says_so(tmp_path, folder):
    n_rendered, text = _write(tmp_path, folder, max_images=2)
    page = _Page(text)
    assert n_rendered == 2
    assert [card["img"]["alt"] for card in page.cards] == FLAGGED[:2]
    assert "showing the 2 worst of 5 flagged images; the CSV lists every image" in text
    assert [label for _, label in page.options] == ["all (2)", "dog → cat (1)", "cat → dog (1)"]
    _, uncapped = _write(tmp_path, folder, max_images=5)
    assert "showing the" not in uncapped


def test_the_pair_menu_counts_each_pair_most_frequent_first(tmp_path, folder):
    options = _Page(_write(tmp_path, folder)[1]).options
    assert [label for _, label in options] == [
        "all (5)",
        "cat → dog (3)",
        "dog → cat (1)",
        f"{ODD} → cat (1)",
    ]
    assert options[0][0]["value"] == "all"
    assert (options[3][0]["data-given"], options[3][0]["data-suggested"]) == (ODD, "cat")


def test_large_images_become_thumbnails_and_small_ones_stay_as_they_are(tmp_path, folder):
    Image.new("RGBA", (300, 200), (255, 0, 0, 128)).save(folder / "cat/3.png")
    Image.new("P", (32, 24)).save(folder / "cat/0.png", format="GIF")  # misnamed
    cards = {card["img"]["alt"]: card for card in _Page(_write(tmp_path, folder)[1]).cards}
    head, big = _decoded(cards["cat/big.jpg"])
    assert (head, big.size) == ("data:image/jpeg;base64", (128, 85))
    head, clear = _decoded(cards["cat/3.png"])  # a JPEG would lose the transparency
    assert (head, clear.size, clear.mode) == ("data:image/png;base64", (128, 85), "RGBA")
    head, gif = _decoded(cards["cat/0.png"])
    assert (head, gif.size) == ("data:image/png;base64", (32, 24))
    small = base64.b64decode(cards["dog/1.jpg"]["img"]["src"].split(",", 1)[1])
    assert small == (folder / "dog/1.jpg").read_bytes()
    page = _write(tmp_path, folder, thumbnail=16)[1]
    for card in _Page(page).cards:
        assert max(_decoded(card)[1].size) <= 16, card["img"]["alt"]


def test_unreadable_images_get_a_placeholder(tmp_path, folder):
    (folder / "dog/1.jpg").write_bytes(b"not an image")
    for where in ("cat/0.png", "cat/big.jpg"):
        data = (folder / where).read_bytes()
        (folder / where).write_bytes(data[: len(data) // 2])  # truncated
    (folder / "cat/3.png").unlink()
    n_rendered, text = _write(tmp_path, folder)
    cards = _Page(text).cards
    assert n_rendered == len(cards) == len(FLAGGED)
    assert [card["img"] is None for card in cards] == [True, True, True, False, True]
    assert all("image could not be read" in cards[i]["text"] for i in (0, 1, 2, 4))
    assert "4 of the images shown could not be read" in text


@pytest.mark.parametrize(
    ("change", "error", "match"),
    [
        ({"rows": "table"}, TypeError, "rows must be a pandas DataFrame, got str"),
        ({"drop": ["path", "label_quality"]}, ValueError, r"column\(s\) path, label_quality;"),
        ({"flag": [1, 0, 1, 0, 1, 0, 1]}, TypeError, r"rows\['is_label_issue'\] must be bool"),
        ({"noise_rate": 1.5}, ValueError, r"noise_rate must be a number in \[0, 1\], got 1.5"),
        ({"max_images": 0}, ValueError, "max_images must be a positive integer, got 0"),
        ({"max_images": 2.0}, TypeError, "max_images must be a positive integer, got 2.0"),
        ({"thumbnail": True}, TypeError, "thumbnail must be a positive integer, got True"),
        ({"thumbnail": -8}, ValueError, "thumbnail must be a positive integer, got -8"),
        ({"figure_png": b"GIF89a"}, ValueError, "figure_png must be None or the bytes of a PNG"),
        ({"per_class": [("cat", 4)]}, ValueError, r"per_class must hold \(given label, rows"),
    ],
)
def test_bad_input_is_named(tmp_path, change, error, match):
    rows = pd.DataFrame(ROWS, columns=COLUMNS).drop(columns=change.pop("drop", []))
    if "flag" in change:
        rows["is_label_issue"] = change.pop("flag")
    arguments = {"rows": rows, "noise_rate": 0.1, "per_class": PER_CLASS, **change}
    with pytest.raises(error, match=match):
        write_report(tmp_path / "report.html", root=tmp_path, **arguments)
    assert not list(tmp_path.iterdir())  # nothing written


def test_per_class_may_be_a_data_frame(tmp_path, folder):
    table = pd.DataFrame(PER_CLASS, columns=["given label", "rows", "issues"])
    assert _write(tmp_path, folder, per_class=table)[1].count("<tr><td>") == 3


# In a browser ---------------------------------------------------------------------------------


def test_without_chromium_the_browser_tests_skip_and_the_run_says_so(monkeypatch):
    monkeypatch.setattr(conftest.shutil, "which", lambda name: None)
    monkeypatch.delenv("CLEANLAB_PDIFF_REQUIRE_BROWSER", raising=False)
    with pytest.raises(pytest.skip.Exception) as skipped:
        conftest.find_browser()
    assert str(skipped.value) == f"{conftest.NO_BROWSER}: sudo apt-get install chromium"
    report = type("Report", (), {"longrepr": (__file__, 1, f"Skipped: {skipped.value}")})
    said = []

    class Reporter:
        stats = {"skipped": [report, report], "passed": [object()]}

        def section(self, title, **markup):
            said.append(f"== {title} ==")

        def line(self, text, **markup):
            said.append(text)

    conftest.pytest_terminal_summary(Reporter())
    assert said[0] == "== the HTML report was not rendered =="
    assert said[1].startswith("2 browser test(s) skipped: no chromium on the PATH. Install it")
    assert "sudo apt-get install chromium" in said[1]
    monkeypatch.setenv("CLEANLAB_PDIFF_REQUIRE_BROWSER", "1")  # as .ci/run sets it
    with pytest.raises(pytest.fail.Exception, match="CLEANLAB_PDIFF_REQUIRE_BROWSER is set"):
        conftest.find_browser()


def _chromium(browser, tmp_path, page, *action):
    result = subprocess.run(
        [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            f"--user-data-dir={tmp_path / 'profile'}",
            "--virtual-time-budget=5000",
            *action,
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


def test_a_browser_shows_every_image(tmp_path, folder, browser):
    n_rendered, _ = _write(tmp_path, folder)
    page = _Page(_chromium(browser, tmp_path, tmp_path / "report.html", "--dump-dom"))
    assert page.body["data-broken"] == "0"
    assert page.body["data-loaded"] == str(n_rendered) == str(len(FLAGGED))
    assert [card["img"]["alt"] for card in page.cards] == FLAGGED
    assert page.cards[3]["text"].startswith(f"{ODD}/2.jpg|given: {ODD}|suggested: cat|")
    shot = tmp_path / "report.png"
    _chromium(
        browser,
        tmp_path,
        tmp_path / "report.html",
        f"--screenshot={shot}",
        "--window-size=1200,900",
    )
    assert shot.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    assert Image.open(shot).size == (1200, 900)


def test_a_browser_marks_broken_images_and_filters_by_pair(tmp_path, folder, browser):
    _, text = _write(tmp_path, folder)
    # An image that Pillow read but the browser can't show, and a choice in the menu.
    text = text.replace('src="data:image/png;base64,', 'src="data:image/png;base64,AAAA', 1)
    choose = (
        '<script>window.addEventListener("load", function () {'
        'var menu = document.getElementById("pair"); menu.selectedIndex = 2;'
        'menu.dispatchEvent(new Event("change")); });</script></body>'
    )
    broken = tmp_path / "broken.html"
    broken.write_text(text.replace("</body>", choose), encoding="utf-8")
    page = _Page(_chromium(browser, tmp_path, broken, "--dump-dom"))
    assert (page.body["data-loaded"], page.body["data-broken"]) == ("4", "1")
    cards = {card["img"]["alt"]: card for card in page.cards}
    assert cards["cat/0.png"]["class"] == "card broken"  # the first PNG
    assert "image could not be shown" in cards["cat/0.png"]["text"]
    assert [card["class"] for card in page.cards].count("card broken") == 1
    # The second pair, dog -> cat, is the first card's only.
    assert [("hidden" in card) for card in page.cards] == [False, True, True, True, True]


#: A script that records, after load, every line of a card that wraps elsewhere than after a
#: '/' or a space, how many lines each path takes, and which lines are cut (an ellipsis).
_MEASURE_LINES = """<script>window.addEventListener("load", function () {
  var breaks = [], lines = {}, cut = [];
  document.querySelectorAll(".card > div").forEach(function (line) {
    var walker = document.createTreeWalker(line, NodeFilter.SHOW_TEXT), node, top = null,
      previous = "", count = 1;
    while ((node = walker.nextNode())) {
      for (var i = 0; i < node.length; i++) {
        var range = document.createRange();
        range.setStart(node, i);
        range.setEnd(node, i + 1);
        var y = range.getBoundingClientRect().top;
        if (top !== null && y > top + 1) {
          count += 1;
          if (previous !== "/" && previous !== " ") breaks.push(line.title + "@" + i);
        }
        top = y;
        previous = node.data[i];
      }
    }
    if (line.className === "path") lines[line.title] = count;
    if (line.scrollWidth > line.clientWidth) cut.push(line.title);
  });
  document.body.dataset.breaks = JSON.stringify(breaks);
  document.body.dataset.lines = JSON.stringify(lines);
  document.body.dataset.cut = JSON.stringify(cut);
});</script></body>"""


def test_a_browser_wraps_names_after_a_slash_and_cuts_the_too_long(tmp_path, browser):
    long_label = "Rhinolophus_ferrumequinum_the_greater_horseshoe_bat"
    long_name = "a_class_folder/an_image_file_name_too_long_for_any_card_0001.jpg"
    rows = [
        ("automobile/airplane_0303.jpg", "automobile", "airplane", 0.01, True),
        ("airplane/horse_0195.jpg", "airplane", "horse", 0.02, True),
        (long_name, "a_class_folder", long_label, 0.03, True),
        ("dog/1.jpg", "dog", "cat", 0.04, True),
    ]
    for seed, (where, *_) in enumerate(rows):
        _image(tmp_path / "images" / where, (32, 32), seed)
    _, text = _write(tmp_path, tmp_path / "images", rows=rows)
    page = tmp_path / "lines.html"
    page.write_text(text.replace("</body>", _MEASURE_LINES), encoding="utf-8")
    dumped = _chromium(browser, tmp_path, page, "--dump-dom", "--window-size=600,900")
    body = _Page(dumped).body
    assert json.loads(body["data-breaks"]) == []  # no line breaks inside a word
    lines = json.loads(body["data-lines"])
    assert lines["automobile/airplane_0303.jpg"] == 2  # too wide for a card: after the '/'
    assert lines["dog/1.jpg"] == 1
    assert lines[long_name] == 2
    # What no line can hold ends in an ellipsis; the tooltip tells it whole.
    assert json.loads(body["data-cut"]) == [long_name, long_label]
