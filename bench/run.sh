#!/usr/bin/env bash
# The webhook hot path against this machine's own limits, in one run (issue #6, README "Performance"):
#   l1                bench/Baseline: Kestrel + JSON parse, nothing else (the HTTP ceiling)
#   l2                pgbench issuing the service's own ingest statements (Data/Sql/ingest_lock.sql + ingest_batch.sql),
#                     one event per transaction, fsync on (the database ceiling)
#   l2w               pgbench reference workloads (bench/sql/, copied from the shared reference set), each on a fresh
#                     database with bench/sql/l2-schema.sql: L2b = insert event + upsert call, L2w = L2b + the outbox
#                     row of a final event; one pipelined round trip and one commit per event; WAL bytes per transaction
#   service           the published service (Role=api) under the same wrk load (unique events, HTTP Basic)
#   textbook          bench/Textbook (EF Core SaveChanges + Hangfire BackgroundJob.Enqueue per request, Role=api)
#                     under the same load
#   pipeline          the service (Role=all) on a fresh database: idle pickup, then a burst of BENCH_EVENTS events
#                     against a CRM/ticket stub answering in 5 ms; drain time and jobs/s
#   textbook-pipeline the same burst (BENCH_TEXTBOOK_EVENTS events) through the textbook, its Hangfire server in
#                     the same process with default options
#   curve             the service's ingest with its database pre-filled to 1x, 4x, 16x BENCH_CURVE_BASE events,
#                     then GET /calls/{id} at 16x
#   sustained         the default deployment (one Role=all process) under sustained load, every event a final
#                     call.completed of a new call (bench/ingest-final.lua), stub answering 200 at once, CRM/ticket
#                     rate limits off: events/s, latency, whether the backlog of pending actions grows over the last
#                     60 s, actions succeeded/s, commits per event, ratio to L2w
#   outage            one Role=all process, CRM stub answering 503 (bench/Baseline's outage mode) while a paced load
#                     of ~BENCH_OUTAGE_RATE final events/s runs for BENCH_OUTAGE_SECONDS: webhook p99, Hangfire job
#                     rows added, CRM requests during the outage (the breaker's probes); then the CRM recovers: drain
#                     time and rate (target ~ Crm:RatePerSecond = 50/s), exactly-once by Idempotency-Key at the stub
#   headers           the service phase's load (Role=api, unique events, HTTP Basic, plus a User-Agent and an
#                     X-Forwarded-For as a proxy would add) with Webhooks:KeepRequestHeaders false, true, true, false,
#                     BENCH_HEADERS_ROUNDS times (ABBA: a drift of the shared machine falls on both sides), each run on a
#                     fresh database right after a checkpoint: events/s,
#                     p99, and the ratio of the means (the cost of keeping the request headers; target < 5 %)
#   ratelimit         one Role=api and two Role=worker processes on one database, Crm:RatePerSecond=50,
#                     Crm:MaxConcurrency=4, stub answering in 20 ms: a backlog of BENCH_RATELIMIT_EVENTS, drained by
#                     both workers; the most CRM requests started in any 1 s window (limit 55) and in flight at once
#                     (limit 4), seen by the stub
#   tracing           the service phase's load (Role=api, fresh database) with tracing off, then on: OTLP/HTTP to
#                     bench/Baseline's sink (accepts and drops /v1/traces), parentbased_traceidratio 0.1; events/s and
#                     p99 of each and their ratio, OTLP exports the sink received, outbox rows with a trace context
# and prints requests/s, p50, p99, non-2xx, peak RSS and the ratios between them.
# Figures are for comparing within one run: this machine is shared and noisy.
# Knobs (environment):
#   BENCH_PHASES           phases to run, default all:
#                          "l1 l2 l2w service textbook pipeline textbook-pipeline curve sustained outage ratelimit headers tracing"
#   BENCH_SECONDS          measured seconds per ingest run (default 30)
#   BENCH_WARMUP           warm-up seconds before each measured run (default 20; tiered JIT settles)
#   BENCH_CONNECTIONS      wrk connections / pgbench clients (default 32)
#   BENCH_EVENTS           the service's pipeline burst (default 20000)
#   BENCH_TEXTBOOK_EVENTS  the textbook's pipeline burst (default 3000: it ingests ~170/s)
#   BENCH_CURVE_BASE       events at 1x of the cost curve (default 62500, so 16x = 1 000 000)
#   BENCH_CURVE_SECONDS    measured seconds per curve size and for GET /calls/{id} (default 15)
#   BENCH_CURVE_WARMUP     load before each size's measurement, after its fill (default 15)
#   BENCH_GET_CONNECTIONS  wrk connections for GET /calls/{id} (default 4: operator reads, latency not saturation)
#   BENCH_SUSTAINED_SECONDS measured seconds of the sustained phase (default 120, at least 90: the backlog is
#                          compared over its last 60 s)
#   BENCH_SUSTAINED_WARMUP warm-up seconds of the sustained phase, same load (default 60)
#   BENCH_OUTAGE_SECONDS   seconds of paced load while the CRM is down (default 300)
#   BENCH_OUTAGE_RATE      target events/s of the paced load (default 200; wrk's delay(): the actual rate is printed)
#   BENCH_OUTAGE_CRM_RATE  Crm:RatePerSecond of the outage phase (default 50, the service's default; the backlog of
#                          300 s at 200 events/s then takes 20 minutes to drain: 200 shows the same in 5)
#   BENCH_OUTAGE_CONNECTIONS connections of the paced load (default 8)
#   BENCH_OUTAGE_WARMUP    paced load before the outage measurement, CRM already down (default 10)
#   BENCH_OUTAGE_DRAIN_TIMEOUT seconds to wait for the backlog to drain once the CRM is back (default: twice the
#                          backlog's time at 50/s, at least 1200; 300 s at 200/s leave ~60 000 actions = 20 min)
#   BENCH_RATELIMIT_EVENTS backlog of the ratelimit phase (default 1500: ~30 s at 50/s)
#   BENCH_HEADERS_ROUNDS   blocks of false, true, true, false in the headers phase (default 2: 8 runs)
#   BENCH_TRACING_RATIO    OTEL_TRACES_SAMPLER_ARG of the tracing phase's "on" run (default 0.1; 0 = instrumented, nothing sampled)
set -euo pipefail
[[ -n ${BENCH_TRACE:-} ]] && set -x

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
ALL_PHASES="l1 l2 l2w service textbook pipeline textbook-pipeline curve sustained outage ratelimit headers tracing"
PHASES=" ${BENCH_PHASES:-$ALL_PHASES} "
SECONDS_RUN=${BENCH_SECONDS:-30}
WARMUP=${BENCH_WARMUP:-20}
CONNS=${BENCH_CONNECTIONS:-32}
BURST_EVENTS=${BENCH_EVENTS:-20000}
TB_EVENTS=${BENCH_TEXTBOOK_EVENTS:-3000}
CURVE_BASE=${BENCH_CURVE_BASE:-62500}
CURVE_SECONDS=${BENCH_CURVE_SECONDS:-15}
CURVE_WARMUP=${BENCH_CURVE_WARMUP:-15}
GET_CONNS=${BENCH_GET_CONNECTIONS:-4}
SUST_SECONDS=${BENCH_SUSTAINED_SECONDS:-120}
SUST_WARMUP=${BENCH_SUSTAINED_WARMUP:-60}
OUT_SECONDS=${BENCH_OUTAGE_SECONDS:-300}
OUT_RATE=${BENCH_OUTAGE_RATE:-200}
OUT_CRM_RATE=${BENCH_OUTAGE_CRM_RATE:-50}
OUT_CONNS=${BENCH_OUTAGE_CONNECTIONS:-8}
OUT_WARMUP=${BENCH_OUTAGE_WARMUP:-10}
OUT_DRAIN_TIMEOUT=${BENCH_OUTAGE_DRAIN_TIMEOUT:-}
RL_EVENTS=${BENCH_RATELIMIT_EVENTS:-1500}
TR_RATIO=${BENCH_TRACING_RATIO:-0.1}
H_ROUNDS=${BENCH_HEADERS_ROUNDS:-2}
for phase in $PHASES; do
  [[ " $ALL_PHASES " == *" $phase "* ]] || { echo "unknown phase '$phase' in BENCH_PHASES (known: $ALL_PHASES)" >&2; exit 2; }
done
want() { [[ $PHASES == *" $1 "* ]]; }
want_any() { local p; for p in "$@"; do want "$p" && return 0; done; return 1; }
if want sustained && (( SUST_SECONDS < 90 )); then
  echo "BENCH_SUSTAINED_SECONDS must be at least 90 (the backlog is compared over the last 60 s)" >&2; exit 2
fi

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
cd "$REPO"
export BENCH_AUTHORIZATION="Basic $(printf 'bench:bench' | base64)"
# Operator credentials: every service process needs them outside Development (GET /calls/{id} in the curve phase
# uses them; a throwaway server: not a secret).
OPERATOR_USER=bench-operator OPERATOR_PASSWORD=bench-operator-password
export BENCH_OPERATOR_AUTHORIZATION="Basic $(printf '%s:%s' "$OPERATOR_USER" "$OPERATOR_PASSWORD" | base64)"

command -v wrk >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk; }
PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1)
[[ -x $PGBIN/pgbench ]] || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql postgresql-contrib; PGBIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n1); }

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
if want_any l2 service pipeline curve sustained outage ratelimit headers tracing; then
  dotnet publish src/WebhookReceiver/WebhookReceiver.csproj -c Release -o "$WORK/service" --nologo -v quiet >&2
fi
if want_any l1 pipeline textbook-pipeline sustained outage ratelimit tracing; then
  dotnet publish bench/Baseline/Baseline.csproj -c Release -o "$WORK/baseline" --nologo -v quiet >&2
