#!/usr/bin/env bash
# deps.sh — install the Debian packages symlua needs to build and test.
#
# Idempotent: checks each package with dpkg-query, prints what is missing and
# installs only that (running `apt-get update` first, and only then). Uses sudo
# when not run as root. Written for Debian 12; any apt-based system may do.
set -euo pipefail

# The one list of packages, each with why it is needed.
PACKAGES=(
  build-essential    # cc, make, ar: the C core and the interpreter; c++: CUDA kernels under host emulation
  pkg-config         # finds LuaJIT's compile flags
  luajit             # stock LuaJIT, to load the symlua.core module and run luarocks checks
  libluajit-5.1-dev  # LuaJIT headers and the static libluajit-5.1.a linked into bin/symlua
  libopenblas-openmp-dev  # BLAS for matrix products, on the OpenMP threads the generated kernels use
  libfftw3-dev       # FFTs on the CPU
  libedit-dev        # line editing in the REPL (BSD licensed, not GNU readline)
  lua-busted         # the spec runner (make check)
  luarocks           # builds symlua as a rock (make rockcheck)
  python3-numpy      # independent oracle for specs, and .npy files written by NumPy
  valgrind           # leak and memory checks of the C tests (make check)
  clang              # builds the fuzz harnesses (make fuzz)
  libclang-rt-14-dev # clang's libFuzzer, ASan and UBSan runtimes (make fuzz)
  graphviz           # dot, to draw expression graphs
  zlib1g-dev         # gzip decoding of IDX data files (sl.data.idx), CRC and length checked
  libtcc-dev         # in-process C compiler for generated kernels
  tcc                # libtcc's runtime library (libtcc1.a) and headers
  openmpi-bin        # mpirun, to launch sl.dist jobs and run the distributed specs
  libopenmpi-dev     # libmpi.so, which sl.dist opens at run time (the build does not link it)
  dataset-fashion-mnist  # the data set of the training examples (examples/logreg.lua, mlp, convnet)
)

missing=()
for pkg in "${PACKAGES[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
  case "$status" in
    *" installed") ;;
    *) missing+=("$pkg") ;;
  esac
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "deps: all ${#PACKAGES[@]} packages are installed"
  exit 0
fi

echo "deps: missing ${#missing[@]} of ${#PACKAGES[@]} packages: ${missing[*]}"

if ! command -v apt-get >/dev/null 2>&1; then
  echo "deps: apt-get not found; install the packages above by hand" >&2
  exit 1
fi

SUDO=()
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    SUDO=(sudo)
  else
    echo "deps: not root and no sudo; install the packages above as root" >&2
    exit 1
  fi
fi

export DEBIAN_FRONTEND=noninteractive
echo "deps: apt-get update"
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
echo "deps: apt-get install ${missing[*]}"
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
echo "deps: done"
