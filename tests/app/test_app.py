"""End to end in the real app: the built Tauri app (cunjie-app) under Xvfb, driven through
WebKitWebDriver by tauri-driver with Selenium, against a real cunjie-server on 127.0.0.1.

A cleaner enrolls and does a round with a checkpoint photo; an inspector enrolls and does a
household inspection with a failed item, its photo and a rectification order; the server goes
away; the inspector records another inspection offline; the app is closed and started again;
the server comes back; everything arrives on the server exactly once. Screenshots of every
screen go to the artifacts folder.

Run by scripts/e2e-app (which builds the app, installs what is missing, starts Xvfb and
tauri-driver). Arguments: APP_BINARY SERVER_BINARY ARTIFACTS_DIR
"""

import os
import re
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time

import qrcode
from PIL import Image
from selenium import webdriver
from selenium.common.exceptions import ElementClickInterceptedException, WebDriverException
from selenium.webdriver.common.by import By
from selenium.webdriver.common.options import ArgOptions
from selenium.webdriver.remote.file_detector import UselessFileDetector

APP, SERVER, ARTIFACTS = sys.argv[1], sys.argv[2], sys.argv[3]
os.makedirs(ARTIFACTS, exist_ok=True)
WORK = tempfile.mkdtemp(prefix="cunjie-app-e2e-")
SERVER_DIR = os.path.join(WORK, "server")
shots = []


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


PORT = free_port()
URL = f"http://127.0.0.1:{PORT}"


class Server:
    """cunjie-server on 127.0.0.1:PORT; `demo` the first time (prints enrollment codes)."""

    def __init__(self, demo):
        cmd = [SERVER, "demo" if demo else "serve", "--data-dir", SERVER_DIR, "--listen", f"127.0.0.1:{PORT}"]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.lines = []
        threading.Thread(target=self._read, daemon=True).start()
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", PORT), timeout=1):
                    return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("the server did not start:\n" + "\n".join(self.lines))

    def _read(self):
        for line in self.proc.stdout:
            self.lines.append(line.rstrip())

    def code(self, role):
        for line in self.lines:
            m = re.match(rf"{role} .*enrollment code: (\S+)", line)
            if m:
                return m.group(1)
        raise RuntimeError(f"no {role} code in:\n" + "\n".join(self.lines))

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=30)


def camera_photo(seed):
    """A camera-sized JPEG with noise, as a phone writes it."""
    path = os.path.join(WORK, f"camera-{seed}.jpg")
    img = Image.effect_noise((1600, 1200), 40 + seed).convert("RGB")
    img = Image.merge("RGB", (img.getchannel(0), Image.linear_gradient("L").resize((1600, 1200)), img.getchannel(2)))
    img.save(path, "JPEG", quality=90)
    return path


def door_plate_photo(text):
    """A photo of a printed door-plate QR code (as the dashboard prints it) on a noisy wall."""
    path = os.path.join(WORK, "door-plate.jpg")
    wall = Image.effect_noise((1600, 1200), 30).convert("RGB")
    code = qrcode.make(text, box_size=12, border=4).convert("RGB")
    wall.paste(code, (420, 260))
    wall.save(path, "JPEG", quality=88)
    return path


def session(data_dir):
    opts = ArgOptions()
    opts.set_capability("browserName", "wry")
    opts.set_capability("tauri:options", {"application": APP, "args": ["--data-dir", data_dir]})
    d = webdriver.Remote(command_executor="http://127.0.0.1:4444", options=opts)
    d.file_detector = UselessFileDetector()
    d.implicitly_wait(0)
    return d


def q(d, testid):
    return f'[data-testid="{testid}"]'


def wait(d, css, timeout=30, text=None, gone=False):
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        try:
            found = d.find_elements(By.CSS_SELECTOR, css)
            if gone and not found:
                return None
            if found and not gone:
                el = found[0]
                last = el.text
                if text is None or text in el.text:
                    return el
        except WebDriverException as e:
            last = str(e)
        time.sleep(0.2)
    shot(d, "timeout")
    raise AssertionError(f"waited {timeout}s for {css} (text {text!r}); last seen: {last!r}")


def tap(d, testid, timeout=30):
    el = wait(d, q(d, testid), timeout)
    deadline = time.time() + timeout
    while not el.is_enabled() and time.time() < deadline:
        time.sleep(0.2)
    assert el.is_enabled(), f"{testid} stays disabled"
    # Fixed bars (the badge on top, the actions at the bottom) may cover an element the
    # driver scrolled only to the edge: bring it to the middle first, as a thumb would.
    d.execute_script("arguments[0].scrollIntoView({block: 'center'})", el)
    time.sleep(0.1)
    try:
        el.click()
    except ElementClickInterceptedException:
        time.sleep(0.5)
        d.execute_script("arguments[0].scrollIntoView({block: 'center'})", el)
        el.click()
    return el


def shot(d, name):
    time.sleep(0.6)  # the screenshot can lag one frame behind the DOM
    path = os.path.join(ARTIFACTS, f"{len(shots) + 1:02d}-{name}.png")
    d.save_screenshot(path)
    shots.append(path)


def enroll(d, code, name):
    wait(d, q(d, "enroll-title"))
    shot(d, f"{name}-enroll")
    wait(d, q(d, "enroll-server")).send_keys(URL)
    wait(d, q(d, "enroll-code")).send_keys(code)
    tap(d, "enroll-submit")
    wait(d, q(d, "sync-badge"), timeout=60)


def all_synced(d, timeout=90):
    tap(d, "sync-now")
    wait(d, q(d, "sync-pending"), timeout, text="全部已同步")


