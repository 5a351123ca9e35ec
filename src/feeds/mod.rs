//! What the board offers machines: the sitemap and robots.txt (and, with
//! search, the Atom feed).

pub mod sitemap;
