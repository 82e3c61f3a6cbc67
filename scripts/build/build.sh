#!/usr/bin/env bash
# Builds, into hardway's cache, the binaries and container images that hardway puts on hosts: Kubernetes, etcd,
# CoreDNS, flannel and its CNI plugin from Go modules (the pinned versions of versions.env), containerd, runc and
# the CNI plugins from Debian's packages, crane, our pause process, and the image archives pause, coredns, flannel and busybox. Also lays the same artefacts out as the
# upstream release sites do (the "mirror"). README.md in this directory describes the layout.
#
#   scripts/build/build.sh [COMPONENT...]   components: kubernetes etcd coredns flannel flannel-cni-plugin
#                                           containerd runc cni-plugins crane pause images temporal (default: all, in order)
#
# Everything is keyed by component and version; a component whose cache entry is complete (every file present,
# SHA256SUMS verifying) is skipped, so a warm run takes seconds. Builds for the architecture of the Go toolchain
# (go env GOARCH). The cache is ${HARDWAY_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/hardway}.
set -euo pipefail
umask 022 # file modes end up in archives and images: the same on every machine, readable by non-root users
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=versions.env
. "$HERE/versions.env"

CACHE="${HARDWAY_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/hardway}"
BIN="$CACHE/binaries"
MIRROR="$CACHE/mirror"
IMAGES="$CACHE/images"
WORK="$CACHE/build" # generated wrapper modules, staging directories, tools

log() { printf '[build] %s\n' "$*"; }
die() {
  printf '[build] error: %s\n' "$*" >&2
  exit 1
}

