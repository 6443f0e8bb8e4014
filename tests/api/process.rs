//! The binary as people run it: flags and environment, the log lines, a clean shutdown.

use std::io::{BufRead, BufReader};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::time::Duration;

use serde_json::{Value, json};

use crate::helpers::*;

const BINARY: &str = env!("CARGO_BIN_EXE_rocketchat-mock");

/// The binary's log lines, parsed (it runs with `--log-format json`).
fn log_lines(stdout: ChildStdout) -> Receiver<Value> {
    let (lines, received) = channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            let parsed = serde_json::from_str(&line)
                .unwrap_or_else(|e| panic!("not a JSON log line ({e}): {line}"));
            if lines.send(parsed).is_err() {
                break;
            }
        }
    });
    received
}

fn next_matching(lines: &Receiver<Value>, wanted: impl Fn(&Value) -> bool) -> Value {
    loop {
        let line = lines
            .recv_timeout(Duration::from_secs(10))
            .expect("the expected log line within 10 s");
        if wanted(&line) {
            return line;
        }
    }
}

/// The binary, killed if a failing test leaves it running.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
    }
}

/// The binary on a free port with JSON logs, `args` and `envs` added, and its log lines.
fn started_with(args: &[&str], envs: &[(&str, &str)]) -> (Running, Receiver<Value>) {
    let mut child = Running(
        Command::new(BINARY)
            .args(["--port", "0", "--log-format", "json"])
            .args(args)
            .envs(envs.iter().copied())
            .env("RUST_LOG", "info")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap(),
    );
    let lines = log_lines(child.0.stdout.take().unwrap());
    (child, lines)
}

fn started(args: &[&str]) -> (Running, Receiver<Value>) {
    started_with(args, &[])
}

fn terminate(child: &Child) {
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

#[tokio::test(flavor = "multi_thread")]
async fn it_logs_a_json_line_per_request_and_stops_cleanly_on_sigterm() {
    // Options are read from the environment too.
    let (mut child, lines) = started_with(&[], &[("ROCKETCHAT_MOCK_ROCKETCHAT_VERSION", "8")]);
    let started = next_matching(&lines, |l| l["port"].is_u64());
    assert_eq!(started["level"], "INFO");
    assert!(
        started["message"]
            .as_str()
            .unwrap()
            .contains("answering as Rocket.Chat 8"),
        "{started}"
    );
    let address = format!("http://127.0.0.1:{}", started["port"]);

    let client = reqwest::Client::new();
    let unauthorized: Value = client
        .post(format!("{address}{UPDATE}"))
        .header("X-Mock-Session", "ci-7")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        unauthorized,
        json!({"success": false, "error": "You must be logged in to do this."})
    );
    let logged = next_matching(&lines, |l| l["path"] == UPDATE);
    assert_eq!(logged["method"], "POST");
    assert_eq!(logged["status"], 401);
    assert_eq!(logged["session"], "ci-7");
    assert!(logged["duration_ms"].as_f64().unwrap() >= 0.0);

    // A request in flight when SIGTERM arrives is still answered.
    let slow = tokio::spawn(
        client
            .post(format!("{address}{UPDATE}"))
            .header("Prefer", "delay=800, code=200")
            .send(),
    );
    tokio::time::sleep(Duration::from_millis(200)).await;
    terminate(&child.0);
    let answered = slow
        .await
        .unwrap()
        .expect("the in-flight request is answered");
    assert_eq!(answered.status(), 200);
    next_matching(&lines, |l| l["message"] == "rocketchat-mock stopped");
    let status = tokio::task::spawn_blocking(move || child.0.wait().unwrap())
        .await
        .unwrap();
    assert!(status.success(), "{status}");
}

