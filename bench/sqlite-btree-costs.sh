#!/usr/bin/env bash
# What SQLite itself charges for the import's index shapes, without Rust or validation:
# N rows (default 1,000,000) of addresses in the benchmark's (scattered) order, inserted
# with INSERT … SELECT from generate_series through the sqlite3 shell, into a plain table,
# into the address primary key (organization first, address first, and the compact
# integer-keyed form of migration 0004), and into the address key with a commit every
# 25,000 rows. BENCHMARKS.md quotes its output.
set -euo pipefail
N="${1:-1000000}"
DIR="$(mktemp -d)"
trap 'rm -rf "$DIR"' EXIT
ROWS="SELECT 'org_01jd8x3yq5f2k7m9n4p6r8t0vw', 'sms', printf('+44740%07d', (value * 48271 + 11) % 10000000), printf('con_01jd%022d', value), 1 FROM generate_series"
KEYED="CREATE TABLE a (organization_id TEXT NOT NULL, channel_kind TEXT NOT NULL, address TEXT NOT NULL, contact_id TEXT NOT NULL, created_at INTEGER NOT NULL, PRIMARY KEY"

run() {
  local name="$1" script="$2"
  rm -f "$DIR"/x.db*
  sqlite3 "$DIR/x.db" "PRAGMA journal_mode=WAL;" >/dev/null
  local start end
  start=$(date +%s.%N)
  printf 'PRAGMA synchronous=NORMAL; PRAGMA cache_size=-65536;\n%s\n' "$script" | sqlite3 "$DIR/x.db"
  end=$(date +%s.%N)
  awk -v n="$name" -v a="$start" -v b="$end" 'BEGIN { printf "%-44s %6.2f s\n", n, b - a }'
}

run "plain table, one transaction" \
  "CREATE TABLE a (o, k, ad, c, t); INSERT INTO a $ROWS(0, $((N - 1)));"
run "key (organization, kind, address), one tx" \
  "$KEYED (organization_id, channel_kind, address)) WITHOUT ROWID; INSERT INTO a $ROWS(0, $((N - 1)));"
run "key (address, kind, organization), one tx" \
  "$KEYED (address, channel_kind, organization_id)) WITHOUT ROWID; INSERT INTO a $ROWS(0, $((N - 1)));"
run "compact key (address, kind, org seq) -> seq" \
  "CREATE TABLE a (address TEXT NOT NULL, channel_kind TEXT NOT NULL, organization_seq INTEGER NOT NULL, contact_seq INTEGER NOT NULL, PRIMARY KEY (address, channel_kind, organization_seq)) WITHOUT ROWID; INSERT INTO a SELECT printf('+44740%07d', (value * 48271 + 11) % 10000000), 'sms', 1, value + 1 FROM generate_series(0, $((N - 1)));"
batches="$KEYED (address, channel_kind, organization_id)) WITHOUT ROWID;"
for ((s = 0; s < N; s += 25000)); do
  batches+=$'\n'"BEGIN; INSERT INTO a $ROWS($s, $((s + 24999 < N - 1 ? s + 24999 : N - 1))); COMMIT;"
done
run "address-first key, a commit per 25,000 rows" "$batches"
