//! `switchyard-load`: the bundled WAMP load generator.

use mimalloc::MiMalloc;

#[global_allocator]
static GLOBAL: MiMalloc = MiMalloc;

fn main() {
    println!("switchyard-load {}", env!("CARGO_PKG_VERSION"));
}
