"""report/: the experiment report's tables are those that ``report/build.py`` makes from the
committed result files, its links resolve, and it stays a report (length, size, no lab-diary
words)."""
import re
from pathlib import Path

import pytest

from report import build

REPORT = Path(build.__file__).resolve().parent
LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")


@pytest.mark.parametrize("page", sorted(build.PAGES))
def test_the_tables_are_the_build_s(page):
    text = (REPORT / page).read_text()
    names = [m["name"] for m in build.MARKER.finditer(text)]
    assert sorted(names) == sorted(build.PAGES[page]), f"every table of report/build.py is in {page}, once"
    assert build.render(text, build.tables(page)) == text, "run `python -m report.build` and commit"


def test_a_table_that_differs_is_caught():
    text = (REPORT / "README.md").read_text()
    changed = text.replace("<!-- table: presets -->\n", "<!-- table: presets -->\n| stale |\n", 1)
    assert build.render(changed, build.tables()) == text
    assert changed != text


def test_an_unknown_marker_is_an_error():
    with pytest.raises(KeyError, match="nonsense"):
        build.render("<!-- table: nonsense -->\n<!-- end table -->", build.tables())


@pytest.mark.parametrize("page", ["README.md", "notes/README.md", "performance.md"])
def test_links_resolve(page):
    path = REPORT / page
    for target in LINK.findall(path.read_text()):
        if "://" in target:
            continue
        assert (path.parent / target).exists(), f"{page}: {target} does not exist"


def test_every_figure_is_shown():
    text = "".join((REPORT / p).read_text() for p in ("README.md", "notes/README.md"))
    for figure in (REPORT / "figures").iterdir():
        assert f"figures/{figure.name}" in text, f"report/figures/{figure.name} is in no page"


def test_a_report_not_a_diary():
    assert len((REPORT / "README.md").read_text().splitlines()) <= 500
    size = sum(p.stat().st_size for p in REPORT.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
    assert size <= 3 * 2**20, f"report/ holds {size / 2**20:.1f} MiB"
    diary = re.compile("|".join((r"\bsessions? \d", r"\bissue #?\d", "what is" + " left")), re.I)
    for path in REPORT.rglob("*"):
        if path.suffix in (".md", ".py", ".sh") and "__pycache__" not in path.parts:
            for number, line in enumerate(path.read_text().splitlines(), 1):
                assert not diary.search(line), f"{path.relative_to(REPORT)}:{number}: {line.strip()}"
