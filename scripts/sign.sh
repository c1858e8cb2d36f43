#!/usr/bin/env bash
# Signs a JSON file per the Standard Webhooks spec (https://www.standardwebhooks.com/):
#   signature = base64(HMAC-SHA256(key = base64decode(secret minus "whsec_"), "ID.TIMESTAMP.BODY"))
# usage: scripts/sign.sh --secret whsec_XXX [--id ID] [--timestamp UNIX] [--send URL] FILE
# Prints the three webhook-* headers and a curl command; --send also runs it.
set -euo pipefail

usage() { echo "usage: $0 --secret whsec_XXX [--id ID] [--timestamp UNIX] [--send URL] FILE" >&2; exit 2; }
secret='' id='' ts='' url='' file=''
while [[ $# -gt 0 ]]; do
  case $1 in
    --secret) secret=${2:?}; shift 2 ;;
    --id) id=${2:?}; shift 2 ;;
    --timestamp) ts=${2:?}; shift 2 ;;
    --send) url=${2:?}; shift 2 ;;
    -h|--help) usage ;;
    -*) echo "unknown option $1" >&2; usage ;;
    *) [[ -z $file ]] || usage; file=$1; shift ;;
  esac
done
[[ -n $secret && -n $file ]] || usage
[[ -r $file ]] || { echo "sign.sh: cannot read $file" >&2; exit 1; }

id=${id:-msg_$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')}
ts=${ts:-$(date +%s)}
# Key as hex so arbitrary (binary) key bytes survive the command line; od is always present, xxd not.
hexkey=$(printf '%s' "${secret#whsec_}" | base64 -d | od -An -v -tx1 | tr -d ' \n')
# The body is streamed straight from the file: no $(...) capture, which would strip trailing newlines
# and change the signed bytes.
sig=$({ printf '%s.%s.' "$id" "$ts"; cat -- "$file"; } \
  | openssl dgst -sha256 -mac HMAC -macopt "hexkey:$hexkey" -binary | base64 -w0)

echo "webhook-id: $id"
echo "webhook-timestamp: $ts"
echo "webhook-signature: v1,$sig"

# --data-binary @FILE sends the exact bytes that were signed (-d would strip newlines).
cmd=(curl -sS -i -X POST "${url:-http://127.0.0.1:8080/webhooks/minivoice}"
  -H 'Content-Type: application/json' -H "webhook-id: $id" -H "webhook-timestamp: $ts"
  -H "webhook-signature: v1,$sig" --data-binary "@$file")
echo
printf '%q ' "${cmd[@]}"; echo
if [[ -n $url ]]; then echo; "${cmd[@]}"; echo; fi
