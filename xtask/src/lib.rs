//! The library half of `cargo xtask`: the checks that its integration tests
//! also call directly.

pub mod architecture;
