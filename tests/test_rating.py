"""The blind rating kit: a real headless Chromium rates every item; the exported CSV gives the MOS."""
import functools
import os
import shutil
import threading
import time
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pytest
from PIL import Image

from rating import key_path, make_rating_kit, mos_table, read_scores

SCORE_OF = {"bicubic": 2, "SRResNet": 3, "SRGAN": 4, "HR": 5}


def make_outputs(tmp_path):
    outputs = {}
    for m, method in enumerate(SCORE_OF):
        for name in ("baby", "bird", "butterfly"):
            path = tmp_path / "outputs" / method / f"{name}.png"
            path.parent.mkdir(parents=True, exist_ok=True)
            Image.fromarray(np.full((16, 16, 3), 40 * m, np.uint8)).save(path)
            outputs.setdefault(method, {})[name] = path
    return outputs


def read_key(kit_dir):
    import csv

    assert not (kit_dir / "key.csv").exists()  # never inside the folder that raters serve
    with open(key_path(kit_dir), newline="") as f:
        return list(csv.DictReader(f))


def test_kit_is_blind_and_shuffled(tmp_path):
    page = make_rating_kit(make_outputs(tmp_path), tmp_path / "kit", seed=3)
    text = page.read_text()
    for method in SCORE_OF:
        assert method not in text  # no method names on the page
    key = read_key(tmp_path / "kit")
    assert len(key) == 12 and len({(r["image"], r["method"]) for r in key}) == 12
    assert [r["method"] for r in key] != sorted(r["method"] for r in key)
    assert sorted(p.name for p in (tmp_path / "kit" / "images").iterdir()) == [f"{i:03d}.png" for i in range(1, 13)]


def test_mos_table_and_bad_scores(tmp_path):
    make_rating_kit(make_outputs(tmp_path), tmp_path / "kit")
    key = read_key(tmp_path / "kit")
    scores = tmp_path / "scores.csv"
    scores.write_text("rater,item,score\n" + "".join(
        f"a,{r['item']},{SCORE_OF[r['method']]}\n" for r in key) + f"b,{key[0]['item']},1\n")
    table = mos_table(key_path(tmp_path / "kit"), [scores])
    first = key[0]["method"]
    assert table[first]["ratings"] == 4 and table[first]["raters"] == 2
    assert table[first]["mos"] == pytest.approx((3 * SCORE_OF[first] + 1) / 4)
    bad = tmp_path / "bad.csv"
    bad.write_text("rater,item,score\na,001,7\n")
    with pytest.raises(ValueError, match="bad.csv:2: score must be 1..5, got 7"):
        read_scores([bad])


@pytest.fixture
def browser(tmp_path):
    """Debian's headless Chromium driven by selenium, downloading into ``tmp_path/downloads``."""
    chromium, driver_path = shutil.which("chromium"), shutil.which("chromedriver")
    if not (chromium and driver_path):
        if os.environ.get("CI") == "true":
            pytest.fail("chromium and chromedriver must be installed in CI (.ci/run installs them)")
        pytest.skip("Debian's chromium / chromium-driver not installed")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    downloads = tmp_path / "downloads"
    downloads.mkdir()
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic",
                "--no-first-run", "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--disable-dev-shm-usage", f"--user-data-dir={tmp_path / 'profile'}"):
        options.add_argument(arg)
    options.add_experimental_option("prefs", {"download.default_directory": str(downloads),
                                              "download.prompt_for_download": False})
    driver = webdriver.Chrome(service=Service(driver_path), options=options)
    driver.execute_cdp_cmd("Browser.setDownloadBehavior",
                           {"behavior": "allow", "downloadPath": str(downloads)})
    yield driver
    driver.quit()


@pytest.fixture
def served(tmp_path):
    """Serve a folder on loopback, as ``python3 -m http.server`` does: returns its base URL."""
    servers = []

    def serve(folder):
        handler = functools.partial(SimpleHTTPRequestHandler, directory=str(folder))
        handler.log_message = lambda *args: None
        server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}/"

    yield serve
    for server in servers:
        server.shutdown()


def status(browser):
    from selenium.webdriver.common.by import By

    return browser.find_element(By.ID, "status").text


def export(browser, downloads, rater):
    """Press Export CSV; the downloaded file's text, checked against the text the page shows."""
    from selenium.webdriver.common.by import By

    browser.find_element(By.ID, "export").click()
    exported = downloads / f"scores_{rater}.csv"
    for _ in range(100):
        if exported.exists() and exported.stat().st_size:
            break
        time.sleep(0.1)
    assert exported.read_text() == browser.find_element(By.ID, "csv").get_attribute("value")
    return exported


def test_rating_page_in_headless_chromium(tmp_path, browser, served):
    from selenium.webdriver.common.by import By

    page = make_rating_kit(make_outputs(tmp_path), tmp_path / "kit", seed=1)
    key = read_key(tmp_path / "kit")
    browser.get(served(page.parent))  # the kit served as its page tells: scores survive reloads
    assert not browser.find_element(By.ID, "file-warning").is_displayed()
    browser.find_element(By.ID, "rater").send_keys("tester")
    for row in key:
        browser.find_element(
            By.CSS_SELECTOR, f'input[name="{row["item"]}"][value="{SCORE_OF[row["method"]]}"]').click()
    assert status(browser) == "Rated 12 of 12"
    browser.refresh()  # the scores survive a reload (localStorage)
    assert status(browser) == "Rated 12 of 12"
    exported = export(browser, tmp_path / "downloads", "tester")
    lines = exported.read_text().splitlines()
    assert lines[0] == "rater,item,score" and len(lines) == 13
    table = mos_table(key_path(tmp_path / "kit"), [exported])
    assert {m: v["mos"] for m, v in table.items()} == {m: float(s) for m, s in SCORE_OF.items()}
    assert all(v["ratings"] == 3 and v["raters"] == 1 for v in table.values())

    # Storage lost (another browser, a cleared profile): importing the export restores it all.
    browser.execute_script("localStorage.clear()")
    browser.refresh()
    assert status(browser) == "Rated 0 of 12"
    browser.find_element(By.ID, "import").send_keys(str(exported))
    for _ in range(50):
        if status(browser) == "Rated 12 of 12":
            break
        time.sleep(0.1)
    assert status(browser) == "Rated 12 of 12"
    assert browser.find_element(By.ID, "rater").get_attribute("value") == "tester"
    checked = {el.get_attribute("name"): int(el.get_attribute("value"))
               for el in browser.find_elements(By.CSS_SELECTOR, "input[type=radio]:checked")}
    assert checked == {row["item"]: SCORE_OF[row["method"]] for row in key}


def test_page_opened_as_a_file_warns_and_still_exports(tmp_path, browser):
    from selenium.webdriver.common.by import By

    page = make_rating_kit(make_outputs(tmp_path), tmp_path / "kit", seed=2)
    browser.get(page.as_uri())
    assert browser.find_element(By.ID, "file-warning").is_displayed()
    browser.find_element(By.CSS_SELECTOR, 'input[name="001"][value="4"]').click()
    assert status(browser) == "Rated 1 of 12"
    assert export(browser, tmp_path / "downloads", "anonymous").read_text() == \
        "rater,item,score\nanonymous,001,4\n"
