//! Packaging: `jobboard healthcheck` (the image's HEALTHCHECK), and the files
//! in packaging/ and the .deb metadata agreeing on paths and names.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use jobboard::web::server::{self, Limits};
use poem::{EndpointExt, handler};

use crate::common::TestApp;

fn repo_file(rel: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(rel);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

/// Runs `jobboard healthcheck` against `listen`, from an empty folder.
async fn healthcheck(listen: String) -> std::process::Output {
    tokio::task::spawn_blocking(move || {
        let dir = tempfile::tempdir().expect("dir");
        Command::new(env!("CARGO_BIN_EXE_jobboard"))
            .current_dir(dir.path())
            .env("JOBBOARD_LISTEN", listen)
            .arg("healthcheck")
            .output()
            .expect("run jobboard healthcheck")
    })
    .await
    .expect("joined")
}

fn serve(ep: impl poem::Endpoint + 'static) -> (u16, tokio::sync::oneshot::Sender<()>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("address").port();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let shutdown = async move {
        let _ = stopped.await;
    };
    let drain = Duration::from_secs(1);
    tokio::spawn(server::run(
        listener,
        ep,
        shutdown,
        drain,
        Limits::default(),
    ));
    (port, stop)
}

#[handler]
fn failing() -> poem::Response {
    poem::Response::builder()
        .status(poem::http::StatusCode::SERVICE_UNAVAILABLE)
        .body(r#"{"status":"unavailable"}"#)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn healthcheck_asks_the_running_board() {
    let app = TestApp::new();
    let (port, _stop) = serve(jobboard::web::app(app.state.clone()));
    // The image listens on 0.0.0.0: the check asks loopback.
    let out = healthcheck(format!("0.0.0.0:{port}")).await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{out:?}");
    assert!(stdout.contains(r#""database":"ok""#), "{stdout}");

    let (port, _stop) = serve(poem::Route::new().at("/healthz", failing).map_to_response());
    let out = healthcheck(format!("127.0.0.1:{port}")).await;
    assert!(!out.status.success(), "a 503 is unhealthy");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("503"),
        "{out:?}"
    );

    // Nothing listening.
    let free = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = free.local_addr().expect("address").port();
    drop(free);
    let out = healthcheck(format!("127.0.0.1:{port}")).await;
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("cannot connect"),
        "{out:?}"
    );
}

/// The value of the first `key` line (`Key=value`) in a unit file.
fn unit_value<'a>(unit: &'a str, key: &str) -> &'a str {
    unit.lines()
        .find_map(|l| l.strip_prefix(&format!("{key}=")))
        .unwrap_or_else(|| panic!("the unit has no {key}="))
}

#[test]
fn the_package_unit_user_and_directories_agree() {
    let cargo: toml::Value = toml::from_str(&repo_file("Cargo.toml")).expect("Cargo.toml");
    let deb = &cargo["package"]["metadata"]["deb"];
    let assets: Vec<(String, String)> = deb["assets"]
        .as_array()
        .expect("assets")
        .iter()
        .map(|a| {
            let a = a.as_array().expect("[source, dest, mode]");
            let s = |i: usize| a[i].as_str().expect("a string").to_string();
            (s(0), s(1))
        })
        .collect();
    let dest = |source: &str| {
        assets
            .iter()
            .find(|(s, _)| s == source)
            .map(|(_, d)| d.clone())
            .unwrap_or_else(|| panic!("the .deb does not install {source}"))
    };
    for file in [
        "packaging/systemd/jobboard.service",
        "packaging/systemd/jobboard-backup.service",
        "packaging/systemd/jobboard-backup.timer",
        "packaging/systemd/jobboard.sysusers",
        "packaging/systemd/jobboard.tmpfiles",
        "packaging/jobboard.toml",
    ] {
        assert!(Path::new(env!("CARGO_MANIFEST_DIR")).join(file).exists());
        dest(file);
    }
    assert_eq!(
        dest("packaging/jobboard.toml"),
        "etc/jobboard/jobboard.toml"
    );

    // The unit runs the binary the package installs, with the config it installs.
    let unit = repo_file("packaging/systemd/jobboard.service");
    let exec = unit_value(&unit, "ExecStart");
    let binary = format!("/{}jobboard", dest("target/release/jobboard"));
    assert_eq!(exec.split_whitespace().next(), Some(binary.as_str()));
    assert!(
        exec.contains("--config /etc/jobboard/jobboard.toml"),
        "{exec}"
    );

    // One user and one data directory everywhere.
    let user = unit_value(&unit, "User");
    let data = format!("/var/lib/{}", unit_value(&unit, "StateDirectory"));
    let sysusers = repo_file("packaging/systemd/jobboard.sysusers");
    let line = sysusers
        .lines()
        .find(|l| l.starts_with("u "))
        .expect("a user line");
    assert!(line.starts_with(&format!("u {user} ")), "{line}");
    assert!(line.ends_with(&data), "home {line}, data {data}");
    let tmpfiles = repo_file("packaging/systemd/jobboard.tmpfiles");
    assert!(
        tmpfiles
            .lines()
            .any(|l| l.split_whitespace().collect::<Vec<_>>()
                == ["d", &data, "0750", user, user, "-"]),
        "{tmpfiles}"
    );
    let sample = repo_file("packaging/jobboard.toml");
    assert!(
        sample.contains(&format!("\ndata_dir = \"{data}\"\n")),
        "commands run by hand with the installed config use the service's data"
    );
    assert!(unit.contains(&format!("Environment=JOBBOARD_DATA_DIR={data}\n")));

    // Maintainer scripts exist and can run.
    let scripts = deb["maintainer-scripts"]
        .as_str()
        .expect("maintainer-scripts");
    for script in ["postinst", "prerm", "postrm"] {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join(scripts)
            .join(script);
        let mode = std::os::unix::fs::PermissionsExt::mode(
            &std::fs::metadata(&path).expect("script").permissions(),
        );
        assert!(mode & 0o111 != 0, "{script} is not executable");
    }
}

#[test]
fn the_image_checks_its_health_with_a_real_command_and_keeps_data_in_its_volume() {
    let dockerfile = repo_file("packaging/Dockerfile");
    let health = dockerfile
        .lines()
        .skip_while(|l| !l.starts_with("HEALTHCHECK"))
        .nth(1)
        .expect("a HEALTHCHECK with its CMD on the next line");
    assert!(
        health.contains(r#"CMD ["/usr/local/bin/jobboard", "healthcheck"]"#),
        "{health}"
    );
    let help = Command::new(env!("CARGO_BIN_EXE_jobboard"))
        .args(["healthcheck", "--help"])
        .output()
        .expect("run");
    assert!(help.status.success(), "jobboard healthcheck exists");
    let volume = dockerfile
        .lines()
        .find_map(|l| l.strip_prefix("VOLUME "))
        .expect("VOLUME");
    assert!(
        dockerfile.contains(&format!("JOBBOARD_DATA_DIR={volume}")),
        "data in the volume"
    );
    assert!(dockerfile.contains("JOBBOARD_LISTEN=0.0.0.0:8080"));
    assert!(dockerfile.contains("\nUSER nonroot\n"));
}