fi
if want_any textbook textbook-pipeline; then
  dotnet publish bench/Textbook/Textbook.csproj -c Release -o "$WORK/textbook" --nologo -v quiet >&2
fi

ADMIN=$(bash scripts/pg-local.sh start "$WORK/pg" | tail -n1)
PGPORT=$(sed -E 's/.*Port=([0-9]+).*/\1/' <<<"$ADMIN")
psql_() { "$PGBIN/psql" -X -q -h 127.0.0.1 -p "$PGPORT" -U postgres "$@"; }
cs() { echo "Host=127.0.0.1;Port=$PGPORT;Username=postgres;Password=postgres;Database=$1"; }
# A fresh database migrated by the service itself (EF migrations + Hangfire's schema).
service_db() {
  psql_ -c "CREATE DATABASE $1" -d postgres
  ConnectionStrings__Postgres=$(cs "$1") dotnet "$WORK/service/WebhookReceiver.dll" migrate >/dev/null
}

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_http() { for _ in $(seq 1 120); do curl -s -o /dev/null "$1" && return 0; sleep 0.5; done; echo "no answer from $1" >&2; return 1; }
peak_rss_mb() { awk '/VmHWM/ {printf "%.0f", $2/1024}' "/proc/$1/status"; }
stop_pid() { kill "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true; }
num_or() { [[ $1 =~ ^[0-9.]+$ ]] && echo "$1" || echo "$2"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a ~ /^[0-9.]+$/ && b ~ /^[0-9.]+$/ && b > 0) printf "%.2f", a / b; else print "n/a" }'; }
# wrk's summary as "rps p50_ms p99_ms non2xx" (socket errors count as failures too).
wrk_summary() {
  awk '
    function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0; if (v ~ /s$/) return v * 1000; return v }
    /Requests\/sec/ { rps = $2 }
    /^ +50%/ { p50 = ms($2) }
    /^ +99%/ { p99 = ms($2) }
    /Non-2xx/ { bad += $NF }
    /Socket errors/ { gsub(/,/, ""); bad += $4 + $6 + $8 + $10 }
    END { printf "%.0f %.2f %.2f %d\n", rps, p50, p99, bad + 0 }' "$1"
}

# CPU accounting for the measured windows, in clock ticks: the whole machine (load generator included), one process
# (with its reaped children), and the PostgreSQL server (postmaster, its live children and, through the
# postmaster's cutime/cstime, the backends that exited meanwhile).
CLK_TCK=$(getconf CLK_TCK)
machine_ticks() { awk '/^cpu / {print $2 + $3 + $4 + $7 + $8 + $9}' /proc/stat; }
pid_ticks() { sed -E 's/^.*\) //' "/proc/$1/stat" 2>/dev/null | awk '{print $12 + $13 + $14 + $15}' || echo 0; }
pg_ticks() {
  local pm t c
  pm=$(head -n1 "$WORK/pg/data/postmaster.pid")
  t=$(pid_ticks "$pm")
  for c in $(pgrep -P "$pm"); do t=$(( t + $(sed -E 's/^.*\) //' "/proc/$c/stat" 2>/dev/null | awk '{print $12 + $13}' || echo 0) )); done
  echo "$t"
}
wal_lsn() { psql_ -d postgres -tA -c "SELECT pg_current_wal_lsn()"; }
# cost_begin [PID]; cost_end EVENTS -> sets COST_MS (CPU ms per event of PID + PostgreSQL), COST_MACHINE_MS (whole
# machine per event, load generator included), COST_WAL (WAL bytes per event)
cost_begin() { C_PID=${1:-}; C_M0=$(machine_ticks); C_P0=$(pg_ticks); C_S0=$( [[ -n $C_PID ]] && pid_ticks "$C_PID" || echo 0); C_W0=$(wal_lsn); }
cost_end() {
  local n=$1 m1 p1 s1 wal
  m1=$(machine_ticks); p1=$(pg_ticks); s1=$( [[ -n $C_PID ]] && pid_ticks "$C_PID" || echo 0)
  wal=$(psql_ -d postgres -tA -c "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '$C_W0')")
  read -r COST_MS COST_MACHINE_MS COST_WAL < <(awk -v n="$n" -v hz="$CLK_TCK" -v m="$(( m1 - C_M0 ))" \
    -v ps="$(( p1 - C_P0 + s1 - C_S0 ))" -v w="$wal" \
    'BEGIN { if (n > 0) printf "%.3f %.3f %.0f\n", ps * 1000 / hz / n, m * 1000 / hz / n, w / n; else print "- - -" }')
  echo "$COST_MS $COST_MACHINE_MS $COST_WAL" >"$WORK/cost.figures"
}

# wrk's default 2 s timeout would count a slow answer as an error and leave it out of the percentiles.
WRK_TIMEOUT=10s
# wrk: warm up (tiered JIT settles), then measure. load URL [LUA] [SECONDS] [WARMUP] [CONNECTIONS]
load() {
  local url=$1 lua=${2:-bench/ingest.lua} seconds=${3:-$SECONDS_RUN} warmup=${4:-$WARMUP} conns=${5:-$CONNS}
  local threads=$(( conns < 2 ? 1 : 2 ))
  if (( warmup > 0 )); then wrk -t"$threads" -c"$conns" -d"${warmup}s" --timeout "$WRK_TIMEOUT" -s "$lua" "$url" >/dev/null || return 1; fi
  cost_begin "${LOAD_PID:-}"
  wrk -t"$threads" -c"$conns" -d"${seconds}s" --timeout "$WRK_TIMEOUT" --latency -s "$lua" "$url" >"$WORK/wrk.txt"
  cost_end "$(awk '/requests in/ {print $1; exit}' "$WORK/wrk.txt")"
  wrk_summary "$WORK/wrk.txt"
}

# A burst of N unique events (wrk stops each of its two threads after N/2 answers), timed until the work it
# caused is done. burst URL N RATE DB PENDING_SQL; RATE (req/s measured earlier, or a guess) only bounds wrk's
# run. Sets B_P50 B_P99 B_BAD (latency while the jobs drain), BACKLOG (work waiting when the last event was
# answered), DRAIN (seconds from the burst's first request until no work is waiting), AFTER (jobs/s of the
# backlog alone, from the last answer until none waits: the workers' rate with no ingest competing; "-" when
# there was no backlog). While the burst runs nothing asks the database under test: each wrk thread leaves a
# file in a directory of its own once it has its answers (bench/ingest.lua), so the probe costs no CPU there.
burst() {
  local url=$1 n=$2 rate=$3 db=$4 pending_sql=$5 done_dir wrk_pid t0 t1 td bound
  # Only a safety net: the burst normally ends when both threads have their answers, whatever this says.
  bound=$(awk -v n="$n" -v r="$rate" 'BEGIN { s = int(n / (r > 10 ? r / 10 : 1)) + 30; print (s > 900 ? 900 : s) }')
  done_dir=$(mktemp -d "$WORK/burst-done.XXXX")
  t0=$(date +%s.%N)
  BENCH_LIMIT=$(( n / 2 )) BENCH_DONE_DIR=$done_dir wrk -t2 -c"$CONNS" -d"${bound}s" --timeout "$WRK_TIMEOUT" --latency \
    -s bench/ingest.lua "$url" >"$WORK/burst.txt" &
  wrk_pid=$!; pids+=("$wrk_pid")
  # 0.1 s steps, no database: both threads answered, or wrk gone (its bound, or a failure). The step waits in bash's
  # own read on a FIFO nobody writes (a `sleep` process ten times a second took ~4 % of the CPU in a burst's profile).
  mkfifo "$done_dir/tick"; exec {tick}<>"$done_dir/tick"
  while [[ ! -e $done_dir/thread-1 || ! -e $done_dir/thread-2 ]] && kill -0 "$wrk_pid" 2>/dev/null; do
    read -r -t 0.1 -u "$tick" _ || true
  done
  exec {tick}>&-
  td=$(date +%s.%N)
  BACKLOG=$(psql_ -d "$db" -tA -c "$pending_sql")
  # wrk sleeps out its -d even after its threads stopped: SIGINT makes it print its figures and exit.
  kill -INT "$wrk_pid" 2>/dev/null || true
  wait "$wrk_pid" || true
  for _ in $(seq 1 3600); do   # 0.5 s steps: 30 min at most
    (( $(psql_ -d "$db" -tA -c "$pending_sql") == 0 )) && break
    sleep 0.5
  done
  t1=$(date +%s.%N)
  DRAIN=$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.1f", b - a}')
  AFTER=$(awk -v n="${BACKLOG:-0}" -v a="$td" -v b="$t1" 'BEGIN { if (n > 0 && b - a > 0.5) printf "%.0f", n / (b - a); else print "-" }')
  read -r _ B_P50 B_P99 B_BAD < <(wrk_summary "$WORK/burst.txt")
}

# Warm-up for a pipeline phase: BENCH_WARMUP seconds of the same load (JIT tiering settles, as before the ingest
# runs), then wait until its work has drained, so the burst after it starts from a warm, idle process.
warm_and_drain() {
  local url=$1 db=$2 pending_sql=$3
  (( WARMUP > 0 )) || return 0
  wrk -t2 -c"$CONNS" -d"${WARMUP}s" --timeout "$WRK_TIMEOUT" -s bench/ingest.lua "$url" >/dev/null
  for _ in $(seq 1 1200); do
    (( $(psql_ -d "$db" -tA -c "$pending_sql") == 0 )) && return 0
    sleep 0.5
  done
  echo "warm-up work did not drain within 10 minutes" >&2
}

