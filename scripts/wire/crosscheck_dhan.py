#!/usr/bin/env python3
"""Parse Dhan market feed v2 messages with the official dhanhq parser (MarketFeed.process_data).

usage: crosscheck_dhan.py FRAMEFILE            one JSON line per message: {"f": index, "r": parsed dict or value}
       crosscheck_dhan.py --bench FRAMEFILE    time the parser; prints {"packets": n, "seconds": s}
       crosscheck_dhan.py --fuzz FRAMEFILE     parse every message; prints {"frames": n, "exceptions": k}

dhanhq parses only the first packet of each message, so callers send one packet per message. The disconnect
handler prints its reason instead of returning it; that text is captured into {"printed": ...}.
"""
import contextlib
import io
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from framefile import read_frames  # noqa: E402
from dhanhq.marketfeed import MarketFeed  # noqa: E402


def parser():
    mf = MarketFeed.__new__(MarketFeed)  # process_data needs no connection
    mf.on_close = None
    return mf


def main():
    args = sys.argv[1:]
    mode = "check"
    if args and args[0] in ("--bench", "--fuzz"):
        mode = args.pop(0)[2:]
    frames = read_frames(args[0])
    mf = parser()
    if mode == "bench":
        sink = io.StringIO()
        start = time.perf_counter()
        with contextlib.redirect_stdout(sink):
            for frame in frames:
                mf.process_data(frame)
        seconds = time.perf_counter() - start
        print(json.dumps({"packets": len(frames), "seconds": seconds}))
        return
    if mode == "fuzz":
        exceptions = 0
        kinds = {}
        with contextlib.redirect_stdout(io.StringIO()):
            for frame in frames:
                try:
                    mf.process_data(frame)
                except Exception as e:
                    exceptions += 1
                    kinds[type(e).__name__] = kinds.get(type(e).__name__, 0) + 1
        print(json.dumps({"frames": len(frames), "exceptions": exceptions, "kinds": kinds}))
        return
    out = sys.stdout
    for i, frame in enumerate(frames):
        captured = io.StringIO()
        with contextlib.redirect_stdout(captured):
            result = mf.process_data(frame)
        line = {"f": i, "r": result}
        if captured.getvalue():
            line["printed"] = captured.getvalue().strip()
        out.write(json.dumps(line) + "\n")


if __name__ == "__main__":
    main()
