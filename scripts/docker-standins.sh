#!/usr/bin/env bash
# Makes sure the base images the Dockerfile, docker-compose.yml and the Testcontainers tests name are on this Docker
# engine: present, else pulled, else (no registry reachable) a local stand-in built from Debian packages and this
# machine's .NET install, tagged with the official name and labelled org.webhookreceiver.standin. Stand-ins are built
# once (an existing tag is kept; `docker rmi` it to rebuild). Files: scripts/standins/.
# usage: scripts/docker-standins.sh [postgres] [sdk] [aspnet]   (none: all three)
set -euo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
STANDINS=$REPO/scripts/standins
BASE_TAG=webhookreceiver-standin/debian:bookworm
export DOCKER_BUILDKIT=0   # the classic builder: BuildKit would pull its frontend image

say() { echo "standins: $*" >&2; }

# The Debian mirror this machine's apt uses (deb822 or one-line sources), for debootstrap and apt-get in builds.
apt_mirror() {
  local uri
  uri=$(cat /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '/^URIs:/ && $2 !~ /security/ {print $2; exit}')
  [[ -n $uri ]] || uri=$(awk '/^deb / && $0 !~ /security/ {print ($2 ~ /^\[/ ? $3 : $2); exit}' /etc/apt/sources.list 2>/dev/null)
  echo "${uri:-http://deb.debian.org/debian}"
}

have_image() { docker image inspect "$1" >/dev/null 2>&1; }

# A minimal Debian 12 root file system imported as an image: what every stand-in starts from.
ensure_base() {
  if have_image "$BASE_TAG"; then return; fi
  if ! command -v debootstrap >/dev/null; then
    say "installing debootstrap"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null
  fi
  local rootfs mirror
  rootfs=$(mktemp -d) mirror=$(apt_mirror)
  say "building $BASE_TAG with debootstrap from $mirror"
  debootstrap --variant=minbase bookworm "$rootfs" "$mirror" >"$rootfs.log" 2>&1 \
    || { tail -n 20 "$rootfs.log" >&2; rm -rf "$rootfs" "$rootfs.log"; return 1; }
  rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
  tar -C "$rootfs" -c . | docker import -c 'CMD ["bash"]' - "$BASE_TAG" >/dev/null
  rm -rf "$rootfs" "$rootfs.log"
}

# build_standin NAME DIR [EXTRA_TAR_ARGS...]: the build context is DIR plus whatever the extra tar arguments add
# (streamed: the 600 MB .NET install is not copied to a temporary folder first).
build_standin() {
  local name=$1 dir=$2; shift 2
  ensure_base
  say "building a STAND-IN for $name from Debian packages (the official image is absent and cannot be pulled)"
  tar -c -C "$dir" . "$@" | docker build -q --network host --build-arg BASE="$BASE_TAG" -t "$name" - >/dev/null
}

ensure() {   # ensure NAME KIND
  local name=$1
  if have_image "$name"; then
    if [[ -n $(docker image inspect -f '{{index .Config.Labels "org.webhookreceiver.standin"}}' "$name" 2>/dev/null) ]]; then
      say "$name: present (a local stand-in, not the official image)"
    else
      say "$name: present"
    fi
    return
  fi
  if timeout 300 docker pull -q "$name" >/dev/null 2>&1; then say "$name: pulled"; return; fi
  local dotnet_dir
  dotnet_dir=$(dirname "$(readlink -f "$(command -v dotnet)")")
  # The .NET install goes in as dotnet/, whatever its folder is called here.
  local dotnet=(-C "$(dirname "$dotnet_dir")" --transform "s,^$(basename "$dotnet_dir"),dotnet,")
  case $2 in
    postgres) build_standin "$name" "$STANDINS/postgres" ;;
    sdk)
      local certs; certs=$(mktemp -d)
      cp -rL /etc/ssl/certs "$certs/certs"   # the machine's trust store, links resolved
      build_standin "$name" "$STANDINS/dotnet-sdk" -C "$certs" certs "${dotnet[@]}" "$(basename "$dotnet_dir")"
      rm -rf "$certs" ;;
    aspnet)
      local b; b=$(basename "$dotnet_dir")
      build_standin "$name" "$STANDINS/dotnet-aspnet" "${dotnet[@]}" "$b/dotnet" "$b/host" "$b/shared" "$b/LICENSE.txt" ;;
  esac
  say "$name: STAND-IN built (local image under the official name)"
}

wanted=("$@"); (( ${#wanted[@]} )) || wanted=(postgres sdk aspnet)
for kind in "${wanted[@]}"; do
  case $kind in
    postgres) ensure postgres:15-alpine postgres ;;
    sdk) ensure mcr.microsoft.com/dotnet/sdk:10.0 sdk ;;
    aspnet) ensure mcr.microsoft.com/dotnet/aspnet:10.0 aspnet ;;
    *) echo "usage: $0 [postgres] [sdk] [aspnet]" >&2; exit 2 ;;
  esac
done
