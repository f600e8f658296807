#!/usr/bin/env python3
"""Looks at BackendService's status page in a real browser (headless Chromium through Selenium), as a person would:
the page loads, live numbers arrive, the broker connection is listed as streaming, and the subscription count changes
after a subscribe. Run by Tests/IntegrationTests/StatusPageTests.swift against a platform it started:

  status-page.py BACKEND_URL TICKER_URL FIRST_TOKEN SECOND_TOKEN SCREENSHOT.png

Prints what it saw, one `name: value` line each, and exits 1 with the reason when the page does not show it.
"""
import json
import sys
import time
import urllib.request

from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

backend, ticker, first, second, screenshot = sys.argv[1:6]


def subscribe(token):
    body = json.dumps({"instrument_token": int(token), "requested_mode": "FULL"}).encode()
    request = urllib.request.Request(ticker + "/subscriptions", data=body, headers={"Content-Type": "application/json"}, method="POST")
    with urllib.request.urlopen(request, timeout=30) as response:
        return response.status


def text(driver, element_id):
    return driver.find_element(By.ID, element_id).text.strip()


options = Options()
options.binary_location = "/usr/bin/chromium"
for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1400,1100",
                 "--no-first-run", "--disable-extensions", "--disable-background-networking"):
    options.add_argument(argument)
driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
driver.set_page_load_timeout(60)
try:
    print(f"subscribe {first}: {subscribe(first)}")
    driver.get(backend + "/status")
    wait = WebDriverWait(driver, 60, poll_frequency=0.25)
    wait.until(lambda d: text(d, "updated-at") not in ("", "never"))
    print(f"updated-at: {text(driver, 'updated-at')}")

    def streaming_rows(d):
        rows = d.find_elements(By.CSS_SELECTOR, "#connections tbody tr[data-state='streaming']")
        return rows if rows else False

    rows = wait.until(streaming_rows)
    print(f"streaming connections: {len(rows)}")
    print(f"connection row: {rows[0].text}")
    wait.until(lambda d: text(d, "subscriptions-count").isdigit() and int(text(d, "subscriptions-count")) >= 1)
    before = int(text(driver, "subscriptions-count"))
    print(f"subscriptions before: {before}")
    print(f"ticker status: {text(driver, 'ticker-status')}")

    print(f"subscribe {second}: {subscribe(second)}")
    wait.until(lambda d: text(d, "subscriptions-count").isdigit() and int(text(d, "subscriptions-count")) == before + 1)
    print(f"subscriptions after: {text(driver, 'subscriptions-count')}")

    # Live throughput: the plot's caption shows a rate once two samples were taken, and ticks flow.
    def ticks_flowing(d):
        caption = text(d, "ticks-now")
        return caption.startswith("now ") and float(caption.split()[1]) > 0

    wait = WebDriverWait(driver, 90, poll_frequency=0.5)
    wait.until(ticks_flowing)
    print(f"ticks: {text(driver, 'ticks-now')}")
    streams = driver.find_elements(By.CSS_SELECTOR, "#streams tbody tr")
    print(f"stream rows: {len(streams)}")
    dependencies = driver.find_elements(By.CSS_SELECTOR, "#dependencies tbody tr")
    print(f"dependency rows: {' / '.join(row.text for row in dependencies)}")
    banner = driver.find_element(By.ID, "banner")
    print(f"banner shown: {banner.is_displayed()}")
    time.sleep(0.5)
    driver.save_screenshot(screenshot)
    print(f"screenshot: {screenshot}")
except Exception as error:  # a timeout says little by itself: say what the page showed
    try:
        driver.save_screenshot(screenshot)
        shown = driver.find_element(By.TAG_NAME, "body").text[:1500]
    except Exception:
        shown = "(page not readable)"
    print(f"FAILED: {type(error).__name__}: {error}\npage text:\n{shown}")
    sys.exit(1)
finally:
    driver.quit()
