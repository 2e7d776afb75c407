#!/usr/bin/env bash
# Regenerates src/gen/ from the vendored .proto files (proto/, see proto/NOTICE for where
# they came from). buf and protoc-gen-es are devDependencies: nothing is fetched.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$PWD/../../node_modules/.bin:$PATH"
rm -rf src/gen
buf generate
echo "gen: $(find src/gen -name '*.ts' | wc -l) files in src/gen"