# pgbench reference workload (bench/sql/*.pgbench) on a fresh database of its own with bench/sql/l2-schema.sql:
# warm-up like L2, then a measured run with a per-transaction log, and the WAL it wrote.
# pgb_ref DB SCRIPT; prints "tps p50_ms p99_ms failed wal_bytes_per_transaction".
pgb_ref() {
  local db=$1 script=$2 lsn0 lsn1 tx wal
  psql_ -c "CREATE DATABASE $db" -d postgres
  psql_ -d "$db" -f bench/sql/l2-schema.sql >/dev/null
  if (( WARMUP > 0 )); then
    "$PGBIN/pgbench" -h 127.0.0.1 -p "$PGPORT" -U postgres -n -M prepared -c "$CONNS" -j 2 -T "$WARMUP" -f "$script" "$db" \
      >"$WORK/pgbench-$db-warmup.txt" 2>&1 || { grep -m3 -i error "$WORK/pgbench-$db-warmup.txt" >&2; return 1; }
  fi
  lsn0=$(psql_ -d "$db" -tA -c "SELECT pg_current_wal_lsn()")
  cost_begin
  "$PGBIN/pgbench" -h 127.0.0.1 -p "$PGPORT" -U postgres -n -M prepared -c "$CONNS" -j 2 -T "$SECONDS_RUN" -f "$script" \
    --log --log-prefix="$WORK/pgb-$db" "$db" >"$WORK/pgbench-$db.txt" 2>&1 || { grep -m3 -i error "$WORK/pgbench-$db.txt" >&2; return 1; }
  lsn1=$(psql_ -d "$db" -tA -c "SELECT pg_current_wal_lsn()")
  tx=$(awk -F': *' '/number of transactions actually processed/ {split($2, a, "/"); print a[1]; exit}' "$WORK/pgbench-$db.txt")
  cost_end "${tx:-0}"
  cp "$WORK/cost.figures" "$WORK/cost-$db.figures"
  wal=$(psql_ -d "$db" -tA -c "SELECT pg_wal_lsn_diff('$lsn1', '$lsn0')")
  # Per-transaction log: column 3 is latency in microseconds.
  paste -d' ' \
    <(awk '/^tps/ {printf "%.0f", $3; exit}' "$WORK/pgbench-$db.txt") \
    <(cat "$WORK/pgb-$db".* | awk '{print $3}' | sort -n | awk '{v[NR]=$1} END {printf "%.2f %.2f", v[int(NR*0.5)]/1000, v[int(NR*0.99)]/1000}') \
    <(awk '/number of failed transactions/ {f = $5} END {print f + 0}' "$WORK/pgbench-$db.txt") \
    <(awk -v w="$wal" -v t="${tx:-0}" 'BEGIN { if (t > 0) printf "%.0f", w / t; else print "-" }')
}

# Another CRM/ticket stub (bench/Baseline); start_stub [STUB_VAR=value...] (see bench/Baseline/Program.cs:
# STUB_DELAY_MS, STUB_OUTAGE, STUB_RECORD); sets STUB_PID, STUB_URL.
start_stub() {
  local port; port=$(free_port)
  env ASPNETCORE_URLS="http://127.0.0.1:$port" "$@" "$WORK/baseline/Baseline" >/dev/null 2>&1 &
  STUB_PID=$!; pids+=("$STUB_PID")
  STUB_URL=http://127.0.0.1:$port
  wait_http "$STUB_URL/_control/stats"
}
# The stub's GET /_control/stats into a file; stub_field FILE PATH FIELD reads one figure (PATH: calls|tickets).
stub_stats() { curl -sf "$1/_control/stats" >"$2"; }
stub_field() { python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))[sys.argv[2]][sys.argv[3]])' "$@"; }

# The published service in the background, not waited for; start_service DB ROLE LOGNAME [VAR=value...];
# sets SVC_PID, SVC_URL (then: wait_http "$SVC_URL/health/ready").
start_service() {
  local port; port=$(free_port)
  env ConnectionStrings__Postgres="$(cs "$1")" ASPNETCORE_URLS="http://127.0.0.1:$port" ASPNETCORE_ENVIRONMENT=Production \
    Webhooks__BasicAuth__Username=bench Webhooks__BasicAuth__Password=bench Role="$2" \
    Dashboard__Username=$OPERATOR_USER Dashboard__Password=$OPERATOR_PASSWORD "${@:4}" \
    dotnet "$WORK/service/WebhookReceiver.dll" >"$WORK/$3.log" 2>&1 &
  SVC_PID=$!; pids+=("$SVC_PID")
  SVC_URL=http://127.0.0.1:$port
}
# One figure from the database, or n/a when the query fails (a table the code under test does not have yet).
q_or_na() { psql_ -d "$1" -tA -c "$2" 2>/dev/null || echo n/a; }
now_s() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now_s)" 'BEGIN {printf "%.1f", b - a}'; }
PENDING_SQL="SELECT count(*) FROM call_actions WHERE state = 'pending'"

L1_RPS=- L1_P50=- L1_P99=- L1_BAD=- L1_RSS=-
L2_RPS=- L2_P50=- L2_P99=- L2_BAD=-
L2B_RPS=- L2B_P50=- L2B_P99=- L2B_BAD=- L2B_WAL=- L2W_RPS=- L2W_P50=- L2W_P99=- L2W_BAD=- L2W_WAL=-
S_RPS=- S_P50=- S_P99=- S_BAD=- S_RSS=- EVENTS=-
T_RPS=- T_P50=- T_P99=- T_BAD=- T_RSS=- T_EVENTS=-

if want l1; then
  echo "== L1: bare Kestrel + JSON parse" >&2
  PORT=$(free_port)
  ASPNETCORE_URLS=http://127.0.0.1:$PORT "$WORK/baseline/Baseline" >/dev/null 2>&1 &
  L1PID=$!; pids+=("$L1PID")
  wait_http "http://127.0.0.1:$PORT/"
  read -r L1_RPS L1_P50 L1_P99 L1_BAD < <(load "http://127.0.0.1:$PORT/webhooks/minivoice")
  L1_RSS=$(peak_rss_mb "$L1PID")
  stop_pid "$L1PID"
fi

if want_any l2 service; then
  echo "== migrating the schema" >&2
  service_db bench
fi

# A statement file of the service as one pgbench line: comments dropped, newlines joined (pgbench reads one line
# per command).
sql_file() { grep -v '^ *--' "src/WebhookReceiver/Data/Sql/$1" | sed -E 's/ --.*$//' | tr '\n' ' '; }

if want l2; then
  echo "== L2: pgbench with the service's ingest statements (lock + one round), one event per transaction" >&2
  # Built from the very file the service reads; each \$n becomes a pgbench expression for a unique event.
  BODY='{"event":"call.completed","created_at":"2026-05-29T12:10:00Z","call":{"id":"call_pgbench","customer_id":"cust_123","application_id":"app_123","status":"completed","direction":"inbound","from":"+15551230001","to":"+15551230002"},"variables":{"order":"B2"},"data":{}}'
  # The body goes in as hex: pgbench would take the ':' inside a literal for a variable.
  BODYHEX=$(printf '%s' "$BODY" | od -An -v -tx1 | tr -d ' \n')
  # The kept request headers, as the service would send them ($15; hex for the same reason).
  HEADERS='{"content-type":"application/json","content-length":"231","user-agent":"MiniVoice-Webhooks/1.0","x-forwarded-for":"203.0.113.7","authenticated_by":"basic"}'
  HEADERSHEX=$(printf '%s' "$HEADERS" | od -An -v -tx1 | tr -d ' \n')
  {
    echo '\set n random(1, 1000000000000)'
    echo '\set k random(0, 3)'
    echo '\startpipeline'
    echo 'BEGIN;'
    sql_file ingest_lock.sql | sed -E "s/\\\$1/ARRAY['call_p' || :client_id::text || '_' || :n::text]/"
    echo ';'
    sql_file ingest_batch.sql | sed -E \
      -e "s/\\\$16/ARRAY[NULL]::text[]/" \
      -e "s/\\\$15/ARRAY[convert_from(decode('$HEADERSHEX', 'hex'), 'UTF8')]/" \
      -e "s/\\\$14/ARRAY['failed','busy','no-answer']/" \
      -e "s/\\\$13/ARRAY[decode('$BODYHEX', 'hex')]/" \
      -e "s/\\\$12/ARRAY['+15551230002']/" -e "s/\\\$11/ARRAY['+15551230001']/" -e "s/\\\$10/ARRAY['inbound']/" \
      -e "s/\\\$9/ARRAY['app_123']/" -e "s/\\\$8/ARRAY['cust_123']/" -e "s/\\\$7/ARRAY[now()]/" -e "s/\\\$6/ARRAY[(:k::int >= 2)]/" \
      -e "s/\\\$5/ARRAY[(ARRAY['ringing','in-progress','completed','busy'])[:k::int + 1]]/" -e "s/\\\$4/ARRAY['call.bench']/" \
      -e "s/\\\$3/ARRAY['call_p' || :client_id::text || '_' || :n::text]/" -e "s/\\\$2/ARRAY[NULL]::text[]/" \
      -e "s/\\\$1/ARRAY['pgb-' || :client_id::text || '-' || :n::text]/"
    echo ';'
    echo 'COMMIT;'
    echo '\endpipeline'
  } >"$WORK/ingest.pgbench"
  if (( WARMUP > 0 )); then
    "$PGBIN/pgbench" -h 127.0.0.1 -p "$PGPORT" -U postgres -n -M prepared -c "$CONNS" -j 2 -T "$WARMUP" -f "$WORK/ingest.pgbench" bench >"$WORK/pgbench-warmup.txt" 2>&1 || { grep -m3 -i error "$WORK/pgbench-warmup.txt" >&2; exit 1; }
  fi
  "$PGBIN/pgbench" -h 127.0.0.1 -p "$PGPORT" -U postgres -n -M prepared -c "$CONNS" -j 2 -T "$SECONDS_RUN" -f "$WORK/ingest.pgbench" \
    --log --log-prefix="$WORK/pgb" bench >"$WORK/pgbench.txt" 2>&1
  L2_RPS=$(awk '/^tps/ {printf "%.0f", $3; exit}' "$WORK/pgbench.txt")
  # Per-transaction log: column 3 is latency in microseconds.
  read -r L2_P50 L2_P99 < <(cat "$WORK"/pgb.* | awk '{print $3}' | sort -n | awk '{v[NR]=$1} END {printf "%.2f %.2f\n", v[int(NR*0.5)]/1000, v[int(NR*0.99)]/1000}')
  L2_BAD=$(awk '/number of failed transactions/ {print $5; exit}' "$WORK/pgbench.txt"); L2_BAD=${L2_BAD:-0}
