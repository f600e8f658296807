#!/usr/bin/env python3
"""Interop probe: dhanhq's own HistoricalData.intraday_minute_data against the simulator's POST /v2/charts/intraday.

Points DhanHTTP.API_BASE_URL at the simulator (BASE/v2), makes the call and prints dhanhq's answer as JSON on stdout:
{"status": "success", "remarks": "", "data": {"open": [...], ...}} or dhanhq's failure dict.

Used by Tests/BrokerSimulatorTests/DhanHQInteropTests.swift; also by hand:

    .venv/bin/python3 scripts/sim/dhan_intraday_probe.py --base http://127.0.0.1:8090 --security-id 13 \\
        --segment IDX_I --instrument INDEX --from "2025-11-20 09:15:00" --to "2025-11-20 15:30:00"
"""
import argparse
import json
import sys

from dhanhq import DhanContext, DhanHTTP, dhanhq


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", required=True, help="the REST root, e.g. http://127.0.0.1:8090")
    parser.add_argument("--client-id", default="sim_api_key")
    parser.add_argument("--access-token", default="sim_access_token")
    parser.add_argument("--security-id", required=True)
    parser.add_argument("--segment", required=True)
    parser.add_argument("--instrument", required=True)
    parser.add_argument("--interval", type=int, default=1)
    parser.add_argument("--oi", action="store_true")
    parser.add_argument("--from", dest="from_date", required=True)
    parser.add_argument("--to", dest="to_date", required=True)
    args = parser.parse_args()

    DhanHTTP.API_BASE_URL = args.base.rstrip("/") + "/v2"
    client = dhanhq(DhanContext(args.client_id, args.access_token))
    answer = client.intraday_minute_data(
        args.security_id, args.segment, args.instrument, args.from_date, args.to_date, interval=args.interval, oi=args.oi
    )
    json.dump(answer, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
