//! The `switchyard` router binary: command line only.

use mimalloc::MiMalloc;

#[global_allocator]
static GLOBAL: MiMalloc = MiMalloc;

fn main() {
    println!("switchyard {}", env!("CARGO_PKG_VERSION"));
}
