#!/usr/bin/env bash
# Runs the service locally with zero setup. Args after the script go to the app.
# Anything already set in the environment wins; otherwise:
#   - PostgreSQL: a local server (reused across runs, data persists) in .local/pg, or for root in a checkout the
#     postgres user cannot reach (e.g. under /root) in /var/lib/webhookreceiver/<hash>/pg (scripts/local-db.sh)
#   - auth: a signing secret generated once into .local/signing-secret (stable across runs)
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
cd "$REPO"
mkdir -p .local

db_line=''   # the banner says where run.sh's own server keeps its files
if [[ -z ${ConnectionStrings__Postgres:-} ]]; then
  ConnectionStrings__Postgres=$(bash scripts/local-db.sh start | tail -n1)
  export ConnectionStrings__Postgres
  db_line=$'\n'" Database files: $(bash scripts/local-db.sh dir) (stop the server: scripts/local-db.sh stop)"
fi

secret=${Webhooks__SigningSecrets__0:-}
if [[ -z $secret && -z ${Webhooks__BasicAuth__Username:-} ]]; then
  if [[ ! -s .local/signing-secret ]]; then
    (umask 077; echo "whsec_$(head -c 24 /dev/urandom | base64)" >.local/signing-secret)
  fi
  secret=$(<.local/signing-secret)
  export Webhooks__SigningSecrets__0=$secret
fi

export ASPNETCORE_URLS=${ASPNETCORE_URLS:-http://127.0.0.1:8080}
export ASPNETCORE_ENVIRONMENT=${ASPNETCORE_ENVIRONMENT:-Development}
# First URL if several; wildcard hosts are not dialable, so show loopback.
base=$(sed -E "s#//(\+|\*|0\.0\.0\.0|\[::\])#//127.0.0.1#" <<<"${ASPNETCORE_URLS%%;*}")

# Development needs no operator credentials: without them /console, /calls, ... answer local requests only.
operators="local requests only; set Dashboard__Username and Dashboard__Password to require a login"
[[ -n ${Dashboard__Username:-} ]] && operators="HTTP Basic as $Dashboard__Username"

cat <<EOF
----------------------------------------------------------------
 Webhook URL:    $base/webhooks/minivoice
 Console:        $base/console ($operators)
 Signing secret: ${secret:-(not used: basic auth configured)}
 PostgreSQL:     $(sed -E "s/(Password=)[^;]*/\1***/I" <<<"$ConnectionStrings__Postgres")$db_line
 Try:  scripts/sign.sh --secret "${secret:-whsec_...}" --send $base/webhooks/minivoice \\
         tests/WebhookReceiver.IntegrationTests/Fixtures/webhook.call-completed.json
----------------------------------------------------------------
EOF
exec dotnet run --project src/WebhookReceiver -c Release -- "$@"
