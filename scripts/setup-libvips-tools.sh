#!/bin/sh
# Installs Debian's libvips-tools (vips, vipsthumbnail), the reference the tile pyramid is checked and benched
# against. Idempotent: does nothing when both tools are there. Needs root (apt-get).
set -eu
if command -v vips >/dev/null 2>&1 && command -v vipsthumbnail >/dev/null 2>&1; then exit 0; fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends libvips-tools >/dev/null
command -v vips