# --- Go toolchain -----------------------------------------------------------------------------------------
command -v go >/dev/null || die "Go $GO_MIN_VERSION or later is needed to build the binaries (https://go.dev/dl/), and 'go' is not on PATH"
go_version=$(go env GOVERSION)
go_version=${go_version#go}
[ "$(printf '%s\n%s\n' "$GO_MIN_VERSION" "$go_version" | sort -V | head -1)" = "$GO_MIN_VERSION" ] ||
  die "Go $go_version is too old: the pinned versions need Go $GO_MIN_VERSION or later"
ARCH=$(go env GOARCH)
export GOOS=linux CGO_ENABLED=0
export GOFLAGS="${GOFLAGS:-} -buildvcs=false"

mkdir -p "$BIN" "$MIRROR" "$IMAGES" "$WORK"
exec 9>"$CACHE/.build.lock"
flock 9 # two builds on one cache wait for each other

# --- helpers ----------------------------------------------------------------------------------------------
# verify_sums DIR FILE...: DIR/SHA256SUMS lists exactly FILE... and every one verifies.
verify_sums() {
  local dir=$1
  shift
  [ -f "$dir/SHA256SUMS" ] && has_files "$dir" "$@" || return 1
  [ "$(printf '%s\n' "$@" | sort)" = "$(awk '{ sub(/^\*/, "", $2); print $2 }' "$dir/SHA256SUMS" | sort)" ] || return 1
  (cd "$dir" && sha256sum --quiet --strict -c SHA256SUMS >/dev/null 2>&1)
}

# has_files DIR FILE...: every DIR/FILE exists.
has_files() {
  local dir=$1 f
  shift
  for f; do [ -f "$dir/$f" ] || return 1; done
}

# stamp_ok NAME CONTENT / stamp_write NAME CONTENT: what a derived entry (a mirror archive, an image) was made
# from, so that it is remade when its inputs change under the same version (a rebuilt binary, an edited image).
stamp_ok() { [ -f "$WORK/stamps/$1" ] && [ "$(cat "$WORK/stamps/$1")" = "$2" ]; }
stamp_write() {
  mkdir -p "$WORK/stamps"
  printf '%s\n' "$2" >"$WORK/stamps/$1"
}

# write_sums DIR FILE...: DIR/SHA256SUMS in sha256sum's format.
write_sums() {
  local dir=$1
  shift
  (cd "$dir" && sha256sum -- "$@" >SHA256SUMS.tmp && mv -f SHA256SUMS.tmp SHA256SUMS)
}

# publish STAGING FINAL: replaces FINAL with the complete STAGING directory.
publish() {
  rm -rf "$2"
  mkdir -p "$(dirname "$2")"
  mv "$1" "$2"
}

# staging FINAL: where FINAL is put together before publish (outside binaries/ and mirror/, so that a build that
# stops half way leaves nothing there that looks like a version).
staging() { echo "$WORK/partial/$(tr / _ <<<"${1#"$CACHE"/}")"; }

# fresh DIR: an empty staging directory.
fresh() {
  rm -rf "$1"
  mkdir -p "$1"
}

# link SRC DEST: a hard link when the file system allows it (the mirror costs no space), else a copy.
link() { ln -f "$1" "$2" 2>/dev/null || cp -f "$1" "$2"; }

# module_time MODULE VERSION: the release's commit time (from the module proxy), UTC RFC 3339. Used as build
# date and archive mtime, so that a rebuild gives the same bytes.
module_time() { go list -m -f '{{.Time.UTC.Format "2006-01-02T15:04:05Z"}}' "$1@$2"; }

# tar_gz OUT MTIME DIR NAME...: a reproducible .tar.gz of DIR/NAME...
tar_gz() {
  local out=$1 mtime=$2 dir=$3
  shift 3
  tar --sort=name --mtime="$mtime" --owner=0 --group=0 --numeric-owner --format=gnu -C "$dir" -cf - "$@" | gzip -n -9 >"$out"
}

# wrapper DIR EXTRA MODULE@VERSION... -- PACKAGE...: a Go module in DIR that requires the modules and lists the
# packages as tools; EXTRA is appended to its go.mod (replace directives). Its go and godebug lines are the first
# module's, so that the binaries get the GODEBUG defaults their project chose (at least go 1.24: `tool` lines).
wrapper() {
  local dir=$1 extra=$2
  shift 2
  local reqs=() tools=()
  while [ "$1" != -- ]; do
    reqs+=("$1")
    shift
  done
  shift
  tools=("$@")
  local gomod
  gomod=$(go mod download -json "${reqs[0]}" | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",*$/\1/p')
  [ -f "$gomod" ] || die "cannot download ${reqs[0]} from the Go module proxy"
  local goline
  goline=$(awk '$1 == "go" { print $2; exit }' "$gomod")
  [ "$(printf '%s\n1.24.0\n' "$goline" | sort -V | head -1)" = 1.24.0 ] || goline=1.24.0
  mkdir -p "$dir"
  {
    echo "// Generated by scripts/build/build.sh (rewritten on every build): builds ${tools[*]}."
    echo "module hardway.local/build/$(basename "$dir")"
    echo
    echo "go $goline"
    awk '/^godebug \(/ { block = 1 } block || /^godebug / { print } block && /^\)/ { block = 0 }' "$gomod"
    echo
    echo "require ("
    local r t
    for r in "${reqs[@]}"; do printf '\t%s %s\n' "${r%@*}" "${r#*@}"; done
    echo ")"
    echo
    echo "tool ("
    for t in "${tools[@]}"; do printf '\t%s\n' "$t"; done
    echo ")"
    printf '%s' "$extra"
  } >"$dir/go.mod"
  rm -f "$dir/go.sum"
  (cd "$dir" && go mod tidy) >"$dir/tidy.log" 2>&1 || {
    cat "$dir/tidy.log" >&2
    die "go mod tidy failed in $dir"
  }
}

# gobuild COMPONENT VERSION DIR OUT PACKAGE TAGS LDFLAGS: builds one static binary from the module in DIR and
# prints one progress line with its time.
gobuild() {
  local component=$1 version=$2 dir=$3 out=$4 pkg=$5 tags=$6 ldflags=$7 t0=$SECONDS
  (cd "$dir" && go build -trimpath -tags "$tags" -ldflags "$ldflags" -o "$out" "$pkg") ||
    die "$component $version: go build $pkg failed"
  log "$component $version: $(basename "$out") built in $((SECONDS - t0)) s"
}

# step COMPONENT VERSION WHAT CMD...: runs CMD and prints one progress line with its time.
step() {
  local component=$1 version=$2 what=$3 t0=$SECONDS
  shift 3
  "$@"
  log "$component $version: $what in $((SECONDS - t0)) s"
}

declare -A TIMES # component -> "built in N s" | "cached"
timed() {        # timed NAME FUNCTION: runs a component's build and records its time
  local t0=$SECONDS before=$BUILT
  "$2"
  if [ "$BUILT" != "$before" ]; then TIMES[$1]="$((SECONDS - t0)) s"; else TIMES[$1]="cached ($((SECONDS - t0)) s)"; fi
}
BUILT=0 # bumped by every component that had work to do

# need_cc: a C compiler and a static libc, for flannel's cgo (installed from Debian when missing).
need_cc() {
  command -v gcc >/dev/null && [ -f /usr/lib/x86_64-linux-gnu/libc.a ] && return 0
  [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null || die "flannel needs gcc and libc6-dev (its UDP backend is C)"
  log "apt-get install gcc libc6-dev (flannel's UDP backend is C)"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends gcc libc6-dev >/dev/null 2>&1 || {
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends gcc libc6-dev >/dev/null
  }
}

# --- Kubernetes -------------------------------------------------------------------------------------------
K8S_BINARIES=(kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy kubectl)
build_kubernetes() {
  local v=$KUBERNETES_VERSION out="$BIN/kubernetes/$KUBERNETES_VERSION"
  if ! verify_sums "$out" "${K8S_BINARIES[@]}"; then
    BUILT=$((BUILT + 1))
    log "kubernetes $v: building ${K8S_BINARIES[*]} (cold: about 7 minutes on 2 cores)"
    # k8s.io/kubernetes replaces its staging modules (k8s.io/api, k8s.io/client-go, ...) with directories of its
    # own repository; a module that requires it replaces each with the matching v0.X.Y release instead.
    local gomod staging replaces="" m
    gomod=$(go mod download -json "k8s.io/kubernetes@$v" | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",*$/\1/p')
    [ -f "$gomod" ] || die "cannot download k8s.io/kubernetes@$v from the Go module proxy"
    staging=$(awk '$2 == "=>" && $3 ~ /^\.\/staging\// { print $1 }' "$gomod")
    for m in $staging; do
      # only the staging modules it requires: the others (sample-controller, ...) are not always served
      grep -qE "^[[:space:]]+$m v0\.0\.0\$" "$gomod" && replaces+=$(printf '\t%s => %s v0.%s\n' "$m" "$m" "${v#v1.}")$'\n'
    done
    local dir="$WORK/kubernetes-$v"
    step kubernetes "$v" "modules resolved ($(grep -c . <<<"$replaces") staging modules replaced)" \
      wrapper "$dir" $'\nreplace (\n'"$replaces"$')\n' "k8s.io/kubernetes@$v" -- "${K8S_BINARIES[@]/#/k8s.io/kubernetes/cmd/}"

    local date major minor ld="-s -w" p
    date=$(module_time k8s.io/kubernetes "$v")
    major=${v#v}
    major=${major%%.*}
    minor=$(cut -d. -f2 <<<"$v")
    for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
      # gitCommit: empty rather than the source's "$Format:%H$" placeholder (a module has no commit)
      ld+=" -X $p.gitVersion=$v -X $p.gitCommit= -X $p.gitMajor=$major -X $p.gitMinor=$minor -X $p.gitTreeState=clean"
      ld+=" -X $p.buildDate=$date"
    done
    local stage="$(staging "$out")" b
    fresh "$stage"
    # kube-apiserver first: it compiles most of what the others share.
    for b in "${K8S_BINARIES[@]}"; do
      gobuild kubernetes "$v" "$dir" "$stage/$b" "k8s.io/kubernetes/cmd/$b" selinux,notest,grpcnotrace "$ld"
    done
    write_sums "$stage" "${K8S_BINARIES[@]}"
    publish "$stage" "$out"
  fi

  # mirror: <v>/bin/linux/<arch>/<binary> and <binary>.sha256, as dl.k8s.io has them, plus SHA256SUMS
  local m="$MIRROR/kubernetes/$v" rel=() b
  for b in "${K8S_BINARIES[@]}"; do rel+=("bin/linux/$ARCH/$b"); done
  if ! kubernetes_mirror_ok "$out" "$m" "${rel[@]}"; then
    BUILT=$((BUILT + 1))
    local stage="$(staging "$m")"
    fresh "$stage/bin/linux/$ARCH"
    for b in "${K8S_BINARIES[@]}"; do
      link "$out/$b" "$stage/bin/linux/$ARCH/$b"
      awk -v b="$b" '$2 == b { print $1 }' "$out/SHA256SUMS" >"$stage/bin/linux/$ARCH/$b.sha256"
    done
    write_sums "$stage" "${rel[@]}"
    publish "$stage" "$m"
    stamp_write "mirror-kubernetes-$v" "$(cat "$out/SHA256SUMS")"
    log "kubernetes $v: mirror written"
  fi
}

# kubernetes_mirror_ok BINARIES_DIR MIRROR_DIR PATH...: the mirror holds the binaries just verified. Its files are
# hard links to them, so checking that saves hashing 500 MB twice; a copy (no hard links) is hashed.
kubernetes_mirror_ok() {
  local out=$1 m=$2 b
  shift 2
  has_files "$m" SHA256SUMS "$@" "${@/%/.sha256}" && stamp_ok "mirror-kubernetes-$v" "$(cat "$out/SHA256SUMS")" || return 1
  [ "$(awk -v p="bin/linux/$ARCH/" '{ print $1 "  " p $2 }' "$out/SHA256SUMS")" = "$(cat "$m/SHA256SUMS")" ] || return 1
  for b in "${K8S_BINARIES[@]}"; do [ "$out/$b" -ef "$m/bin/linux/$ARCH/$b" ] || { verify_sums "$m" "$@"; return; }; done
}

# --- etcd -------------------------------------------------------------------------------------------------
ETCD_BINARIES=(etcd etcdctl etcdutl)
build_etcd() {
  local v=$ETCD_VERSION out="$BIN/etcd/$ETCD_VERSION"
  if ! verify_sums "$out" "${ETCD_BINARIES[@]}"; then
    BUILT=$((BUILT + 1))
    local dir="$WORK/etcd-$v"
    step etcd "$v" "modules resolved" wrapper "$dir" "" \
      "go.etcd.io/etcd/server/v3@$v" "go.etcd.io/etcd/etcdctl/v3@$v" "go.etcd.io/etcd/etcdutl/v3@$v" -- \
      go.etcd.io/etcd/server/v3 go.etcd.io/etcd/etcdctl/v3 go.etcd.io/etcd/etcdutl/v3
    local stage="$(staging "$out")"
    fresh "$stage"
    # etcd's version is a constant of go.etcd.io/etcd/api/v3/version; upstream only adds the git SHA, which a
    # module has not got.
    gobuild etcd "$v" "$dir" "$stage/etcd" go.etcd.io/etcd/server/v3 "" "-s -w"
    gobuild etcd "$v" "$dir" "$stage/etcdctl" go.etcd.io/etcd/etcdctl/v3 "" "-s -w"
    gobuild etcd "$v" "$dir" "$stage/etcdutl" go.etcd.io/etcd/etcdutl/v3 "" "-s -w"
    write_sums "$stage" "${ETCD_BINARIES[@]}"
    publish "$stage" "$out"
  fi
  # mirror: etcd-<v>-linux-<arch>.tar.gz holding etcd-<v>-linux-<arch>/{etcd,etcdctl,etcdutl}, as GitHub has it
  local name="etcd-$v-linux-$ARCH"
  mirror_archive etcd "$v" "$name.tar.gz" go.etcd.io/etcd/server/v3 "$name" "${ETCD_BINARIES[@]}"
}

# mirror_archive COMPONENT VERSION ARCHIVE MODULE DIR_IN_ARCHIVE BINARY[:NAME]...: writes
# mirror/<component>/<version>/<archive> (binaries from binaries/<component>/<version>, under DIR_IN_ARCHIVE, or
# at the top when it is ".") with its SHA256SUMS and <archive>.sha256, unless they are there and verify. Files in
# the archive carry MODULE@VERSION's release time.
mirror_archive() {
  local component=$1 v=$2 archive=$3 module=$4 inner=$5
  shift 5
  local m="$MIRROR/$component/$v"
  local src
  src=$(cat "$BIN/$component/$v/SHA256SUMS")
  verify_sums "$m" "$archive" && has_files "$m" "$archive.sha256" && stamp_ok "mirror-$component-$v" "$src" && return 0
  BUILT=$((BUILT + 1))
  local stage="$(staging "$m")" tree="$WORK/tree-$component" spec names=()
  fresh "$stage"
  fresh "$tree/$inner"
  for spec; do
    link "$BIN/$component/$v/${spec%%:*}" "$tree/$inner/${spec#*:}"
    names+=("${spec#*:}")
  done
  local mtime
  mtime=$(module_time "$module" "$v")
  if [ "$inner" = . ]; then tar_gz "$stage/$archive" "$mtime" "$tree" "${names[@]}"; else tar_gz "$stage/$archive" "$mtime" "$tree" "$inner"; fi
  rm -rf "$tree"
  write_sums "$stage" "$archive"
  cp "$stage/SHA256SUMS" "$stage/$archive.sha256"
  publish "$stage" "$m"
  stamp_write "mirror-$component-$v" "$src"
  log "$component $v: mirror written ($archive)"
}

# --- CoreDNS ----------------------------------------------------------------------------------------------
build_coredns() {
  local v=$COREDNS_VERSION out="$BIN/coredns/$COREDNS_VERSION"
  if ! verify_sums "$out" coredns; then
    BUILT=$((BUILT + 1))
    local dir="$WORK/coredns-$v"
    step coredns "$v" "modules resolved" wrapper "$dir" "" "github.com/coredns/coredns@$v" -- github.com/coredns/coredns
    local stage="$(staging "$out")"
    fresh "$stage"
    gobuild coredns "$v" "$dir" "$stage/coredns" github.com/coredns/coredns grpcnotrace "-s -w"
    write_sums "$stage" coredns
    publish "$stage" "$out"
  fi
  # mirror: coredns_<version without v>_linux_<arch>.tgz holding coredns, as GitHub has it
  mirror_archive coredns "$v" "coredns_${v#v}_linux_$ARCH.tgz" github.com/coredns/coredns . coredns
}

# --- flannel ----------------------------------------------------------------------------------------------
build_flannel() {
  local v=$FLANNEL_VERSION out="$BIN/flannel/$FLANNEL_VERSION"
  if ! verify_sums "$out" flanneld; then
    BUILT=$((BUILT + 1))
    local dir="$WORK/flannel-$v"
    # flanneld imports every backend, the Tencent Cloud one too; the Tencent VPC SDK version flannel pins is not
    # served by the module proxy, the one flannel v0.28.4 pinned is (only that backend's code changes).
    local tencent=github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/vpc
    step flannel "$v" "modules resolved" wrapper "$dir" $'\n'"replace $tencent => $tencent v1.3.75"$'\n' \
      "github.com/flannel-io/flannel@$v" -- github.com/flannel-io/flannel
    local stage="$(staging "$out")"
    fresh "$stage"
    # As upstream: on amd64 the UDP backend is C (cgo), linked statically; pure Go elsewhere.
    local tags="" ld="-s -w -X github.com/flannel-io/flannel/pkg/version.Version=$v"
    if [ "$ARCH" = amd64 ]; then
      need_cc
      tags=netgo,osusergo # static glibc: Go's own resolver and user lookup instead of glibc's NSS
      ld+=" -linkmode external -extldflags -static"
    fi
    CGO_ENABLED=$([ "$ARCH" = amd64 ] && echo 1 || echo 0) gobuild flannel "$v" "$dir" "$stage/flanneld" github.com/flannel-io/flannel "$tags" "$ld"
    write_sums "$stage" flanneld
    publish "$stage" "$out"
  fi
  # mirror: flannel-<v>-linux-<arch>.tar.gz holding flanneld, as GitHub has it (without mk-docker-opts.sh)
  mirror_archive flannel "$v" "flannel-$v-linux-$ARCH.tar.gz" github.com/flannel-io/flannel . flanneld
}

build_flannel_cni_plugin() {
  local v=$FLANNEL_CNI_PLUGIN_VERSION out="$BIN/flannel-cni-plugin/$FLANNEL_CNI_PLUGIN_VERSION"
  if ! verify_sums "$out" flannel; then
    BUILT=$((BUILT + 1))
    local dir="$WORK/flannel-cni-plugin-$v"
    step flannel-cni-plugin "$v" "modules resolved" wrapper "$dir" "" "github.com/containernetworking/plugins@$v" -- \
      github.com/containernetworking/plugins/plugins/meta/flannel
    local stage="$(staging "$out")"
    fresh "$stage"
    gobuild flannel-cni-plugin "$v" "$dir" "$stage/flannel" github.com/containernetworking/plugins/plugins/meta/flannel "" \
      "-s -w -X github.com/containernetworking/plugins/pkg/utils/buildversion.BuildVersion=$v"
    write_sums "$stage" flannel
    publish "$stage" "$out"
  fi
  # mirror: cni-plugin-flannel-linux-<arch>-<v>.tgz holding flannel-<arch>, as github.com/flannel-io/cni-plugin
  # releases have it
  mirror_archive flannel-cni-plugin "$v" "cni-plugin-flannel-linux-$ARCH-$v.tgz" github.com/containernetworking/plugins . \
    "flannel:flannel-$ARCH"
}

# --- crane and our own Go code ----------------------------------------------------------------------------
build_crane() {
  local v=$CRANE_VERSION out="$BIN/crane/$CRANE_VERSION"
  verify_sums "$out" crane && return 0
  BUILT=$((BUILT + 1))
  local dir="$WORK/crane-$v"
  step crane "$v" "modules resolved" wrapper "$dir" "" "github.com/google/go-containerregistry@$v" -- \
    github.com/google/go-containerregistry/cmd/crane
  local stage="$(staging "$out")"
  fresh "$stage"
  gobuild crane "$v" "$dir" "$stage/crane" github.com/google/go-containerregistry/cmd/crane "" \
    "-s -w -X github.com/google/go-containerregistry/cmd/crane/cmd.Version=$v"
  write_sums "$stage" crane
  publish "$stage" "$out"
}

build_pause() {
  local v=$PAUSE_VERSION out="$BIN/pause/$PAUSE_VERSION"
  verify_sums "$out" pause && return 0
  BUILT=$((BUILT + 1))
  local stage="$(staging "$out")"
  fresh "$stage"
  gobuild pause "$v" "$HERE" "$stage/pause" ./pause "" "-s -w -X main.version=$v"
  write_sums "$stage" pause
  publish "$stage" "$out"
}

# --- Temporal server -----------------------------------------------------------------------------------------
# Not for hosts: the PostgreSQL-backed Temporal server that the production-path test (and
# scripts/temporal-postgres.ts) runs on this machine, and its SQL tool, which carries the schema of its version
# (embedded: schema/postgresql/v12/{temporal,visibility}). The version is the one the compose file's images pin
# (test/unit/compose-file.test.ts compares them).
TEMPORAL_BINARIES=(temporal-server temporal-sql-tool)
build_temporal() {
  local v=$TEMPORAL_SERVER_VERSION out="$BIN/temporal/$TEMPORAL_SERVER_VERSION"
  verify_sums "$out" "${TEMPORAL_BINARIES[@]}" && return 0
  BUILT=$((BUILT + 1))
  local dir="$WORK/temporal-$v"
  step temporal "$v" "modules resolved" wrapper "$dir" "" "go.temporal.io/server@$v" -- \
    go.temporal.io/server/cmd/server go.temporal.io/server/cmd/tools/sql
  local stage="$(staging "$out")"
  fresh "$stage"
  # As upstream's Makefile: CGO_ENABLED=0 and the tag disable_grpc_modules; the version is a constant of the
  # module (common/headers.ServerVersion), nothing to set.
  gobuild temporal "$v" "$dir" "$stage/temporal-server" go.temporal.io/server/cmd/server disable_grpc_modules "-s -w"
  gobuild temporal "$v" "$dir" "$stage/temporal-sql-tool" go.temporal.io/server/cmd/tools/sql disable_grpc_modules "-s -w"
  write_sums "$stage" "${TEMPORAL_BINARIES[@]}"
  publish "$stage" "$out"
}

# --- container images -------------------------------------------------------------------------------------
# unpack_deb NAME: Debian package NAME unpacked (not installed) into $CACHE/debs/NAME, as scripts/setup.sh does.
unpack_deb() {
  local name=$1 dest="$CACHE/debs/$1"
  [ -f "$dest/.done" ] && return 0
  log "unpack Debian package $name"
  local tmp
  tmp=$(mktemp -d)
  (cd "$tmp" && apt-get download -qq "$name" >/dev/null 2>&1) || {
    apt-get update -qq
    (cd "$tmp" && apt-get download -qq "$name" >/dev/null)
  }
  rm -rf "$dest"
  mkdir -p "$dest"
  dpkg-deb -x "$tmp"/"$name"_*.deb "$dest"
  dpkg-deb -f "$tmp"/"$name"_*.deb Version >"$dest/.version"
  rm -rf "$tmp"
  touch "$dest/.done"
}

# busybox_tree ROOT: Debian's static busybox at ROOT/bin/busybox, with a link for every applet where it belongs.
busybox_tree() {
  local root=$1 bb="$CACHE/debs/busybox-static/bin/busybox" applet
  mkdir -p "$root/bin"
  cp "$bb" "$root/bin/busybox"
  for applet in $("$bb" --list-full); do
    [ "$applet" = bin/busybox ] && continue
    mkdir -p "$root/$(dirname "$applet")"
    ln -sf /bin/busybox "$root/$applet"
  done
  mkdir -p "$root/etc" "$root/root" "$root/tmp"
  chmod 1777 "$root/tmp"
  printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >"$root/etc/passwd"
  printf 'root:x:0:\nnobody:x:65534:\n' >"$root/etc/group"
}

# image_inputs NAME: what image NAME is made from: the binaries it holds, the Debian busybox, and the code that
# writes it (this script and imagetool).
image_inputs() {
  (cd "$HERE" && sha256sum build.sh imagetool/main.go go.sum)
  case $1 in
  pause) cat "$BIN/pause/$PAUSE_VERSION/SHA256SUMS" ;;
  coredns) cat "$BIN/coredns/$COREDNS_VERSION/SHA256SUMS" ;;
  flannel) cat "$BIN/flannel/$FLANNEL_VERSION/SHA256SUMS" "$BIN/flannel-cni-plugin/$FLANNEL_CNI_PLUGIN_VERSION/SHA256SUMS" ;;
  esac
  case $1 in flannel | busybox) cat "$CACHE/debs/busybox-static/.version" ;; esac
}

IMAGE_LIST=() # name:tag of every image, filled by build_images
build_images() {
  IMAGE_LIST=("pause:$PAUSE_VERSION" "coredns:$COREDNS_VERSION" "flannel:$FLANNEL_VERSION" "busybox:$BUSYBOX_VERSION")
  # the binaries the images hold (and crane, which checks them), when `build.sh images` runs alone
  [ -f "$BIN/pause/$PAUSE_VERSION/SHA256SUMS" ] || build_pause
  [ -f "$BIN/coredns/$COREDNS_VERSION/SHA256SUMS" ] || build_coredns
  [ -f "$BIN/flannel/$FLANNEL_VERSION/SHA256SUMS" ] || build_flannel
  [ -f "$BIN/flannel-cni-plugin/$FLANNEL_CNI_PLUGIN_VERSION/SHA256SUMS" ] || build_flannel_cni_plugin
  [ -f "$BIN/crane/$CRANE_VERSION/SHA256SUMS" ] || build_crane
  local todo=() it
  declare -A inputs
  unpack_deb busybox-static # (once) its version is an input of two images
  for it in "${IMAGE_LIST[@]}"; do
    inputs[$it]=$(image_inputs "${it%%:*}")
    grep -qE "^[0-9a-f]{64}  ${it%%:*}-${it#*:}\.tar\$" "$IMAGES/SHA256SUMS" 2>/dev/null &&
      (cd "$IMAGES" && grep -E "  ${it%%:*}-${it#*:}\.tar\$" SHA256SUMS | sha256sum --quiet --strict -c - >/dev/null 2>&1) &&
      stamp_ok "image-${it%%:*}-${it#*:}" "${inputs[$it]}" ||
      todo+=("$it")
  done

  if ((${#todo[@]})); then
    BUILT=$((BUILT + 1))
    local deb_version
    deb_version=$(cat "$CACHE/debs/busybox-static/.version")
    [ "$(sed -E 's/^[0-9]+://; s/-[^-]*$//' <<<"$deb_version")" = "$BUSYBOX_VERSION" ] ||
      die "Debian's busybox-static is $deb_version, versions.env pins busybox $BUSYBOX_VERSION: update BUSYBOX_VERSION"
    local tool="$WORK/tools/hardway-image" crane="$BIN/crane/$CRANE_VERSION/crane"
    (cd "$HERE" && go build -trimpath -ldflags "-s -w" -o "$tool" ./imagetool) || die "go build imagetool failed"
    for it in "${todo[@]}"; do
      local name=${it%%:*} tag=${it#*:} t0=$SECONDS root="$WORK/image-root" args=()
      local ref="$IMAGE_REGISTRY/$name:$tag" archive="$IMAGES/$name-$tag.tar"
      fresh "$root"
      case $name in
      pause)
        cp "$BIN/pause/$PAUSE_VERSION/pause" "$root/pause"
        args=(-created "$PAUSE_DATE" -entrypoint '["/pause"]' -user 65535:65535)
        ;;
      coredns) # as upstream's image: non-root, allowed to bind :53 by a file capability
        cp "$BIN/coredns/$COREDNS_VERSION/coredns" "$root/coredns"
        args=(-created "$(module_time github.com/coredns/coredns "$COREDNS_VERSION")" -entrypoint '["/coredns"]'
          -user 65532:65532 -workdir / -expose 53/tcp -expose 53/udp -net-bind-service /coredns)
        ;;
      flannel) # flanneld where upstream's image has it, the CNI plugin at /flannel (where upstream's
        # flannel-cni-plugin image has it, for an init container to copy), and busybox for that copy
        busybox_tree "$root"
        mkdir -p "$root/opt/bin"
        cp "$BIN/flannel/$FLANNEL_VERSION/flanneld" "$root/opt/bin/flanneld"
        cp "$BIN/flannel-cni-plugin/$FLANNEL_CNI_PLUGIN_VERSION/flannel" "$root/flannel"
        args=(-created "$(module_time github.com/flannel-io/flannel "$FLANNEL_VERSION")" -entrypoint '["/opt/bin/flanneld"]'
          -env PATH=/opt/bin:/usr/sbin:/usr/bin:/sbin:/bin)
        ;;
      busybox)
        busybox_tree "$root"
        args=(-created "$(date -u -d "@$(stat -c %Y "$CACHE/debs/busybox-static/bin/busybox")" +%Y-%m-%dT%H:%M:%SZ)"
          -cmd '["sh"]' -env PATH=/usr/sbin:/usr/bin:/sbin:/bin -label "debian.package=busybox-static $deb_version")
        ;;
      esac
      "$tool" -root "$root" -ref "$ref" -out "$archive" -platform "linux/$ARCH" "${args[@]}" || die "image $ref failed"
      "$crane" validate --tarball "$archive" >/dev/null || die "crane validate --tarball $archive failed"
      rm -rf "$root"
      stamp_write "image-$name-$tag" "${inputs[$it]}"
      log "image $ref: $(basename "$archive") ($(($(stat -c %s "$archive") / 1024)) KiB) in $((SECONDS - t0)) s"
    done
  fi

  # SHA256SUMS and REFERENCES (archive, reference) over every archive in the directory, old versions included
  local all=() f
  for f in "$IMAGES"/*.tar; do [ -f "$f" ] && all+=("$(basename "$f")"); done
  if ((${#todo[@]})) || ! verify_sums "$IMAGES" "${all[@]}" || [ ! -f "$IMAGES/REFERENCES" ]; then
    write_sums "$IMAGES" "${all[@]}"
    for f in "${all[@]}"; do
      printf '%s %s\n' "$f" "$(tar -xOf "$IMAGES/$f" manifest.json | sed -n 's/.*"RepoTags":\["\([^"]*\)".*/\1/p')"
    done >"$IMAGES/REFERENCES"
  fi
  # mirror: mirror/images/<name>-<tag>.tar with SHA256SUMS and REFERENCES
  if ! verify_sums "$MIRROR/images" "${all[@]}" || ! cmp -s "$IMAGES/REFERENCES" "$MIRROR/images/REFERENCES"; then
    BUILT=$((BUILT + 1))
    local stage="$(staging "$MIRROR/images")"
    fresh "$stage"
    for f in "${all[@]}"; do link "$IMAGES/$f" "$stage/$f"; done
    cp "$IMAGES/SHA256SUMS" "$IMAGES/REFERENCES" "$stage/"
    publish "$stage" "$MIRROR/images"
    log "images: mirror written"
  fi
}

# --- containerd, runc, CNI plugins: Debian's builds, in the upstream release layouts -------------------------
# Not built here: containerd and runc need cgo (runc links libseccomp), and Debian builds them for this OS. Hosts
# get them from binaries/ or the mirror like every other component, never from the machine's packages.

# deb_upstream PACKAGE: the upstream version of an unpacked Debian package, "v1.6.20" for "1.6.20~ds1-1+deb12u3".
deb_upstream() { sed -E 's/^[0-9]+://; s/[~+-].*$//; s/^/v/' "$CACHE/debs/$1/.version"; }

# from_debian COMPONENT VERSION PACKAGE PATH...: binaries/<component>/<version>/<basename of PATH> from the
# unpacked package, which must be the pinned upstream version.
from_debian() {
  local component=$1 v=$2 pkg=$3 p names=()
  shift 3
  unpack_deb "$pkg"
  [ "$(deb_upstream "$pkg")" = "$v" ] ||
    die "Debian's $pkg is $(cat "$CACHE/debs/$pkg/.version"), versions.env pins $component $v: update the pin"
  for p; do names+=("$(basename "$p")"); done
  local out="$BIN/$component/$v"
  verify_sums "$out" "${names[@]}" && return 0
  BUILT=$((BUILT + 1))
  local stage
  stage=$(staging "$out")
  fresh "$stage"
  for p; do cp -p "$CACHE/debs/$pkg/$p" "$stage/"; done
  write_sums "$stage" "${names[@]}"
  publish "$stage" "$out"
  log "$component $v: from Debian's $pkg $(cat "$CACHE/debs/$pkg/.version")"
}

# mirror_release COMPONENT VERSION SUMFILE FILE...: publishes mirror/<component>/<version>/ from the files the
# caller staged in $STAGE (FILE...), with SHA256SUMS and the checksum file SUMFILE that the upstream site has.
mirror_release() {
  local component=$1 v=$2 sumfile=$3
  shift 3
  local m="$MIRROR/$component/$v"
  write_sums "$STAGE" "$@"
  cp "$STAGE/SHA256SUMS" "$STAGE/$sumfile"
  publish "$STAGE" "$m"
  stamp_write "mirror-$component-$v" "$(cat "$BIN/$component/$v/SHA256SUMS")"
  log "$component $v: mirror written ($*)"
}

# mirror_fresh COMPONENT VERSION SUMFILE FILE...: true when the mirror entry is complete and made from the binaries.
mirror_fresh() {
  local component=$1 v=$2 sumfile=$3
  shift 3
  verify_sums "$MIRROR/$component/$v" "$@" && has_files "$MIRROR/$component/$v" "$sumfile" &&
    stamp_ok "mirror-$component-$v" "$(cat "$BIN/$component/$v/SHA256SUMS")"
}

CONTAINERD_BINARIES=(containerd containerd-shim containerd-shim-runc-v1 containerd-shim-runc-v2 ctr)
build_containerd() {
  local v=$CONTAINERD_VERSION
  from_debian containerd "$v" containerd "${CONTAINERD_BINARIES[@]/#/usr/bin/}"
  # mirror: containerd-<v without v>-linux-<arch>.tar.gz holding bin/<binaries>, with <archive>.sha256sum, as GitHub has it
  local archive="containerd-${v#v}-linux-$ARCH.tar.gz"
  mirror_fresh containerd "$v" "$archive.sha256sum" "$archive" && return 0
  BUILT=$((BUILT + 1))
  STAGE=$(staging "$MIRROR/containerd/$v")
  fresh "$STAGE"
  local tree="$WORK/tree-containerd" b
  fresh "$tree/bin"
  for b in "${CONTAINERD_BINARIES[@]}"; do link "$BIN/containerd/$v/$b" "$tree/bin/$b"; done
  tar_gz "$STAGE/$archive" "@$(stat -c %Y "$BIN/containerd/$v/containerd")" "$tree" bin
  rm -rf "$tree"
  mirror_release containerd "$v" "$archive.sha256sum" "$archive"
}

build_runc() {
  local v=$RUNC_VERSION
  from_debian runc "$v" runc usr/sbin/runc
  # mirror: runc.<arch> and runc.sha256sum, as GitHub has them
  mirror_fresh runc "$v" runc.sha256sum "runc.$ARCH" && return 0
  BUILT=$((BUILT + 1))
  STAGE=$(staging "$MIRROR/runc/$v")
  fresh "$STAGE"
  link "$BIN/runc/$v/runc" "$STAGE/runc.$ARCH"
  mirror_release runc "$v" runc.sha256sum "runc.$ARCH"
}

CNI_PLUGINS=(bandwidth bridge dhcp firewall host-device host-local ipvlan loopback macvlan portmap ptp sbr static tuning vlan vrf)
build_cni_plugins() {
  local v=$CNI_PLUGINS_VERSION
  from_debian cni-plugins "$v" containernetworking-plugins "${CNI_PLUGINS[@]/#/usr/lib/cni/}"
  # mirror: cni-plugins-linux-<arch>-<v>.tgz holding ./<plugin>, with <archive>.sha256, as GitHub has it
  local archive="cni-plugins-linux-$ARCH-$v.tgz"
  mirror_fresh cni-plugins "$v" "$archive.sha256" "$archive" && return 0
  BUILT=$((BUILT + 1))
  STAGE=$(staging "$MIRROR/cni-plugins/$v")
  fresh "$STAGE"
  local tree="$WORK/tree-cni-plugins" p
  fresh "$tree"
  for p in "${CNI_PLUGINS[@]}"; do link "$BIN/cni-plugins/$v/$p" "$tree/$p"; done
  tar_gz "$STAGE/$archive" "@$(stat -c %Y "$BIN/cni-plugins/$v/bridge")" "$tree" "${CNI_PLUGINS[@]/#/./}"
  rm -rf "$tree"
  mirror_release cni-plugins "$v" "$archive.sha256" "$archive"
}

# --- main -------------------------------------------------------------------------------------------------
ALL=(kubernetes etcd coredns flannel flannel-cni-plugin containerd runc cni-plugins crane pause images temporal)
components=("$@")
((${#components[@]})) || components=("${ALL[@]}")
t_start=$SECONDS
for c in "${components[@]}"; do
  case $c in
  kubernetes | etcd | coredns | flannel | containerd | runc | crane | pause | images | temporal) timed "$c" "build_$c" ;;
  flannel-cni-plugin) timed "$c" build_flannel_cni_plugin ;;
  cni-plugins) timed "$c" build_cni_plugins ;;
  *) die "unknown component $c (known: ${ALL[*]})" ;;
  esac
done
summary=""
for c in "${components[@]}"; do summary+=" $c ${TIMES[$c]},"; done
log "done in $((SECONDS - t_start)) s:${summary%,}"
