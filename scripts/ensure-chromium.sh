#!/bin/sh
# The browser tests (test/browser) drive Debian's chromium through playwright-core, which never
# downloads a browser. This makes sure it is there: nothing to do when /usr/bin/chromium exists;
# otherwise, as root, it is installed from the distribution's packages.
set -eu

CHROMIUM=/usr/bin/chromium

if [ -x "$CHROMIUM" ]; then
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "ensure-chromium: $CHROMIUM is missing and only root can install it:" >&2
  echo "  sudo apt-get install -y --no-install-recommends chromium" >&2
  exit 1
fi

if ! command -v apt-get >/dev/null 2>&1; then
  echo "ensure-chromium: $CHROMIUM is missing and this system has no apt-get; install Debian's chromium package there" >&2
  exit 1
fi

echo "ensure-chromium: installing Debian's chromium for the browser tests" >&2
export DEBIAN_FRONTEND=noninteractive
# A fresh image has no package lists yet: read them only when the first attempt needs them.
apt-get install -y --no-install-recommends chromium || { apt-get update && apt-get install -y --no-install-recommends chromium; }
