#!/usr/bin/env python3
"""Checks the deploy files without a container engine (CI has none): run by `make test` through
Tests/IntegrationTests/DeployChecksTests.swift, or by hand: .venv/bin/python scripts/test/check-deploy.py

- `docker-compose config` parses deploy/docker-compose.yml with every deploy/env/*.env.example, with and without the
  demo profile, and the resolved file says what deploy/README.md promises (real broker by default, the simulator only in
  the demo profile, the seed-001 flags off in production, health checks on /health, credentials from a secrets file);
- yamllint --strict on deploy/;
- the Dockerfile follows the rules in deploy/README.md;
- no committed deploy file holds a secret;
- every alert in deploy/prometheus/alerts.yml has a summary, a description and a runbook_url whose anchor is a section
  of docs/operations.md, and alerts.test.yml has a case where it fires and one where it does not.

Prints one line per problem and exits 1 when there is any.
"""
import os
import re
import subprocess
import sys

import yaml

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
DEPLOY = os.path.join(ROOT, "deploy")
problems = []


def problem(text):
    problems.append(text)


def run(args, env=None):
    return subprocess.run(args, cwd=DEPLOY, env=env, capture_output=True, text=True, timeout=120)


def compose_config(env_file, profiles):
    env = dict(os.environ)
    # The env file names itself (ENV_FILE) for the containers' env_file; the examples stand in for the real files.
    env["ENV_FILE"] = env_file
    args = ["docker-compose", "-f", "docker-compose.yml", "--env-file", env_file]
    for profile in profiles:
        args += ["--profile", profile]
    result = run(args + ["config"], env=env)
    if result.returncode != 0:
        problem(f"docker-compose config with {env_file} {profiles}: exit {result.returncode}: {result.stderr.strip()[:500]}")
        return None
    return yaml.safe_load(result.stdout)


def env_values(path):
    values = {}
    with open(os.path.join(DEPLOY, path)) as handle:
        for line in handle:
            line = line.strip()
            if line and not line.startswith("#") and "=" in line:
                key, value = line.split("=", 1)
                values[key] = value
    return values


def check_compose():
    env_files = sorted(f"env/{name}" for name in os.listdir(os.path.join(DEPLOY, "env")) if name.endswith(".env.example"))
    names = [path.split("/")[1].split(".")[0] for path in env_files]
    for wanted in ("dev", "staging", "production"):
        if wanted not in names:
            problem(f"deploy/env/{wanted}.env.example is missing")
    for env_file, name in zip(env_files, names):
        values = env_values(env_file)
        if values.get("ENVIRONMENT") != name:
            problem(f"{env_file}: ENVIRONMENT is {values.get('ENVIRONMENT')!r}, not {name!r}")
        if name == "production":
            for flag in ("SUBSCRIPTION_EVENTS_ENABLED", "BACKFILL_SUBSCRIPTION_AWARE", "BACKFILL_IMMEDIATE_ON_SUBSCRIBE"):
                if values.get(flag) != "false":
                    problem(f"{env_file}: seed 001 starts production with {flag}=false, found {values.get(flag)!r}")
        if name != "dev" and values.get("API_KEY_ENABLED") != "true":
            problem(f"{env_file}: API_KEY_ENABLED must be true outside dev")

        plain = compose_config(env_file, [])
        if plain is None:
            continue
        services = plain.get("services", {})
        # docker-compose 1.29's `config` lists every service whatever the profile: check the profiles themselves.
        if services.get("broker-simulator", {}).get("profiles") != ["demo"]:
            problem(f"{env_file}: the simulator is not confined to the demo profile")
        for service, definition in services.items():
            if service != "broker-simulator" and definition.get("profiles"):
                problem(f"{env_file}: {service} runs only in profiles {definition['profiles']}")
            if "broker-simulator" in (definition.get("depends_on") or {}):
                problem(f"{env_file}: {service} depends on the simulator, which production does not run")
        ticker = services.get("ticker-service", {})
        environment = ticker.get("environment", {})
        if name != "dev":
            if environment.get("BROKER_URL") != "https://api.kite.trade" or environment.get("BROKER_WS_URL") != "wss://ws.kite.trade":
                problem(f"{env_file}: TickerService does not point at Kite: {environment.get('BROKER_URL')} {environment.get('BROKER_WS_URL')}")
        if environment.get("ACCOUNTS_FILE") != "/run/secrets/broker_accounts":
            problem(f"{env_file}: TickerService's ACCOUNTS_FILE is not the secrets file")
        secrets = [entry if isinstance(entry, str) else entry.get("source") for entry in ticker.get("secrets", [])]
        if "broker_accounts" not in secrets:
            problem(f"{env_file}: TickerService does not mount the broker_accounts secret")
        for service, port in (("ticker-service", 8080), ("backend-service", 8081)):
            definition = services.get(service, {})
            test = " ".join(definition.get("healthcheck", {}).get("test", []))
            if f"http://127.0.0.1:{port}/health" not in test:
                problem(f"{env_file}: {service}'s healthcheck does not ask /health on {port}: {test!r}")
            if str(definition.get("environment", {}).get("PORT")) != str(port):
                problem(f"{env_file}: {service} does not listen on {port}")
        for service, definition in services.items():
            image = definition.get("image", "")
            if image.endswith(":latest") or (":" not in image and "build" not in definition):
                problem(f"{env_file}: {service} uses an unpinned image {image!r}")

    demo = compose_config("env/dev.env.example", ["demo"])
    if demo is not None:
        services = demo.get("services", {})
        if "broker-simulator" not in services:
            problem("the demo profile does not start the simulator")
        environment = services.get("ticker-service", {}).get("environment", {})
        if not str(environment.get("BROKER_URL", "")).startswith("http://broker-simulator:"):
            problem(f"dev.env with --profile demo: TickerService's BROKER_URL is {environment.get('BROKER_URL')!r}")


