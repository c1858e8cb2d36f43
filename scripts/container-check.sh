#!/usr/bin/env bash
# The deployment a user with Docker gets, end to end: base images (stand-ins when no registry answers, see
# scripts/docker-standins.sh), the image built from the unchanged Dockerfile, docker-compose.yml up with a generated
# .env, the app healthy through its own HEALTHCHECK, a signed webhook, operator reads, non-root, a restart keeping the
# data, two worker containers sharing a burst's work (each action once at a CRM/ticket stub), and `down -v` leaving
# nothing. Each step prints its outcome and time; any failure exits non-zero; everything it started is removed.
# Starts (and stops) a Docker engine when none answers (scripts/with-docker.sh). Port 8080 must be free.
# usage: scripts/container-check.sh   (CI: .ci/run)
set -euo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
if ! timeout 10 docker info >/dev/null 2>&1; then
  exec bash "$REPO/scripts/with-docker.sh" bash "$REPO/scripts/container-check.sh" "$@"
fi
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DEBIAN_FRONTEND=noninteractive
# The classic builder: BuildKit would pull its Dockerfile frontend (the `# syntax=` line) from a registry.
export DOCKER_BUILDKIT=0 COMPOSE_DOCKER_CLI_BUILD=0

WORK=$(mktemp -d)
PROJECT=wrcheck$$
APP_URL=http://127.0.0.1:8080
BURST=40   # calls: half call.completed (a crm.sync each), half call.busy (a crm.sync and a ticket each)
STUB_PID=''
COMPOSE=()
downed=''

# --- output: one line per step, with its outcome and time ---------------------------------------------------------
check_t0=$(date +%s%N)
elapsed() { awk -v a="$1" -v b="$(date +%s%N)" 'BEGIN { printf "%.1f s", (b - a) / 1e9 }'; }
step() {   # step NAME FUNCTION: runs it, prints "ok" or "FAILED" with the time taken; a failure ends the check
  local t0; t0=$(date +%s%N)
  echo "== $1"
  if "$2"; then
    echo "   ok: $1 ($(elapsed "$t0"))"
  else
    echo "   FAILED: $1 ($(elapsed "$t0"))"
    exit 1
  fi
}
note() { echo "   $*"; }

compose() { "${COMPOSE[@]}" -p "$PROJECT" -f "$REPO/docker-compose.yml" --env-file "$WORK/.env" "$@"; }

