#!/usr/bin/env python3
"""Interop probe: drive Zerodha's own KiteTicker (pykiteconnect) against the broker simulator.

Connects with KiteTicker(api_key, access_token, root=ROOT), subscribes the given tokens, sets their mode,
collects ticks for a few seconds and prints one JSON document on stdout:

    {"connected": true, "ticks": [...], "errors": [...], "close": null, "messages": [...]}

Datetime fields (exchange_timestamp, last_trade_time) are written as Unix epoch seconds so the caller does not
have to guess the time zone KiteTicker used (it builds naive local datetimes).

Used by Tests/BrokerSimulatorTests/KiteTickerInterop*.swift; also handy by hand:

    .venv/bin/python3 scripts/sim/kiteticker_probe.py --root ws://127.0.0.1:8090 --tokens 256265,2885633 --mode full
"""
import argparse
import datetime
import threading
import time

from probe_output import print_and_exit

from kiteconnect import KiteTicker


def to_jsonable(value):
    if isinstance(value, datetime.datetime):
        return value.timestamp()
    if isinstance(value, dict):
        return {key: to_jsonable(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(item) for item in value]
    return value


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", required=True, help="ticker root, e.g. ws://127.0.0.1:8090")
    parser.add_argument("--api-key", default="sim_api_key")
    parser.add_argument("--access-token", default="sim_access_token")
    parser.add_argument("--tokens", required=True, help="comma-separated instrument tokens")
    parser.add_argument("--mode", default="full", choices=["ltp", "quote", "full"])
    parser.add_argument("--seconds", type=float, default=4.0, help="how long to collect after connecting")
    parser.add_argument("--connect-timeout", type=float, default=15.0)
    args = parser.parse_args()
    tokens = [int(token) for token in args.tokens.split(",") if token]

    connected = threading.Event()
    finished = threading.Event()
    lock = threading.Lock()
    result = {"connected": False, "ticks": [], "errors": [], "close": None, "messages": []}

    ticker = KiteTicker(args.api_key, args.access_token, root=args.root, reconnect=False)

    def on_connect(ws, response):
        ws.subscribe(tokens)
        ws.set_mode(args.mode, tokens)
        with lock:
            result["connected"] = True
        connected.set()

    def on_ticks(ws, ticks):
        with lock:
            result["ticks"].extend(to_jsonable(ticks))

    def on_message(ws, payload, is_binary):
        if not is_binary:
            with lock:
                result["messages"].append(payload.decode("utf-8", "replace"))

    def on_error(ws, code, reason):
        with lock:
            result["errors"].append({"code": code, "reason": str(reason)})

    def on_close(ws, code, reason):
        with lock:
            result["close"] = {"code": code, "reason": str(reason)}
        finished.set()

    ticker.on_connect = on_connect
    ticker.on_ticks = on_ticks
    ticker.on_message = on_message
    ticker.on_error = on_error
    ticker.on_close = on_close
    ticker.connect(threaded=True)

    if connected.wait(args.connect_timeout):
        time.sleep(args.seconds)
    try:
        ticker.close()
    except Exception as error:  # the reactor may already be gone after a failed connect
        result["errors"].append({"code": -1, "reason": "close: %s" % error})
    finished.wait(5)
    print_and_exit(result, lock)


if __name__ == "__main__":
    main()
