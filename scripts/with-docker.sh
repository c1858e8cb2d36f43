#!/usr/bin/env bash
# Runs a command with a Docker engine: the one that answers, else (as root) dockerd started for the command's
# duration and stopped after it, docker.io installed with apt-get first when there is none. The command's exit code
# is this script's. usage: scripts/with-docker.sh COMMAND [ARGS...]
set -euo pipefail
(( $# )) || { echo "usage: $0 COMMAND [ARGS...]" >&2; exit 2; }

say() { echo "with-docker: $*" >&2; }

if timeout 10 docker info >/dev/null 2>&1; then exec "$@"; fi
if (( EUID != 0 )); then
  say "no Docker engine answers and starting one needs root (start Docker, or run this as root)"; exit 1
fi
if ! command -v dockerd >/dev/null; then
  say "installing docker.io (apt-get)"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive NEEDRESTART_SUSPEND=1 apt-get install -y -qq docker.io >/dev/null
fi

state=$(mktemp -d)
say "starting dockerd for this run (log: $state/dockerd.log)"
dockerd --pidfile "$state/dockerd.pid" >"$state/dockerd.log" 2>&1 &
dockerd_pid=$!
stop_engine() {
  say "stopping the dockerd this run started"
  kill "$dockerd_pid" 2>/dev/null || true
  # dockerd stops its containers (10 s grace each) before it exits.
  for _ in $(seq 60); do kill -0 "$dockerd_pid" 2>/dev/null || break; sleep 1; done
  kill -9 "$dockerd_pid" 2>/dev/null || true
  wait "$dockerd_pid" 2>/dev/null || true
  rm -rf "$state"
}
trap stop_engine EXIT
trap 'exit 130' INT; trap 'exit 143' TERM

for _ in $(seq 60); do
  timeout 5 docker info >/dev/null 2>&1 && break
  kill -0 "$dockerd_pid" 2>/dev/null || { say "dockerd exited:"; tail -n 20 "$state/dockerd.log" >&2; exit 1; }
  sleep 1
done
timeout 5 docker info >/dev/null 2>&1 || { say "dockerd did not answer within 60 s"; tail -n 20 "$state/dockerd.log" >&2; exit 1; }
say "engine $(docker version --format '{{.Server.Version}} (API {{.Server.APIVersion}})')"
rc=0
"$@" || rc=$?
exit "$rc"