cleanup() {
  local rc=$?
  set +e
  if (( rc != 0 )) && (( ${#COMPOSE[@]} )) && [[ -f $WORK/.env && -z $downed ]]; then
    echo "== logs (last 40 lines per service)"
    compose --profile workers logs --no-color --tail 40 2>&1 | sed 's/^/   /'
  fi
  if [[ -z $downed && -f $WORK/.env ]] && (( ${#COMPOSE[@]} )); then
    compose --profile workers down -v --remove-orphans >/dev/null 2>&1
  fi
  [[ -z $STUB_PID ]] || { kill "$STUB_PID" 2>/dev/null; wait "$STUB_PID" 2>/dev/null; }
  rm -rf "$WORK"
  if (( rc == 0 )); then echo "container check: passed ($(elapsed "$check_t0"))"
  else echo "container check: FAILED ($(elapsed "$check_t0"))"; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT; trap 'exit 143' TERM

# --- steps ---------------------------------------------------------------------------------------------------------
engine() {
  note "engine $(docker version --format '{{.Server.Version}}, API {{.Server.APIVersion}}')"
  if docker compose version >/dev/null 2>&1; then COMPOSE=(docker compose)
  else
    command -v docker-compose >/dev/null || { apt-get update -qq && apt-get install -y -qq docker-compose >/dev/null; }
    COMPOSE=(docker-compose)
  fi
  note "compose: ${COMPOSE[*]} ($("${COMPOSE[@]}" version --short 2>/dev/null || echo '?'))"
  command -v jq >/dev/null || { apt-get update -qq && apt-get install -y -qq jq >/dev/null; }
  if (exec 3<>/dev/tcp/127.0.0.1/8080) 2>/dev/null; then
    note "port 8080 is in use (docker-compose.yml publishes the app there)"; return 1
  fi
}

base_images() { bash "$REPO/scripts/docker-standins.sh" 2>&1 | sed 's/^/   /'; }

# The CRM and ticket stub (bench/Baseline, recording each Idempotency-Key) on the Docker bridge's host address:
# every compose network reaches the host there.
stub() {
  local bridge port
  bridge=$(docker network inspect bridge -f '{{(index .IPAM.Config 0).Gateway}}')
  if [[ -z $bridge ]]; then   # engines before 23 leave it out: the subnet's first address, which dockerd takes
    bridge=$(docker network inspect bridge -f '{{(index .IPAM.Config 0).Subnet}}')
    bridge=${bridge%/*}; bridge=${bridge%.*}.1
  fi
  dotnet build "$REPO/bench/Baseline" -c Release -o "$WORK/stub" --nologo -v quiet >"$WORK/stub-build.log" 2>&1 \
    || { tail -n 20 "$WORK/stub-build.log"; return 1; }
  port=$(( 20000 + RANDOM % 20000 ))
  STUB_URL=http://$bridge:$port
  ASPNETCORE_URLS=$STUB_URL STUB_RECORD=1 STUB_DELAY_MS=5 dotnet "$WORK/stub/Baseline.dll" >"$WORK/stub.log" 2>&1 &
  STUB_PID=$!
  wait_for 30 curl -sf "$STUB_URL/_control/stats" -o /dev/null || { cat "$WORK/stub.log"; return 1; }
  note "stub at $STUB_URL"
}

env_file() {
  SECRET=whsec_$(openssl rand -base64 32)
  OPERATOR_PASSWORD=$(openssl rand -hex 16)
  umask 077
  cat >"$WORK/.env" <<ENV
POSTGRES_PASSWORD=$(openssl rand -hex 16)
WEBHOOK_SIGNING_SECRET=$SECRET
DASHBOARD_USERNAME=operator
DASHBOARD_PASSWORD=$OPERATOR_PASSWORD
CRM_BASE_URL=$STUB_URL
CRM_API_TOKEN=check-token
TICKETS_BASE_URL=$STUB_URL
TICKETS_API_TOKEN=check-token
ENV
  umask 022
  note "generated .env (random secrets, CRM/ticket URLs at the stub) for compose project $PROJECT"
}

build_image() { compose build migrate 2>&1 | tail -n 3 | sed 's/^/   /'; [[ ${PIPESTATUS[0]} == 0 ]]; }

up() { compose up -d 2>&1 | sed 's/^/   /'; [[ ${PIPESTATUS[0]} == 0 ]] && wait_healthy; }

wait_healthy() {
  local id status
  id=$(compose ps -q app)
  for _ in $(seq 120); do
    status=$(docker inspect -f '{{.State.Health.Status}}' "$id" 2>/dev/null || echo gone)
    if [[ $status == healthy ]]; then note "app container healthy (its own HEALTHCHECK)"; return 0; fi
    sleep 1
  done
  note "app not healthy after 120 s (status: $status)"
  return 1
}

# The published app from the image itself, for its `send` command (the same signing code the service verifies with).
app_tool() {
  local id; id=$(docker create webhookreceiver:local)
  docker cp "$id:/app" "$WORK/app" >/dev/null && docker rm "$id" >/dev/null
}

# send CALL_ID STATUS: a signed MiniVoice event for that call; prints the HTTP status.
send() {
  sed -e "s/call_123/$1/" -e "s/\"completed\"/\"$2\"/" -e "s/call\.completed/call.$2/" \
    "$REPO/tests/WebhookReceiver.IntegrationTests/Fixtures/webhook.call-completed.json" >"$WORK/$1.json"
  WEBHOOK_SECRET=$SECRET dotnet "$WORK/app/WebhookReceiver.dll" send --url "$APP_URL/webhooks/minivoice" "$WORK/$1.json" \
    | head -n1 | cut -d' ' -f1
}

CALL=call_check_$$
webhook() {
  local status; status=$(send "$CALL" completed)
  note "POST /webhooks/minivoice (signed) -> $status"
  [[ $status == 202 ]]
}

http_status() { curl -s -o /dev/null -w '%{http_code}' "$@"; }

operator_reads() {
  local with without
  with=$(http_status -u "operator:$OPERATOR_PASSWORD" "$APP_URL/calls/$CALL")
  without=$(http_status "$APP_URL/calls/$CALL")
  note "GET /calls/$CALL with operator credentials -> $with, without -> $without"
  [[ $with == 200 && $without == 401 ]]
}

non_root() {
  local uid; uid=$(compose exec -T app id -u | tr -d '\r')
  note "app runs as uid $uid (image user: $(docker inspect -f '{{.Config.User}}' webhookreceiver:local))"
  [[ -n $uid && $uid != 0 ]]
}

restart_keeps_data() {
  compose restart app >/dev/null 2>&1 && wait_healthy && operator_reads
}

psql_value() { compose exec -T postgres psql -U webhookreceiver -d webhookreceiver -Atc "$1" | tr -d '\r'; }

workers() {
  compose --profile workers up -d --scale worker=2 2>&1 | sed 's/^/   /'
  local running; running=$(docker ps -q --filter "label=com.docker.compose.project=$PROJECT" \
                             --filter label=com.docker.compose.service=worker --filter status=running | wc -l)
  note "$running worker containers running beside the app"
  (( running == 2 ))
}

burst() {
  local i statuses expected done_ actions keys repeats
  export -f send; export SECRET WORK APP_URL REPO
  statuses=$(for i in $(seq "$BURST"); do echo "call_burst_$$_$i $( ((i % 2)) && echo completed || echo busy)"; done \
             | xargs -P 4 -L 1 bash -c 'send "$0" "$1"' | sort | uniq -c | tr -s ' ' | xargs)
  note "$BURST webhooks -> $statuses"
  [[ $statuses == "$BURST 202" ]] || return 1
  expected=$(( BURST / 2 + BURST ))
  for _ in $(seq 120); do
    done_=$(psql_value "SELECT count(*) FROM call_actions WHERE call_id LIKE 'call_burst_$$_%' AND state = 'succeeded'")
    [[ $done_ == "$expected" ]] && break
    sleep 1
  done
  note "burst actions succeeded: $done_ of $expected"
  [[ $done_ == "$expected" ]] || return 1
  # Each action of the whole run (the first call's too) reached the stub under its own key, and only once.
  actions=$(psql_value "SELECT count(*) FROM call_actions")
  curl -sf "$STUB_URL/_control/stats" -o "$WORK/stats.json"
  keys=$(jq '.calls.distinct_keys + .tickets.distinct_keys' "$WORK/stats.json")
  repeats=$(jq '.calls.keys_ok_more_than_once + .tickets.keys_ok_more_than_once' "$WORK/stats.json")
  note "call_actions: $actions; at the stub: $keys distinct Idempotency-Keys, $repeats answered more than once"
  [[ $keys == "$actions" && $repeats == 0 ]]
}

down() {
  compose --profile workers down -v --remove-orphans >/dev/null 2>&1 || return 1
  downed=1
  local left vols
  left=$(docker ps -aq --filter "label=com.docker.compose.project=$PROJECT" | wc -l)
  vols=$(docker volume ls -q --filter "label=com.docker.compose.project=$PROJECT" | wc -l)
  note "after down -v: $left containers, $vols volumes of project $PROJECT"
  (( left == 0 && vols == 0 ))
}

wait_for() { local n=$1; shift; for _ in $(seq "$n"); do "$@" && return 0; sleep 1; done; return 1; }

step "Docker engine and compose" engine
step "base images (official, or local stand-ins)" base_images
step "CRM/ticket stub reachable from containers" stub
step "generated .env" env_file
step "build the image (compose build, unchanged Dockerfile)" build_image
step "compose up -d: postgres, migrate, app; app healthy" up
step "the app's signing tool, from the image" app_tool
step "signed webhook -> 202" webhook
step "operator read -> 200, without credentials -> 401" operator_reads
step "app runs as non-root" non_root
step "compose restart app keeps the data" restart_keeps_data
step "--profile workers up -d --scale worker=2" workers
step "a burst's work done once (each action once at the stub)" burst
step "compose down -v leaves nothing" down
