#!/bin/sh
# Installs Debian's chromium, which the browser tests drive through playwright-core (Playwright's own browser
# download is not used). Idempotent: does nothing when chromium is there. Needs root (apt-get).
set -eu
if command -v chromium >/dev/null 2>&1; then exit 0; fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends chromium >/dev/null
command -v chromium
