//! Integration tests: the shop over real HTTP and the `shop` binary.

mod binary;
mod http;
