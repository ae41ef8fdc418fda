#!/usr/bin/env bash
# Installs everything a fresh Debian machine lacks: Chromium (real WebGL2/WebGPU through SwiftShader, and its
# SwiftShader Vulkan driver for Dawn in Node), the Vulkan loader, then the npm dependencies.
set -euo pipefail
cd "$(dirname "$0")/.."
need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
[ -f /usr/lib/chromium/vk_swiftshader_icd.json ] || need+=(chromium)
dpkg -s libvulkan1 >/dev/null 2>&1 || need+=(libvulkan1)
if [ ${#need[@]} -gt 0 ]; then
  SUDO=; [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
[ -d node_modules ] && [ node_modules/.package-lock.json -nt package-lock.json ] || npm ci --no-audit --no-fund
