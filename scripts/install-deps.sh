#!/usr/bin/env bash
# Installs the Debian 12 packages mindvideosrc needs to build, test and run
# its demo. Safe to run again; uses sudo when not root.
set -euo pipefail

packages=(
  # build
  g++ meson ninja-build pkg-config
  libgstreamer1.0-dev libgstreamer-plugins-base1.0-dev
  libsoup-3.0-dev libjson-glib-dev libvalijson-dev nlohmann-json3-dev libgif-dev
  libglib2.0-dev-bin  # glib-compile-resources: the schemas are compiled into the plugin
  # tests: the official JSON Schema conformance suite, memcheck, libFuzzer
  json-schema-test-suite valgrind clang libclang-rt-14-dev
  # tests: a real HTTP proxy on loopback (tests/check/test-network.cpp)
  tinyproxy-bin
  # runtime: TLS for https, and the elements the demo, tests and emulator use
  glib-networking ca-certificates
  gstreamer1.0-tools gstreamer1.0-plugins-base gstreamer1.0-plugins-base-apps gstreamer1.0-plugins-good
  gstreamer1.0-plugins-bad gstreamer1.0-plugins-ugly gstreamer1.0-libav gstreamer1.0-x
  python3-gi gir1.2-gstreamer-1.0  # examples/python: PyGObject and GStreamer's introspection data
  # the emulator draws prompts, some of them Chinese, on its frames
  fonts-wqy-microhei
  # bench
  nginx curl gnuplot-nox
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi

sudo=""
if [ "$(id -u)" -ne 0 ]; then
  sudo="sudo"
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -q
$sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
