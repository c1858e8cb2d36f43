#!/usr/bin/env bash
# The webhook hot path against this machine's own limits, in one run (issue: performance):
#   L1       bench/Baseline: Kestrel + JSON parse, nothing else (the HTTP ceiling)
#   L2       pgbench issuing the service's own ingest statement (Data/Sql/ingest_event.call.sql),
#            one event per transaction, fsync on (the database ceiling)
#   service  the published service under the same wrk load (unique events, HTTP Basic)
# then prints requests/s, p50, p99, non-2xx, peak RSS and the ratios service/L2 and service/L1.
# Figures are for comparing within one run: this machine is shared and noisy.
# Knobs: BENCH_SECONDS (measure, default 30), BENCH_WARMUP (default 20), BENCH_CONNECTIONS (default 32).
set -euo pipefail
[[ -n ${BENCH_TRACE:-} ]] && set -x

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SECONDS_RUN=${BENCH_SECONDS:-30}
WARMUP=${BENCH_WARMUP:-20}
CONNS=${BENCH_CONNECTIONS:-32}
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
cd "$REPO"
export BENCH_AUTHORIZATION="Basic $(printf 'bench:bench' | base64)"

command -v wrk >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk; }
PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1)
[[ -x $PGBIN/pgbench ]] || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql; PGBIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n1); }

WORK=$(mktemp -d)
chmod 755 "$WORK"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  bash "$REPO/scripts/pg-local.sh" stop "$WORK/pg" >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT

echo "== building (Release)" >&2
dotnet publish src/WebhookReceiver/WebhookReceiver.csproj -c Release -o "$WORK/service" --nologo -v quiet >&2
dotnet publish bench/Baseline/Baseline.csproj -c Release -o "$WORK/baseline" --nologo -v quiet >&2

ADMIN=$(bash scripts/pg-local.sh start "$WORK/pg" | tail -n1)
PGPORT=$(sed -E 's/.*Port=([0-9]+).*/\1/' <<<"$ADMIN")
psql_() { "$PGBIN/psql" -X -q -h 127.0.0.1 -p "$PGPORT" -U postgres "$@"; }
psql_ -c "CREATE DATABASE bench" -d postgres
CS="Host=127.0.0.1;Port=$PGPORT;Username=postgres;Password=postgres;Database=bench"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_http() { for _ in $(seq 1 120); do curl -s -o /dev/null "$1" && return 0; sleep 0.5; done; echo "no answer from $1" >&2; return 1; }
peak_rss_mb() { awk '/VmHWM/ {printf "%.0f", $2/1024}' "/proc/$1/status"; }

# wrk: warm up (tiered JIT settles), then measure. Prints "rps p50_ms p99_ms non2xx".
load() {
  local url=$1
  wrk -t2 -c"$CONNS" -d"${WARMUP}s" -s bench/ingest.lua "$url" >/dev/null || return 1
  wrk -t2 -c"$CONNS" -d"${SECONDS_RUN}s" --latency -s bench/ingest.lua "$url" >"$WORK/wrk.txt"
  awk '
    function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0; if (v ~ /s$/) return v * 1000; return v }
    /Requests\/sec/ { rps = $2 }
    /^ +50%/ { p50 = ms($2) }
    /^ +99%/ { p99 = ms($2) }
    /Non-2xx/ { bad = $NF }
    /Socket errors/ { bad += 0 }
    END { printf "%.0f %.2f %.2f %d\n", rps, p50, p99, bad + 0 }' "$WORK/wrk.txt"
}

echo "== L1: bare Kestrel + JSON parse" >&2
PORT=$(free_port)
ASPNETCORE_URLS=http://127.0.0.1:$PORT "$WORK/baseline/Baseline" >/dev/null 2>&1 &
L1PID=$!; pids+=("$L1PID")
wait_http "http://127.0.0.1:$PORT/"
read -r L1_RPS L1_P50 L1_P99 L1_BAD < <(load "http://127.0.0.1:$PORT/webhooks/minivoice")
L1_RSS=$(peak_rss_mb "$L1PID")
kill "$L1PID"; wait "$L1PID" 2>/dev/null || true

echo "== migrating the schema" >&2
ConnectionStrings__Postgres=$CS dotnet "$WORK/service/WebhookReceiver.dll" migrate >/dev/null

