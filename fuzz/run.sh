#!/usr/bin/env bash
# Builds the fuzz targets once, then runs each for N seconds (default 30):
#   bash fuzz/run.sh [seconds-per-target]
# Each target starts from fuzz/seeds/<target>/ (kept inputs, crashes found
# before among them) and a few real postings from tests/data/ and, when it
# sits beside the checkout, ../shared/data/. New inputs collect in
# fuzz/corpus/<target>/ (ignored). Exits non-zero when a target crashed, and
# names the crashing input (fuzz/artifacts/<target>/) to reproduce it with
#   RUSTC_BOOTSTRAP=1 cargo fuzz run <flags below> <target> <file>
# Needs cargo-fuzz: cargo install cargo-fuzz --version 0.13.2 --locked
set -euo pipefail

seconds=${1:-30}
fuzz=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$fuzz")
cd "$fuzz"

# cargo-fuzz passes nightly flags; the stable toolchain accepts them so.
export RUSTC_BOOTSTRAP=1
# No sanitizer: the board has no unsafe code of its own (`forbid`), so
# AddressSanitizer would mostly slow the build and the runs. `--dev` with the
# profile in Cargo.toml (opt-level 1, code the targets never run at 0, no
# debug info) builds in under half the CPU time of `--release` and runs about
# as fast; debug assertions and overflow checks stay on. Keep run and build
# flags the same, or `run` builds again.
flags=(--sanitizer none --dev --debug-assertions --codegen-units 16)

if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "run.sh: cargo-fuzz is missing: cargo install cargo-fuzz --version 0.13.2 --locked" >&2
    exit 2
fi

mapfile -t targets < <(cargo fuzz list)
start=$SECONDS
cargo fuzz build "${flags[@]}"
echo "run.sh: built ${#targets[@]} targets in $((SECONDS - start)) s"

# Real postings, one a file: every target gets them (messy text, many scripts).
postings=$(mktemp -d)
trap 'rm -rf "$postings"' EXIT
n=0
for file in "$root/tests/data/openings-sample.jsonl" "$root/../shared/data/openings.jsonl"; do
    [ -f "$file" ] || continue
    # Every 7th line up to 8 of them: Chinese, Portuguese, Vietnamese, English.
    while IFS= read -r line; do
        n=$((n + 1))
        printf '%s' "$line" >"$postings/posting-$n"
    done < <(awk 'NR % 7 == 2' "$file" | head -n 8)
done

failed=()
for t in "${targets[@]}"; do
    echo "run.sh: fuzzing $t for $seconds s"
    mkdir -p "corpus/$t" "seeds/$t"
    if ! cargo fuzz run "${flags[@]}" "$t" "corpus/$t" "seeds/$t" "$postings" -- \
        -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1; then
        failed+=("$t")
        echo "run.sh: $t FAILED; the input is in $fuzz/artifacts/$t/:" >&2
        ls -t "artifacts/$t" 2>/dev/null | head -n 3 | sed "s|^|  $fuzz/artifacts/$t/|" >&2
    fi
done

if [ ${#failed[@]} -gt 0 ]; then
    echo "run.sh: crashed: ${failed[*]}" >&2
    exit 1
fi
echo "run.sh: ${#targets[@]} targets ran $seconds s each without a crash"