def first(d, css):
    return wait(d, css).get_attribute("data-testid")


def main():
    server = Server(demo=True)
    cleaner_code, inspector_code = server.code("保洁员"), server.code("检查员")

    # The cleaner: a round with a checkpoint photo.
    cleaner_dir = os.path.join(WORK, "cleaner")
    d = session(cleaner_dir)
    enroll(d, cleaner_code, "cleaner")
    shot(d, "cleaner-home")
    tap(d, first(d, '[data-testid^="zone-"][data-testid$="-start"]'))
    wait(d, q(d, "round-title"))
    cleared = first(d, '[data-testid^="checkpoint-"][data-testid$="-cleared"]')
    tap(d, cleared)
    photo = cleared[: -len("-cleared")] + "-photo"
    wait(d, q(d, photo)).send_keys(camera_photo(1))
    wait(d, '[data-testid^="thumb-"]', timeout=60)
    shot(d, "cleaner-round")
    tap(d, "round-finish")
    tap(d, "round-finish-confirm")
    wait(d, q(d, "round-summary"))
    shot(d, "cleaner-round-summary")
    all_synced(d)
    shot(d, "cleaner-synced")
    d.quit()

    # The inspector: a household inspection with a failed item, its photo, a rectification.
    inspector_dir = os.path.join(WORK, "inspector")
    d = session(inspector_dir)
    enroll(d, inspector_code, "inspector")
    wait(d, q(d, "households"))
    shot(d, "inspector-households")
    households = d.find_elements(By.CSS_SELECTOR, '[data-testid="households"] > li > button')
    assert len(households) >= 2, "the village's households are listed"
    second_id = households[1].get_attribute("data-testid")
    second_plate = households[1].find_element(By.CSS_SELECTOR, ".plate").text
    d.execute_script("arguments[0].scrollIntoView({block: 'center'})", households[0])
    households[0].click()
    wait(d, q(d, "inspection-title"))
    tap(d, "item-HH_WHITE_LITTER-fail")
    wait(d, q(d, "item-HH_WHITE_LITTER-photo")).send_keys(camera_photo(2))
    wait(d, '[data-testid^="thumb-"]', timeout=60)
    note = d.find_elements(By.CSS_SELECTOR, q(d, "item-HH_WHITE_LITTER-note"))
    if note:
        note[0].send_keys("房前塑料袋散落")
    tap(d, "inspection-rest-pass")
    wait(d, q(d, "inspection-ready"))
    shot(d, "inspector-checklist")
    tap(d, "inspection-submit")
    wait(d, q(d, "inspection-submitted"))
    tap(d, "rectify-HH_WHITE_LITTER")
    wait(d, q(d, "rectify-HH_WHITE_LITTER-done"))
    shot(d, "inspector-submitted")
    all_synced(d)
    tap(d, "nav-rectifications")
    wait(d, '[data-testid^="rect-"]')
    shot(d, "inspector-rectifications")
    tap(d, "nav-home")

    # The server goes away; another inspection is recorded offline.
    server.stop()
    # The second household is opened by photographing its door-plate QR code.
    second = second_id[len("household-"):]
    wait(d, q(d, "plate-photo")).send_keys(door_plate_photo(f"cunjie://household/{second}"))
    title = wait(d, q(d, "inspection-title"), timeout=60)
    assert second_plate in title.text, f"the QR opened {title.text!r}, not {second_plate!r}"
    shot(d, "inspector-qr-opened")
    tap(d, "inspection-rest-pass")
    tap(d, "inspection-submit")
    wait(d, q(d, "inspection-submitted"))
    tap(d, "inspection-done")
    tap(d, "sync-now")
    wait(d, q(d, "sync-error"), timeout=120)
    shot(d, "inspector-offline")
    tap(d, "nav-history")
    wait(d, '[data-testid^="history-item-"][data-state="pending"]')
    shot(d, "inspector-history-offline")
    d.quit()

    # The app starts again, the server is back: the offline inspection arrives.
    server = Server(demo=False)
    d = session(inspector_dir)
    wait(d, q(d, "sync-badge"), timeout=60)
    all_synced(d)
    tap(d, "nav-history")
    wait(d, '[data-testid^="history-item-"]')
    assert not d.find_elements(By.CSS_SELECTOR, '[data-testid^="history-item-"][data-state="pending"]'), "nothing pending"
    shot(d, "inspector-history-synced")
    tap(d, "nav-settings")
    wait(d, q(d, "settings-title"))
    shot(d, "inspector-settings")
    d.quit()
    server.stop()

    # Exactly once on the server.
    db = sqlite3.connect(os.path.join(SERVER_DIR, "cunjie-server.db"))
    facts = dict(db.execute("SELECT kind, count(*) FROM fact GROUP BY kind").fetchall())
    assert facts == {"inspection": 2, "round": 1}, f"facts on the server: {facts}"
    (orders,) = db.execute("SELECT count(*) FROM rectification").fetchone()
    assert orders == 1, f"{orders} rectification orders"
    (stored,) = db.execute("SELECT count(*) FROM photo WHERE state = 'stored'").fetchone()
    assert stored == 2, f"{stored} photos stored (a checkpoint photo and an inspection photo)"
    (dupes,) = db.execute("SELECT count(*) FROM (SELECT mutation_id FROM receipt GROUP BY mutation_id HAVING count(*) > 1)").fetchone()
    assert dupes == 0, "no mutation has two receipts"
    print(f"ok: 2 inspections, 1 round, 1 rectification, 2 photos, each once; {len(shots)} screenshots in {ARTIFACTS}")


if __name__ == "__main__":
    main()