echo "== L2: pgbench with the service's ingest statement" >&2
# Built from the very file the service reads; each \$n becomes a pgbench expression for a unique event.
BODY='{"event":"call.completed","created_at":"2026-05-29T12:10:00Z","call":{"id":"call_pgbench","customer_id":"cust_123","application_id":"app_123","status":"completed","direction":"inbound","from":"+15551230001","to":"+15551230002"},"variables":{"order":"B2"},"data":{}}'
# The body goes in as hex: pgbench would take the ':' inside a literal for a variable.
BODYHEX=$(printf '%s' "$BODY" | od -An -v -tx1 | tr -d ' \n')
{
  echo '\set n random(1, 1000000000000)'
  echo '\set k random(0, 3)'
  grep -v '^--' src/WebhookReceiver/Data/Sql/ingest_event.call.sql | tr '\n' ' ' | sed -E \
    -e "s/\\\$14/ARRAY['failed','busy','no-answer']/" \
    -e "s/\\\$13/decode('$BODYHEX', 'hex')/" \
    -e "s/\\\$12/'+15551230002'/" -e "s/\\\$11/'+15551230001'/" -e "s/\\\$10/'inbound'/" \
    -e "s/\\\$9/'app_123'/" -e "s/\\\$8/'cust_123'/" -e "s/\\\$7/now()/" -e "s/\\\$6/(:k::int >= 2)/" \
    -e "s/\\\$5/(ARRAY['ringing','in-progress','completed','busy'])[:k::int + 1]/" -e "s/\\\$4/'call.bench'/" \
    -e "s/\\\$3/'call_p' || :client_id::text || '_' || :n::text/" -e "s/\\\$2/NULL/" \
    -e "s/\\\$1/'pgb-' || :client_id::text || '-' || :n::text/"
  echo ';'
} >"$WORK/ingest.pgbench"
"$PGBIN/pgbench" -h 127.0.0.1 -p "$PGPORT" -U postgres -n -M prepared -c "$CONNS" -j 2 -T "$WARMUP" -f "$WORK/ingest.pgbench" bench >"$WORK/pgbench-warmup.txt" 2>&1 || { grep -m3 -i error "$WORK/pgbench-warmup.txt" >&2; exit 1; }
"$PGBIN/pgbench" -h 127.0.0.1 -p "$PGPORT" -U postgres -n -M prepared -c "$CONNS" -j 2 -T "$SECONDS_RUN" -f "$WORK/ingest.pgbench" \
  --log --log-prefix="$WORK/pgb" bench >"$WORK/pgbench.txt" 2>&1
L2_RPS=$(awk '/^tps/ {printf "%.0f", $3; exit}' "$WORK/pgbench.txt")
# Per-transaction log: column 3 is latency in microseconds.
read -r L2_P50 L2_P99 < <(cat "$WORK"/pgb.* | awk '{print $3}' | sort -n | awk '{v[NR]=$1} END {printf "%.2f %.2f\n", v[int(NR*0.5)]/1000, v[int(NR*0.99)]/1000}')
L2_BAD=$(awk '/number of failed transactions/ {print $5; exit}' "$WORK/pgbench.txt"); L2_BAD=${L2_BAD:-0}

echo "== service" >&2
PORT=$(free_port)
ConnectionStrings__Postgres=$CS ASPNETCORE_URLS=http://127.0.0.1:$PORT ASPNETCORE_ENVIRONMENT=Production \
  Webhooks__BasicAuth__Username=bench Webhooks__BasicAuth__Password=bench Role=api \
  dotnet "$WORK/service/WebhookReceiver.dll" >"$WORK/service.log" 2>&1 &
SVCPID=$!; pids+=("$SVCPID")
wait_http "http://127.0.0.1:$PORT/health/ready"
read -r S_RPS S_P50 S_P99 S_BAD < <(load "http://127.0.0.1:$PORT/webhooks/minivoice")
S_RSS=$(peak_rss_mb "$SVCPID")
EVENTS=$(psql_ -d bench -tA -c "SELECT count(*) FROM webhook_events")
kill "$SVCPID"; wait "$SVCPID" 2>/dev/null || true

echo "== job pipeline: a burst of 20 000 events, CRM and ticket stub answering in 5 ms" >&2
STUB=$(free_port)
ASPNETCORE_URLS=http://127.0.0.1:$STUB "$WORK/baseline/Baseline" >/dev/null 2>&1 &
pids+=("$!")
wait_http "http://127.0.0.1:$STUB/"
# A database of its own: the ingest run above left its (unworked, Role=api) actions behind.
psql_ -c "CREATE DATABASE pipeline" -d postgres
PCS="Host=127.0.0.1;Port=$PGPORT;Username=postgres;Password=postgres;Database=pipeline"
ConnectionStrings__Postgres=$PCS dotnet "$WORK/service/WebhookReceiver.dll" migrate >/dev/null
PORT=$(free_port)
ConnectionStrings__Postgres=$PCS ASPNETCORE_URLS=http://127.0.0.1:$PORT ASPNETCORE_ENVIRONMENT=Production \
  Webhooks__BasicAuth__Username=bench Webhooks__BasicAuth__Password=bench Role=all \
  Crm__BaseUrl=http://127.0.0.1:$STUB Tickets__BaseUrl=http://127.0.0.1:$STUB \
  dotnet "$WORK/service/WebhookReceiver.dll" >"$WORK/service-all.log" 2>&1 &
