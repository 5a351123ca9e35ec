//! The nightly backup job in `packaging/systemd/jobboard-backup.service`.

use std::path::Path;

use super::{board, path, stderr};

/// The nightly unit's script, run as systemd would run it (with `%%` and
/// `$$` unescaped), with the test binary and a `date` that moves a day each
/// run: it keeps the newest `KEEP` backups.
#[test]
fn the_nightly_backup_job_keeps_the_newest_backups() {
    let unit = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("packaging/systemd/jobboard-backup.service"),
    )
    .expect("unit");
    let exec = unit
        .lines()
        .find_map(|l| l.strip_prefix("ExecStart="))
        .expect("ExecStart");
    let script = exec
        .split_once('\'')
        .and_then(|(_, rest)| rest.rsplit_once('\''))
        .map(|(s, _)| s)
        .expect("a quoted script")
        .replace("$$", "$")
        .replace("%%", "%");
    assert!(exec.starts_with("/bin/sh -"), "{exec}");
    assert!(unit.contains("User=jobboard"));

    let dir = tempfile::tempdir().expect("dir");
    let cwd = dir.path();
    let source = board(cwd, "source", 2);
    let fakes = cwd.join("bin");
    std::fs::create_dir(&fakes).expect("mkdir");
    let counter = cwd.join("day");
    std::fs::write(
        fakes.join("date"),
        format!("#!/bin/sh\nn=$(cat {0} 2>/dev/null || echo 10)\necho $((n+1)) > {0}\necho 2026-11-${{n}}T033000Z\n", counter.display()),
    )
    .expect("fake date");
    std::fs::write(cwd.join("jobboard.toml"), "").expect("config");
    let script = script
        .replace("/usr/bin/jobboard", env!("CARGO_BIN_EXE_jobboard"))
        .replace(
            "/etc/jobboard/jobboard.toml",
            path(&cwd.join("jobboard.toml")),
        );
    let backups = cwd.join("backups");
    std::fs::create_dir(&backups).expect("mkdir");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(fakes.join("date"), std::fs::Permissions::from_mode(0o755))
            .expect("chmod");
    }
    for _ in 0..4 {
        let out = std::process::Command::new("/bin/sh")
            .args(["-euc", &script])
            .env(
                "PATH",
                format!(
                    "{}:{}",
                    fakes.display(),
                    std::env::var("PATH").unwrap_or_default()
                ),
            )
            .env("JOBBOARD_DATA_DIR", &source)
            .env("BACKUP_DIR", &backups)
            .env("KEEP", "2")
            .output()
            .expect("sh");
        assert!(out.status.success(), "{}", stderr(&out));
    }
    let mut left: Vec<String> = std::fs::read_dir(&backups)
        .expect("read")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    left.sort();
    assert_eq!(left, ["2026-11-12T033000Z", "2026-11-13T033000Z"]);
    assert!(backups.join("2026-11-13T033000Z/manifest.json").exists());
}
