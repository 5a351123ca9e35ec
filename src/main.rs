//! The `jobboard` command: parses the command line and calls the library.

use std::io::{BufReader, IsTerminal};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Parser, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};

use jobboard::clock::{SharedClock, SystemClock};
use jobboard::config::{Config, Inputs};
use jobboard::db::Db;
use jobboard::error::AppError;
use jobboard::jobs::model::Status;

/// mimalloc gives freed memory back to the system; glibc's allocator keeps a
/// heap for each thread that ever allocated, which a busy server on a 512 MB
/// VM cannot afford.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "jobboard",
    version,
    about = "A self-hosted job board in one binary."
)]
struct Cli {
    /// Configuration file (default: ./jobboard.toml when present).
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Data directory: database, search index, uploads, outbox.
    #[arg(long, global = true, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the web server (the default command).
    Serve {
        /// Socket address to listen on, e.g. 127.0.0.1:8080.
        #[arg(long, value_name = "ADDR")]
        listen: Option<String>,
        /// Fill an empty database with demo data first.
        #[arg(long)]
        demo: bool,
        /// Leave the background worker out (run `jobboard worker` elsewhere).
        #[arg(long)]
        no_worker: bool,
    },
    /// Run only the background worker: emails, expiry, reminders, clean-up.
    Worker,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Fill an empty database with demo companies and jobs.
    Demo {
        /// How many jobs to make.
        #[arg(long, default_value_t = 200)]
        jobs: usize,
    },
    /// Import jobs from JSON Lines (one job per line; `-` reads stdin).
    Import {
        /// The file to read, or `-` for stdin.
        file: PathBuf,
    },
    /// Write jobs as JSON Lines to stdout.
    Export {
        /// Only jobs in this status (draft, pending_payment, pending_review,
        /// published, expired, filled, rejected).
        #[arg(long, value_name = "S")]
        status: Option<String>,
    },
    /// Rebuild the search index from the database (safe while `serve` runs).
    Reindex,
    /// Write a consistent snapshot of the board into DIR, safe while `serve`
    /// runs: the database, uploaded logos, the board's key (secret.key) and a
    /// manifest.json with versions, counts and checksums, written last. The
    /// search index is rebuilt on restore and the outbox is left out.
    Backup {
        /// A new or empty folder, e.g. /var/backups/jobboard/2026-11-27.
        dir: PathBuf,
    },
    /// Restore a backup made by `jobboard backup` into the data directory:
    /// checks it (checksums, SQLite integrity and foreign keys, schema
    /// version), then rebuilds the search index. Stop the server first.
    Restore {
        /// The backup folder (it holds manifest.json).
        dir: PathBuf,
        /// Replace a data directory that is not empty; what it held is moved
        /// to data_dir/replaced-<time>/.
        #[arg(long)]
        force: bool,
    },
    /// Load and validate the configuration, print it with secrets masked.
    CheckConfig,
    /// Ask the server running on the configured `listen` address for
    /// /healthz; exit 0 when it answers 200 (for container health checks).
    Healthcheck,
    /// Manage admin accounts.
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
    },
    /// Manage API tokens.
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
}

#[derive(Subcommand)]
enum TokenCommand {
    /// Create an API token for an account and print it once (on stdout,
    /// alone). The account's email counts as verified from then on.
    Create {
        /// The account's email address.
        #[arg(long, value_name = "E")]
        email: String,
        /// A name to tell the token apart in the dashboard.
        #[arg(long, value_name = "N", default_value = "cli")]
        name: String,
    },
}

#[derive(Subcommand)]
enum AdminCommand {
    /// Create an admin, or make an existing account an admin with a new
    /// password. The password is read from stdin when it is not a terminal
    /// (first line), else asked for.
    Create {
        /// The admin's email address.
        #[arg(long, value_name = "E")]
        email: String,
    },
}

fn load_config(cli: &Cli, listen: Option<&String>) -> Result<Config, AppError> {
    let mut inputs = Inputs::from_process(cli.config.clone());
    if let Some(dir) = &cli.data_dir {
        inputs.flags.push(("data_dir", dir.display().to_string()));
    }
    if let Some(addr) = listen {
        inputs.flags.push(("listen", addr.clone()));
    }
    Config::load(&inputs).map_err(|e| AppError::BadRequest(e.to_string()))
}