ALLPID=$!; pids+=("$ALLPID")
wait_http "http://127.0.0.1:$PORT/health/ready"
# Idle pickup first: one final event, time until its CRM sync succeeded.
BEFORE=$(psql_ -d pipeline -tA -c "SELECT coalesce(max(id), 0) FROM call_actions")
curl -s -o /dev/null -u bench:bench -H 'Content-Type: application/json' \
  -d '{"event":"call.completed","created_at":"2026-05-29T12:10:00Z","call":{"id":"call_pickup","status":"completed"}}' \
  "http://127.0.0.1:$PORT/webhooks/minivoice"
for _ in $(seq 1 100); do
  PICKUP_MS=$(psql_ -d pipeline -tA -c "SELECT round(extract(epoch FROM (completed_at - created_at)) * 1000) FROM call_actions WHERE id > $BEFORE AND state = 'succeeded'")
  [[ -n $PICKUP_MS ]] && break; sleep 0.1
done
BURST_START=$(psql_ -d pipeline -tA -c "SELECT now()")
T0=$(date +%s.%N)
# wrk has no request count: each thread stops after 10 000 answers (BENCH_LIMIT), and -d, sized from the ingest
# rate measured above, only bounds the run (wrk waits it out, so its own req/s is not used here).
BURST_SECONDS=$(awk -v r="$S_RPS" 'BEGIN { s = int(20000 / (r > 0 ? r / 3 : 100)) + 3; print (s > 300 ? 300 : s) }')
BENCH_LIMIT=10000 wrk -t2 -c"$CONNS" -d"${BURST_SECONDS}s" --latency -s bench/ingest.lua "http://127.0.0.1:$PORT/webhooks/minivoice" >"$WORK/wrk.txt"
read -r B_RPS B_P50 B_P99 B_BAD < <(awk '
    function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0; if (v ~ /s$/) return v * 1000; return v }
    /Requests\/sec/ { rps = $2 } /^ +50%/ { p50 = ms($2) } /^ +99%/ { p99 = ms($2) } /Non-2xx/ { bad = $NF }
    END { printf "%.0f %.2f %.2f %d\n", rps, p50, p99, bad + 0 }' "$WORK/wrk.txt")
for _ in $(seq 1 1800); do
  [[ $(psql_ -d pipeline -tA -c "SELECT count(*) FROM call_actions WHERE state = 'pending'") == 0 ]] && break; sleep 0.5
done
T1=$(date +%s.%N)
JOBS=$(psql_ -d pipeline -tA -c "SELECT count(*) FROM call_actions WHERE created_at >= '$BURST_START' AND state = 'succeeded'")
# Ingest rate of the burst from the stored arrival times (first to last event).
B_RPS=$(psql_ -d pipeline -tA -c "SELECT round(count(*) / greatest(extract(epoch FROM max(received_at) - min(received_at)), 0.001)) FROM webhook_events WHERE received_at >= '$BURST_START'")
B_EVENTS=$(psql_ -d pipeline -tA -c "SELECT count(*) FROM webhook_events WHERE received_at >= '$BURST_START'")
DRAIN=$(awk -v a="$T0" -v b="$T1" 'BEGIN {printf "%.1f", b - a}')
JOBS_PER_S=$(awk -v j="$JOBS" -v d="$DRAIN" 'BEGIN {printf "%.0f", j / d}')
A_RSS=$(peak_rss_mb "$ALLPID")

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }
echo
echo "Ingest, c=$CONNS, ${SECONDS_RUN}s after ${WARMUP}s warm-up, fsync on, $(nproc) cores shared by load, server and PostgreSQL"
printf '%-34s %10s %9s %9s %8s %10s\n' "what" "req/s" "p50 ms" "p99 ms" "non-2xx" "peak RSS"
printf '%-34s %10s %9s %9s %8s %10s\n' "L1 Kestrel + JSON parse" "$L1_RPS" "$L1_P50" "$L1_P99" "$L1_BAD" "${L1_RSS} MB"
printf '%-34s %10s %9s %9s %8s %10s\n' "L2 pgbench, service's statement" "$L2_RPS" "$L2_P50" "$L2_P99" "$L2_BAD" "-"
printf '%-34s %10s %9s %9s %8s %10s\n' "service (role api)" "$S_RPS" "$S_P50" "$S_P99" "$S_BAD" "${S_RSS} MB"
echo "service/L2 = $(ratio "$S_RPS" "$L2_RPS")   service/L1 = $(ratio "$S_RPS" "$L1_RPS")   events stored: $EVENTS"
echo
echo "Job pipeline (Role=all, one process): idle pickup ${PICKUP_MS:-?} ms (commit to CRM success)"
echo "burst of ${B_EVENTS} events: ${B_RPS} events/s stored, p50 ${B_P50} ms, p99 ${B_P99} ms while jobs drain, non-2xx ${B_BAD}"
echo "${JOBS} actions (crm.sync + ticket.create) done ${DRAIN} s after the burst began: ${JOBS_PER_S} jobs/s; peak RSS ${A_RSS} MB"
