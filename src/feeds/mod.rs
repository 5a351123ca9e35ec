//! What the board offers machines: the Atom feed, the sitemap and robots.txt.

pub mod atom;
pub mod sitemap;
