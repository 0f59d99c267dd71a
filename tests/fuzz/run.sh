#!/usr/bin/env bash
# A coverage-guided fuzz run of the response parsing with libFuzzer (clang,
# AddressSanitizer and UBSan), seeded from tests/fuzz/corpus.
#
#   bash tests/fuzz/run.sh [seconds]       (default 60)
#
# New inputs go to build/fuzz/corpus, not to the source tree; a crash leaves
# its input in build/fuzz/ and a non-zero exit status.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
seconds=${1:-60}
out="$root/${MINDVIDEO_BUILDDIR:-build}/fuzz"
mkdir -p "$out/corpus"

if ! command -v clang++ >/dev/null || [ ! -e "$(clang++ -print-file-name=libclang_rt.fuzzer-x86_64.a)" ]; then
  sudo=""; [ "$(id -u)" -ne 0 ] && sudo=sudo
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends clang libclang-rt-14-dev
fi

core="$root/gst/mindvideo"
# The built-in schemas, compiled for schema.cpp as schemas/meson.build does it.
resources=(glib-compile-resources --sourcedir="$root/schemas" --internal --c-name mindvideo_schemas)
"${resources[@]}" --generate-source --target="$out/mindvideo-schemas.c" "$root/schemas/schemas.gresource.xml"
"${resources[@]}" --generate-header --target="$out/mindvideo-schemas.h" "$root/schemas/schemas.gresource.xml"
# shellcheck disable=SC2046
clang -g -O1 -fsanitize=address,undefined -fno-sanitize-recover=undefined $(pkg-config --cflags gio-2.0) \
  -c "$out/mindvideo-schemas.c" -o "$out/mindvideo-schemas.o"
# shellcheck disable=SC2046
clang++ -std=c++17 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
  -DPACKAGE_VERSION='"fuzz"' -DGST_USE_UNSTABLE_API -I"$core" -I"$out" \
  $(pkg-config --cflags gstreamer-1.0 gstreamer-base-1.0 libsoup-3.0 json-glib-1.0 gio-2.0 nlohmann_json) \
  "$root/tests/fuzz/fuzz-response.cpp" "$core/api.cpp" "$core/retry.cpp" "$core/schema.cpp" \
  "$core/inputs.cpp" "$core/log.cpp" "$out/mindvideo-schemas.o" \
  $(pkg-config --libs gstreamer-1.0 gstreamer-base-1.0 libsoup-3.0 json-glib-1.0 gio-2.0) \
  -o "$out/fuzz-response"

cd "$out"
./fuzz-response -max_total_time="$seconds" -max_len=65536 -print_final_stats=1 \
  corpus "$root/tests/fuzz/corpus"