fi

if want l2w; then
  echo "== L2b / L2w: pgbench reference workloads (bench/sql), each on a fresh database" >&2
  # Through a file, not < <(…): a failing pgbench stops the script (set -e) instead of leaving blanks.
  pgb_ref l2b bench/sql/l2b-insert-upsert.pgbench >"$WORK/l2b.figures"
  read -r L2B_RPS L2B_P50 L2B_P99 L2B_BAD L2B_WAL <"$WORK/l2b.figures"
  pgb_ref l2w bench/sql/l2w-insert-upsert-outbox.pgbench >"$WORK/l2w.figures"
  read -r L2W_RPS L2W_P50 L2W_P99 L2W_BAD L2W_WAL <"$WORK/l2w.figures"
fi

if want service; then
  echo "== service" >&2
  PORT=$(free_port)
  ConnectionStrings__Postgres=$(cs bench) ASPNETCORE_URLS=http://127.0.0.1:$PORT ASPNETCORE_ENVIRONMENT=Production \
    Webhooks__BasicAuth__Username=bench Webhooks__BasicAuth__Password=bench Role=api \
    Dashboard__Username=$OPERATOR_USER Dashboard__Password=$OPERATOR_PASSWORD \
    dotnet "$WORK/service/WebhookReceiver.dll" >"$WORK/service.log" 2>&1 &
  SVCPID=$!; pids+=("$SVCPID")
  wait_http "http://127.0.0.1:$PORT/health/ready"
  read -r S_RPS S_P50 S_P99 S_BAD < <(LOAD_PID=$SVCPID load "http://127.0.0.1:$PORT/webhooks/minivoice")
  cp "$WORK/cost.figures" "$WORK/cost-service.figures"
  S_RSS=$(peak_rss_mb "$SVCPID")
  # Not L2's rows (same database, identities 'pgb-…').
  EVENTS=$(psql_ -d bench -tA -c "SELECT count(*) FROM webhook_events WHERE identity NOT LIKE 'pgb-%'")
  stop_pid "$SVCPID"
fi

# The textbook creates its own schema (EnsureCreated, Hangfire's PrepareSchemaIfNecessary) at start.
start_textbook() {   # start_textbook DB ROLE [extra env...]; sets TBPID, TBURL
  psql_ -c "CREATE DATABASE $1" -d postgres
  local port; port=$(free_port)
  (cd "$WORK/textbook" && exec env ConnectionStrings__Postgres="$(cs "$1")" ASPNETCORE_URLS="http://127.0.0.1:$port" \
    Webhooks__BasicAuth__Username=bench Webhooks__BasicAuth__Password=bench Role="$2" "${@:3}" ./Textbook) >"$WORK/textbook-$1.log" 2>&1 &
  TBPID=$!; pids+=("$TBPID")
  TBURL=http://127.0.0.1:$port
  wait_http "$TBURL/health"
}

if want textbook; then
  echo "== textbook receiver (EF Core + Hangfire per request)" >&2
  start_textbook textbook api
  read -r T_RPS T_P50 T_P99 T_BAD < <(load "$TBURL/webhooks/minivoice")
  T_RSS=$(peak_rss_mb "$TBPID")
  T_EVENTS=$(psql_ -d textbook -tA -c "SELECT count(*) FROM events")
  stop_pid "$TBPID"
fi

if want_any pipeline textbook-pipeline; then
  STUB=$(free_port)
  ASPNETCORE_URLS=http://127.0.0.1:$STUB "$WORK/baseline/Baseline" >/dev/null 2>&1 &
  pids+=("$!")
  wait_http "http://127.0.0.1:$STUB/"
fi

if want pipeline; then
  echo "== job pipeline: a burst of $BURST_EVENTS events, CRM and ticket stub answering in 5 ms" >&2
  # A database of its own: the ingest run above left its (unworked, Role=api) actions behind.
  service_db pipeline
  PORT=$(free_port)
  # Rate limits off and 16 requests in flight per system: the defaults (50/s, 8) would cap the drain at 50 jobs/s
  # and make the figures incomparable with the runs before the limits existed (README), which measured the
  # pipeline's own cost, not a CRM's quota.
  ConnectionStrings__Postgres=$(cs pipeline) ASPNETCORE_URLS=http://127.0.0.1:$PORT ASPNETCORE_ENVIRONMENT=Production \
    Webhooks__BasicAuth__Username=bench Webhooks__BasicAuth__Password=bench Role=all \
    Dashboard__Username=$OPERATOR_USER Dashboard__Password=$OPERATOR_PASSWORD \
    Crm__BaseUrl=http://127.0.0.1:$STUB Tickets__BaseUrl=http://127.0.0.1:$STUB \
    Crm__RatePerSecond=0 Tickets__RatePerSecond=0 Crm__MaxConcurrency=16 Tickets__MaxConcurrency=16 \
    dotnet "$WORK/service/WebhookReceiver.dll" >"$WORK/service-all.log" 2>&1 &
  ALLPID=$!; pids+=("$ALLPID")
  wait_http "http://127.0.0.1:$PORT/health/ready"
  warm_and_drain "http://127.0.0.1:$PORT/webhooks/minivoice" pipeline "SELECT count(*) FROM call_actions WHERE state = 'pending'"
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
  burst "http://127.0.0.1:$PORT/webhooks/minivoice" "$BURST_EVENTS" "$(num_or "$S_RPS" 1000)" pipeline \
    "SELECT count(*) FROM call_actions WHERE state = 'pending'"
  P_P50=$B_P50 P_P99=$B_P99 P_BAD=$B_BAD P_BACKLOG=$BACKLOG P_DRAIN=$DRAIN P_AFTER=$AFTER
  P_JOBS=$(psql_ -d pipeline -tA -c "SELECT count(*) FROM call_actions WHERE created_at >= '$BURST_START' AND state = 'succeeded'")
  P_FAILED=$(psql_ -d pipeline -tA -c "SELECT count(*) FROM call_actions WHERE created_at >= '$BURST_START' AND state <> 'succeeded'")
  # Ingest rate of the burst from the stored arrival times (first to last event).
  P_RPS=$(psql_ -d pipeline -tA -c "SELECT round(count(*) / greatest(extract(epoch FROM max(received_at) - min(received_at)), 0.001)) FROM webhook_events WHERE received_at >= '$BURST_START'")
  P_EVENTS=$(psql_ -d pipeline -tA -c "SELECT count(*) FROM webhook_events WHERE received_at >= '$BURST_START'")
  P_JOBS_PER_S=$(awk -v j="$P_JOBS" -v d="$P_DRAIN" 'BEGIN {printf "%.0f", j / d}')
  P_RSS=$(peak_rss_mb "$ALLPID")
  stop_pid "$ALLPID"
fi

if want textbook-pipeline; then
  echo "== textbook job pipeline: a burst of $TB_EVENTS events, same stub" >&2
  start_textbook textbook_pipeline all Crm__BaseUrl="http://127.0.0.1:$STUB" Tickets__BaseUrl="http://127.0.0.1:$STUB"
  warm_and_drain "$TBURL/webhooks/minivoice" textbook_pipeline \
    "SELECT count(*) FROM hangfire.job WHERE statename IS NULL OR statename IN ('Enqueued', 'Processing')"
  BURST_START=$(psql_ -d textbook_pipeline -tA -c "SELECT now()")
  # Work waiting: jobs not yet done (a job row is created before its Enqueued state is set).
  burst "$TBURL/webhooks/minivoice" "$TB_EVENTS" "$(num_or "$T_RPS" 170)" textbook_pipeline \
    "SELECT count(*) FROM hangfire.job WHERE statename IS NULL OR statename IN ('Enqueued', 'Processing')"
  TP_P50=$B_P50 TP_P99=$B_P99 TP_BAD=$B_BAD TP_BACKLOG=$BACKLOG TP_DRAIN=$DRAIN TP_AFTER=$AFTER
  # Hangfire keeps createdat as UTC without a zone: only the burst's jobs, not the warm-up's.
  TP_SINCE="createdat >= ('$BURST_START'::timestamptz AT TIME ZONE 'UTC')"
  TP_JOBS=$(psql_ -d textbook_pipeline -tA -c "SELECT count(*) FROM hangfire.job WHERE statename = 'Succeeded' AND $TP_SINCE")
  TP_FAILED=$(psql_ -d textbook_pipeline -tA -c "SELECT count(*) FROM hangfire.job WHERE statename <> 'Succeeded' AND $TP_SINCE")
  TP_RPS=$(psql_ -d textbook_pipeline -tA -c "SELECT round(count(*) / greatest(extract(epoch FROM max(received_at) - min(received_at)), 0.001)) FROM events WHERE received_at >= '$BURST_START'")
  TP_EVENTS=$(psql_ -d textbook_pipeline -tA -c "SELECT count(*) FROM events WHERE received_at >= '$BURST_START'")
  TP_JOBS_PER_S=$(awk -v j="$TP_JOBS" -v d="$TP_DRAIN" 'BEGIN {printf "%.0f", j / d}')
  TP_RSS=$(peak_rss_mb "$TBPID")
  stop_pid "$TBPID"
