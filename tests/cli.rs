//! The `holoid` binary, run as a user would: outputs, exit codes, and a clear error for
//! every bad file it reads.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use holoid_testkit::gpu::scratch;

fn holoid(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_holoid"))
        .args(args)
        .output()
        .expect("run holoid")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn demo(dir: &Path, seed: u64) -> PathBuf {
    let out = dir.join(format!("seed{seed}"));
    let o = holoid(&[
        "demo-credential",
        "--out",
        out.to_str().unwrap(),
        "--seed",
        &seed.to_string(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    out
}

fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}

fn verify(dir: &Path, extra: &[&str]) -> Output {
    let cred = dir.join("credential.json");
    let public = dir.join("issuer.pub");
    let mut args = vec![
        "verify-credential",
        "--credential",
        p(&cred),
        "--issuer-pub",
        p(&public),
    ];
    args.extend_from_slice(extra);
    holoid(&args)
}

const FILES: [&str; 6] = [
    "credential.json",
    "portrait.png",
    "issuer.pub",
    "issuer.key",
    "master.key",
    "device.key",
];

#[test]
fn demo_credential_is_deterministic_and_verifies() {
    let root = scratch("cli-demo");
    let (a, b, c) = (demo(&root, 7), demo(&root.join("again"), 7), demo(&root, 8));
    for f in FILES {
        assert_eq!(
            fs::read(a.join(f)).unwrap(),
            fs::read(b.join(f)).unwrap(),
            "{f} differs for one seed"
        );
        assert_ne!(
            fs::read(a.join(f)).unwrap(),
            fs::read(c.join(f)).unwrap(),
            "{f} equal for two seeds"
        );
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = fs::metadata(a.join("master.key")).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let png = image::load_from_memory(&fs::read(a.join("portrait.png")).unwrap()).unwrap();
    assert_eq!((png.width(), png.height()), (360, 480));
    let o = verify(&a, &["--at", "2026-11-25T10:00:00Z"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).starts_with("valid: KR-RRC-"), "{}", stdout(&o));
}

#[test]
fn demo_credential_refuses_to_overwrite_without_force() {
    let root = scratch("cli-overwrite");
    let out = demo(&root, 1);
    let again = holoid(&["demo-credential", "--out", p(&out)]);
    assert_eq!(again.status.code(), Some(2));
    assert!(stderr(&again).contains("already exists") && stderr(&again).contains("--force"));
    assert!(
        holoid(&["demo-credential", "--out", p(&out), "--force"])
            .status
            .success()
    );
    let file = out.join("credential.json");
    let into_file = holoid(&["demo-credential", "--out", p(&file)]);
    assert_eq!(into_file.status.code(), Some(2));
    assert!(stderr(&into_file).contains("not a directory"));
    // No temporary files are left behind.
    assert!(
        fs::read_dir(&out)
            .unwrap()
            .all(|e| !e.unwrap().file_name().to_string_lossy().starts_with('.'))
    );
}

#[test]
fn verification_failures_exit_1_with_the_reason() {
    let root = scratch("cli-invalid");
    let a = demo(&root, 1);
    let b = demo(&root, 2);
    // Signed by another issuer.
    let (cred_a, pub_b) = (a.join("credential.json"), b.join("issuer.pub"));
    let o = holoid(&[
        "verify-credential",
        "--credential",
        p(&cred_a),
        "--issuer-pub",
        p(&pub_b),
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("signature does not verify"), "{}", stderr(&o));
    // A changed name.
    let cred = fs::read_to_string(a.join("credential.json")).unwrap();
    let latin = cred
        .lines()
        .find(|l| l.contains("name_latin"))
        .unwrap()
        .to_string();
    fs::write(
        a.join("credential.json"),
        cred.replace(&latin, "    \"name_latin\": \"HONG GILDONG\","),
    )
    .unwrap();
    let o = verify(&a, &[]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("signature does not verify"));
    fs::write(a.join("credential.json"), &cred).unwrap();
    // Another portrait.
    let o = verify(&a, &["--portrait", p(&b.join("portrait.png"))]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("portrait image does not match"));
    // Expired, and not yet valid.
    let o = verify(&a, &["--at", "2100-01-01T00:00:00Z"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("expired on"));
    let o = verify(&a, &["--at", "2000-01-01T00:00:00Z"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("not valid before"));
}

/// Every file the CLI reads, given wrong: exit 2 and a message naming the problem.
#[test]
fn bad_files_are_refused_with_clear_errors() {
    let root = scratch("cli-bad");
    let d = demo(&root, 3);
    let write = |name: &str, bytes: &[u8]| {
        let path = root.join(name);
        fs::write(&path, bytes).unwrap();
        path
    };
    let missing = root.join("missing.json");
    let not_json = write("not.json", b"hello");
    let not_utf8 = write("bin.json", &[0xff, 0xfe, 0x00]);
    let huge = write("huge.json", &vec![b' '; 2 << 20]);
    let full = fs::read_to_string(d.join("credential.json")).unwrap();
    let truncated = write("cut.json", &full.as_bytes()[..full.find("\"portrait\"").unwrap()]);
    let key_hex = fs::read_to_string(d.join("issuer.pub")).unwrap();
    let short_key = write("short.pub", &key_hex.trim_end().as_bytes()[..60]);
    let bad_hex = write(
        "badhex.pub",
        format!("holoid-issuer-public-key-v1:{}\n", "zz".repeat(32)).as_bytes(),
    );
    let not_point = write(
        "notpoint.pub",
        format!("holoid-issuer-public-key-v1:02{}\n", "00".repeat(31)).as_bytes(),
    );
    let cred = d.join("credential.json");
    let public = d.join("issuer.pub");
    let (master, device) = (d.join("master.key"), d.join("device.key"));
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            vec!["--credential", p(&missing), "--issuer-pub", p(&public)],
            "No such file",
        ),
        (
            vec!["--credential", p(&root), "--issuer-pub", p(&public)],
            "is a directory",
        ),
        (
            vec!["--credential", p(&not_json), "--issuer-pub", p(&public)],
            "not a valid credential file",
        ),
        (
            vec!["--credential", p(&not_utf8), "--issuer-pub", p(&public)],
            "not UTF-8",
        ),
        (
            vec!["--credential", p(&huge), "--issuer-pub", p(&public)],
            "more than the",
        ),
        (
            vec!["--credential", p(&truncated), "--issuer-pub", p(&public)],
            "EOF",
        ),
        (
            vec!["--credential", p(&public), "--issuer-pub", p(&public)],
            "not a valid credential file",
        ),
        (
            vec!["--credential", p(&cred), "--issuer-pub", p(&missing)],
            "No such file",
        ),
        (
            vec!["--credential", p(&cred), "--issuer-pub", p(&master)],
            "but an issuer public key",
        ),
        (
            vec!["--credential", p(&cred), "--issuer-pub", p(&cred)],
            "not a holoid key",
        ),
        (
            vec!["--credential", p(&cred), "--issuer-pub", p(&short_key)],
            "wrong key length",
        ),
        (
            vec!["--credential", p(&cred), "--issuer-pub", p(&bad_hex)],
            "not a hex digit",
        ),
        (
            vec!["--credential", p(&cred), "--issuer-pub", p(&not_point)],
            "not a valid Ed25519 public key",
        ),
        (
            vec![
                "--credential",
                p(&cred),
                "--issuer-pub",
                p(&public),
                "--portrait",
                p(&missing),
            ],
            "cannot read the portrait",
        ),
        (
            vec![
                "--credential",
                p(&cred),
                "--issuer-pub",
                p(&public),
                "--at",
                "yesterday",
            ],
            "not a time",
        ),
    ];
    for (args, expect) in cases {
        let mut full = vec!["verify-credential"];
        full.extend(&args);
        let o = holoid(&full);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        assert!(
            stderr(&o).contains(expect),
            "{args:?}: wanted `{expect}` in `{}`",
            stderr(&o)
        );
    }
    let window_cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["--master-key", p(&device)], "device pattern key"),
        (vec!["--master-key", p(&missing)], "No such file"),
        (vec!["--master-key", p(&master), "--period", "31"], "out of range"),
        (vec!["--master-key", p(&master), "--period", "0"], "out of range"),
    ];
    for (args, expect) in window_cases {
        let mut full = vec!["window", "--credential", p(&cred)];
        full.extend(&args);
        let o = holoid(&full);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        assert!(
            stderr(&o).contains(expect),
            "{args:?}: wanted `{expect}` in `{}`",
            stderr(&o)
        );
    }
}

#[test]
fn window_shows_the_time_key_without_secrets() {
    let root = scratch("cli-window");
    let d = demo(&root, 4);
    let args = |at: &str| {
        holoid(&[
            "window",
            "--credential",
            p(&d.join("credential.json")),
            "--master-key",
            p(&d.join("master.key")),
            "--at",
            at,
        ])
    };
    let a = args("2026-11-25T10:49:52.250Z");
    assert!(a.status.success(), "{}", stderr(&a));
    let out = stdout(&a);
    assert!(out.contains("window    359120758 (period 5 s"), "{out}");
    assert!(out.contains("phase 0.450"), "{out}");
    let master = fs::read_to_string(d.join("master.key")).unwrap();
    assert!(!out.contains(master.trim().split(':').nth(1).unwrap()));
    let payload = |o: &Output| {
        stdout(o)
            .lines()
            .find(|l| l.starts_with("payload"))
            .map(str::to_string)
    };
    assert!(payload(&a).is_some());
    let same_window = args("2026-11-25T10:49:54.999Z");
    assert_eq!(payload(&same_window), payload(&a));
    let next_window = args("2026-11-25T10:49:55Z");
    assert_ne!(
        payload(&next_window),
        payload(&a),
        "the payload must change with the window"
    );
}

#[test]
fn every_command_has_help_with_an_example() {
    for cmd in [
        "demo-credential",
        "verify-credential",
        "window",
        "render",
        "view",
        "simulate",
        "check",
        "eval",
    ] {
        let o = holoid(&[cmd, "--help"]);
        assert!(o.status.success());
        assert!(stdout(&o).contains("Example:"), "{cmd} --help has no example");
        let first = stdout(&o).lines().next().unwrap_or_default().to_string();
        assert!(
            first.len() <= 100 && first.matches(". ").count() == 0,
            "{cmd} --help opens with a paragraph, not a line: {first}"
        );
    }
    let top = holoid(&["--help"]);
    assert!(stdout(&top).contains("Exit status"));
    // The command list gives each command one short line.
    for line in stdout(&top)
        .lines()
        .filter(|l| l.starts_with("  ") && !l.trim_start().starts_with('-'))
    {
        assert!(
            line.chars().count() <= 120,
            "a long summary in `holoid --help`: {line}"
        );
    }
}

#[test]
fn render_writes_a_png_and_refuses_bad_input() {
    if holoid_testkit::gpu::skip_gpu("the `holoid render` test") {
        return;
    }
    let root = scratch("cli-render");
    let d = demo(&root, 5);
    let other = demo(&root, 6);
    let (cred, key) = (d.join("credential.json"), d.join("device.key"));
    let out = root.join("card.png");
    let render = |key: &Path, out: &Path, extra: &[&str]| {
        let mut args = vec![
            "render",
            "--credential",
            p(&cred),
            "--device-key",
            p(key),
            "--out",
            p(out),
        ];
        args.extend_from_slice(extra);
        holoid(&args)
    };
    let base = |extra: &[&str]| render(&key, &out, extra);
    let o = base(&["--at", "1795603792.25", "--tilt", "-30,5", "--size", "360x780"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let img = image::open(&out).unwrap();
    assert_eq!((img.width(), img.height()), (360, 780));
    // Without a desktop session (no XDG_RUNTIME_DIR, as on a server or in CI) a successful
    // render says nothing on standard error (Mesa's device-select layer used to make
    // libwayland print an error there twice).
    let quiet = Command::new(env!("CARGO_BIN_EXE_holoid"))
        .args([
            "render",
            "--credential",
            p(&cred),
            "--device-key",
            p(&key),
            "--out",
            p(&out),
        ])
        .args(["--at", "1795603792.25", "--size", "180x390"])
        .env_remove("XDG_RUNTIME_DIR")
        .env_remove("WAYLAND_DISPLAY")
        .env_remove("NODEVICE_SELECT")
        .output()
        .expect("run holoid");
    assert!(quiet.status.success(), "{}", stderr(&quiet));
    assert_eq!(stderr(&quiet), "", "a successful render prints nothing on stderr");
    let wrong_key = other.join("device.key");
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            vec!["--device-key", p(&wrong_key)],
            "does not belong to this credential",
        ),
        (vec!["--size", "0x100"], "each side must be"),
        (vec!["--size", "100000x100"], "each side must be"),
        (vec!["--size", "big"], "not a size"),
        (vec!["--at", "noon"], "not a time"),
        (vec!["--tilt", "-95,0"], "not a tilt"),
        (vec!["--capture-state", "filming"], "not a capture state"),
    ];
    for (extra, expect) in cases {
        let o = match extra.as_slice() {
            ["--device-key", k] => render(Path::new(k), &out, &[]),
            _ => base(&extra),
        };
        assert_eq!(o.status.code(), Some(2), "{extra:?}: {}", stderr(&o));
        assert!(
            stderr(&o).contains(expect),
            "{extra:?}: wanted `{expect}` in `{}`",
            stderr(&o)
        );
    }
    // An animated PNG with its frames, driven by motion samples.
    let motion = root.join("motion.csv");
    let mut csv = String::from("t,ax,ay,az\n");
    for i in 0..300 {
        let t = f64::from(i) / 100.0;
        let shake = if (1.0..1.6).contains(&t) {
            18.0 * (t * 4.0 * std::f64::consts::TAU).sin()
        } else {
            0.0
        };
        csv += &format!("{t},{shake},6.9,6.9\n");
    }
    fs::write(&motion, csv).unwrap();
    let frames_dir = root.join("frames");
    let anim = root.join("anim.png");
    let args = [
        "--at",
        "1795603792",
        "--frames",
        "6",
        "--fps",
        "4",
        "--size",
        "180x390",
        "--motion",
        p(&motion),
        "--frames-dir",
        p(&frames_dir),
    ];
    let o = render(&key, &anim, &args);
    assert!(o.status.success(), "{}", stderr(&o));
    let bytes = fs::read(&anim).unwrap();
    assert!(bytes.windows(4).any(|w| w == b"acTL"), "not an animated PNG");
    assert_eq!(fs::read_dir(&frames_dir).unwrap().count(), 6);
    let bad_motion = root.join("bad.csv");
    fs::write(&bad_motion, "0,1,2\n").unwrap();
    let o = render(&key, &anim, &["--motion", p(&bad_motion)]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("line 1"), "{}", stderr(&o));
    let bad_out = root.join("card.jpg");
    let o = render(&key, &bad_out, &[]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains(".png"));
}

#[test]
fn simulate_writes_a_reproducible_dataset_with_a_manifest() {
    if holoid_testkit::gpu::skip_gpu("the `holoid simulate` test") {
        return;
    }
    let root = scratch("cli-simulate");
    let run = |name: &str, seed: &str| {
        let out = root.join(name);
        let o = holoid(&[
            "simulate",
            "--out",
            p(&out),
            "--count",
            "1",
            "--seed",
            seed,
            "--species",
            "bona_fide,print,screen_photo",
            "--levels",
            "easy",
            "--burst",
            "2",
            "--size",
            "180x320",
        ]);
        assert!(o.status.success(), "{}", stderr(&o));
        out
    };
    let (a, b, c) = (run("a", "5"), run("b", "5"), run("c", "6"));
    let manifest = fs::read_to_string(a.join("manifest.jsonl")).unwrap();
    assert_eq!(manifest, fs::read_to_string(b.join("manifest.jsonl")).unwrap());
    assert_ne!(manifest, fs::read_to_string(c.join("manifest.jsonl")).unwrap());
    let lines: Vec<serde_json::Value> = manifest
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 3);
    // The manifest round-trips: each line, parsed and written again, is the same text.
    for (line, value) in manifest.lines().zip(&lines) {
        assert_eq!(serde_json::to_string(value).unwrap(), line);
    }
    for line in &lines {
        let frames = line["frames"].as_array().unwrap();
        assert_eq!(frames.len(), 2);
        assert_eq!(line["capture_times_ms"].as_array().unwrap().len(), 2);
        assert_eq!(line["attack"].as_bool(), Some(line["species"] != "bona_fide"));
        for f in frames {
            let file = f["file"].as_str().unwrap();
            let bytes = fs::read(a.join(file)).unwrap();
            assert_eq!(
                bytes,
                fs::read(b.join(file)).unwrap(),
                "{file} differs for one seed"
            );
            assert_eq!(
                holoid_core::encoding::to_hex(&holoid_core::mac::sha256(&[&bytes])),
                f["sha256"].as_str().unwrap()
            );
            let img = image::load_from_memory(&bytes).unwrap();
            assert_eq!((img.width(), img.height()), (180, 320));
        }
    }
    assert!(a.join("identity/credential.json").exists());
    // Refusals.
    let o = holoid(&["simulate", "--out", p(&a)]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("not empty"), "{}", stderr(&o));
    let o = holoid(&["simulate", "--out", p(&root.join("d")), "--species", "deepfake"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("not a species"), "{}", stderr(&o));
    let o = holoid(&["simulate", "--out", p(&root.join("d")), "--levels", "extreme"]);
    assert!(stderr(&o).contains("not a level"), "{}", stderr(&o));
    let o = holoid(&["simulate", "--out", p(&root.join("d")), "--edits", "birth_day"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("unknown edit `birth_day`") && stderr(&o).contains("expiry_year_digit"),
        "{}",
        stderr(&o)
    );
    assert!(!root.join("d").exists(), "nothing written for a refused command");
}

#[test]
fn simulate_edits_choose_what_text_edit_captures_carry() {
    if holoid_testkit::gpu::skip_gpu("the `holoid simulate --edits` test") {
        return;
    }
    let out = scratch("cli-simulate-edits").join("d");
    let o = holoid(&[
        "simulate",
        "--out",
        p(&out),
        "--count",
        "4",
        "--seed",
        "3",
        "--species",
        "text_edit",
        "--levels",
        "easy",
        "--burst",
        "1",
        "--size",
        "180x320",
        "--edits",
        "expiry_year_digit",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let manifest = fs::read_to_string(out.join("manifest.jsonl")).unwrap();
    assert_eq!(manifest.lines().count(), 4);
    for line in manifest.lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        assert_eq!(v["edit"], "expiry_year_digit", "{line}");
    }
}

#[test]
fn simulate_chunks_of_one_seed_make_the_same_captures_as_one_run() {
    if holoid_testkit::gpu::skip_gpu("the `holoid simulate --from` test") {
        return;
    }
    let root = scratch("cli-simulate-chunks");
    let run = |name: &str, from: &str, count: &str| {
        let out = root.join(name);
        let o = holoid(&[
            "simulate",
            "--out",
            p(&out),
            "--seed",
            "8",
            "--from",
            from,
            "--count",
            count,
            "--species",
            "bona_fide",
            "--levels",
            "normal",
            "--burst",
            "1",
            "--size",
            "180x320",
        ]);
        assert!(o.status.success(), "{}", stderr(&o));
        fs::read_to_string(out.join("manifest.jsonl")).unwrap()
    };
    let whole = run("whole", "0", "3");
    let chunks = run("first", "0", "2") + &run("second", "2", "1");
    assert_eq!(whole.lines().count(), 3);
    assert_eq!(whole, chunks);
    assert!(whole.contains("bona_fide/normal/0002-0.jpg"), "{whole}");
}

#[test]
fn a_closed_pipe_ends_output_without_a_panic() {
    use std::process::Stdio;
    let root = scratch("cli-pipe");
    let d = demo(&root, 2);
    let mut child = Command::new(env!("CARGO_BIN_EXE_holoid"))
        .args([
            "window",
            "--credential",
            p(&d.join("credential.json")),
            "--master-key",
            p(&d.join("master.key")),
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Close the reading end before the program prints (as `holoid window | head -0` does).
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("panicked"), "{err}");
}

/// A small dataset of bona fide, stale replay and fake app captures at easy, 720x1280.
fn check_dataset(root: &Path) -> PathBuf {
    let out = root.join("ds");
    let o = holoid(&[
        "simulate",
        "--out",
        p(&out),
        "--count",
        "1",
        "--seed",
        "9",
        "--species",
        "bona_fide,stale_replay,fake_app",
        "--levels",
        "easy",
        "--burst",
        "2",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    out
}

#[test]
fn check_and_eval_answer_with_exit_codes_and_refuse_bad_input() {
    if holoid_testkit::gpu::skip_gpu("the `holoid check` test") {
        return;
    }
    let root = scratch("cli-check");
    let ds = check_dataset(&root);
    let manifest: Vec<serde_json::Value> = fs::read_to_string(ds.join("manifest.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let cred = ds.join("identity/credential.json");
    let master = ds.join("identity/master.key");
    let check = |species: &str, extra: &[&str]| {
        let line = manifest.iter().find(|l| l["species"] == species).unwrap();
        let times: Vec<String> = line["capture_times_ms"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| format!("{:.3}", t.as_u64().unwrap() as f64 / 1000.0))
            .collect();
        let files: Vec<String> = line["frames"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| ds.join(f["file"].as_str().unwrap()).display().to_string())
            .collect();
        let mut args: Vec<String> = [
            "check",
            "--credential",
            p(&cred),
            "--master-key",
            p(&master),
            "--at",
        ]
        .map(String::from)
        .to_vec();
        args.push(times[0].clone());
        args.push("--frame-times".into());
        args.push(times[1..].join(","));
        args.extend(extra.iter().map(|s| s.to_string()));
        args.extend(files);
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        holoid(&refs)
    };
    // Genuine: exit 0, a readable verdict.
    let o = check("bona_fide", &[]);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    assert!(stdout(&o).starts_with("GENUINE"), "{}", stdout(&o));
    assert!(stdout(&o).contains("tag_valid"));
    // Forgeries: exit 3; JSON with the documented fields.
    let o = check("stale_replay", &["--json"]);
    assert_eq!(o.status.code(), Some(3), "{}{}", stdout(&o), stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["decision"], "forgery");
    assert!(v["score"].as_f64().unwrap() < 0.5);
    assert!(v["window"].is_u64());
    assert!(
        v["reasons"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["code"] == "stale_window")
    );
    let o = check("fake_app", &["--json"]);
    assert_eq!(o.status.code(), Some(3));
    assert!(stdout(&o).contains("invalid_tag"));
    // Offline status: the issuer's signed list decides a genuine card's fate; a list that
    // cannot be trusted leaves it inconclusive, never genuine and never revoked.
    {
        use holoid_core::status::{self, Status, StatusList};
        let demo = holoid_core::demo::DemoIdentity::generate(9);
        let entry = demo.credential.credential.status;
        let t0 = manifest.iter().find(|l| l["species"] == "bona_fide").unwrap()["capture_times_ms"][0]
            .as_u64()
            .unwrap()
            / 1000;
        let list_file =
            |name: &str, value: Status, key: &holoid_core::keys::IssuerSecret, iat: u64, exp: u64| {
                let mut l = StatusList::new(status::LIST_LEN as usize);
                l.set(entry.index as usize, value);
                let path = root.join(name);
                fs::write(
                    &path,
                    status::sign(&l, &status::subject(entry.list), iat, 300, exp, key),
                )
                .unwrap();
                path
            };
        let issuer_pub = ds.join("identity/issuer.pub");
        let other = holoid_core::demo::DemoIdentity::generate(10).issuer;
        for (list, code, reason) in [
            (
                list_file("valid.jwt", Status::Valid, &demo.issuer, t0 - 60, t0 + 3600),
                0,
                "tag_valid",
            ),
            (
                list_file("lost.jwt", Status::Suspended, &demo.issuer, t0 - 60, t0 + 3600),
                3,
                "credential_suspended",
            ),
            (
                list_file("gone.jwt", Status::Invalid, &demo.issuer, t0 - 60, t0 + 3600),
                3,
                "credential_revoked",
            ),
            (
                list_file("stale.jwt", Status::Valid, &demo.issuer, t0 - 90_000, t0 - 3600),
                4,
                "status_unknown",
            ),
            (
                list_file("other.jwt", Status::Valid, &other, t0 - 60, t0 + 3600),
                4,
                "status_unknown",
            ),
        ] {
            let o = check(
                "bona_fide",
                &[
                    "--json",
                    "--issuer-pub",
                    p(&issuer_pub),
                    "--status-list",
                    p(&list),
                ],
            );
            assert_eq!(
                o.status.code(),
                Some(code),
                "{}: {}{}",
                list.display(),
                stdout(&o),
                stderr(&o)
            );
            let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
            if code == 0 {
                let codes: Vec<&str> = v["reasons"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|r| r["code"].as_str().unwrap())
                    .collect();
                assert!(
                    !codes
                        .iter()
                        .any(|c| c.starts_with("credential_") || *c == "status_unknown"),
                    "{codes:?}"
                );
            } else {
                assert_eq!(v["reasons"][0]["code"], reason, "{}: {v}", list.display());
            }
        }
        let o = check("bona_fide", &["--status-list", p(&root.join("valid.jwt"))]);
        assert_eq!(o.status.code(), Some(2), "--status-list needs --issuer-pub");
        let o = check(
            "bona_fide",
            &[
                "--issuer-pub",
                p(&issuer_pub),
                "--status-list",
                p(&root.join("none.jwt")),
            ],
        );
        assert_eq!(o.status.code(), Some(2));
        assert!(stderr(&o).contains("none.jwt"), "{}", stderr(&o));
    }
    // Inconclusive: a photo without a card, exit 4.
    let blank = root.join("blank.png");
    image::RgbImage::from_pixel(720, 1280, image::Rgb([120, 120, 120]))
        .save(&blank)
        .unwrap();
    let base = [
        "check",
        "--credential",
        p(&cred),
        "--master-key",
        p(&master),
        "--at",
        "1795603792",
    ];
    let with = |extra: &[&str]| {
        let mut a: Vec<&str> = base.to_vec();
        a.extend_from_slice(extra);
        holoid(&a)
    };
    let o = with(&[p(&blank)]);
    assert_eq!(o.status.code(), Some(4), "{}{}", stdout(&o), stderr(&o));
    assert!(stdout(&o).contains("card_not_found"));
    // Bad input: each a clear error and exit 2, never a panic.
    let empty = root.join("empty.jpg");
    fs::write(&empty, b"").unwrap();
    let text = root.join("notes.jpg");
    fs::write(&text, b"this is not an image").unwrap();
    let truncated = root.join("truncated.jpg");
    let real = fs::read(ds.join(manifest[0]["frames"][0]["file"].as_str().unwrap())).unwrap();
    fs::write(&truncated, &real[..real.len() / 3]).unwrap();
    let bomb = root.join("bomb.png");
    let mut png = Vec::new();
    image::RgbImage::new(64, 64)
        .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .unwrap();
    png[16..20].copy_from_slice(&60_000u32.to_be_bytes());
    png[20..24].copy_from_slice(&60_000u32.to_be_bytes());
    let crc = crc32fast::hash(&png[12..29]);
    png[29..33].copy_from_slice(&crc.to_be_bytes());
    fs::write(&bomb, &png).unwrap();
    for (file, says) in [
        (&empty, "empty"),
        (&text, "not a JPEG or PNG"),
        (&truncated, "damaged or truncated"),
        (&bomb, "over the limit"),
        (&root.join("missing.jpg"), "missing.jpg"),
    ] {
        let o = with(&[p(file)]);
        assert_eq!(o.status.code(), Some(2), "{}: {}", file.display(), stderr(&o));
        assert!(stderr(&o).contains(says), "{}: {}", file.display(), stderr(&o));
        assert!(!stderr(&o).contains("panicked"));
    }
    let o = with(&[p(&blank), p(&blank)]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--frame-times"), "{}", stderr(&o));
    let other = demo(&root, 3);
    let o = holoid(&[
        "check",
        "--credential",
        p(&cred),
        "--master-key",
        p(&other.join("master.key")),
        "--at",
        "1795603792",
        p(&blank),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("does not belong"), "{}", stderr(&o));
    // Eval: the table, JSON and chart; a damaged frame is counted as an error, not fatal.
    fs::write(
        ds.join(manifest[0]["frames"][1]["file"].as_str().unwrap()),
        b"garbage",
    )
    .unwrap();
    let json = root.join("eval.json");
    let plot = root.join("eval.png");
    let bad_file = manifest[0]["frames"][1]["file"].as_str().unwrap();
    let o = holoid(&["eval", p(&ds)]);
    assert_eq!(o.status.code(), Some(2), "{}", stdout(&o));
    assert!(
        stderr(&o).contains(bad_file),
        "the error names the file: {}",
        stderr(&o)
    );
    assert!(stderr(&o).contains("--keep-going"), "{}", stderr(&o));
    let o = holoid(&[
        "eval",
        p(&ds),
        "--keep-going",
        "--json",
        p(&json),
        "--plot",
        p(&plot),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("APCER") && out.contains("BPCER"), "{out}");
    assert!(out.contains("1 captures could not be checked"), "{out}");
    let report: serde_json::Value = serde_json::from_str(&fs::read_to_string(&json).unwrap()).unwrap();
    let groups = report["groups"].as_array().unwrap();
    assert_eq!(groups.len(), 3);
    for g in groups.iter().filter(|g| g["attack"] == true) {
        assert_eq!(g["apcer"].as_f64(), Some(0.0), "{g}");
    }
    let chart = image::open(&plot).unwrap();
    assert!(chart.width() > 1000);
    let o = holoid(&["eval", p(&root.join("nowhere"))]);
    assert_eq!(o.status.code(), Some(2));
}

/// `photo` (a JPEG) with an EXIF block saying it was taken at `taken` in Korea (UTC+9): the
/// DateTimeOriginal wall-clock time, its OffsetTimeOriginal and the SubSecTimeOriginal.
fn with_exif_time(photo: &[u8], taken: u64) -> Vec<u8> {
    use exif::{Field, In, Tag, Value};
    let local = holoid_core::time::UnixMillis(taken + 9 * 3_600_000).to_rfc3339();
    let (date, rest) = local.split_once('T').unwrap();
    let (hms, millis) = rest.trim_end_matches('Z').split_once('.').unwrap();
    let ascii = |tag: Tag, text: String| Field {
        tag,
        ifd_num: In::PRIMARY,
        value: Value::Ascii(vec![text.into_bytes()]),
    };
    let fields = [
        ascii(Tag::DateTimeOriginal, format!("{} {hms}", date.replace('-', ":"))),
        ascii(Tag::OffsetTimeOriginal, "+09:00".into()),
        ascii(Tag::SubSecTimeOriginal, millis.into()),
    ];
    let mut writer = exif::experimental::Writer::new();
    for f in &fields {
        writer.push_field(f);
    }
    let mut tiff = std::io::Cursor::new(Vec::new());
    writer.write(&mut tiff, false).unwrap();
    let tiff = tiff.into_inner();
    assert_eq!(&photo[..2], [0xFF, 0xD8], "a JPEG");
    let len = u16::try_from(2 + 6 + tiff.len()).unwrap();
    let mut out = photo[..2].to_vec();
    out.extend_from_slice(&[0xFF, 0xE1]);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(b"Exif\0\0");
    out.extend_from_slice(&tiff);
    out.extend_from_slice(&photo[2..]);
    out
}

#[test]
fn check_takes_the_capture_time_from_the_photos_exif() {
    if holoid_testkit::gpu::skip_gpu("the `holoid check` EXIF test") {
        return;
    }
    let root = scratch("cli-check-exif");
    let ds = check_dataset(&root);
    let line: serde_json::Value = fs::read_to_string(ds.join("manifest.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .find(|l| l["species"] == "bona_fide")
        .unwrap();
    let mut photos = Vec::new();
    for (i, (f, t)) in line["frames"]
        .as_array()
        .unwrap()
        .iter()
        .zip(line["capture_times_ms"].as_array().unwrap())
        .enumerate()
    {
        let jpeg = fs::read(ds.join(f["file"].as_str().unwrap())).unwrap();
        let path = root.join(format!("exif-{i}.jpg"));
        fs::write(&path, with_exif_time(&jpeg, t.as_u64().unwrap())).unwrap();
        photos.push(path);
    }
    let (cred, master) = (
        ds.join("identity/credential.json"),
        ds.join("identity/master.key"),
    );
    let base = ["check", "--credential", p(&cred), "--master-key", p(&master)];
    // No --at: each photo's EXIF time (KST, with milliseconds) is its capture time.
    let mut args = base.to_vec();
    args.extend(photos.iter().map(|f| p(f)));
    let o = holoid(&args);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    assert!(stderr(&o).contains("from the photos' EXIF"), "{}", stderr(&o));
    let first = holoid_core::time::UnixMillis(line["capture_times_ms"][0].as_u64().unwrap());
    assert!(stderr(&o).contains(&first.to_rfc3339()), "{}", stderr(&o));
    // A photo without a capture time and no --at: told what to give.
    let bare = ds.join(line["frames"][0]["file"].as_str().unwrap());
    let o = holoid(&[
        "check",
        "--credential",
        p(&cred),
        "--master-key",
        p(&master),
        p(&bare),
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("no EXIF") && stderr(&o).contains("--at"),
        "{}",
        stderr(&o)
    );
}
