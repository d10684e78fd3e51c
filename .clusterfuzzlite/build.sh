#!/bin/bash -eu
# Build every cargo-fuzz target with the engine's sanitizer flags and ship the seed corpora.
cd "$SRC/simota/fuzz"
cargo fuzz build -O
for t in $(cargo fuzz list); do
  cp "target/x86_64-unknown-linux-gnu/release/$t" "$OUT/"
  if [ -d "corpus/$t" ]; then
    (cd "corpus/$t" && zip -q -r "$OUT/${t}_seed_corpus.zip" .)
  fi
done
