//! One line of `jobboard import` (src/jobs/transfer.rs `parse_line`) and the
//! job validation it feeds (src/jobs/input.rs).
//!
//! Properties: no panic on any line; a line that validates is stored, and the
//! stored job exported as `jobboard export` writes it imports again as the
//! same job (with the status and times the import gave it).

#![no_main]

#[path = "../common/mod.rs"]
mod common;

use jobboard::jobs::json::JobJson;
use jobboard::jobs::transfer::parse_line;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // `import` reports a line that is not UTF-8 before parsing it.
    let Ok(line) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(input) = parse_line(line) else {
        return;
    };
    let Ok(job) = input.validate(common::categories()) else {
        return;
    };
    let placement = jobboard::jobs::imported_placement(&job, 30, common::NOW);
    let stored = common::store_and_read(&job, placement);
    let exported =
        serde_json::to_string(&JobJson::new(&stored, "https://board.example")).expect("serialise");
    let again = parse_line(&exported)
        .unwrap_or_else(|e| panic!("export {exported:?} does not parse: {e}"))
        .validate(common::categories())
        .unwrap_or_else(|e| panic!("export {exported:?} does not validate: {e:?}"));
    let expected = jobboard::jobs::input::NewJob {
        status: Some(placement.status),
        published_at: placement.published_at,
        expires_at: placement.expires_at,
        ..job
    };
    assert_eq!(again, expected, "the exported line {exported:?}");
});
