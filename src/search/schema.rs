//! The index schema: which job fields are searched, filtered, counted and sorted.

use tantivy::schema::{
    FAST, Field, IndexRecordOption, NumericOptions, STRING, Schema, TextFieldIndexing, TextOptions,
};
use tantivy::{Index, TantivyDocument};

use super::tokenizer::{ANALYZER, analyzer};
use crate::jobs::model::Job;

/// Bump when the schema or the analysis changes: the index is then rebuilt.
pub const SCHEMA_VERSION: u32 = 1;

/// The fields of the index.
#[derive(Clone, Copy, Debug)]
pub struct Fields {
    pub id: Field,
    pub title: Field,
    pub company: Field,
    pub tags_text: Field,
    pub description: Field,
    pub category: Field,
    pub job_type: Field,
    pub remote: Field,
    pub tags: Field,
    pub salary_top: Field,
    pub published_at: Field,
    pub expires_at: Field,
    pub featured: Field,
}

/// The schema and its fields.
pub fn build() -> (Schema, Fields) {
    let mut b = Schema::builder();
    let text = TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer(ANALYZER)
            .set_index_option(IndexRecordOption::WithFreqsAndPositions),
    );
    let number = NumericOptions::default().set_indexed().set_fast();
    let fields = Fields {
        id: b.add_u64_field("id", number.clone()),
        title: b.add_text_field("title", text.clone()),
        company: b.add_text_field("company", text.clone()),
        tags_text: b.add_text_field("tags_text", text.clone()),
        description: b.add_text_field("description", text),
        category: b.add_text_field("category", STRING | FAST),
        job_type: b.add_text_field("job_type", STRING | FAST),
        remote: b.add_text_field("remote", STRING | FAST),
        tags: b.add_text_field("tags", STRING | FAST),
        salary_top: b.add_i64_field("salary_top", number.clone()),
        published_at: b.add_i64_field("published_at", number.clone()),
        expires_at: b.add_i64_field("expires_at", number),
        featured: b.add_u64_field("featured", NumericOptions::default().set_fast()),
    };
    (b.build(), fields)
}

/// The fields of an index built with [`build`].
pub fn fields_of(index: &Index) -> tantivy::Result<Fields> {
    let s = index.schema();
    let f = |name: &str| s.get_field(name);
    Ok(Fields {
        id: f("id")?,
        title: f("title")?,
        company: f("company")?,
        tags_text: f("tags_text")?,
        description: f("description")?,
        category: f("category")?,
        job_type: f("job_type")?,
        remote: f("remote")?,
        tags: f("tags")?,
        salary_top: f("salary_top")?,
        published_at: f("published_at")?,
        expires_at: f("expires_at")?,
        featured: f("featured")?,
    })
}

/// Registers the analyzer the text fields name; every opened index needs it.
pub fn register(index: &Index) {
    index.tokenizers().register(ANALYZER, analyzer());
}

/// Whether a job belongs in the index: published and not hidden (expiry is
/// checked at query time).
pub fn searchable(job: &Job) -> bool {
    job.status == crate::jobs::model::Status::Published && !job.hidden
}

/// The index document of a job.
pub fn document(job: &Job, f: &Fields) -> TantivyDocument {
    let mut d = TantivyDocument::default();
    d.add_u64(f.id, job.id as u64);
    d.add_text(f.title, &job.title);
    d.add_text(f.company, &job.company.name);
    d.add_text(f.tags_text, job.tags.join(" "));
    d.add_text(f.description, crate::markdown::to_text(&job.description));
    d.add_text(f.category, &job.category);
    d.add_text(f.job_type, job.job_type.as_str());
    for r in &job.remote {
        d.add_text(f.remote, r.as_str());
    }
    for t in &job.tags {
        d.add_text(f.tags, t);
    }
    if let Some(top) = job.salary.as_ref().and_then(|s| s.max.or(s.min)) {
        d.add_i64(f.salary_top, top);
    }
    d.add_i64(f.published_at, job.published_at.unwrap_or(job.created_at));
    d.add_i64(f.expires_at, job.expires_at.unwrap_or(i64::MAX));
    d.add_u64(f.featured, u64::from(job.featured));
    d
}
