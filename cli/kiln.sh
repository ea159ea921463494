#!/usr/bin/env bash
# The `kiln` command: runs the TypeScript CLI through tsx from this checkout.
root="$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)"
exec "$root/node_modules/.bin/tsx" "$root/cli/main.ts" "$@"
