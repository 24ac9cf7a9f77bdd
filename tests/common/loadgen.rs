//! Running `switchyard-load` from the tests: its exit, its output and its
//! JSON report, the check that a run lost, duplicated and reordered
//! nothing, and `switchyard-load compare`.

use std::process::{Command, Output};

/// Runs the generator with `args` (1 s measured unless `args` say
/// otherwise); returns how it ended, what it printed and its JSON report.
pub fn run(args: &[&str], url: &str) -> (Output, String, Option<serde_json::Value>) {
    run_env(args, url, &[])
}

/// `run` with environment variables `env` set for the generator.
pub fn run_env(
    args: &[&str],
    url: &str,
    env: &[(&str, &str)],
) -> (Output, String, Option<serde_json::Value>) {
    let dir = std::env::temp_dir().join(format!("switchyard-loadgen-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let report = dir.join(format!(
        "{}.json",
        args.join("_").replace(['/', ':', '.'], "-")
    ));
    let _ = std::fs::remove_file(&report);
    let mut all = args.to_vec();
    for (flag, default) in [("--warmup", "0.3"), ("--duration", "1")] {
        if !args.contains(&flag) {
            all.extend([flag, default]);
        }
    }
    let out = Command::new(env!("CARGO_BIN_EXE_switchyard-load"))
        .args(all)
        .envs(env.iter().copied())
        .args(["--url", url, "--quiet", "--json"])
        .arg(&report)
        .output()
        .unwrap();
    let printed =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    let json = std::fs::read(&report)
        .ok()
        .map(|r| serde_json::from_slice(&r).unwrap());
    (out, printed, json)
}

/// Runs `switchyard-load compare` with `args`; returns how it ended and
/// what it printed (stdout, then stderr).
pub fn compare(args: &[&str]) -> (Output, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_switchyard-load"))
        .arg("compare")
        .args(args)
        .output()
        .unwrap();
    let printed =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    (out, printed)
}

/// Runs the generator with `args`, which must succeed; returns its JSON report.
pub fn load(args: &[&str], url: &str) -> serde_json::Value {
    let (out, printed, json) = run(args, url);
    assert!(
        out.status.success(),
        "switchyard-load {args:?} failed:\n{printed}"
    );
    json.unwrap()
}

pub fn assert_clean(report: &serde_json::Value) {
    let counts = &report["results"]["counts"];
    for key in ["lost", "duplicated", "out_of_order", "errors"] {
        assert_eq!(counts[key], 0, "{key} in {report}");
    }
    assert!(
        counts["received"].as_u64().unwrap() > 0,
        "nothing received: {report}"
    );
}
