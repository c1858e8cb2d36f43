#!/usr/bin/env bash
# Thin wrapper over the service's own signing tool (src/WebhookReceiver/Tooling/SigningTool.cs), kept for the
# older --send form. Prefer the tool itself:
#   dotnet run --project src/WebhookReceiver -- sign --secret whsec_XXX [--id ID] [--timestamp UNIX] FILE
#   dotnet run --project src/WebhookReceiver -- send --url URL (--secret whsec_XXX | --basic USER:PASS) [--id ID] FILE
# usage: scripts/sign.sh --secret whsec_XXX [--id ID] [--timestamp UNIX] [--basic USER:PASS] [--send URL] FILE
set -euo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

command=sign args=()
while [[ $# -gt 0 ]]; do
  case $1 in
    --send) command=send; args+=(--url "${2:?--send needs a URL}"); shift 2 ;;
    *) args+=("$1"); shift ;;
  esac
done
# dotnet run keeps the caller's working directory (RunWorkingDirectory), so FILE may be relative.
exec dotnet run --project "$REPO/src/WebhookReceiver" -- "$command" "${args[@]}"
