#!/usr/bin/env bash
# Installs what building, running and testing need, when it is missing: the C libraries the Swift
# package links (hiredis, libpq, libcurl), redis-server, redis-tools and redis-sentinel (the Sentinel failover test),
# and PostgreSQL's server.
# Safe to run again: it installs nothing that is already there.
set -euo pipefail

need=()
have_pkg() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }
# prometheus (promtool), docker-compose and yamllint check deploy/ in `make test`; `make run` starts Prometheus.
# chromium and chromium-driver: the status-page test looks at the page in a real (headless) browser.
for pkg in libhiredis-dev libpq-dev libcurl4-openssl-dev redis-server redis-tools redis-sentinel zlib1g-dev prometheus docker-compose yamllint chromium chromium-driver; do
    have_pkg "$pkg" || need+=("$pkg")
done
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && ! command -v initdb >/dev/null 2>&1; then
    need+=(postgresql)
fi
if ! python3 -c 'import venv, ensurepip' >/dev/null 2>&1; then
    need+=(python3-venv)
fi

if [ ${#need[@]} -eq 0 ]; then
    exit 0
fi
echo "install-deps: installing ${need[*]}"
if [ "$(id -u)" -ne 0 ]; then
    SUDO=sudo
else
    SUDO=
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
# Debian starts redis-server as a system service on install where it can; we run our own instances.
# Debian's prometheus package may start a system Prometheus on 9090; `make run` and the tests start their own.
if [ -x /etc/init.d/prometheus ]; then $SUDO /etc/init.d/prometheus stop >/dev/null 2>&1 || true; fi
# Likewise redis-sentinel's system service (port 26379): the failover test starts its own sentinels.
if [ -x /etc/init.d/redis-sentinel ]; then $SUDO /etc/init.d/redis-sentinel stop >/dev/null 2>&1 || true; fi
