//! What the fuzz targets share lives in the test kit, where an ordinary test
//! checks the seed corpora too: see `wsnova_tests::fuzz_kit`.

pub use wsnova_tests::fuzz_kit::{new_wire, open_wire, pump};
