//! The Prometheus text exposition format, version 0.0.4: a `# HELP` and a
//! `# TYPE` line for each metric family, then its samples, one a line.

use std::fmt::{Display, Write};

use super::histogram::{BOUNDS, Snapshot};

/// The `Content-Type` of the format.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// A page of metrics being written.
#[derive(Debug, Default)]
pub struct Exposition {
    out: String,
}

impl Exposition {
    /// Starts a family: its help and type (`counter`, `gauge`, `histogram`).
    pub fn family(&mut self, name: &str, kind: &str, help: &str) {
        let help = help.replace('\\', "\\\\").replace('\n', "\\n");
        let _ = writeln!(self.out, "# HELP {name} {help}");
        let _ = writeln!(self.out, "# TYPE {name} {kind}");
    }

    /// One sample of the family started last.
    pub fn sample(&mut self, name: &str, labels: &[(&str, &str)], value: impl Display) {
        self.out.push_str(name);
        if !labels.is_empty() {
            self.out.push('{');
            for (i, (k, v)) in labels.iter().enumerate() {
                if i > 0 {
                    self.out.push(',');
                }
                self.out.push_str(k);
                self.out.push_str("=\"");
                escape_into(&mut self.out, v);
                self.out.push('"');
            }
            self.out.push('}');
        }
        let _ = writeln!(self.out, " {value}");
    }

    /// A histogram's samples: cumulative `_bucket`s with `le`, `_sum`, `_count`.
    pub fn histogram(&mut self, name: &str, labels: &[(&str, &str)], h: &Snapshot) {
        let bucket = format!("{name}_bucket");
        let mut with_le: Vec<(&str, &str)> = labels.to_vec();
        let bounds: Vec<String> = BOUNDS.iter().map(|b| b.to_string()).collect();
        for (i, count) in h.cumulative.iter().enumerate() {
            let le = bounds.get(i).map_or("+Inf", String::as_str);
            with_le.push(("le", le));
            self.sample(&bucket, &with_le, count);
            with_le.pop();
        }
        self.sample(&format!("{name}_sum"), labels, h.sum_seconds);
        self.sample(&format!("{name}_count"), labels, h.count());
    }

    pub fn finish(self) -> String {
        self.out
    }
}

/// A label value with `\`, `"` and newlines escaped.
fn escape_into(out: &mut String, value: &str) {
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::histogram::Histogram;

    #[test]
    fn writes_families_samples_and_escapes_labels() {
        let mut e = Exposition::default();
        e.family("x_total", "counter", "Things.\nMore");
        e.sample("x_total", &[("a", "q\"u\\o\nte")], 3);
        e.sample("x_total", &[], 1.5);
        let text = e.finish();
        assert_eq!(
            text,
            "# HELP x_total Things.\\nMore\n# TYPE x_total counter\n\
             x_total{a=\"q\\\"u\\\\o\\nte\"} 3\nx_total 1.5\n"
        );
    }

    #[test]
    fn histograms_end_with_inf_sum_and_count() {
        let h = Histogram::default();
        h.observe(std::time::Duration::from_millis(2));
        let mut e = Exposition::default();
        e.histogram("d_seconds", &[("route", "/")], &h.snapshot());
        let text = e.finish();
        assert!(
            text.contains("d_seconds_bucket{route=\"/\",le=\"0.001\"} 0\n"),
            "{text}"
        );
        assert!(
            text.contains("d_seconds_bucket{route=\"/\",le=\"0.0025\"} 1\n"),
            "{text}"
        );
        assert!(
            text.contains("d_seconds_bucket{route=\"/\",le=\"+Inf\"} 1\n"),
            "{text}"
        );
        assert!(
            text.contains("d_seconds_sum{route=\"/\"} 0.002\n"),
            "{text}"
        );
        assert!(text.ends_with("d_seconds_count{route=\"/\"} 1\n"), "{text}");
    }
}