fi

if want curve; then
  echo "== cost curve: the service's ingest at 1x, 4x, 16x $CURVE_BASE events, then GET /calls/{id}" >&2
  service_db curve
  PORT=$(free_port)
  ConnectionStrings__Postgres=$(cs curve) ASPNETCORE_URLS=http://127.0.0.1:$PORT ASPNETCORE_ENVIRONMENT=Production \
    Webhooks__BasicAuth__Username=bench Webhooks__BasicAuth__Password=bench Role=api \
    Dashboard__Username=$OPERATOR_USER Dashboard__Password=$OPERATOR_PASSWORD \
    dotnet "$WORK/service/WebhookReceiver.dll" >"$WORK/service-curve.log" 2>&1 &
  CURVEPID=$!; pids+=("$CURVEPID")
  wait_http "http://127.0.0.1:$PORT/health/ready"
  # Warm up once, then start from empty tables so 1x means BENCH_CURVE_BASE events.
  if (( WARMUP > 0 )); then wrk -t2 -c"$CONNS" -d"${WARMUP}s" --timeout "$WRK_TIMEOUT" -s bench/ingest.lua "http://127.0.0.1:$PORT/webhooks/minivoice" >/dev/null; fi
  psql_ -d curve -c "TRUNCATE webhook_events, calls, call_actions RESTART IDENTITY"
  FILLED_CALLS=0
  CURVE_ROWS=()
  for multiple in 1 4 16; do
    target=$(( CURVE_BASE * multiple ))
    have=$(psql_ -d curve -tA -c "SELECT count(*) FROM webhook_events")
    add=$(( (target - have + 3) / 4 ))   # calls, four events each
    fill_s=0
    if (( add > 0 )); then
      f0=$(date +%s.%N)
      psql_ -d curve -v first=$(( FILLED_CALLS + 1 )) -v last=$(( FILLED_CALLS + add )) -f bench/curve-fill.sql
      FILLED_CALLS=$(( FILLED_CALLS + add ))
      # VACUUM too, so autovacuum's pass over the freshly inserted rows does not land inside the measurement.
      psql_ -d curve -c "VACUUM (ANALYZE) webhook_events, calls, call_actions" -c "CHECKPOINT"
      fill_s=$(awk -v a="$f0" -v b="$(date +%s.%N)" 'BEGIN {printf "%.0f", b - a}')
    fi
    size=$(psql_ -d curve -tA -c "SELECT count(*) FROM webhook_events")
    echo "   ${multiple}x: $size events (filled in ${fill_s} s), measuring" >&2
    read -r c_rps c_p50 c_p99 c_bad < <(load "http://127.0.0.1:$PORT/webhooks/minivoice" bench/ingest.lua "$CURVE_SECONDS" "$CURVE_WARMUP")
    if [[ $multiple == 1 ]]; then CURVE_1X=$c_rps; fi
    CURVE_ROWS+=("${multiple}x|$size|$fill_s|$c_rps|$c_p50|$c_p99|$c_bad|$(ratio "$c_rps" "$CURVE_1X")")
  done
  G_SIZE=$(psql_ -d curve -tA -c "SELECT count(*) FROM webhook_events")
  export BENCH_CALLS=$FILLED_CALLS
  read -r G_RPS G_P50 G_P99 G_BAD < <(load "http://127.0.0.1:$PORT" bench/get-call.lua "$CURVE_SECONDS" \
    "$(( WARMUP < 10 ? WARMUP : 10 ))" "$GET_CONNS")
  C_RSS=$(peak_rss_mb "$CURVEPID")
  stop_pid "$CURVEPID"
fi

