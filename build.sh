#!/usr/bin/env bash
# One entry point for users and CI. Every command installs what is missing first.
#   ./build.sh test                 build and run the test suite; ends with "tests: N passed, M failed"
#   ./build.sh demo [--out DIR]     run the layer-masking demo (pictures + scores into DIR, default out/demo)
#   ./build.sh samples ARGS...      run any Samples command, e.g. ./build.sh samples layer-mask-bench --out out/bench
#   ./build.sh test-mlnet VERSION   the same against another tested ML.NET release (e.g. 5.0.1), in artifacts/mlnet-VERSION
#   ./build.sh package              pack into artifacts/package and prove a fresh consumer project can use the package;
#                                   ends with "package: OK <id> <version>"
#   ./build.sh setup                only install prerequisites (native libstdc++, datasets)
set -euo pipefail
cd "$(dirname "$0")"

cmd=${1:-test}; shift || true

setup() { bash eng/setup.sh; }

# Sums "<Word>: N" over vstest's per-assembly summary lines.
count_of() { { grep -Eo "^ *$1: +[0-9]+" "$2" || true; } | awk '{s += $2} END {print s + 0}'; }

# run_tests [ML.NET-VERSION]: the default ML.NET (Directory.Build.props) unless a version is given.
run_tests() {
  local results=artifacts/test-results${1:+-mlnet-$1}
  local props=(); [ $# = 0 ] || props=("-p:MLNetVersion=$1")
  rm -rf "$results"; mkdir -p "$results"
  local log="$results/dotnet-test.log" rc=0
  # Build the whole solution first: `dotnet test` alone builds only the test project and what it references, which
  # would leave the Samples (and the README code they hold) uncompiled.
  { dotnet build Masking.sln -c Release "${props[@]}" 2>&1 &&
    dotnet test Masking.sln -c Release --no-build "${props[@]}" --logger "console;verbosity=normal" --results-directory "$results" 2>&1; } | tee "$log" || rc=$?
  # vstest prints one summary line per test assembly: "Passed!  - Failed: 0, Passed: 12, Skipped: 0, Total: 12 ..."
  local passed failed skipped
  passed=$(count_of Passed "$log"); failed=$(count_of Failed "$log"); skipped=$(count_of Skipped "$log")
  if [ "$rc" != 0 ] && [ "$failed" = 0 ]; then failed=1; fi  # build break or crashed host: never report green
  if [ "$skipped" != 0 ]; then
    echo "tests: $passed passed, $failed failed, $skipped skipped"
  else
    echo "tests: $passed passed, $failed failed"
  fi
  return "$rc"
}

samples() { dotnet run -c Release --project src/Samples -- "$@"; }

case "$cmd" in
  setup) setup ;;
  test) setup; run_tests ;;
  test-mlnet)
    [ $# = 1 ] || { echo "usage: ./build.sh test-mlnet VERSION   (tested: see MLNetTestedVersions in Directory.Build.props)" >&2; exit 2; }
    setup; run_tests "$1" ;;
  package) setup; bash eng/package.sh ;;
  demo) setup; samples demo "$@" ;;
  samples) setup; samples "$@" ;;
  *) echo "unknown command '$cmd' (test | test-mlnet VERSION | package | demo | samples ... | setup)" >&2; exit 2 ;;
esac
