"""The blind human-rating kit for the Set5 outputs (mean opinion score, as in the SRGAN paper).

``super_resolution.ipynb`` writes each method's super-resolved images, then calls
:func:`make_rating_kit`: a folder with a static ``index.html`` that shows every (image, method)
output in a shuffled order under an anonymous item number, lets a rater score each 1-5 (bad to
excellent), keeps the scores in the browser (localStorage) and exports them as a CSV
(``rater,item,score``); an exported CSV can be imported again to restore the scores.
The key (``<kit>_key.csv``, beside the kit's folder, never inside it, so that serving the
folder cannot expose it; :func:`key_path`) maps item numbers back to (image, method).
:func:`mos_table` turns the collected CSVs into the MOS per method.

The page needs no network. Opened from the file system (``file://``) it works, but Chromium
does not always give a reloaded ``file://`` page its stored scores back (seen with Chromium
156: about one reload in seven starts empty, and scores entered then are lost), so the page
says so and asks the rater to export before closing or reloading. Served from a local web
server (``python3 -m http.server 8000`` in the kit's folder, then ``http://localhost:8000/``)
the scores survive reloads.
"""
import csv
import html
import json
import random
import shutil
from pathlib import Path

KIT_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Super-resolution rating</title>
<style>
  body {{ font-family: sans-serif; max-width: 1100px; margin: 2em auto; }}
  .item {{ border-top: 1px solid #ccc; padding: 1em 0; }}
  .item img {{ max-width: 100%; image-rendering: pixelated; display: block; margin: .5em 0; }}
  .scores label {{ margin-right: 1.2em; }}
  #status {{ font-weight: bold; }}
  #file-warning {{ background: #fff3cd; padding: .5em; }}
  textarea {{ width: 100%; height: 8em; }}
</style>
</head>
<body>
<h1>Rate the image quality</h1>
<p>Score each image from 1 (bad) to 5 (excellent) for how natural and detailed it looks.
The images are in random order and carry no method names. Your scores stay in this browser
until you press <em>Export CSV</em>; send the exported file back. <em>Import CSV</em> restores
the scores of a file you exported earlier.</p>
<p id="file-warning" hidden><strong>This page was opened as a file.</strong> Browsers do not
always keep a file page's scores across a reload: press <em>Export CSV</em> before you close
or reload it, and import that file to go on later. To keep scores across reloads, run
<code>python3 -m http.server 8000</code> in this folder and open http://localhost:8000/.</p>
<p><label>Your name or id: <input id="rater" type="text"></label></p>
<p id="status"></p>
<div id="items">
{items}
</div>
<p><button id="export" type="button">Export CSV</button>
<label>Import CSV: <input id="import" type="file" accept=".csv,text/csv" multiple></label></p>
<textarea id="csv" readonly></textarea>
<script>
const KIT = {kit_id};
const ITEMS = {item_ids};
const store = "srgan-rating-" + KIT;
const scores = JSON.parse(localStorage.getItem(store) || "{{}}");
const rater = document.getElementById("rater");
rater.value = localStorage.getItem(store + "-rater") || "";
rater.addEventListener("input", () => localStorage.setItem(store + "-rater", rater.value));
document.getElementById("file-warning").hidden = location.protocol !== "file:";
function update() {{
  for (const input of document.querySelectorAll("input[type=radio]")) {{
    input.checked = scores[input.name] === Number(input.value);
  }}
  const done = ITEMS.filter(id => scores[id]).length;
  document.getElementById("status").textContent = "Rated " + done + " of " + ITEMS.length;
}}
for (const input of document.querySelectorAll("input[type=radio]")) {{
  input.addEventListener("change", () => {{
    scores[input.name] = Number(input.value);
    localStorage.setItem(store, JSON.stringify(scores));
    update();
  }});
}}
document.getElementById("import").addEventListener("change", async (event) => {{
  // Rows "rater,item,score" of an exported CSV; rows of other kits or bad scores are ignored.
  for (const file of event.target.files) {{
    for (const line of (await file.text()).split(/\\r?\\n/).slice(1)) {{
      const [who, id, score] = line.split(",");
      if (ITEMS.includes(id) && ["1", "2", "3", "4", "5"].includes(score)) {{
        scores[id] = Number(score);
        if (!rater.value) rater.value = who;
      }}
    }}
  }}
  localStorage.setItem(store, JSON.stringify(scores));
  localStorage.setItem(store + "-rater", rater.value);
  event.target.value = "";
  update();
}});
document.getElementById("export").addEventListener("click", () => {{
  const who = (rater.value || "anonymous").replace(/[",\\n]/g, " ");
  const lines = ["rater,item,score"].concat(
    ITEMS.filter(id => scores[id]).map(id => who + "," + id + "," + scores[id]));
  const text = lines.join("\\n") + "\\n";
  document.getElementById("csv").value = text;
  const link = document.createElement("a");
  link.href = URL.createObjectURL(new Blob([text], {{type: "text/csv"}}));
  link.download = "scores_" + who.replace(/[^A-Za-z0-9_-]/g, "_") + ".csv";
  document.body.appendChild(link);
  link.click();
  link.remove();
}});
update();
</script>
</body>
</html>
"""

ITEM_HTML = """<div class="item" id="{item}">
  <h2>Item {item}</h2>
  <img src="images/{item}.png" alt="item {item}">
  <div class="scores">{radios}</div>
</div>"""


def key_path(kit_dir):
    """The key of the kit in ``kit_dir``: ``<kit_dir>_key.csv``, beside the folder."""
    kit_dir = Path(kit_dir)
    return kit_dir.parent / f"{kit_dir.name}_key.csv"


def make_rating_kit(outputs, out_dir, seed=0):
    """Write a blind rating kit for ``outputs``.

    Args:
        outputs (dict): ``{method: {image_name: path_to_png}}``, e.g. bicubic, SRResNet, SRGAN
            and HR outputs of the Set5 images.
        out_dir (str or Path): the kit folder (``index.html``, ``images/``); the key goes
            beside it, to :func:`key_path` ``(out_dir)``.
        seed (int): seed of the shuffle.

    Returns:
        Path: the kit's ``index.html``.
    """
    out_dir = Path(out_dir)
    images_dir = out_dir / "images"
    if images_dir.exists():
        shutil.rmtree(images_dir)
    images_dir.mkdir(parents=True)
    entries = [(method, name, Path(path)) for method, by_name in sorted(outputs.items())
               for name, path in sorted(by_name.items())]
    random.Random(seed).shuffle(entries)
    rows, blocks = [], []
    for number, (method, name, path) in enumerate(entries, start=1):
        item = f"{number:03d}"
        shutil.copyfile(path, images_dir / f"{item}.png")
        rows.append({"item": item, "image": name, "method": method})
        radios = "".join(f'<label><input type="radio" name="{item}" value="{score}"> {score}</label>'
                         for score in range(1, 6))
        blocks.append(ITEM_HTML.format(item=html.escape(item), radios=radios))
    (out_dir / "key.csv").unlink(missing_ok=True)  # a kit made before the key moved out
    with open(key_path(out_dir), "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=["item", "image", "method"])
        writer.writeheader()
        writer.writerows(rows)
    page = KIT_PAGE.format(items="\n".join(blocks), kit_id=json.dumps(f"{seed}-{len(rows)}"),
                           item_ids=json.dumps([r["item"] for r in rows]))
    (out_dir / "index.html").write_text(page, encoding="utf-8")
    return out_dir / "index.html"


def read_scores(score_csvs):
    """Scores from the kit's exported CSVs.

    Returns:
        list of tuple: ``(rater, item, score)``.

    Raises:
        ValueError: naming the file and line of a malformed row or a score outside 1..5.
    """
    scores = []
    for path in map(Path, score_csvs):
        with open(path, newline="", encoding="utf-8") as f:
            for line, row in enumerate(csv.DictReader(f), start=2):
                try:
                    score = int(row["score"])
                    item = row["item"].strip()
                except (KeyError, TypeError, ValueError, AttributeError):
                    raise ValueError(f"{path}:{line}: expected columns rater,item,score") from None
                if not 1 <= score <= 5:
                    raise ValueError(f"{path}:{line}: score must be 1..5, got {score}")
                scores.append((row.get("rater", ""), item, score))
    return scores


def mos_table(key_csv, score_csvs):
    """Mean opinion score per method from collected score CSVs.

    Args:
        key_csv (str or Path): the kit's key (:func:`key_path`).
        score_csvs (list): CSVs exported by the kit's page.

    Returns:
        dict: ``{method: {"mos": float, "std": float, "ratings": int, "raters": int}}``,
        methods sorted by name.

    Raises:
        ValueError: for a malformed CSV, or an item the key does not know.
    """
    with open(key_csv, newline="", encoding="utf-8") as f:
        method_of = {row["item"]: row["method"] for row in csv.DictReader(f)}
    by_method, raters = {}, {}
    for rater, item, score in read_scores(score_csvs):
        if item not in method_of:
            raise ValueError(f"item {item!r} is not in {key_csv}: scores from another kit?")
        by_method.setdefault(method_of[item], []).append(score)
        raters.setdefault(method_of[item], set()).add(rater)
    table = {}
    for method in sorted(by_method):
        values = by_method[method]
        mean = sum(values) / len(values)
        table[method] = {"mos": mean,
                         "std": (sum((v - mean) ** 2 for v in values) / len(values)) ** 0.5,
                         "ratings": len(values), "raters": len(raters[method])}
    return table
