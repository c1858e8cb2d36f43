#!/usr/bin/env bash
# Runs every test in WebhookReceiver.sln. Extra args go to `dotnet test` (e.g. --filter Category=Unit).
# PostgreSQL for integration tests, first match wins:
#   1. $WEBHOOKRECEIVER_TEST_POSTGRES (admin connection string; tests create their own databases)
#   2. a reachable Docker engine with postgres:15-alpine (present or pullable) -> tests start their own via
#      Testcontainers; DOCKER_API_VERSION / TESTCONTAINERS_RYUK_DISABLED are set when the engine needs them, and the
#      run's containers are removed on exit
#   3. a throwaway local server started with scripts/pg-local.sh, removed on exit
# Last line printed is always: "tests: N passed, N failed[, N skipped]".
# WEBHOOKRECEIVER_TEST_RESULTS: where this run's TRX files go (default TestResults/, emptied first).
# WEBHOOKRECEIVER_TEST_PRIOR_RESULTS: an earlier run's results folder (e.g. .ci/run's Testcontainers run), counted
# into the last line too; its failures (or no results there at all) fail this run.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
RESULTS=${WEBHOOKRECEIVER_TEST_RESULTS:-$REPO/TestResults}
PRIOR=${WEBHOOKRECEIVER_TEST_PRIOR_RESULTS:-}
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
cd "$REPO"

# Sums the <Counters .../> element of every TRX file under $1 into
# "files executed passed failed skipped". error/timeout/aborted count as failed: they are not passes.
# Skipped: VSTest leaves notExecuted=0 for xUnit skips and only lowers executed, so per file
# take max(notExecuted, total - executed).
count_trx() {
  local files
  files=$( { find "$1" -name "*.trx" 2>/dev/null || true; } | wc -l)
  { find "$1" -name '*.trx' -exec grep -ho '<Counters [^>]*>' {} + 2>/dev/null || true; } | awk -v files="$files" '
    { s = $0; delete f
      while (match(s, /[A-Za-z]+="[0-9]+"/)) {
        kv = substr(s, RSTART, RLENGTH); s = substr(s, RSTART + RLENGTH)
        split(kv, p, "=\""); f[p[1]] = p[2] + 0; c[p[1]] += p[2] + 0
      }
      skip += (f["notExecuted"] > f["total"] - f["executed"]) ? f["notExecuted"] : f["total"] - f["executed"] }
    END { printf "%d %d %d %d %d\n", files, c["executed"], c["passed"],
            c["failed"] + c["error"] + c["timeout"] + c["aborted"], skip }'
}

# Testcontainers 4.x speaks Docker API 1.44; older engines (Engine < 25: Debian 12's and Ubuntu 22.04's docker.io)
# refuse it unless told the engine's version. Its postgres image must be on the engine or pullable, and its reaper
# (Ryuk) image too. Says what it sets; false (with the reason) when the tests cannot use this engine.
testcontainers_ready() {
  local api image=postgres:15-alpine
  api=$(timeout 10 docker version --format '{{.Server.APIVersion}}' 2>/dev/null) || api=''
  if [[ -z ${DOCKER_API_VERSION:-} && $api =~ ^1\.([0-9]+)$ ]] && (( BASH_REMATCH[1] < 44 )); then
    export DOCKER_API_VERSION=$api
    echo "test.sh: the Docker engine speaks API $api (older than Testcontainers' 1.44): DOCKER_API_VERSION=$api" >&2
  fi
  local pulled=''
  if ! docker image inspect "$image" >/dev/null 2>&1; then
    if ! timeout 300 docker pull -q "$image" >/dev/null 2>&1; then
      echo "test.sh: Docker engine found, but $image is not on it and cannot be pulled (no registry?); not using" \
           "Testcontainers (scripts/docker-standins.sh postgres builds a local stand-in)" >&2
      return 1
    fi
    pulled=1
  fi
  # Testcontainers pulls Ryuk itself when the registry answers; with no image and no pull, ask it not to.
  if [[ -z ${TESTCONTAINERS_RYUK_DISABLED:-} && -z $pulled && -z $(docker image ls -q testcontainers/ryuk 2>/dev/null) ]]; then
    export TESTCONTAINERS_RYUK_DISABLED=true
    echo "test.sh: no Testcontainers Ryuk image on the engine: TESTCONTAINERS_RYUK_DISABLED=true" \
         "(the run's containers are removed by the tests and by this script)" >&2
  fi
}