/// Runs `command` to its end, killing it if it is still running after 10 s.
fn finished(command: &mut Command) -> std::process::Output {
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    for _ in 0..100 {
        if child.try_wait().unwrap().is_some() {
            return child.wait_with_output().unwrap();
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    child.kill().unwrap();
    panic!("{command:?} was still running after 10 s");
}

#[test]
fn bad_flags_are_explained_and_help_names_every_variable() {
    let output = finished(Command::new(BINARY).args(["--delay", "400ms..100ms"]));
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("ends before it starts"), "{stderr}");

    let output = finished(
        Command::new(BINARY)
            .args(["--fixtures", "/nonexistent/rocketchat-mock-fixtures"])
            .env("ROCKETCHAT_MOCK_PORT", "0"),
    );
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("/nonexistent/rocketchat-mock-fixtures is not a readable folder"),
        "{stderr}"
    );

    let help = Command::new(BINARY).arg("--help").output().unwrap();
    let help = String::from_utf8_lossy(&help.stdout);
    for variable in [
        "ROCKETCHAT_MOCK_DELAY",
        "ROCKETCHAT_MOCK_FAULT_RATE",
        "ROCKETCHAT_MOCK_CORS_ORIGIN",
        "ROCKETCHAT_MOCK_ROCKETCHAT_VERSION",
        "ROCKETCHAT_MOCK_NO_CONTROL",
        "ROCKETCHAT_MOCK_SESSION_IDLE",
        "ROCKETCHAT_MOCK_WATCH",
        "ROCKETCHAT_MOCK_LOG_FORMAT",
    ] {
        assert!(help.contains(variable), "--help does not name {variable}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn sighup_drains_like_sigterm() {
    let (mut child, lines) = started(&[]);
    let started = next_matching(&lines, |l| l["port"].is_u64());
    let address = format!("http://127.0.0.1:{}", started["port"]);
    let slow = tokio::spawn(
        reqwest::Client::new()
            .post(format!("{address}{UPDATE}"))
            .header("Prefer", "delay=800, code=200")
            .send(),
    );
    tokio::time::sleep(Duration::from_millis(200)).await;
    let status = Command::new("kill")
        .args(["-HUP", &child.0.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let answered = slow
        .await
        .unwrap()
        .expect("the in-flight request is answered");
    assert_eq!(answered.status(), 200);
    let status = tokio::task::spawn_blocking(move || child.0.wait().unwrap())
        .await
        .unwrap();
    assert_eq!(status.code(), Some(0), "{status}");
}

#[test]
fn fixture_paths_that_are_not_regular_files_are_refused_naming_them() {
    let fifo = fixture_dir("fifo", &[]);
    std::fs::remove_file(fifo.join("contacts.json")).unwrap();
    let made = Command::new("mkfifo")
        .arg(fifo.join("contacts.json"))
        .status()
        .unwrap();
    assert!(made.success());
    let device = fixture_dir("device", &[]);
    std::fs::remove_file(device.join("contacts.json")).unwrap();
    std::os::unix::fs::symlink("/dev/zero", device.join("contacts.json")).unwrap();
    let dangling = fixture_dir("dangling", &[]);
    std::fs::remove_file(dangling.join("contacts.json")).unwrap();
    std::os::unix::fs::symlink(
        dangling.join("nowhere.json"),
        dangling.join("contacts.json"),
    )
    .unwrap();
    for (dir, problem) in [
        (&fifo, "is a FIFO (named pipe), not a regular file"),
        (&device, "is a character device, not a regular file"),
        (&dangling, "nowhere.json, which does not exist"),
    ] {
        let output = finished(Command::new(BINARY).args([
            "--port",
            "0",
            "--fixtures",
            dir.to_str().unwrap(),
        ]));
        assert_eq!(output.status.code(), Some(1), "{dir:?}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            stderr.contains("contacts.json: ") && stderr.contains(problem),
            "{dir:?}: {stderr}"
        );
    }
}

#[tokio::test]
async fn a_fixture_file_with_a_byte_order_mark_loads() {
    let text = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/contacts.json"),
    )
    .unwrap();
    let app =
        TestApp::spawn_with_fixtures("bom", &[("contacts.json", &format!("\u{feff}{text}"))]).await;
    let reply = app
        .get_json(&format!("{GET}?contactId={JOHN}"), Some(ADMIN))
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
}

#[test]
fn listening_beyond_loopback_with_an_open_control_api_is_warned_about() {
    let run = |extra: &[&str]| {
        let args: Vec<&str> = ["--host", "0.0.0.0"]
            .into_iter()
            .chain(extra.iter().copied())
            .collect();
        let (_child, lines) = started(&args);
        next_matching(&lines, |l| l["port"].is_u64());
        let mut warned = false;
        while let Ok(line) = lines.recv_timeout(Duration::from_millis(500)) {
            warned |= line["level"] == "WARN"
                && line["message"]
                    .as_str()
                    .is_some_and(|m| m.contains("control API unguarded"));
        }
        warned
    };
    assert!(run(&[]));
    assert!(!run(&["--control-token", "t"]));
    assert!(!run(&["--no-control"]));
}
