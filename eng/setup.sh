#!/usr/bin/env bash
# Installs what Microsoft.ML.Masking needs on a fresh Debian/Ubuntu machine:
#   1. a libstdc++ new enough for TorchSharp 0.107's native library (GLIBCXX_3.4.32),
#   2. the Fashion-MNIST IDX files (Debian package dataset-fashion-mnist), where apt has it.
# Safe to run repeatedly; it only acts on what is missing.
set -euo pipefail

log() { echo "[setup] $*" >&2; }

libstdcxx_path() {
  # The libstdc++ the dynamic loader will pick for a 64-bit process.
  ldconfig -p 2>/dev/null | awk '/libstdc\+\+\.so\.6 .*x86-64/ {print $NF; exit}'
}

has_glibcxx_3_4_32() {
  local lib; lib=$(libstdcxx_path)
  [ -n "$lib" ] && grep -qa 'GLIBCXX_3\.4\.32' "$lib"
}

apt_updated=0
apt_update_once() {
  if [ "$apt_updated" = 0 ]; then
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
    apt_updated=1
  fi
}

can_apt() { [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; }

ensure_libstdcxx() {
  if has_glibcxx_3_4_32; then return 0; fi
  log "libstdc++ lacks GLIBCXX_3.4.32, which TorchSharp 0.107 needs."
  if ! can_apt; then
    log "cannot fix it here (needs root and apt). Install libstdc++6 from GCC 13 or newer (Debian 13, Ubuntu 24.04) and run again."
    exit 1
  fi
  local codename; codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
  if [ "$codename" != "bookworm" ]; then
    log "automatic fix only knows Debian 12 (bookworm); this is '$codename'. Install libstdc++6 from GCC 13 or newer and run again."
    exit 1
  fi
  log "adding Debian trixie with a low-priority pin and installing its libstdc++6 (brings trixie's libc6)."
  cat > /etc/apt/sources.list.d/masking-trixie.sources <<'SRC'
Types: deb
URIs: http://deb.debian.org/debian
Suites: trixie
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
  # Priority 100: trixie is never chosen unless asked for by name, so nothing else is upgraded.
  cat > /etc/apt/preferences.d/masking-trixie <<'PIN'
Package: *
Pin: release n=trixie
Pin-Priority: 100
PIN
  apt_updated=0
  apt_update_once
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -t trixie libstdc++6 >&2
  if ! has_glibcxx_3_4_32; then
    log "installed trixie's libstdc++6 but GLIBCXX_3.4.32 is still missing; see $(libstdcxx_path)."
    exit 1
  fi
  log "libstdc++ now provides GLIBCXX_3.4.32."
}

ensure_fashion_mnist() {
  local dir=/usr/share/datasets/fashion-mnist
  if [ -d "$dir" ] && ls "$dir" | grep -q 'train-images'; then return 0; fi
  if ! can_apt; then
    log "Fashion-MNIST not found under $dir; install Debian's dataset-fashion-mnist package to use it."
    return 0
  fi
  apt_update_once
  if DEBIAN_FRONTEND=noninteractive apt-get install -y -qq dataset-fashion-mnist >&2; then
    log "installed dataset-fashion-mnist under $dir."
  else
    log "dataset-fashion-mnist could not be installed; Fashion-MNIST commands will say how to get the files."
  fi
}

ensure_libstdcxx
if [ "${MASKING_SKIP_DATASETS:-0}" != 1 ]; then ensure_fashion_mnist; fi