/// Logs to stderr at `log.level` (or as `RUST_LOG` says), as text or as one
/// JSON object a line (`log.format`).
fn init_logs(config: &Config) {
    let level = &config.log_level;
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| {
        tracing_subscriber::EnvFilter::new(format!("{level},poem=warn,tantivy=warn"))
    });
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match config.log_format {
        jobboard::config::LogFormat::Text => {
            logs.with_ansi(std::io::stderr().is_terminal()).try_init()
        }
        jobboard::config::LogFormat::Json => logs
            .json()
            .with_current_span(true)
            .with_span_list(false)
            .try_init(),
    };
}

fn progress_bar(len: Option<u64>, what: &str) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(len.unwrap_or(0));
    let template = format!("{what} {{bar:40}} {{pos}}/{{len}} {{elapsed}}");
    if let Ok(style) = ProgressStyle::with_template(&template) {
        bar.set_style(style);
    }
    bar
}

fn fill_demo(db: &Db, config: &Config, clock: &SharedClock, jobs: usize) -> Result<(), AppError> {
    let bar = progress_bar(Some(jobs as u64), "demo");
    let started = std::time::Instant::now();
    let made = jobboard::demo::fill(db, config, clock, jobs, |n| bar.set_position(n as u64))?;
    bar.finish_and_clear();
    if made == 0 {
        eprintln!("the board already has jobs; demo data is only added to an empty board");
    } else {
        eprintln!(
            "made {made} demo jobs in {:.1}s",
            started.elapsed().as_secs_f64()
        );
    }
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => {
                    let _ = ctrl_c.await;
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
    tracing::info!("shutting down");
}

fn run(cli: Cli) -> Result<(), AppError> {
    let clock: SharedClock = Arc::new(SystemClock);
    let command = cli.command.as_ref().unwrap_or(&Command::Serve {
        no_worker: false,
        listen: None,
        demo: false,
    });
    match command {
        Command::Token {
            command: TokenCommand::Create { email, name },
        } => {
            let config = load_config(&cli, None)?;
            let db = jobboard::open_db(&config)?;
            let token =
                jobboard::accounts::cli::create_token(&db, &config, email, name, clock.unix());
            db.close();
            println!("{}", token?);
            eprintln!("API token {name:?} created for {email}; it is shown only this once.");
        }
        Command::Admin {
            command: AdminCommand::Create { email },
        } => {
            let config = load_config(&cli, None)?;
            let email = jobboard::admin::cli::check_email(email)?;
            let password = jobboard::admin::cli::read_password()?;
            let db = jobboard::open_db(&config)?;
            let outcome =
                jobboard::admin::cli::create(&db, &config, &email, &password, clock.unix());
            db.close();
            eprintln!("{}", outcome?.describe(&email));
        }
        Command::CheckConfig => {
            let config = load_config(&cli, None)?;
            print!("{}", config.describe());
            println!("configuration is valid");
        }
        Command::Healthcheck => {
            let config = load_config(&cli, None)?;
            let timeout = std::time::Duration::from_secs(5);
            let body = jobboard::web::healthcheck::probe(config.listen, timeout)
                .map_err(|e| AppError::Unavailable(format!("healthcheck: {e}")))?;
            println!("{body}");
        }
        Command::Migrate => {
            let config = load_config(&cli, None)?;
            let conn = jobboard::db::open_writer(&config.db_path())?;
            let version = jobboard::db::migrations::current(&conn)?;
            jobboard::db::close_writer(conn, config.db.checkpoint_on_exit);
            eprintln!(
                "database {} is at schema version {version}",
                config.db_path().display()
            );
        }
        Command::Demo { jobs } => {
            let config = load_config(&cli, None)?;
            init_logs(&config);
            let db = jobboard::open_db(&config)?;
            fill_demo(&db, &config, &clock, *jobs)?;
            db.close();
        }
        Command::Import { file } => {
            let config = load_config(&cli, None)?;
            init_logs(&config);
            let db = jobboard::open_db(&config)?;
            let (reader, len): (Box<dyn std::io::BufRead>, Option<u64>) = if file.as_os_str() == "-"
            {
                (Box::new(BufReader::new(std::io::stdin().lock())), None)
            } else {
                let f = std::fs::File::open(file).map_err(|e| {
                    AppError::BadRequest(format!("cannot read {}: {e}", file.display()))
                })?;
                let len = f.metadata().ok().map(|m| m.len());
                (Box::new(BufReader::new(f)), len)
            };
            let bar = progress_bar(len, "import");
            let report = jobboard::jobs::transfer::import(
                &db,
                &config,
                &clock,
                reader,
                |bytes| bar.set_position(bytes as u64),
                |line, reason| bar.suspend(|| eprintln!("line {line}: {reason}")),
            )?;
            bar.finish_and_clear();
            db.close();
            eprintln!(
                "imported {}, skipped {}",
                report.imported,
                report.skipped.len()
            );
        }
        Command::Export { status } => {
            let config = load_config(&cli, None)?;
            let status = match status {
                Some(s) => Some(Status::parse(s).ok_or_else(|| {
                    AppError::BadRequest(format!("--status {s:?} is not a job status"))
                })?),
                None => None,
            };
            let db = jobboard::open_db(&config)?;
            let out = std::io::BufWriter::new(std::io::stdout().lock());
            jobboard::jobs::transfer::export(&db, &config.base_url, status, out)?;
            db.close();
        }
        Command::Reindex => {
            let config = load_config(&cli, None)?;
            init_logs(&config);
            let db = jobboard::open_db(&config)?;
            let bar = progress_bar(None, "reindex");
            let started = std::time::Instant::now();
            let outcome = jobboard::search::rebuild::reindex(
                &config.data_dir,
                &db,
                std::time::Duration::from_secs(30),
                |done, total| {
                    bar.set_length(total);
                    bar.set_position(done);
                },
            )?;
            bar.finish_and_clear();
            db.close();
            let secs = started.elapsed().as_secs_f64();
            use jobboard::search::rebuild::Reindexed;
            match outcome {
                Reindexed::InPlace(n) => eprintln!("indexed {n} jobs in {secs:.1}s"),
                Reindexed::Handed(n) => eprintln!(
                    "indexed {n} jobs in {secs:.1}s; the running server switched to the new index"
                ),
                Reindexed::Waiting(n) => eprintln!(
                    "indexed {n} jobs in {secs:.1}s; the running server has not switched yet and will when it next checks or starts"
                ),
            }
        }
        Command::Backup { dir } => {
            let config = load_config(&cli, None)?;
            let bar = progress_bar(None, "backup");
            let started = std::time::Instant::now();
            let done = jobboard::ops::backup::backup(&config, dir, clock.unix(), |done, total| {
                bar.set_length(total);
                bar.set_position(done);
            });
            bar.finish_and_clear();
            let secs = started.elapsed().as_secs_f64();
            eprintln!("{}\ndone in {secs:.1}s", done?.describe());
        }
        Command::Restore { dir, force } => {
            let config = load_config(&cli, None)?;
            init_logs(&config);
            let bar = progress_bar(None, "index");
            let started = std::time::Instant::now();
            let done = jobboard::ops::backup::restore(
                &config,
                dir,
                *force,
                clock.unix(),
                |done, total| {
                    bar.set_length(total);
                    bar.set_position(done);
                },
            );
            bar.finish_and_clear();
            let secs = started.elapsed().as_secs_f64();
            eprintln!("{}\ndone in {secs:.1}s", done?.describe());
        }
        Command::Worker => {
            let config = load_config(&cli, None)?;
            init_logs(&config);
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| AppError::internal(format!("cannot start the runtime: {e}")))?;
            let state = jobboard::open(config, clock.clone())?;
            let worker = jobboard::tasks::Worker::start_alone(state.clone())?;
            runtime.block_on(shutdown_signal());
            worker.stop();
            state.db.close();
        }
        Command::Serve {
            listen,
            demo,
            no_worker,
        } => {
            let config = load_config(&cli, listen.as_ref())?;
            init_logs(&config);
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                // Reads and searches are limited to a few at a time anyway; fewer
                // threads keep fewer malloc arenas on a small machine.
                .max_blocking_threads(16)
                .build()
                .map_err(|e| AppError::internal(format!("cannot start the runtime: {e}")))?;
            let listener = std::net::TcpListener::bind(config.listen).map_err(|e| {
                AppError::BadRequest(format!("cannot listen on {}: {e}", config.listen))
            })?;
            let state = jobboard::open(config, clock.clone())?;
            if *demo {
                fill_demo(&state.db, &state.config, &clock, 200)?;
            }
            let options = jobboard::ServeOptions {
                worker: !*no_worker,
            };
            runtime.block_on(jobboard::serve_with(
                state,
                listener,
                shutdown_signal(),
                options,
            ))?;
        }
    }
    Ok(())
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("jobboard: {e}");
            ExitCode::FAILURE
        }
    }
}
