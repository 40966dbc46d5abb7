#!/usr/bin/env bash
# Installs what test/backend/webgpu.test.ts needs on a machine without a GPU: the Vulkan loader
# (libvulkan1) and SwiftShader, a CPU Vulkan driver that Debian ships in chromium-common
# (/usr/lib/chromium/libvk_swiftshader.so + vk_swiftshader_icd.json). The test points the loader at
# that ICD itself. Needs root and Debian 12's package lists; skips the install when both are present.
set -euo pipefail

ICD=/usr/lib/chromium/vk_swiftshader_icd.json
if [ -f "$ICD" ] && ldconfig -p | grep 'libvulkan\.so\.1 ' >/dev/null; then
  echo "setup-webgpu-ci: SwiftShader and the Vulkan loader are already installed"
  exit 0
fi

export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends chromium-common libvulkan1

if [ ! -f "$ICD" ]; then
  echo "setup-webgpu-ci: $ICD is missing after installing chromium-common" >&2
  exit 1
fi
echo "setup-webgpu-ci: SwiftShader ready ($ICD)"
