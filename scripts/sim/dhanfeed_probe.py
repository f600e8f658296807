#!/usr/bin/env python3
"""Interop probe: drive Dhan's own market-feed client (dhanhq's MarketFeed, formerly DhanFeed) against the simulator.

Points MarketFeed.market_feed_wss at the simulator's /dhan, subscribes the given instruments (each in its own mode),
collects what dhanhq parses for a few seconds and prints one JSON document on stdout:

    {"connected": true, "packets": [{"raw": "<hex>", "parsed": {...}}, ...], "errors": [...]}

Each packet keeps the bytes dhanhq parsed ("raw", hex) beside dhanhq's own dict ("parsed"), so the caller can decode the
same bytes with its own decoder and compare field for field.

Used by Tests/BrokerSimulatorTests/DhanHQInteropTests.swift; also handy by hand:

    .venv/bin/python3 scripts/sim/dhanfeed_probe.py --url ws://127.0.0.1:8090/dhan --instruments 0:13:15,1:2885:17
"""
import argparse
import threading
import time

from probe_output import print_and_exit

from dhanhq import DhanContext
from dhanhq import marketfeed


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True, help="the feed root, e.g. ws://127.0.0.1:8090/dhan")
    parser.add_argument("--client-id", default="sim_api_key")
    parser.add_argument("--access-token", default="sim_access_token")
    parser.add_argument("--instruments", required=True, help="comma-separated segment:security_id:request_code (15, 17, 21)")
    parser.add_argument("--seconds", type=float, default=3.0, help="how long to collect after connecting")
    parser.add_argument("--connect-timeout", type=float, default=15.0)
    args = parser.parse_args()
    instruments = []
    for item in args.instruments.split(","):
        segment, security_id, code = item.split(":")
        instruments.append((int(segment), security_id, int(code)))

    lock = threading.Lock()
    connected = threading.Event()
    result = {"connected": False, "packets": [], "errors": []}

    marketfeed.MarketFeed.market_feed_wss = args.url
    original = marketfeed.MarketFeed.process_data

    def process_data(self, data):
        parsed = original(self, data)
        if isinstance(data, (bytes, bytearray)):
            with lock:
                result["packets"].append({"raw": bytes(data).hex(), "parsed": parsed})
        return parsed

    marketfeed.MarketFeed.process_data = process_data

    def on_connect(feed):
        with lock:
            result["connected"] = True
        connected.set()

    def on_error(feed, error):
        with lock:
            result["errors"].append(str(error))

    context = DhanContext(args.client_id, args.access_token)
    feed = marketfeed.MarketFeed(context, instruments, "v2", on_connect=on_connect, on_error=on_error)
    feed.start()
    if connected.wait(args.connect_timeout):
        time.sleep(args.seconds)
    print_and_exit(result, lock)


if __name__ == "__main__":
    main()
