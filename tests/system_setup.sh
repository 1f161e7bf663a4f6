#!/usr/bin/env bash
# Debian packages the tests need beyond Python (idempotent; a no-op when all are present).
#   dataset-fashion-mnist      the data (tests and notebooks)
#   chromium, chromium-driver  the browser tests (tests/test_browser.py, tests/test_jupyterhub.py); Playwright drives
#                              /usr/bin/chromium because its own browser download is not used here
#   bubblewrap                 the autograder's sandbox (bwrap); util-linux gives prlimit and setpriv
#   nodejs, npm                JupyterHub's proxy for tests/test_jupyterhub.py: configurable-http-proxy, from npm
#                              below (a Node.js that ships its own npm, e.g. NodeSource's, is kept as it is)
set -euo pipefail
need=()
[ -d /usr/share/datasets/fashion-mnist ] || need+=(dataset-fashion-mnist)
[ -x /usr/bin/chromium ] || need+=(chromium chromium-driver)
command -v bwrap >/dev/null 2>&1 || need+=(bubblewrap)
{ command -v prlimit >/dev/null 2>&1 && command -v setpriv >/dev/null 2>&1; } || need+=(util-linux)
command -v node >/dev/null 2>&1 || need+=(nodejs)
command -v npm >/dev/null 2>&1 || need+=(npm)
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
# configurable-http-proxy 4.6.3: it runs on Debian 12's Node.js 18 (5.x needs Node.js 20).
if ! command -v configurable-http-proxy >/dev/null 2>&1; then
  if command -v npm >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    echo "installing configurable-http-proxy@4.6.3 from npm (once)"
    npm install -g --no-audit --no-fund --loglevel=error configurable-http-proxy@4.6.3 >/dev/null \
      || echo "WARNING: could not install configurable-http-proxy; tests/test_jupyterhub.py will skip and say so." >&2
  else
    echo "WARNING: cannot install configurable-http-proxy (not root or no npm); tests/test_jupyterhub.py will skip" \
      "and say so." >&2
  fi
fi
