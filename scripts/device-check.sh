#!/bin/sh
# device-check.sh — the CUDA checks on a GPU machine that has the CUDA 13
# toolkit and driver but not symlua's build dependencies (LuaJIT, OpenBLAS,
# FFTW, Busted).
#
#   scripts/device-check.sh pack   on the build machine: builds, then gathers
#                                  into build/device/ the shared libraries
#                                  bin/symlua loads (all but glibc's) and the
#                                  Lua modules Busted needs
#   scripts/device-check.sh run    on the GPU machine, in a copy of this tree
#                                  with bin/symlua and build/device/: runs the
#                                  checks, each one's output in $OUT/<step>.log
#                                  and its exit status in $OUT/summary.txt
#
# The libraries travel as .so files rather than a static build: bin/symlua
# already links LuaJIT and libtcc statically, and the rest load from
# build/device/lib through LD_LIBRARY_PATH. The GPU machine needs a glibc
# at least as new as the build machine's (the loader step says when not).
# Every step runs even when one before it failed; the exit status is 1 when
# any step failed.
set -u
cd "$(dirname "$0")/.." || exit 1
DEV=build/device

pack() {
  make -j2 DEPS= build || exit 1
  rm -rf "$DEV" && mkdir -p "$DEV/lib" "$DEV/lua/share" "$DEV/lua/lib" || exit 1
  share=$(bin/symlua -e "print((package.searchpath('busted.runner', package.path):gsub('/busted/runner%.lua$', '')))")
  clib=$(bin/symlua -e "print((package.searchpath('system.core', package.cpath):gsub('/system/core%.so$', '')))")
  [ -d "$share" ] && [ -d "$clib" ] || { echo "device-check: Busted's Lua modules not found" >&2; exit 1; }
  for m in busted busted.lua cliargs cliargs.lua dkjson.lua mediator.lua luassert say pl system term; do
    cp -rL "$share/$m" "$DEV/lua/share/" || exit 1
  done
  cp -rL "$clib/." "$DEV/lua/lib/" || exit 1
  # every shared library but glibc's own and the loader
  for f in bin/symlua $(find "$DEV/lua/lib" -name '*.so'); do ldd "$f"; done |
    awk '$2 == "=>" && $3 ~ /^\// { print $3 }' | sort -u |
    grep -Ev '/(libc|libm|libdl|libpthread|librt|ld-linux[^/]*)\.so' |
    while read -r lib; do cp -L "$lib" "$DEV/lib/" || exit 1; done || exit 1
  du -sh bin/symlua "$DEV"
}

failed=0
# step NAME COMMAND...: runs it, keeps its output in $OUT/NAME.log, shows the end of it
step() {
  name=$1
  shift
  echo "== $name: $*"
  "$@" > "$OUT/$name.log" 2>&1
  rc=$?
  tail -n 30 "$OUT/$name.log"
  echo "$name: exit status $rc" | tee -a "$OUT/summary.txt"
  [ "$rc" -eq 0 ] || failed=1
}

run() {
  : "${OUT:?set OUT to the folder for the results}"
  mkdir -p "$OUT" || exit 1
  : > "$OUT/summary.txt"
  [ -x bin/symlua ] && [ -d "$DEV/lib" ] || { echo "device-check: no bin/symlua and $DEV: run 'pack' first" | tee "$OUT/summary.txt"; exit 1; }
  export LD_LIBRARY_PATH="$PWD/$DEV/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  export LUA_PATH="$PWD/$DEV/lua/share/?.lua;$PWD/$DEV/lua/share/?/init.lua;;"
  export LUA_CPATH="$PWD/$DEV/lua/lib/?.so;;"
  export SYMLUA_CACHE_DIR="${TMPDIR:-/tmp}/symlua-device-check"
  step driver nvidia-smi
  step toolkit sh -c 'nvcc --version; ls /usr/local/cuda/lib64/libnvrtc.so*'
  step loader bin/symlua -e "local sl = require 'symlua'
    print('why not:', sl.cuda.why() or 'a device is there')
    for _, d in ipairs(sl.cuda.devices()) do print(d.name, 'sm_' .. d.major .. d.minor, d.total_memory) end
    print('nvrtc', assert(sl.cuda.nvrtc_version()))
    assert(#sl.cuda.devices() > 0, 'the driver sees no device')"
  step cuda_spec timeout 480 bin/symlua spec/run.lua spec/cuda_spec.lua
  echo "device-check: $(grep -c 'exit status 0$' "$OUT/summary.txt") of $(wc -l < "$OUT/summary.txt") steps passed"
  exit "$failed"
}

case "${1:-}" in
  pack) pack ;;
  run) run ;;
  *) echo "usage: $0 pack | run" >&2; exit 2 ;;
esac
