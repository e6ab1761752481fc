#!/usr/bin/env bash
# Fuzzes every pix-domain decoder for SECONDS seconds each (default 30):
#   crates/pix-domain/fuzz/run.sh 60
# Installs cargo-fuzz when missing. Works on the pinned stable toolchain: RUSTC_BOOTSTRAP=1 lets
# cargo-fuzz pass its nightly-only flags, and `--sanitizer none` avoids needing a nightly std
# (libFuzzer's coverage guidance still works; what we hunt is panics, which need no sanitizer).
# Seeds come from ../tests/data, the crate's real public samples (copied into corpus/<target>/,
# which is git-ignored).
# Exits non-zero as soon as a target crashes; the reproducer is in artifacts/<target>/.
# Env: FUZZ_TARGET_DIR (default fuzz/target), FUZZ_TARGETS (default: all five).
set -euo pipefail

seconds="${1:-30}"
here="$(cd "$(dirname "$0")" && pwd)"
data="$here/../tests/data"
target_dir="${FUZZ_TARGET_DIR:-$here/target}"
targets="${FUZZ_TARGETS:-fuzz_canonical fuzz_bcb_webhook fuzz_spi_xml fuzz_log_line fuzz_dict_xml}"

if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "installing cargo-fuzz" >&2
  cargo install cargo-fuzz --locked
fi

seed() { # seed TARGET FILE...
  local dir="$here/corpus/$1"; shift
  mkdir -p "$dir"
  for f in "$@"; do [ -f "$f" ] && cp "$f" "$dir/" ; done
}

mkdir -p "$here/corpus"
seed fuzz_canonical "$here"/seeds/*.json "$here"/seeds/*.ndjson
seed fuzz_bcb_webhook "$data"/bcb-api-pix/derived/*.json "$data"/bcb-api-pix/examples/pix*.json
seed fuzz_spi_xml "$data"/bcb-spi-catalog-5.13.1/*.xml "$data"/pix-spi-scenarios/*pacs.00[48]*.xml \
  "$data"/pix-spi-scenarios/fluxo-sucesso--devolucao--2-pacs.002.spi.1.8.xml
seed fuzz_log_line "$here"/seeds/*.log
seed fuzz_dict_xml "$data"/bcb-dict-api/*/*.xml
# One-line log seeds from the XML samples, with a timestamp prefix.
for f in "$data"/bcb-spi-catalog-5.13.1/*.xml "$data"/bcb-dict-api/refunds/*.xml; do
  printf '2026-11-25T14:30:05Z INFO spi: %s\n' "$(tr -d '\r\n' < "$f")" > "$here/corpus/fuzz_log_line/$(basename "$f").log"
done

cd "$here"
for t in $targets; do
  echo "== $t for ${seconds}s" >&2
  # cargo fuzz exits non-zero when libFuzzer finds a crash (panic, OOM, timeout).
  RUSTC_BOOTSTRAP=1 cargo fuzz run "$t" --sanitizer none --target-dir "$target_dir" "corpus/$t" -- \
    -max_total_time="$seconds" -max_len=65536 -timeout=10 -print_final_stats=1
done
echo "all fuzz targets ran ${seconds}s each without a crash" >&2