# Containers this run's tests started (PostgresServer labels them with WEBHOOKRECEIVER_TEST_RUN).
remove_run_containers() {
  local ids
  ids=$(docker ps -aq --filter "label=org.webhookreceiver.test-run=$WEBHOOKRECEIVER_TEST_RUN" 2>/dev/null) || ids=''
  if [[ -n $ids ]]; then
    echo "test.sh: removing $(wc -w <<<"$ids") container(s) the tests started" >&2
    docker rm -f -v $ids >/dev/null 2>&1 || true
  fi
}

if [[ -n ${WEBHOOKRECEIVER_TEST_POSTGRES:-} ]]; then
  echo "test.sh: using PostgreSQL from WEBHOOKRECEIVER_TEST_POSTGRES" >&2
elif timeout 5 docker info >/dev/null 2>&1 && testcontainers_ready; then
  echo "test.sh: Docker engine found, tests will use Testcontainers" >&2
  # Without Ryuk nothing reaps the tests' containers if the test host dies: remove this run's (by its label) on exit.
  WEBHOOKRECEIVER_TEST_RUN=$(od -An -N8 -tx8 /dev/urandom | tr -d ' ')
  export WEBHOOKRECEIVER_TEST_RUN
  trap 'remove_run_containers' EXIT
  trap "exit 130" INT; trap "exit 143" TERM
else
  echo "test.sh: starting a throwaway PostgreSQL" >&2
  # As root the server runs as postgres, which must reach it: /tmp then, not a $TMPDIR that may sit under /root.
  tmp_parent=${TMPDIR:-/tmp}; (( EUID != 0 )) || tmp_parent=/tmp
  PGDIR=$(mktemp -d -p "$tmp_parent")
  chmod 755 "$PGDIR"   # mktemp makes it 0700; the postgres OS user must traverse it
  trap 'bash "$REPO/scripts/pg-local.sh" stop "$PGDIR/pg" >/dev/null 2>&1 || true; rm -rf "$PGDIR"' EXIT
  # A signal during startup must not abandon pg-local.sh half way (orphan server): note it, act after.
  trap "sig=130" INT; trap "sig=143" TERM; sig=0
  WEBHOOKRECEIVER_TEST_POSTGRES=$(bash "$REPO/scripts/pg-local.sh" start "$PGDIR/pg" | tail -n1)
  (( sig == 0 )) || exit "$sig"
  trap "exit 130" INT; trap "exit 143" TERM   # signals become a normal exit, so the EXIT trap runs
  export WEBHOOKRECEIVER_TEST_POSTGRES
fi

# The console's browser test drives Debian's chromium through Playwright's bundled driver (no browser download).
# It fails, saying what to install, when there is none: install it here when apt-get can.
if [[ -z ${WEBHOOKRECEIVER_CHROMIUM:-} && ! -x /usr/bin/chromium ]] && command -v apt-get >/dev/null; then
  echo "test.sh: installing chromium for the console's browser test" >&2
  as_root=(); (( EUID == 0 )) || as_root=(sudo -n)
  { "${as_root[@]}" apt-get update -qq && "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; } \
    || echo "test.sh: could not install chromium (apt-get install -y chromium); the browser test will fail" >&2
fi

rm -rf "$RESULTS" && mkdir -p "$RESULTS"   # stale TRX files would be counted otherwise

# The multi-process tests run the published app, as a deployment would.
dotnet publish src/WebhookReceiver/WebhookReceiver.csproj -c Release -o "$RESULTS/app" --nologo -v quiet
export WEBHOOKRECEIVER_APP_DIR=$RESULTS/app
rc=0
dotnet test WebhookReceiver.sln -c Release --logger "trx;LogFilePrefix=results" \
  --results-directory "$RESULTS" "$@" || rc=$?

read -r files executed passed failed skipped < <(count_trx "$RESULTS") || true
if [[ -n $PRIOR ]]; then
  read -r p_files p_executed p_passed p_failed p_skipped < <(count_trx "$PRIOR") || true
  echo "test.sh: counting the earlier run in $PRIOR too: $p_passed passed, $p_failed failed" >&2
  if (( p_files == 0 || p_executed == 0 )); then echo "test.sh: no test results in $PRIOR" >&2; rc=1; fi
  (( p_failed == 0 )) || rc=1
  (( passed += p_passed, failed += p_failed, skipped += p_skipped )) || true
fi
if (( rc != 0 )); then echo "test.sh: dotnet test exited with code $rc" >&2; fi
if (( files == 0 )); then echo "test.sh: no TRX result files in $RESULTS (build failure?)" >&2; rc=1; fi
if (( files > 0 && executed == 0 )); then echo "test.sh: 0 tests executed (no tests found, or --filter matched nothing)" >&2; rc=1; fi
if (( failed > 0 && rc == 0 )); then rc=1; fi

line="tests: $passed passed, $failed failed"
if (( skipped > 0 )); then line+=", $skipped skipped"; fi
echo "$line"
exit "$rc"
