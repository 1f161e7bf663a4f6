#!/usr/bin/env bash
# Debian packages the tests need beyond Python (idempotent; a no-op when all are present).
#   dataset-fashion-mnist  the data set
#   bubblewrap             the autograder's sandbox (bwrap); util-linux gives prlimit and setpriv
set -euo pipefail
need=()
[ -d /usr/share/datasets/fashion-mnist ] || need+=(dataset-fashion-mnist)
command -v bwrap >/dev/null 2>&1 || need+=(bubblewrap)
{ command -v prlimit >/dev/null 2>&1 && command -v setpriv >/dev/null 2>&1; } || need+=(util-linux)
if [ ${#need[@]} -gt 0 ]; then
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
  else
    echo "WARNING: cannot install ${need[*]} (not root or no apt); tests that need them will say so." >&2
  fi
fi