def check_yamllint():
    result = run(["yamllint", "--strict", "-c", ".yamllint", "."])
    if result.returncode != 0:
        problem("yamllint: " + (result.stdout + result.stderr).strip()[:2000])


def check_dockerfile():
    with open(os.path.join(DEPLOY, "Dockerfile")) as handle:
        text = handle.read()
    # Join continuation lines, drop comments.
    instructions = [line.strip() for line in re.sub(r"\\\n", " ", text).splitlines() if line.strip() and not line.strip().startswith("#")]
    for line in instructions:
        keyword = line.split()[0].upper()
        if keyword == "FROM":
            image = line.split()[1]
            if ":" not in image or image.endswith(":latest"):
                problem(f"Dockerfile: base image {image} is not pinned to a version")
        if keyword == "RUN" and "apt-get install" in line:
            if "--no-install-recommends" not in line:
                problem(f"Dockerfile: apt-get install without --no-install-recommends: {line[:120]}")
            if "rm -rf /var/lib/apt/lists" not in line:
                problem(f"Dockerfile: apt lists are left in the layer: {line[:120]}")
            if "apt-get update" not in line:
                problem(f"Dockerfile: apt-get install without apt-get update in the same RUN: {line[:120]}")
        if keyword == "ADD":
            problem(f"Dockerfile: ADD instead of COPY: {line[:120]}")
        if keyword in ("ENV", "ARG") and re.search(r"(PASSWORD|TOKEN|SECRET|API_KEY)", line, re.IGNORECASE):
            problem(f"Dockerfile: a secret in {keyword}: {line[:120]}")
    stages = [index for index, line in enumerate(instructions) if line.upper().startswith("FROM ")]
    final = instructions[stages[-1]:] if stages else instructions
    users = [line.split()[1] for line in final if line.upper().startswith("USER ")]
    if not users or users[-1] in ("root", "0"):
        problem("Dockerfile: the final image runs as root")


SECRET_KEY = re.compile(r"(PASSWORD|TOKEN|SECRET|API_KEY|api_key|access_token)", re.IGNORECASE)
PLACEHOLDER = re.compile(r"^(change-me|\$\{.*\}|/run/secrets/.*|)$")
# The simulator's built-in credentials are public (docs/simulator.md) and only work against it.
SIMULATOR_CREDENTIALS = {"sim_api_key", "sim_access_token", "sim_api_key_2", "sim_access_token_2", "sim_api_key_3", "sim_access_token_3"}


def check_no_secrets():
    for directory, _, files in os.walk(DEPLOY):
        for name in files:
            path = os.path.join(directory, name)
            relative = os.path.relpath(path, ROOT)
            with open(path, errors="replace") as handle:
                text = handle.read()
            for number, line in enumerate(text.splitlines(), 1):
                stripped = line.strip()
                if stripped.startswith("#"):
                    continue
                for match in re.finditer(r'"?([A-Za-z_]+)"?\s*[:=]\s*"?([^",}\s]*)"?', stripped):
                    key, value = match.group(1), match.group(2)
                    if not SECRET_KEY.search(key) or key.endswith("_FILE") or key.endswith("_file"):
                        continue
                    if key.endswith("_ENABLED") or value in ("true", "false"):
                        continue
                    # `${VARIABLE...}` interpolations and `[name]` references to compose secrets hold no value.
                    if value.startswith("${") or value.startswith("[") or PLACEHOLDER.match(value) or value in SIMULATOR_CREDENTIALS:
                        continue
                    problem(f"{relative}:{number}: {key} has a value that looks like a secret")


def anchor(heading):
    # GitHub's anchors: lower case, punctuation dropped, spaces to dashes.
    return re.sub(r"[^a-z0-9 -]", "", heading.strip().lower()).replace(" ", "-")


def check_alerts():
    with open(os.path.join(DEPLOY, "prometheus", "alerts.yml")) as handle:
        rules = yaml.safe_load(handle)
    with open(os.path.join(DEPLOY, "prometheus", "alerts.test.yml")) as handle:
        tests = yaml.safe_load(handle)
    with open(os.path.join(ROOT, "docs", "operations.md")) as handle:
        anchors = {anchor(line.lstrip("#")) for line in handle if line.startswith("#")}
    fires, silent = set(), set()
    for case in tests.get("tests", []):
        for check in case.get("alert_rule_test", []):
            (fires if check.get("exp_alerts") else silent).add(check["alertname"])
    names = []
    for group in rules.get("groups", []):
        for rule in group.get("rules", []):
            name = rule.get("alert")
            if not name:
                continue
            names.append(name)
            annotations = rule.get("annotations", {})
            for key in ("summary", "description", "runbook_url"):
                if not annotations.get(key):
                    problem(f"alert {name}: no {key}")
            url = annotations.get("runbook_url", "")
            if not url.startswith("docs/operations.md#") or url.split("#", 1)[1] not in anchors:
                problem(f"alert {name}: runbook_url {url!r} is not a section of docs/operations.md")
            if name not in fires:
                problem(f"alert {name}: alerts.test.yml has no case where it fires")
            if name not in silent:
                problem(f"alert {name}: alerts.test.yml has no case where it stays silent")
    if len(names) != len(set(names)):
        problem("alerts.yml: an alert name is used twice")


def main():
    check_alerts()
    check_compose()
    check_yamllint()
    check_dockerfile()
    check_no_secrets()
    for text in problems:
        print(text)
    print(f"check-deploy: {len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
