# Recipes mirroring the README. Nothing requires `just`: each recipe is one plain cargo command.

# Run the service.
run:
    cargo run -p escrow-server

# Run every test.
test:
    cargo test --workspace

# What CI runs: fmt, clippy, docs, tests.
ci:
    bash .ci/run
