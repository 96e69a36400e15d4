//! `RecordTo`'s error paths: a writer serves one connection only, a file
//! that cannot be created names its path, and `Debug` shows the target
//! without the writer.

use std::time::Instant;

use wsnova_core::driver::{ConnectError, RecordTo};
use wsnova_core::session::SessionConfig;

fn config() -> SessionConfig {
    SessionConfig::new("ws://127.0.0.1:9001/").expect("a valid URL")
}

#[test]
fn a_writer_is_taken_by_the_first_connection_only() {
    let to = RecordTo::writer(Vec::new());
    let shared = to.clone();
    let create = |path: &std::path::Path| std::fs::File::create(path);
    assert!(to.recorder(&config(), Instant::now(), create).is_ok());
    let Err(err) = shared.recorder(&config(), Instant::now(), create) else {
        panic!("a clone shares the writer: the second connection must be refused");
    };
    assert_eq!(
        err,
        ConnectError::InvalidOption("record_to: the writer was taken by another connection".into())
    );
    assert_eq!(format!("{to:?}"), "RecordTo(<writer>)");
}

#[test]
fn a_file_that_cannot_be_created_names_its_path() {
    let path = std::env::temp_dir().join("wsnova-no-such-dir-7f3a/rec.jsonl");
    let to = RecordTo::file(&path);
    let Err(ConnectError::InvalidOption(text)) =
        to.recorder(&config(), Instant::now(), |p| std::fs::File::create(p))
    else {
        panic!("creating a file in a missing directory must fail");
    };
    assert!(
        text.starts_with(&format!("record {}: ", path.display())),
        "{text}"
    );
    assert_eq!(format!("{to:?}"), format!("RecordTo({path:?})"));
}