SU_RPS=- SU_P50=- SU_P99=- SU_BAD=- SU_RSS=- SU_B60=- SU_BEND=- SU_GROWTH=- SU_GROWING=- SU_OK_PER_S=- SU_CPE=- SU_EVENTS=-
if want sustained; then
  echo "== sustained: one Role=all process, every event final, c=$CONNS, ${SUST_SECONDS}s after ${SUST_WARMUP}s warm-up" >&2
  # A stub of its own answering 200 at once: the drain is limited by the service, not by a remote API's latency.
  start_stub STUB_DELAY_MS=0
  SU_STUB=$STUB_URL SU_STUB_PID=$STUB_PID
  service_db sustained
  # Rate limits off (0 = unlimited: the default 50/s would cap the drain far below ingest) and 16 requests in
  # flight per system, as in the pipeline phase.
  start_service sustained all service-sustained Crm__BaseUrl="$SU_STUB" Tickets__BaseUrl="$SU_STUB" \
    Crm__RatePerSecond=0 Tickets__RatePerSecond=0 Crm__MaxConcurrency=16 Tickets__MaxConcurrency=16
  SU_PID=$SVC_PID SU_URL=$SVC_URL
  wait_http "$SU_URL/health/ready"
  if (( SUST_WARMUP > 0 )); then
    wrk -t2 -c"$CONNS" -d"${SUST_WARMUP}s" --timeout "$WRK_TIMEOUT" -s bench/ingest-final.lua "$SU_URL/webhooks/minivoice" >/dev/null
  fi
  SU_XACT0=$(psql_ -d sustained -tA -c "SELECT xact_commit FROM pg_stat_database WHERE datname = 'sustained'")
  SU_T0=$(psql_ -d sustained -tA -c "SELECT now()")
  wrk -t2 -c"$CONNS" -d"${SUST_SECONDS}s" --timeout "$WRK_TIMEOUT" --latency -s bench/ingest-final.lua \
    "$SU_URL/webhooks/minivoice" >"$WORK/wrk-sustained.txt" &
  wrk_pid=$!; pids+=("$wrk_pid")
  # The backlog (actions waiting) every 5 s while the load runs, as "elapsed_s count", and once more at its end.
  s0=$(now_s) SU_SAMPLES=() n=0
  while kill -0 "$wrk_pid" 2>/dev/null; do
    if awk -v e="$(since "$s0")" -v t="$(( n * 5 ))" 'BEGIN { exit !(e >= t) }'; then
      SU_SAMPLES+=("$(since "$s0") $(psql_ -d sustained -tA -c "$PENDING_SQL")"); n=$(( n + 1 ))
    fi
    sleep 0.5
  done
  wait "$wrk_pid" || true
  SU_T1=$(psql_ -d sustained -tA -c "SELECT now()")
  SU_SAMPLES+=("$(since "$s0") $(psql_ -d sustained -tA -c "$PENDING_SQL")")
  read -r SU_RPS SU_P50 SU_P99 SU_BAD < <(wrk_summary "$WORK/wrk-sustained.txt")
  # Backlog at the end, and in the sample nearest to 60 s before it.
  read -r SU_B60 SU_BEND < <(printf '%s\n' "${SU_SAMPLES[@]}" | awk '
    { e[NR] = $1; b[NR] = $2 }
    END { t = e[NR] - 60; best = 1; for (i = 1; i <= NR; i++) if ((e[i] - t) ^ 2 < (e[best] - t) ^ 2) best = i; print b[best], b[NR] }')
  SU_GROWTH=$(( SU_BEND - SU_B60 ))
  # The trend too: least-squares slope of the samples of the last 60 s, in actions/s (endpoints alone catch noise).
  SU_SLOPE=$(printf '%s\n' "${SU_SAMPLES[@]}" | awk '
    { e[NR] = $1; b[NR] = $2 }
    END { t = e[NR] - 60; for (i = 1; i <= NR; i++) if (e[i] >= t - 2.5) { n++; sx += e[i]; sy += b[i]; x[n] = e[i]; y[n] = b[i] }
          mx = sx / n; my = sy / n; for (i = 1; i <= n; i++) { num += (x[i] - mx) * (y[i] - my); den += (x[i] - mx) ^ 2 }
          printf "%.0f", (den > 0 ? num / den : 0) }')
  # "Not growing": it grew by no more than one second's worth of ingest.
  SU_GROWING=$(awk -v g="$SU_GROWTH" -v r="$SU_RPS" 'BEGIN { print (g <= r ? "no" : "yes") }')
  SU_WINDOW="'$SU_T0' AND '$SU_T1'"
  SU_EVENTS=$(psql_ -d sustained -tA -c "SELECT count(*) FROM webhook_events WHERE received_at BETWEEN $SU_WINDOW")
  SU_OK_PER_S=$(psql_ -d sustained -tA -c "SELECT round(count(*) / extract(epoch FROM '$SU_T1'::timestamptz - '$SU_T0'::timestamptz)) FROM call_actions WHERE state = 'succeeded' AND completed_at BETWEEN $SU_WINDOW")
  # Other backends report their commits to pg_stat_database within about a second.
  sleep 1.5
  SU_XACT1=$(psql_ -d sustained -tA -c "SELECT xact_commit FROM pg_stat_database WHERE datname = 'sustained'")
  SU_CPE=$(awk -v c=$(( SU_XACT1 - SU_XACT0 )) -v e="$SU_EVENTS" 'BEGIN { if (e > 0) printf "%.2f", c / e; else print "n/a" }')
  SU_RSS=$(peak_rss_mb "$SU_PID")
  stop_pid "$SU_PID"; stop_pid "$SU_STUB_PID"
fi

OU_RPS=- OU_P50=- OU_P99=- OU_BAD=-
if want outage; then
  OU_DELAY=$(( OUT_CONNS * 1000 / OUT_RATE )); (( OU_DELAY >= 1 )) || OU_DELAY=1
  echo "== outage: CRM answering 503 for ${OUT_SECONDS}s under ~${OUT_RATE} final events/s (c=$OUT_CONNS, ${OU_DELAY} ms between requests per connection)" >&2
  start_stub STUB_OUTAGE=1 STUB_RECORD=1 STUB_DELAY_MS=5
  OU_STUB=$STUB_URL OU_STUB_PID=$STUB_PID
  service_db outage
  # Rate limit and breaker at their defaults, passed explicitly; the default retry delays (Jobs:RetryDelaysSeconds
  # unset). Tickets point at the same stub and share its outage (every event here is a completed call: no tickets).
  start_service outage all service-outage Crm__BaseUrl="$OU_STUB" Tickets__BaseUrl="$OU_STUB" \
    Crm__RatePerSecond="$OUT_CRM_RATE" Crm__Breaker__FailuresToOpen=5 Crm__Breaker__OpenSeconds=30 \
    Tickets__RatePerSecond="$OUT_CRM_RATE" Tickets__Breaker__FailuresToOpen=5 Tickets__Breaker__OpenSeconds=30
  OU_PID=$SVC_PID OU_URL=$SVC_URL
  wait_http "$OU_URL/health/ready"
  # wrk cannot pace by rate; its delay() before each request can: ~connections * 1000 / (delay + latency) per second.
  paced() {   # paced SECONDS [wrk options...]
    BENCH_DELAY_MS=$OU_DELAY wrk -t"$(( OUT_CONNS < 2 ? 1 : 2 ))" -c"$OUT_CONNS" -d"$1s" --timeout "$WRK_TIMEOUT" "${@:2}" \
      -s bench/ingest-final.lua "$OU_URL/webhooks/minivoice"
  }
  if (( OUT_WARMUP > 0 )); then
    paced "$OUT_WARMUP" >"$WORK/wrk-outage-warmup.txt"
    # Calibrate: each connection's cycle is delay + latency; subtract the mean latency the warm-up saw from the
    # delay, but by a quarter at most (a cold start's slow first seconds would otherwise remove all pacing).
    OU_DELAY=$(awk -v r="$(wrk_summary "$WORK/wrk-outage-warmup.txt" | cut -d' ' -f1)" -v c="$OUT_CONNS" -v d="$OU_DELAY" -v t="$OUT_RATE" \
      'BEGIN { n = d; if (r > 0) { lat = c * 1000 / r - d; n = int(c * 1000 / t - (lat > 0 ? lat : 0) + 0.5) }
               if (n < d * 3 / 4) n = int(d * 3 / 4 + 0.5); print (n >= 1 ? n : 1) }')
  fi
  OU_JOBS0=$(q_or_na outage "SELECT count(*) FROM hangfire.job")
  stub_stats "$OU_STUB" "$WORK/outage-before.json"
  OU_T0=$(psql_ -d outage -tA -c "SELECT now()")
  paced "$OUT_SECONDS" --latency >"$WORK/wrk-outage.txt"
  read -r OU_RPS OU_P50 OU_P99 OU_BAD < <(wrk_summary "$WORK/wrk-outage.txt")
  OU_JOBS1=$(q_or_na outage "SELECT count(*) FROM hangfire.job")
  OU_JOBS_GROWTH=$(awk -v a="$OU_JOBS0" -v b="$OU_JOBS1" 'BEGIN { if (a ~ /^[0-9]+$/ && b ~ /^[0-9]+$/) print b - a; else print "n/a" }')
  OU_EVENTS=$(psql_ -d outage -tA -c "SELECT count(*) FROM webhook_events WHERE received_at >= '$OU_T0'")
  stub_stats "$OU_STUB" "$WORK/outage-after.json"
  OU_CRM_REQS=$(( $(stub_field "$WORK/outage-after.json" calls requests) - $(stub_field "$WORK/outage-before.json" calls requests) ))
  OU_TICKET_REQS=$(( $(stub_field "$WORK/outage-after.json" tickets requests) - $(stub_field "$WORK/outage-before.json" tickets requests) ))
  # The CRM recovers: time until no action waits.
  OU_BACKLOG=$(psql_ -d outage -tA -c "$PENDING_SQL")
  OU_SWITCH=$(psql_ -d outage -tA -c "SELECT now()")
  curl -sf -X POST "$OU_STUB/_control/outage/off" >/dev/null
  OU_TIMEOUT=${OUT_DRAIN_TIMEOUT:-$(( OU_BACKLOG * 2 / OUT_CRM_RATE + 600 > 1200 ? OU_BACKLOG * 2 / OUT_CRM_RATE + 600 : 1200 ))}
  echo "   CRM back: draining $OU_BACKLOG actions (timeout ${OU_TIMEOUT}s)" >&2
  d0=$(now_s) OU_DRAINED=no
  while awk -v e="$(since "$d0")" -v t="$OU_TIMEOUT" 'BEGIN { exit !(e < t) }'; do
    if (( $(psql_ -d outage -tA -c "$PENDING_SQL") == 0 )); then OU_DRAINED=yes; break; fi
    sleep 1
  done
  OU_DRAIN=$(since "$d0")
  OU_LEFT=$(psql_ -d outage -tA -c "$PENDING_SQL")
  OU_DRAIN_RATE=$(awk -v n=$(( OU_BACKLOG - OU_LEFT )) -v d="$OU_DRAIN" 'BEGIN { if (d > 0) printf "%.1f", n / d; else print "n/a" }')
  # The steady rate, without the wait for the breaker's next probe: first to last success after the switch.
  OU_STEADY_RATE=$(psql_ -d outage -tA -c "SELECT CASE WHEN count(*) > 1 THEN round((count(*) - 1) / greatest(extract(epoch FROM max(completed_at) - min(completed_at)), 0.001), 1)::text ELSE 'n/a' END FROM call_actions WHERE state = 'succeeded' AND completed_at >= '$OU_SWITCH'")
  read -r OU_TOTAL OU_OK OU_FAILED OU_SKIPPED OU_PENDING OU_CRM_OK < <(psql_ -d outage -tA -F' ' -c "
    SELECT count(*), count(*) FILTER (WHERE state = 'succeeded'), count(*) FILTER (WHERE state = 'failed'),
           count(*) FILTER (WHERE state = 'skipped'), count(*) FILTER (WHERE state = 'pending'),
           count(*) FILTER (WHERE state = 'succeeded' AND action = 'crm.sync')
    FROM call_actions")
  stub_stats "$OU_STUB" "$WORK/outage-end.json"
  OU_KEYS_OK=$(stub_field "$WORK/outage-end.json" calls keys_ok)
  OU_KEYS_TWICE=$(stub_field "$WORK/outage-end.json" calls keys_ok_more_than_once)
  OU_CRM_TOTAL=$(stub_field "$WORK/outage-end.json" calls requests)
  OU_ONCE=$( (( OU_KEYS_OK == OU_CRM_OK && OU_KEYS_TWICE == 0 )) && echo yes || echo no )
  # Requests still in flight when the wait ended may have a 2xx at the stub and no outcome in the database yet.
  if [[ $OU_DRAINED == no ]]; then OU_ONCE="$OU_ONCE (backlog not drained: $OU_PENDING pending)"; fi
  OU_RSS=$(peak_rss_mb "$OU_PID")
  stop_pid "$OU_PID"; stop_pid "$OU_STUB_PID"
fi

if want ratelimit; then
  echo "== ratelimit: one Role=api + two Role=worker processes, a backlog of $RL_EVENTS events, CRM 50/s and 4 at once" >&2
  start_stub STUB_DELAY_MS=20 STUB_RECORD=1
  RL_STUB=$STUB_URL RL_STUB_PID=$STUB_PID
  service_db ratelimit
  RL_ENV=(Crm__BaseUrl="$RL_STUB" Crm__RatePerSecond=50 Crm__MaxConcurrency=4
          Tickets__BaseUrl="$RL_STUB" Tickets__RatePerSecond=50 Tickets__MaxConcurrency=4)
  start_service ratelimit api service-ratelimit-api "${RL_ENV[@]}"
  RL_API_PID=$SVC_PID RL_URL=$SVC_URL
  wait_http "$RL_URL/health/ready"
  # The backlog first, as fast as the api process takes it (no worker runs yet).
  RL_T0=$(psql_ -d ratelimit -tA -c "SELECT now()")
  BENCH_LIMIT=$(( RL_EVENTS / 2 )) wrk -t2 -c8 -d300s --timeout "$WRK_TIMEOUT" -s bench/ingest-final.lua \
    "$RL_URL/webhooks/minivoice" >/dev/null &
  wrk_pid=$!; pids+=("$wrk_pid")
  last=-1 still=0
  for _ in $(seq 1 600); do
    stored=$(psql_ -d ratelimit -tA -c "SELECT count(*) FROM webhook_events WHERE received_at >= '$RL_T0'")
    if (( stored == last )); then still=$(( still + 1 )); else still=0; last=$stored; fi
    if (( stored >= RL_EVENTS / 2 * 2 || still >= 20 )) || ! kill -0 "$wrk_pid" 2>/dev/null; then break; fi
    sleep 0.5
  done
  # wrk sleeps out its -d after its threads stopped: SIGINT ends it.
  kill -INT "$wrk_pid" 2>/dev/null || true
  wait "$wrk_pid" || true
  RL_BACKLOG=$(psql_ -d ratelimit -tA -c "$PENDING_SQL")
  # Both workers at once: each starts with a full backlog and its own idea of the rate until they share it.
  start_service ratelimit worker service-ratelimit-worker1 "${RL_ENV[@]}"
  RL_W1_PID=$SVC_PID RL_W1_URL=$SVC_URL
  start_service ratelimit worker service-ratelimit-worker2 "${RL_ENV[@]}"
  RL_W2_PID=$SVC_PID RL_W2_URL=$SVC_URL
  d0=$(now_s)
  wait_http "$RL_W1_URL/health/ready"; wait_http "$RL_W2_URL/health/ready"
  RL_TIMEOUT=$(( RL_BACKLOG / 50 * 2 + 60 ))
  while awk -v e="$(since "$d0")" -v t="$RL_TIMEOUT" 'BEGIN { exit !(e < t) }'; do
    (( $(psql_ -d ratelimit -tA -c "$PENDING_SQL") == 0 )) && break
    sleep 0.5
  done
  RL_DRAIN=$(since "$d0")
  RL_LEFT=$(psql_ -d ratelimit -tA -c "$PENDING_SQL")
  RL_OK=$(psql_ -d ratelimit -tA -c "SELECT count(*) FROM call_actions WHERE action = 'crm.sync' AND state = 'succeeded'")
  stub_stats "$RL_STUB" "$WORK/ratelimit.json"
  RL_REQS=$(stub_field "$WORK/ratelimit.json" calls requests)
  RL_MAX1S=$(stub_field "$WORK/ratelimit.json" calls max_in_1s)
  RL_MAXC=$(stub_field "$WORK/ratelimit.json" calls max_concurrent)
  RL_RATE=$(awk -v n="$RL_REQS" -v a="$(stub_field "$WORK/ratelimit.json" calls first_start_ms)" \
    -v b="$(stub_field "$WORK/ratelimit.json" calls last_start_ms)" 'BEGIN { if (n > 1 && b > a) printf "%.1f", (n - 1) * 1000 / (b - a); else print "n/a" }')
  RL_RSS="$(peak_rss_mb "$RL_W1_PID") MB, $(peak_rss_mb "$RL_W2_PID") MB"
  stop_pid "$RL_W1_PID"; stop_pid "$RL_W2_PID"; stop_pid "$RL_API_PID"; stop_pid "$RL_STUB_PID"
fi

if want headers; then
  echo "== headers: the service (role api) with the request headers not kept, then kept" >&2
  H_ROWS=()
  H_RUN=0
  H_ORDER=$(for _ in $(seq 1 "$H_ROUNDS"); do printf 'false true true false '; done)
  for keep in $H_ORDER; do
    H_RUN=$(( H_RUN + 1 ))
    service_db "headers_$H_RUN"
    # Each run starts right after a checkpoint: a run writes ~0.5 GB of WAL, so without it the checkpoint that the
    # previous run started lands at a different moment of each run, and a position in the order costs more than
    # the setting under test.
    psql_ -d postgres -c "CHECKPOINT"
    start_service "headers_$H_RUN" api "headers-$H_RUN" Webhooks__KeepRequestHeaders=$keep
    wait_http "$SVC_URL/health/ready"
    # A User-Agent and an X-Forwarded-For on every request (bench/ingest.lua), as behind a proxy: headers to keep.
    read -r rps p50 p99 bad < <(BENCH_PROXY_HEADERS=1 LOAD_PID=$SVC_PID load "$SVC_URL/webhooks/minivoice")
    read -r cpu _ wal <"$WORK/cost.figures"
    kept=$(q_or_na "headers_$H_RUN" "SELECT count(*) FROM webhook_events WHERE request_headers IS NOT NULL")
    H_ROWS+=("$keep|$rps|$p50|$p99|$bad|$cpu|$wal|$kept")
    stop_pid "$SVC_PID"
  done
fi

if want tracing; then
  echo "== tracing: the service's ingest (role api) with tracing off, then on (OTLP to a sink, 10 % sampled)" >&2
  service_db tracing
  TR_SINK_PORT=$(free_port)
  ASPNETCORE_URLS=http://127.0.0.1:$TR_SINK_PORT "$WORK/baseline/Baseline" >/dev/null 2>&1 &
  TR_SINK_PID=$!; pids+=("$TR_SINK_PID")
  wait_http "http://127.0.0.1:$TR_SINK_PORT/"
  TR_ACTIONS_SQL="SELECT count(*), count(trace_parent) FROM call_actions"
  start_service tracing api service-tracing-off
  wait_http "$SVC_URL/health/ready"
  read -r TR_OFF_RPS TR_OFF_P50 TR_OFF_P99 TR_OFF_BAD < <(LOAD_PID=$SVC_PID load "$SVC_URL/webhooks/minivoice")
  read -r TR_OFF_CPU _ _ <"$WORK/cost.figures"
  TR_OFF_RSS=$(peak_rss_mb "$SVC_PID")
  stop_pid "$SVC_PID"
  IFS='|' read -r TR_OFF_ACTIONS TR_OFF_TRACED < <(psql_ -d tracing -tA -c "$TR_ACTIONS_SQL")
  start_service tracing api service-tracing-on OTEL_EXPORTER_OTLP_ENDPOINT="http://127.0.0.1:$TR_SINK_PORT" \
    OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf OTEL_TRACES_SAMPLER=parentbased_traceidratio OTEL_TRACES_SAMPLER_ARG="$TR_RATIO"
  wait_http "$SVC_URL/health/ready"
  read -r TR_ON_RPS TR_ON_P50 TR_ON_P99 TR_ON_BAD < <(LOAD_PID=$SVC_PID load "$SVC_URL/webhooks/minivoice")
  read -r TR_ON_CPU _ _ <"$WORK/cost.figures"
  TR_ON_RSS=$(peak_rss_mb "$SVC_PID")
  stop_pid "$SVC_PID"   # a graceful stop flushes the exporter's last batch
  IFS='|' read -r TR_ALL_ACTIONS TR_ALL_TRACED < <(psql_ -d tracing -tA -c "$TR_ACTIONS_SQL")
  TR_ON_ACTIONS=$(( TR_ALL_ACTIONS - TR_OFF_ACTIONS )); TR_ON_TRACED=$(( TR_ALL_TRACED - TR_OFF_TRACED ))
  TR_EXPORTS=$(curl -sf "http://127.0.0.1:$TR_SINK_PORT/_control/otlp" || echo '{}')
  stop_pid "$TR_SINK_PID"
fi

row() { printf '%-40s %10s %9s %9s %8s %10s\n' "$@"; }
mb() { [[ $1 == - ]] && echo - || echo "$1 MB"; }
if want_any l1 l2 l2w service textbook; then
  echo
  echo "Ingest, c=$CONNS, ${SECONDS_RUN}s after ${WARMUP}s warm-up, fsync on, $(nproc) cores shared by load, server and PostgreSQL"
  row "what" "req/s" "p50 ms" "p99 ms" "non-2xx" "peak RSS"
  row "L1 Kestrel + JSON parse" "$L1_RPS" "$L1_P50" "$L1_P99" "$L1_BAD" "$(mb "$L1_RSS")"
  row "L2 pgbench, service's statement" "$L2_RPS" "$L2_P50" "$L2_P99" "$L2_BAD" "-"
  row "L2b pgbench: insert event + upsert call" "$L2B_RPS" "$L2B_P50" "$L2B_P99" "$L2B_BAD" "-"
  row "L2w pgbench: L2b + outbox row" "$L2W_RPS" "$L2W_P50" "$L2W_P99" "$L2W_BAD" "-"
  row "service (role api)" "$S_RPS" "$S_P50" "$S_P99" "$S_BAD" "$(mb "$S_RSS")"
  row "textbook (EF + Hangfire, role api)" "$T_RPS" "$T_P50" "$T_P99" "$T_BAD" "$(mb "$T_RSS")"
  echo "service/L2 = $(ratio "$S_RPS" "$L2_RPS")   service/L2w = $(ratio "$S_RPS" "$L2W_RPS")   service/L1 = $(ratio "$S_RPS" "$L1_RPS")   service/textbook = $(ratio "$S_RPS" "$T_RPS")   events stored: service $EVENTS, textbook $T_EVENTS"
  if want l2w; then echo "WAL per transaction (pg_current_wal_lsn() difference / transactions): L2b $L2B_WAL B, L2w $L2W_WAL B"; fi
  echo "Cost per event in the measured window (CPU = ms of CPU time; service: .NET process + PostgreSQL, pgbench: PostgreSQL;"
  echo "machine = every process, load generator included):"
  printf '  %-32s %14s %14s %12s\n' "what" "CPU ms/event" "machine ms/ev" "WAL B/event"
  for f in l2b:"L2b pgbench" l2w:"L2w pgbench" service:"service (role api)"; do
    [[ -s $WORK/cost-${f%%:*}.figures ]] || continue
    read -r c1 c2 c3 <"$WORK/cost-${f%%:*}.figures"
    printf '  %-32s %14s %14s %12s\n' "${f#*:}" "$c1" "$c2" "$c3"
  done
fi

if want_any pipeline textbook-pipeline; then
  echo
  echo "Job pipeline, CRM/ticket stub answering in 5 ms; drain = first request of the burst until no work waits"
  printf '%-36s %8s %9s %9s %9s %8s %8s %9s %8s %7s %7s %10s\n' "what" "events" "events/s" "p50 ms" "p99 ms" "non-2xx" "backlog" "drain s" "jobs" "jobs/s" "after/s" "peak RSS"
  if want pipeline; then
    printf '%-36s %8s %9s %9s %9s %8s %8s %9s %8s %7s %7s %10s\n' "service (role all)" "$P_EVENTS" "$P_RPS" "$P_P50" "$P_P99" "$P_BAD" "$P_BACKLOG" "$P_DRAIN" "$P_JOBS" "$P_JOBS_PER_S" "$P_AFTER" "$P_RSS MB"
  fi
  if want textbook-pipeline; then
    printf '%-36s %8s %9s %9s %9s %8s %8s %9s %8s %7s %7s %10s\n' "textbook (Hangfire server in-process)" "$TP_EVENTS" "$TP_RPS" "$TP_P50" "$TP_P99" "$TP_BAD" "$TP_BACKLOG" "$TP_DRAIN" "$TP_JOBS" "$TP_JOBS_PER_S" "$TP_AFTER" "$TP_RSS MB"
  fi
  if want pipeline; then echo "service: idle pickup ${PICKUP_MS:-?} ms (commit to CRM success); actions not succeeded: $P_FAILED"; fi
  if want textbook-pipeline; then echo "textbook: jobs not succeeded (retrying or failed): $TP_FAILED"; fi
  if want pipeline && want textbook-pipeline; then
    echo "jobs/s service/textbook = $(ratio "${P_JOBS_PER_S:-}" "${TP_JOBS_PER_S:-}") over the whole drain (target >= 3);" \
      "backlog alone (after/s): $(ratio "${P_AFTER:-}" "${TP_AFTER:-}")"
  fi
fi

if want curve; then
  echo
  echo "Cost curve: service (role api) ingest, c=$CONNS, ${CURVE_SECONDS}s per size, database pre-filled (bench/curve-fill.sql)"
  printf '%-6s %12s %8s %10s %9s %9s %8s %8s\n' "size" "events" "fill s" "req/s" "p50 ms" "p99 ms" "non-2xx" "vs 1x"
  for r in "${CURVE_ROWS[@]}"; do
    IFS='|' read -r m size fill rps p50 p99 bad vs <<<"$r"
    printf '%-6s %12s %8s %10s %9s %9s %8s %8s\n' "$m" "$size" "$fill" "$rps" "$p50" "$p99" "$bad" "$vs"
  done
  echo "GET /calls/{id} at $G_SIZE events ($FILLED_CALLS pre-filled calls, random), c=$GET_CONNS, ${CURVE_SECONDS}s: $G_RPS req/s, p50 $G_P50 ms, p99 $G_P99 ms, non-2xx $G_BAD; peak RSS ${C_RSS} MB"
fi

kv() { printf '  %-40s %s\n' "$@"; }
if want sustained; then
  echo
  echo "Sustained load: service (role all), every event a final call.completed of a new call, c=$CONNS, ${SUST_SECONDS}s after ${SUST_WARMUP}s warm-up;"
  echo "stub answering 200 at once, Crm/Tickets RatePerSecond=0 (unlimited), MaxConcurrency=16; backlog = actions pending"
  printf '%-9s %8s %8s %8s %13s %12s %8s %8s %10s %11s %9s %8s\n' "events/s" "p50 ms" "p99 ms" "non-2xx" "backlog -60s" "backlog end" "growth" "growing" "actions/s" "commits/ev" "peak RSS" "vs L2w"
  printf '%-9s %8s %8s %8s %13s %12s %8s %8s %10s %11s %9s %8s\n' "$SU_RPS" "$SU_P50" "$SU_P99" "$SU_BAD" "$SU_B60" "$SU_BEND" "$SU_GROWTH" "$SU_GROWING" "$SU_OK_PER_S" "$SU_CPE" "$(mb "$SU_RSS")" "$(ratio "$SU_RPS" "$L2W_RPS")"
  echo "growing = the backlog grew over the last 60 s by more than one second of ingest; trend over the last 60 s: $SU_SLOPE actions/s"
  echo "(least-squares slope of the samples); actions/s = succeeded in the window;"
  echo "commits/ev = pg_stat_database xact_commit delta / events stored in the window ($SU_EVENTS); vs L2w = events/s / L2w tps"
  echo "backlog every 5 s (s:count): $(printf '%s\n' "${SU_SAMPLES[@]}" | awk '{printf "%s%.0f:%s", (NR > 1 ? " " : ""), $1, $2}')"
fi

if want outage; then
  echo
  echo "CRM outage: service (role all), CRM stub answering 503 for ${OUT_SECONDS}s, then 200 in 5 ms; Crm RatePerSecond=$OUT_CRM_RATE,"
  echo "breaker 5 failures / open 30 s, default retry delays; every event a final call.completed of a new call"
  kv "paced load" "$OU_RPS events/s (target $OUT_RATE, c=$OUT_CONNS, delay ${OU_DELAY} ms after calibration), $OU_EVENTS events stored"
  kv "webhooks during the outage" "p50 $OU_P50 ms, p99 $OU_P99 ms, non-2xx $OU_BAD"
  kv "Hangfire job rows (hangfire.job)" "before $OU_JOBS0, after $OU_JOBS1, growth $OU_JOBS_GROWTH"
  kv "CRM requests during the outage" "$OU_CRM_REQS in ${OUT_SECONDS}s (the failures that open the breaker, then one probe per open period: 30 s, doubling while they fail, so ~5 + 4 in 300 s at most); ticket requests $OU_TICKET_REQS"
  kv "backlog when the CRM came back" "$OU_BACKLOG actions pending"
  kv "drain" "$OU_DRAIN s until none pending (drained: $OU_DRAINED): $OU_DRAIN_RATE actions/s; first to last success $OU_STEADY_RATE/s (target ~$OUT_CRM_RATE)"
  kv "actions" "total $OU_TOTAL, succeeded $OU_OK, failed $OU_FAILED, skipped $OU_SKIPPED, pending $OU_PENDING"
  kv "Idempotency-Keys with a 2xx at the stub" "$OU_KEYS_OK distinct, $OU_KEYS_TWICE answered 2xx more than once; crm.sync succeeded $OU_CRM_OK; CRM requests in all $OU_CRM_TOTAL"
  kv "exactly once" "$OU_ONCE"
  kv "peak RSS" "$(mb "$OU_RSS")"
fi

if want ratelimit; then
  echo
  echo "Rate limit shared through PostgreSQL: 1 api + 2 worker processes, Crm RatePerSecond=50, MaxConcurrency=4, stub answering in 20 ms"
  kv "backlog" "$RL_BACKLOG actions, drained in $RL_DRAIN s from the workers' start ($RL_LEFT left pending)"
  echo "  max requests in any 1 s window: $RL_MAX1S (limit 55)"
  echo "  max concurrent: $RL_MAXC (limit 4)"
  echo "  mean rate over the drain: $RL_RATE requests/s (limit 50; first to last request at the stub)"
  kv "CRM requests / crm.sync succeeded" "$RL_REQS / $RL_OK; within limits: $( (( RL_MAX1S <= 55 && RL_MAXC <= 4 )) && echo yes || echo no )"
  kv "peak RSS of the workers" "$RL_RSS"
fi

if want headers; then
  echo
  echo "Request headers kept (Webhooks:KeepRequestHeaders), service (role api), c=$CONNS, ${SECONDS_RUN}s after ${WARMUP}s warm-up"
  printf '%-6s %10s %9s %9s %8s %13s %12s %14s\n' "kept" "events/s" "p50 ms" "p99 ms" "non-2xx" "CPU ms/event" "WAL B/event" "rows with them"
  for r in "${H_ROWS[@]}"; do
    IFS='|' read -r keep rps p50 p99 bad cpu wal kept <<<"$r"
    printf '%-6s %10s %9s %9s %8s %13s %12s %14s\n' "$keep" "$rps" "$p50" "$p99" "$bad" "$cpu" "$wal" "$kept"
  done
  # Means per setting over its runs.
  read -r OFF_RPS OFF_P99 OFF_CPU ON_RPS ON_P99 ON_CPU < <(printf '%s\n' "${H_ROWS[@]}" | awk -F'|' '
    { n[$1]++; r[$1] += $2; p[$1] += $4; c[$1] += $6 }
    END { printf "%.0f %.2f %.4f %.0f %.2f %.4f\n", r["false"] / n["false"], p["false"] / n["false"], c["false"] / n["false"],
                 r["true"] / n["true"], p["true"] / n["true"], c["true"] / n["true"] }')
  echo "means: not kept $OFF_RPS events/s, p99 $OFF_P99 ms, CPU $OFF_CPU ms/event; kept $ON_RPS events/s, p99 $ON_P99 ms, CPU $ON_CPU ms/event"
  echo "events/s kept/not kept = $(ratio "$ON_RPS" "$OFF_RPS") (target >= 0.95); p99 kept/not kept = $(ratio "$ON_P99" "$OFF_P99"); CPU per event kept/not kept = $(ratio "$ON_CPU" "$OFF_CPU")"
fi

if want tracing; then
  echo
  echo "Tracing cost: service (role api), same load as the service phase, c=$CONNS, ${SECONDS_RUN}s after ${WARMUP}s warm-up;"
  echo "on = OTLP/HTTP (protobuf) to a local sink that drops it, OTEL_TRACES_SAMPLER=parentbased_traceidratio, _ARG=$TR_RATIO"
  row "what" "req/s" "p50 ms" "p99 ms" "non-2xx" "peak RSS"
  row "tracing off (no endpoint)" "$TR_OFF_RPS" "$TR_OFF_P50" "$TR_OFF_P99" "$TR_OFF_BAD" "$(mb "$TR_OFF_RSS")"
  row "tracing on, ratio $TR_RATIO" "$TR_ON_RPS" "$TR_ON_P50" "$TR_ON_P99" "$TR_ON_BAD" "$(mb "$TR_ON_RSS")"
  echo "on/off: req/s $(ratio "$TR_ON_RPS" "$TR_OFF_RPS"), p99 $(ratio "$TR_ON_P99" "$TR_OFF_P99"), CPU per event" \
    "$(ratio "$TR_ON_CPU" "$TR_OFF_CPU") (CPU ms/event, .NET process + PostgreSQL: off $TR_OFF_CPU, on $TR_ON_CPU; steadier than req/s" \
    "on a shared machine)"
  echo "outbox rows with a trace context: off $TR_OFF_TRACED of $TR_OFF_ACTIONS, on $TR_ON_TRACED of $TR_ON_ACTIONS" \
    "($(awk -v a="$TR_ON_TRACED" -v b="$TR_ON_ACTIONS" 'BEGIN { if (b > 0) printf "%.1f %%", 100 * a / b; else print "n/a" }'), expected ~$TR_RATIO of them)"
  echo "OTLP at the sink: $TR_EXPORTS"
fi
