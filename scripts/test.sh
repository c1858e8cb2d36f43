#!/usr/bin/env bash
# Runs every test in WebhookReceiver.sln. Extra args go to `dotnet test` (e.g. --filter Category=Unit).
# PostgreSQL for integration tests, first match wins:
#   1. $WEBHOOKRECEIVER_TEST_POSTGRES (admin connection string; tests create their own databases)
#   2. a reachable Docker engine -> tests start their own via Testcontainers
#   3. a throwaway local server started with scripts/pg-local.sh, removed on exit
# Last line printed is always: "tests: N passed, N failed[, N skipped]".
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
RESULTS=$REPO/TestResults
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

if [[ -n ${WEBHOOKRECEIVER_TEST_POSTGRES:-} ]]; then
  echo "test.sh: using PostgreSQL from WEBHOOKRECEIVER_TEST_POSTGRES" >&2
elif timeout 5 docker info >/dev/null 2>&1; then
  echo "test.sh: Docker engine found, tests will use Testcontainers" >&2
else
  echo "test.sh: no Docker engine, starting a throwaway PostgreSQL" >&2
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
if (( rc != 0 )); then echo "test.sh: dotnet test exited with code $rc" >&2; fi
if (( files == 0 )); then echo "test.sh: no TRX result files in $RESULTS (build failure?)" >&2; rc=1; fi
if (( files > 0 && executed == 0 )); then echo "test.sh: 0 tests executed (no tests found, or --filter matched nothing)" >&2; rc=1; fi
if (( failed > 0 && rc == 0 )); then rc=1; fi

line="tests: $passed passed, $failed failed"
if (( skipped > 0 )); then line+=", $skipped skipped"; fi
echo "$line"
exit "$rc"
