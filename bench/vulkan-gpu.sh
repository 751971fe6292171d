#!/usr/bin/env bash
# bench/vulkan-gpu.sh: the Vulkan interop checks on a machine with a real GPU
# (crates/dmabuf/examples/vulkan-gpu.rs): the opaque-fd round trip,
# semaphore -> SyncFile -> semaphore, fence export as a SyncFile, and the
# dma-buf export (or the error naming the extension the driver lacks).
# NVIDIA's driver offers opaque fds and SYNC_FD semaphores and fences, which
# the VM tier's lavapipe covers only in software. Not part of CI (no GPU).
#
#   bash bench/vulkan-gpu.sh     # prints one line per check, then
#                                # "vulkan-gpu: N passed, M failed (device)"
#
# No Rust or npm needed: it runs target/release/examples/vulkan-gpu when built
# here, else bench/prebuilt/vulkan-gpu (bench/prebuild.sh; x86_64, glibc >= 2.34).
# The binary opens libvulkan.so.1 at run time: where the system has no Vulkan
# loader, put one (libvulkan.so.1, and glvnd's libGLdispatch.so.0,
# libGLX.so.0, libEGL.so.1, libGL.so.1 and libOpenGL.so.0, without which
# NVIDIA's driver failed to load: VK_ERROR_INCOMPATIBLE_DRIVER) in
# bench/prebuilt/vulkan/ (prebuild.sh copies the build machine's). NVIDIA's ICD is found in the usual places or
# in /usr/local/nvidia/share/vulkan/icd.d (containers). DMABUF_VK_DEVICE
# picks a device by name.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cd "$here/.."

bin=target/release/examples/vulkan-gpu
[ -x "$bin" ] || bin=bench/prebuilt/vulkan-gpu
[ -x "$bin" ] || { echo "vulkan-gpu: no binary: run bench/prebuild.sh (or cargo build --release -p dmabuf --features vulkan --example vulkan-gpu)" >&2; exit 2; }

# NVIDIA's Vulkan driver (libGLX_nvidia.so.0) needs glvnd's libraries
# besides the loader; containers often have none of them.
if ! ldconfig -p 2>/dev/null | grep -q 'libvulkan\.so\.1 ' || ! ldconfig -p 2>/dev/null | grep -q 'libGLdispatch\.so\.0 '; then
  if [ -e bench/prebuilt/vulkan/libvulkan.so.1 ]; then
    export LD_LIBRARY_PATH=$PWD/bench/prebuilt/vulkan${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
    echo "using the carried Vulkan loader (bench/prebuilt/vulkan)" >&2
  fi
fi
if [ -z "${VK_DRIVER_FILES:-}${VK_ICD_FILENAMES:-}" ]; then
  for icd in /usr/share/vulkan/icd.d/nvidia_icd.json /etc/vulkan/icd.d/nvidia_icd.json /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json; do
    if [ -e "$icd" ]; then export VK_DRIVER_FILES=$icd; echo "ICD: $icd" >&2; break; fi
  done
fi
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version --format=csv,noheader >&2 || true
echo "kernel: $(uname -r)" >&2
exec "$bin"
