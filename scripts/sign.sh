#!/usr/bin/env bash
# Thin wrapper over the service's own signing tool (src/WebhookReceiver/Tooling/SigningTool.cs), kept for the
# older --send form. It builds the tool once (into .local/sign-tool/, or $WEBHOOKRECEIVER_SIGN_CACHE) and then
# starts in well under a second, where `dotnet run` builds on every call. The tool itself:
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

# `dotnet run` would build on every call (~16 s). Build once per version of the sources into a cache instead and run
# the dll from there: the key hashes every file the build reads, so an edit means one fresh build, never a stale tool.
CACHE=${WEBHOOKRECEIVER_SIGN_CACHE:-$REPO/.local/sign-tool}
key=$(cd "$REPO" && find src/WebhookReceiver Directory.Build.props Directory.Packages.props global.json appsettings.json \
        -type f ! -path '*/bin/*' ! -path '*/obj/*' -print0 | LC_ALL=C sort -z | xargs -0 sha256sum | sha256sum | cut -c1-16)
tool=$CACHE/$key
if [[ ! -f $tool/WebhookReceiver.dll ]]; then
  mkdir -p "$CACHE"
  (
    flock 9   # two first calls at once: one builds, the other waits and uses it
    if [[ ! -f $tool/WebhookReceiver.dll ]]; then
      echo "sign.sh: building the signing tool once into $tool" >&2
      rm -rf "$tool.partial"
      dotnet build "$REPO/src/WebhookReceiver" -c Release -o "$tool.partial" --nologo -v quiet >&2
      # Older versions' builds are dead weight (only our own key-named folders: CACHE may be shared); the new one
      # appears whole or not at all.
      for old in "$CACHE"/*; do
        if [[ $old != "$tool.partial" && ${old##*/} =~ ^[0-9a-f]{16}(\.partial)?$ ]]; then rm -rf "$old"; fi
      done
      mv "$tool.partial" "$tool"
    fi
  ) 9>"$CACHE/.lock"
fi
# The tool runs in the caller's working directory, so FILE may be relative.
exec dotnet "$tool/WebhookReceiver.dll" "$command" "${args[@]}"
