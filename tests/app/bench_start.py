"""App cold start to first screen: the built Tauri app launched by tauri-driver under Xvfb,
timed from the session request to the enrollment screen's heading being on screen (a fresh
data folder each time: the first screen a new phone shows). Prints the median and spread.

Run by scripts/bench-app. Arguments: APP_BINARY [RUNS]
"""

import statistics
import sys
import tempfile
import time

from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.common.options import ArgOptions

APP = sys.argv[1]
RUNS = int(sys.argv[2]) if len(sys.argv) > 2 else 7


def once():
    opts = ArgOptions()
    opts.set_capability("browserName", "wry")
    opts.set_capability("tauri:options", {"application": APP, "args": ["--data-dir", tempfile.mkdtemp()]})
    t0 = time.perf_counter()
    d = webdriver.Remote(command_executor="http://127.0.0.1:4444", options=opts)
    try:
        while not d.find_elements(By.CSS_SELECTOR, '[data-testid="enroll-title"]'):
            time.sleep(0.01)
        return time.perf_counter() - t0
    finally:
        d.quit()


times = [once() for _ in range(RUNS)]
print(f"app cold start to first screen (enrollment), {RUNS} runs, debug build under Xvfb:")
print(f"  median {statistics.median(times) * 1000:.0f} ms, min {min(times) * 1000:.0f} ms, max {max(times) * 1000:.0f} ms")
print("  (includes WebKitWebDriver starting the process; the first run warms the page cache)")
