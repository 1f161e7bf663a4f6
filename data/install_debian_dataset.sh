#!/usr/bin/env bash
# Installs Debian's dataset-fashion-mnist (the four IDX files under /usr/share/datasets/fashion-mnist)
# when this machine has apt and we may use it. Otherwise says what else works.
set -euo pipefail
if [ -d /usr/share/datasets/fashion-mnist ]; then exit 0; fi
if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
  echo "Installing Debian's dataset-fashion-mnist ..."
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq dataset-fashion-mnist >/dev/null
elif command -v apt-get >/dev/null 2>&1 && command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  sudo apt-get update -qq
  sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq dataset-fashion-mnist >/dev/null
else
  echo "Not root (or no apt): skipping Debian's dataset-fashion-mnist; the Keras download will be tried."
fi
