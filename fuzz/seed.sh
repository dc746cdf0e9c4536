#!/usr/bin/env bash
# Seeds each target's corpus (fuzz/corpus/TARGET, not committed) from the repository's own
# inputs: fixtures for the grammar and check, business rules and expressions found in them,
# the example shard set's manifest.
set -euo pipefail
cd "$(dirname "$0")/.."
for t in grammar check expressions shard recheck; do mkdir -p "fuzz/corpus/$t"; done
i=0
while IFS= read -r -d '' f; do
  i=$((i + 1))
  cp "$f" "fuzz/corpus/grammar/fixture-$i"
  # check: first byte chooses the engine.
  for e in 0 1 2; do
    { printf "\\x0$e"; cat "$f"; } > "fuzz/corpus/check/fixture-$i-$e"
  done
  # recheck: the engine byte, the file, 0x1E, the file with its first `}` taken out.
  { printf "\\x0$((i % 3))"; cat "$f"; printf "\\x1e"; sed '0,/}/s/}//' "$f"; } \
    > "fuzz/corpus/recheck/fixture-$i"
done < <(find fixtures -name '*.cfg' -size -64k -print0 | sort -z)
grep -rhoE '(bp_rule!|hostgroup_name +)[^;]*' fixtures | sed -E 's/^(bp_rule!|hostgroup_name +)//' \
  | sort -u | head -200 | while IFS= read -r line; do
    printf '%s' "$line" > "fuzz/corpus/expressions/$(printf '%s' "$line" | sha1sum | cut -c1-16)"
  done
printf 'SCHEDULE_FORCED_HOST_CHECK;web01;1700000000' > fuzz/corpus/expressions/command
cp fixtures/example-shards/manifest.ron fuzz/corpus/shard/example-manifest
