//! The "ceiling" for load benchmarks (see bench/README.md and shared BENCH.md).
//!
//! A bare poem server that answers every GET (and HEAD), whatever the path or
//! query, with the same `text/html; charset=utf-8` page of exactly `--bytes`
//! bytes, sent with the same kind of headers a real page of the board sends.
//! The page is built once at start; serving it copies nothing (the body is a
//! `'static` slice). Pinned to the same CPU as the board and loaded the same
//! way, its req/s is the most a poem server can do for a page of that size on
//! this machine in this run, and `share = board req/s ÷ ceiling req/s`.
//!
//! Usage: `ceiling --listen 127.0.0.1:9090 --bytes 40000`
//!
//! Build: `cargo build --release --example ceiling`.

#![forbid(unsafe_code)]

use std::error::Error;
use std::fmt::Write as _;
use std::process::ExitCode;

use poem::http::{Method, StatusCode, header};
use poem::listener::TcpListener;
use poem::{Body, Endpoint, Request, Response, Server};

const USAGE: &str = "usage: ceiling [--listen ADDR] [--bytes N]

Serves, for any path, a fixed text/html page of exactly N bytes.

  --listen ADDR   address to listen on (default 127.0.0.1:9090)
  --bytes N       body size in bytes (default 40000)
  -h, --help      print this help";

/// Command-line options, parsed by hand.
#[derive(Debug)]
struct Options {
    listen: String,
    bytes: usize,
}

/// What `parse_args` asks `main` to do.
enum Command {
    Run(Options),
    Help,
}

fn parse_args(args: impl IntoIterator<Item = String>) -> Result<Command, String> {
    let mut opts = Options {
        listen: "127.0.0.1:9090".to_owned(),
        bytes: 40_000,
    };
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        // Accept both `--flag value` and `--flag=value`.
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f.to_owned(), Some(v.to_owned())),
            _ => (arg.clone(), None),
        };
        let mut value = |name: &str| -> Result<String, String> {
            match inline.clone() {
                Some(v) => Ok(v),
                None => args.next().ok_or_else(|| format!("{name} needs a value")),
            }
        };
        match flag.as_str() {
            "-h" | "--help" => return Ok(Command::Help),
            "--listen" => opts.listen = value("--listen")?,
            "--bytes" => {
                let v = value("--bytes")?;
                opts.bytes = v
                    .trim()
                    .parse()
                    .map_err(|e| format!("--bytes {v:?}: {e}"))?;
            }
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok(Command::Run(opts))
}

/// Builds a plausible HTML page (a list of job rows) of exactly `size` bytes.
/// Everything is ASCII, so characters and bytes are the same count.
fn build_page(size: usize) -> String {
    const HEAD: &str = "<!doctype html>\n<html lang=\"en\">\n<head>\n\
        <meta charset=\"utf-8\">\n\
        <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
        <title>Jobs - ceiling</title>\n\
        <link rel=\"stylesheet\" href=\"/static/site.css\">\n\
        </head>\n<body>\n<header><a href=\"/\">jobboard</a></header>\n<main>\n<ul class=\"jobs\">\n";
    const TAIL: &str = "</ul>\n</main>\n<footer>ceiling</footer>\n</body>\n</html>\n";

    if size < HEAD.len() + TAIL.len() {
        // Too small for a document: plain filler of the right length.
        return "x".repeat(size);
    }
    let mut page = String::with_capacity(size);
    page.push_str(HEAD);
    let budget = size - TAIL.len();
    let mut row = String::new();
    for i in 1_u64.. {
        row.clear();
        // Writing to a String cannot fail.
        let _ = writeln!(
            row,
            "<li class=\"job\"><h2><a href=\"/jobs/{i}-senior-rust-engineer-{i}\">\
             Senior Rust Engineer {i}</a></h2>\
             <p class=\"meta\"><span class=\"company\">Example Company {c}</span> \
             <span class=\"location\">Remote (EU)</span> \
             <time datetime=\"2025-01-{d:02}\">{d} Jan</time></p>\
             <p class=\"tags\"><a href=\"/tags/rust\">rust</a> \
             <a href=\"/tags/backend\">backend</a></p></li>",
            c = i % 97,
            d = i % 28 + 1,
        );
        if page.len() + row.len() > budget {
            break;
        }
        page.push_str(&row);
    }
    // Pad the rest with spaces (whitespace between elements is harmless).
    let pad = budget - page.len();
    page.extend(std::iter::repeat_n(' ', pad));
    page.push_str(TAIL);
    debug_assert_eq!(page.len(), size);
    page
}

/// The endpoint: the same page for any path.
struct Page {
    body: &'static str,
}

impl Endpoint for Page {
    type Output = Response;

    async fn call(&self, req: Request) -> poem::Result<Response> {
        let method = req.method();
        if method != Method::GET && method != Method::HEAD {
            return Ok(Response::builder()
                .status(StatusCode::METHOD_NOT_ALLOWED)
                .header(header::ALLOW, "GET, HEAD")
                .finish());
        }
        // Headers of the kind a real page of the board sends.
        Ok(Response::builder()
            .header(header::CONTENT_TYPE, "text/html; charset=utf-8")
            .header(header::CACHE_CONTROL, "no-cache")
            .header(header::X_CONTENT_TYPE_OPTIONS, "nosniff")
            .header(header::X_FRAME_OPTIONS, "DENY")
            .header(header::REFERRER_POLICY, "strict-origin-when-cross-origin")
            .header(
                header::CONTENT_SECURITY_POLICY,
                "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'",
            )
            .body(Body::from(self.body)))
    }
}

#[tokio::main]
async fn run(opts: Options) -> Result<(), Box<dyn Error>> {
    // Built once, kept for the life of the process: each response borrows it
    // without copying (a `'static` body is sent as is).
    let body: &'static str = build_page(opts.bytes).leak();
    if body.len() != opts.bytes {
        return Err(format!("built {} bytes, wanted {}", body.len(), opts.bytes).into());
    }
    eprintln!(
        "ceiling: listening on http://{} serving {} bytes for any path",
        opts.listen, opts.bytes
    );
    Server::new(TcpListener::bind(opts.listen))
        .run_with_graceful_shutdown(
            Page { body },
            async {
                let _ = tokio::signal::ctrl_c().await;
            },
            None,
        )
        .await?;
    Ok(())
}

fn main() -> ExitCode {
    match parse_args(std::env::args().skip(1)) {
        Ok(Command::Help) => {
            println!("{USAGE}");
            ExitCode::SUCCESS
        }
        Ok(Command::Run(opts)) => match run(opts) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("ceiling: {e}");
                ExitCode::FAILURE
            }
        },
        Err(e) => {
            eprintln!("ceiling: {e}\n\n{USAGE}");
            ExitCode::from(2)
        }
    }
}
