#!/usr/bin/env python3
"""Parse Kite binary frames with the official kiteconnect parser (KiteTicker._parse_binary).

usage: crosscheck_kite.py FRAMEFILE            one JSON line per tick: {"f": frame index, ...fields}
       crosscheck_kite.py --bench FRAMEFILE    time the parser; prints {"packets": n, "seconds": s}
       crosscheck_kite.py --fuzz FRAMEFILE     parse every frame; prints {"frames": n, "exceptions": k, "ticks": t}

Floats are printed with repr() as strings so the Swift side can compare them exactly; datetimes are printed as
epoch seconds (TZ is forced to UTC so fromtimestamp/timestamp round-trip).
"""
import json
import os
import sys
import time

os.environ["TZ"] = "UTC"
time.tzset()

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from framefile import read_frames  # noqa: E402
from kiteconnect import KiteTicker  # noqa: E402


def parser():
    # _parse_binary only uses class constants and helper methods, so no connection or __init__ is needed.
    return KiteTicker.__new__(KiteTicker)


def fnum(x):
    return repr(float(x))


def fts(dt):
    return None if dt is None else int(dt.timestamp())


def flatten(tick):
    out = {
        "token": tick["instrument_token"],
        "mode": tick["mode"],
        "tradable": tick["tradable"],
        "last_price": fnum(tick["last_price"]),
    }
    if "ohlc" in tick:
        for k in ("open", "high", "low", "close"):
            out[k] = fnum(tick["ohlc"][k])
        out["change"] = fnum(tick["change"])
    for k in ("last_traded_quantity", "volume_traded", "total_buy_quantity", "total_sell_quantity",
              "oi", "oi_day_high", "oi_day_low"):
        if k in tick:
            out[k] = tick[k]
    if "average_traded_price" in tick:
        out["average_traded_price"] = fnum(tick["average_traded_price"])
    if "last_trade_time" in tick:
        out["last_trade_time"] = fts(tick["last_trade_time"])
    if "exchange_timestamp" in tick:
        out["exchange_timestamp"] = fts(tick["exchange_timestamp"])
    if "depth" in tick:
        out["depth"] = {side: [[lvl["quantity"], fnum(lvl["price"]), lvl["orders"]] for lvl in tick["depth"][side]]
                        for side in ("buy", "sell")}
    return out


def main():
    args = sys.argv[1:]
    mode = "check"
    if args and args[0] in ("--bench", "--fuzz"):
        mode = args.pop(0)[2:]
    frames = read_frames(args[0])
    kt = parser()
    if mode == "bench":
        start = time.perf_counter()
        packets = 0
        for frame in frames:
            packets += len(kt._parse_binary(frame))
        seconds = time.perf_counter() - start
        print(json.dumps({"packets": packets, "seconds": seconds}))
        return
    if mode == "fuzz":
        exceptions = 0
        ticks = 0
        kinds = {}
        for frame in frames:
            try:
                ticks += len(kt._parse_binary(frame))
            except Exception as e:  # the official parser raises struct.error on short data
                exceptions += 1
                kinds[type(e).__name__] = kinds.get(type(e).__name__, 0) + 1
        print(json.dumps({"frames": len(frames), "exceptions": exceptions, "ticks": ticks, "kinds": kinds}))
        return
    w = sys.stdout.write
    for i, frame in enumerate(frames):
        for tick in kt._parse_binary(frame):
            d = flatten(tick)
            d["f"] = i
            w(json.dumps(d) + "\n")


if __name__ == "__main__":
    main()
