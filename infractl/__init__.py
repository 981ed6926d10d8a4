"""infractl: offline synth, policy check and operations tooling for tbcoin-platform."""
