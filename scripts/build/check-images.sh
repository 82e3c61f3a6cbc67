#!/usr/bin/env bash
# Checks the image archives that build.sh wrote the way a node uses them: imports each into a throwaway
# containerd (Debian's containerd and runc, unpacked into a temporary directory, never installed, with their own
# root, state and socket, in a private mount namespace), lists them, and runs each image's program once.
# Needs root. Not part of setup: run it after changing an image.
#
#   scripts/build/check-images.sh        (the images of versions.env, from $CACHE/images)
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=versions.env
. "$HERE/versions.env"
CACHE="${HARDWAY_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/hardway}"
R=$IMAGE_REGISTRY

log() { printf '[check-images] %s\n' "$*"; }
fail() {
  printf '[check-images] FAIL: %s\n' "$*" >&2
  exit 1
}

tmp=$(mktemp -d /tmp/hardway-check-images.XXXXXX)
pid=""
# runc makes a cgroup per containerd namespace (k8s.io) in every hierarchy: remove the ones this check made
cgroups_before=$(ls -d /sys/fs/cgroup/k8s.io /sys/fs/cgroup/*/k8s.io 2>/dev/null || true)
cleanup() {
  if [ -n "$pid" ]; then
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  fi
  rm -rf "$tmp"
  local d
  for d in /sys/fs/cgroup/k8s.io /sys/fs/cgroup/*/k8s.io; do
    [ -d "$d" ] && ! grep -qx "$d" <<<"$cgroups_before" && rmdir "$d" 2>/dev/null || true
  done
}
trap cleanup EXIT

log "unpacking Debian's containerd and runc into $tmp"
(cd "$tmp" && apt-get download -qq containerd runc 2>&1 >/dev/null | grep -v '^W: Download is performed unsandboxed' >&2 || true)
ls "$tmp"/containerd_*.deb "$tmp"/runc_*.deb >/dev/null || fail "apt-get download containerd runc failed"
for deb in "$tmp"/*.deb; do dpkg-deb -x "$deb" "$tmp/pkg"; done
export PATH="$tmp/pkg/usr/bin:$tmp/pkg/usr/sbin:$PATH"
cat >"$tmp/config.toml" <<EOF
version = 2
root = "$tmp/root"
state = "$tmp/state"
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = "$tmp/containerd.sock"
[ttrpc]
  address = "$tmp/containerd.sock.ttrpc"
EOF
unshare --mount --propagation private containerd --config "$tmp/config.toml" >"$tmp/containerd.log" 2>&1 &
pid=$!
ctr() { command ctr --address "$tmp/containerd.sock" --namespace k8s.io "$@"; }
for _ in $(seq 50); do
  ctr version >/dev/null 2>&1 && break
  sleep 0.2
done
ctr version >/dev/null 2>&1 || {
  cat "$tmp/containerd.log" >&2
  fail "containerd did not start"
}
log "$(command ctr --version) with $(runc --version | head -1), pid $pid"

images=("pause-$PAUSE_VERSION.tar" "coredns-$COREDNS_VERSION.tar" "flannel-$FLANNEL_VERSION.tar" "busybox-$BUSYBOX_VERSION.tar")
for a in "${images[@]}"; do
  ctr images import "$CACHE/images/$a" >/dev/null || fail "ctr images import $a"
done
ctr images ls
listed=$(ctr images ls -q)
for ref in "$R/pause:$PAUSE_VERSION" "$R/coredns:$COREDNS_VERSION" "$R/flannel:$FLANNEL_VERSION" "$R/busybox:$BUSYBOX_VERSION"; do
  grep -qx "$ref" <<<"$listed" || fail "$ref is not listed after the import"
done

# run: each image's program once
out=$(ctr run --rm "$R/busybox:$BUSYBOX_VERSION" check-busybox sh -c 'echo ok; for a in sh httpd wget nslookup; do command -v $a; done')
log "busybox: $(tr '\n' ' ' <<<"$out")"
[ "$(head -1 <<<"$out")" = ok ] || fail "busybox did not answer ok"
out=$(ctr run --rm "$R/coredns:$COREDNS_VERSION" check-coredns /coredns -version)
log "coredns: $(tr '\n' ' ' <<<"$out")"
grep -q "CoreDNS-${COREDNS_VERSION#v}" <<<"$out" || fail "coredns reports $out"
# coredns binds :53 as uid 65532 (the file capability), in its own network namespace; it exits if it cannot
ctr run -d "$R/coredns:$COREDNS_VERSION" check-coredns-53 >/dev/null
sleep 2
ctr task ls | grep -q 'check-coredns-53.*RUNNING' || fail "coredns did not stay up on :53 as a non-root user"
ctr task kill --signal SIGKILL check-coredns-53
for _ in $(seq 50); do
  ctr task ls | grep -q 'check-coredns-53.*STOPPED' && break
  sleep 0.1
done
ctr task delete check-coredns-53 >/dev/null 2>&1
ctr containers delete check-coredns-53
log "coredns: served :53 as uid 65532 until killed"
out=$(ctr run --rm "$R/flannel:$FLANNEL_VERSION" check-flannel /opt/bin/flanneld --version 2>&1)
log "flannel: $out; CNI plugin: $(ctr run --rm "$R/flannel:$FLANNEL_VERSION" check-flannel-cni sh -c 'ls -l /flannel | cut -c1-10')"
grep -q "$FLANNEL_VERSION" <<<"$out" || fail "flanneld reports $out"
# pause: runs until SIGTERM, then exits 0
ctr run -d "$R/pause:$PAUSE_VERSION" check-pause >/dev/null
sleep 1
ctr task ls | grep -q 'check-pause.*RUNNING' || fail "pause is not running"
ctr task kill --signal SIGTERM check-pause
for _ in $(seq 50); do
  ctr task ls | grep -q 'check-pause.*STOPPED' && break
  sleep 0.1
done
status=$(ctr task delete check-pause 2>&1 | tr -d '\n' || true)
ctr task ls | grep -q check-pause && fail "pause did not stop on SIGTERM"
ctr containers delete check-pause
log "pause: ran, stopped on SIGTERM ${status:+($status)}"
log "all ${#images[@]} archives import, list and run"
