#!/usr/bin/env bash
# Debian packages the tests need beyond Python (idempotent; a no-op when all are present).
#   dataset-fashion-mnist      the data (tests and notebooks)
#   chromium, chromium-driver  the browser test (tests/test_browser.py); Playwright drives
#                              /usr/bin/chromium because its own browser download is not used here
#   bubblewrap                 the autograder's sandbox (bwrap); util-linux gives prlimit and setpriv
set -euo pipefail
need=()
[ -d /usr/share/datasets/fashion-mnist ] || need+=(dataset-fashion-mnist)
[ -x /usr/bin/chromium ] || need+=(chromium chromium-driver)
command -v bwrap >/dev/null 2>&1 || need+=(bubblewrap)
{ command -v prlimit >/dev/null 2>&1 && command -v setpriv >/dev/null 2>&1; } || need+=(util-linux)
if [ ${#need[@]} -gt 0 ]; then
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    echo "installing Debian packages: ${need[*]} (once; chromium is about 500 MB)"
    # Another apt may hold the lock (unattended upgrades, a parallel set-up): wait up to 10 minutes.
    apt-get -o DPkg::Lock::Timeout=600 update -qq
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq \
      --no-install-recommends "${need[@]}" >/dev/null \
      || echo "WARNING: could not install ${need[*]}; tests that need them will skip and say so." >&2
  else
    echo "WARNING: cannot install ${need[*]} (not root or no apt); tests that need them will skip and say so." >&2
  fi
fi
