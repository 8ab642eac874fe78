#!/usr/bin/env bash
# Builds the DocC site of the FPGACluster module into DocsSite/.build/site.
#
# 1. Builds the FPGACluster target with the compiler writing symbol graphs, in its own
#    scratch path (.build-docs) so that it neither rebuilds nor waits on .build.
# 2. Keeps FPGACluster's symbol graphs (FPGACluster.symbols.json and its extension
#    graphs FPGACluster@*.symbols.json); the lower modules are described in articles.
# 3. Runs `docc convert` on DocsSite/FPGACluster.docc with them, for static hosting.
#
# Fails when the build or docc fails (docc exits non-zero on errors); docc warnings are
# printed and do not fail the build.
#
# Environment: SWIFT (swift), DOCC (docc next to swift), DOCS_SCRATCH_PATH (.build-docs),
# DOCS_OUTPUT (DocsSite/.build/site), DOCS_HOSTING_BASE_PATH (none: served from /).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

SWIFT=${SWIFT:-swift}
scratch=${DOCS_SCRATCH_PATH:-$root/.build-docs}
graphs=$scratch/symbol-graphs
selected=$root/DocsSite/.build/symbol-graphs
output=${DOCS_OUTPUT:-$root/DocsSite/.build/site}
catalog=$root/DocsSite/FPGACluster.docc

if [ -z "${DOCC:-}" ]; then
    DOCC=$(command -v docc || true)
    if [ -z "$DOCC" ]; then
        swift_path=$(readlink -f "$(command -v "$SWIFT")")
        DOCC=$(dirname "$swift_path")/docc
    fi
fi
[ -x "$DOCC" ] || { echo "docs: docc not found (it ships with the Swift toolchain; set DOCC)" >&2; exit 1; }

build_symbol_graphs() {
    mkdir -p "$graphs"
    echo "docs: building FPGACluster with symbol graphs into $graphs"
    "$SWIFT" build --scratch-path "$scratch" --target FPGACluster \
        -Xswiftc -emit-symbol-graph -Xswiftc -emit-symbol-graph-dir -Xswiftc "$graphs"
}

build_symbol_graphs
# The compiler writes symbol graphs only when it emits a module: an up-to-date build
# whose graph folder was removed writes none. Start that scratch path afresh then.
if [ ! -f "$graphs/FPGACluster.symbols.json" ]; then
    echo "docs: no FPGACluster symbol graph after an up-to-date build; rebuilding from scratch"
    rm -rf "$scratch"
    build_symbol_graphs
fi
[ -f "$graphs/FPGACluster.symbols.json" ] || { echo "docs: the build wrote no FPGACluster.symbols.json" >&2; exit 1; }

rm -rf "$selected"
mkdir -p "$selected"
cp "$graphs"/FPGACluster.symbols.json "$selected"/
for extension in "$graphs"/FPGACluster@*.symbols.json; do
    [ -e "$extension" ] && cp "$extension" "$selected"/
done
echo "docs: symbol graphs: $(cd "$selected" && ls | tr '\n' ' ')"

hosting=()
if [ -n "${DOCS_HOSTING_BASE_PATH:-}" ]; then
    hosting=(--hosting-base-path "$DOCS_HOSTING_BASE_PATH")
fi

rm -rf "$output"
mkdir -p "$(dirname "$output")"
echo "docs: $DOCC convert $catalog -> $output"
"$DOCC" convert "$catalog" \
    --additional-symbol-graph-dir "$selected" \
    --output-path "$output" \
    --fallback-display-name FPGACluster \
    --fallback-bundle-identifier org.fpgacluster.FPGACluster \
    --transform-for-static-hosting \
    "${hosting[@]}"

[ -f "$output/index.html" ] || { echo "docs: docc wrote no index.html" >&2; exit 1; }
echo "docs: site written to $output (open documentation/fpgacluster/ on a static web server)"
