//! The job form (src/web/forms.rs `Form::decode`, src/jobs/form.rs): an
//! `application/x-www-form-urlencoded` body decoded as a posted form is,
//! turned into the job input and validated like the API and import.
//!
//! Properties: no panic on any body; a form that validates is stored, and its
//! edit form (the stored job's values, submitted unchanged) validates to the
//! same job.

#![no_main]

#[path = "../common/mod.rs"]
mod common;

use jobboard::jobs::form::{input_from_form, values_from_form, values_from_job};
use jobboard::jobs::model::Status;
use jobboard::jobs::store::Placement;
use jobboard::web::forms::Form;
use libfuzzer_sys::fuzz_target;

/// The pairs a browser submits for a form showing `values`.
fn submitted(values: &minijinja::Value) -> Vec<(String, String)> {
    let mut pairs = Vec::new();
    for key in values.try_iter().expect("a map") {
        let name = key.as_str().expect("a name").to_string();
        let value = values.get_item(&key).expect("a value");
        match value.as_str() {
            Some(s) => pairs.push((name, s.to_string())),
            None => {
                for v in value.try_iter().expect("text or a list") {
                    pairs.push((name.clone(), v.as_str().expect("text").to_string()));
                }
            }
        }
    }
    pairs
}

fuzz_target!(|data: &[u8]| {
    let Ok(form) = Form::decode(data) else {
        return;
    };
    let _ = values_from_form(&form);
    let Ok(job) = input_from_form(&form).validate(common::categories()) else {
        return;
    };
    let placement = Placement {
        status: Status::Published,
        published_at: Some(common::NOW),
        expires_at: Some(common::NOW + 30 * 86_400),
    };
    let stored = common::store_and_read(&job, placement);
    let body = serde_urlencoded::to_string(submitted(&values_from_job(&stored))).expect("encode");
    let again = Form::decode(body.as_bytes()).expect("our own body decodes");
    let again = input_from_form(&again)
        .validate(common::categories())
        .unwrap_or_else(|e| panic!("the edit form {body:?} does not validate: {e:?}"));
    assert_eq!(again, job, "the edit form {body:?}");
});
