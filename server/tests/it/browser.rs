//! The page in a real browser: two Chromium windows watching each other.

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use siosim_server::Config;
use tokio::process::Command;

use crate::support::{Server, scripts_dir};

/// Chromium's startup dominates; each of the script's steps has its own 15 s limit.
const BROWSER_DEADLINE: Duration = Duration::from_secs(90);

#[tokio::test]
async fn two_windows_see_each_others_clicks_and_messages() {
    let scripts = scripts_dir();
    let chromium = std::env::var("SIOSIM_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    assert!(
        Path::new(&chromium).exists(),
        "{chromium} is missing: run scripts/setup (as root) to install Debian's chromium"
    );
    // The tutorial's path, so this also proves the page follows the configuration.
    let server = Server::start_with(Config {
        socketio_path: "/socket.io-client".into(),
        ..Config::default()
    })
    .await;
    let mut check = Command::new("node");
    check
        .arg(scripts.join("page-check.mjs"))
        .arg(format!("{}/", server.url()))
        .current_dir(&scripts)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    if let Ok(path) = std::env::var("SIOSIM_SCREENSHOT") {
        check.arg(path);
    }
    let output = tokio::time::timeout(BROWSER_DEADLINE, check.output())
        .await
        .expect("page-check finished within the deadline")
        .expect("run node scripts/page-check.mjs");
    assert!(
        output.status.success(),
        "page-check failed ({}):\nstdout: {}\nstderr: {}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}
