//! Integration tests: the shop over real HTTP and the `shop` binary.

// The 80-line limit (clippy.toml) is for the product's code in src/: a test
// that walks one scenario end to end reads best in one piece.
#![allow(clippy::too_many_lines)]

mod binary;
mod http;
