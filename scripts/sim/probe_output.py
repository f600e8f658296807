"""What the interop probes (kiteticker_probe.py, dhanfeed_probe.py) share: printing their one JSON document and leaving
while the broker client's own thread (Twisted's reactor, dhanhq's event loop) is still running."""
import json
import os
import sys


def print_and_exit(result, lock):
    """Writes `result` as one JSON line on stdout and exits at once: 0 when the client connected, else 2."""
    with lock:
        json.dump(result, sys.stdout)
    sys.stdout.write("\n")
    sys.stdout.flush()
    # The client's thread does not stop on its own; the probe's work is done.
    os._exit(0 if result["connected"] else 2)
