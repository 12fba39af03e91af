//! `holoid simulate`: a labelled dataset of simulated captures (JPEG, as a camera writes
//! them) with a `manifest.jsonl`. Part of the `holoid` binary.

use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::files::write_atomic;
use holoid_core::credential::Credential;
use holoid_core::demo::DemoIdentity;
use holoid_core::demo::{EDIT_NAMES, EDITS, edited};
use holoid_core::encoding::to_hex;
use holoid_core::keys::DeviceKey;
use holoid_core::mac::sha256;
use holoid_core::time::UnixMillis;
use holoid_render::{GpuContext, RendererOptions};
use holoid_sim::camera::{Level, encode_jpeg};
use holoid_sim::manifest::{FrameFile, ManifestEntry};
use holoid_sim::rng::Rng;
use holoid_sim::species::{Cast, Renderers, Species, generate};

use crate::render_cmd::Size;
use crate::{Failure, Outcome, usage};

/// Writes a labelled dataset of simulated camera captures of the demo card.
///
/// Bona fide and every attack species, at every capture level, as bursts of JPEG frames, with
/// DIR/manifest.jsonl (one line per capture: files, species, level, capture and drawn times,
/// every parameter) and the identity in DIR/identity/. Deterministic for a seed.
#[derive(clap::Args)]
#[command(
    after_help = "Example:\n  holoid simulate --out /tmp/dataset --count 5 --seed 1 --levels easy,hard --burst 3"
)]
pub struct SimulateCli {
    /// Directory to write into (created; must be empty unless --force).
    #[arg(long, value_name = "DIR")]
    pub(crate) out: PathBuf,
    /// Captures per species and level.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub(crate) count: u32,
    /// Number of the first capture (each capture's randomness comes from the seed and its
    /// number): chunks `--from 0 --count 50`, `--from 50 --count 50`, … of one seed make the
    /// same captures as one run, and their directories merge into one dataset (files and
    /// manifest lines concatenated; the identity is the same).
    #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u32).range(0..=1_000_000))]
    pub(crate) from: u32,
    /// Seed of the whole dataset (identity, times, poses, cameras, noise).
    #[arg(long, default_value_t = 1)]
    pub(crate) seed: u64,
    /// Species to generate, comma-separated. By default, all.
    #[arg(long, value_delimiter = ',')]
    pub(crate) species: Vec<Species>,
    /// Capture levels, comma-separated. By default, all four.
    #[arg(long, value_delimiter = ',')]
    pub(crate) levels: Vec<Level>,
    /// The edits text-edit captures choose from, comma-separated (birth_year_digit,
    /// birth_year_and_number, expiry_year_digit, name, name_syllable, latin_letter). By
    /// default, all: each capture's edit is then the same as before this option existed.
    #[arg(long, value_delimiter = ',', value_parser = parse_edit)]
    pub(crate) edits: Vec<usize>,
    /// Frames per capture (a burst).
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..=8))]
    pub(crate) burst: u32,
    /// Camera frame size.
    #[arg(long, value_name = "WxH", default_value = "720x1280")]
    pub(crate) size: Size,
    /// Write into a directory that is not empty.
    #[arg(long)]
    pub(crate) force: bool,
    /// Captures made at once. By default, one per core.
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=64))]
    pub(crate) jobs: Option<u32>,
}

/// Generates capture `n` of `sp` at `level` (text edits: edit `edit` of [`EDIT_NAMES`]),
/// writes its frames, and returns its manifest line.
fn capture(
    a: &SimulateCli,
    root: &Rng,
    (sp, level, n): (Species, Level, u32),
    credential_id: &str,
    renderers: Renderers<'_>,
    edit: usize,
) -> Result<String, Failure> {
    let dir = a.out.join(sp.name()).join(level.name());
    let mut rng = root.derive(&format!("{}/{}", sp.name(), level.name()), u64::from(n));
    let t = UnixMillis(EPOCH + rng.range(0.0, 86_400_000.0) as u64);
    let cap = generate(
        sp,
        level,
        t,
        a.burst as usize,
        (a.size.0, a.size.1),
        renderers,
        &mut rng,
    )
    .map_err(usage)?;
    let mut files = Vec::new();
    for (i, frame) in cap.frames.iter().enumerate() {
        let name = format!("{n:04}-{i}.jpg");
        let jpeg = encode_jpeg(frame, cap.cameras[i].jpeg_quality);
        write_atomic(&dir.join(&name), &jpeg, false).map_err(usage)?;
        files.push(FrameFile {
            file: format!("{}/{}/{name}", sp.name(), level.name()),
            sha256: to_hex(&sha256(&[&jpeg])),
        });
    }
    let edit = (sp == Species::TextEdit).then_some(EDIT_NAMES[edit]);
    Ok(ManifestEntry::new(&cap, n, credential_id, files, edit).to_line())
}

/// An edit's index in [`EDIT_NAMES`], from its name.
fn parse_edit(name: &str) -> Result<usize, String> {
    EDIT_NAMES
        .iter()
        .position(|&e| e == name)
        .ok_or_else(|| format!("unknown edit `{name}`: one of {}", EDIT_NAMES.join(", ")))
}

/// How many other people's faces portrait swaps choose from.
const SWAP_FACES: u64 = 8;

/// The first capture time of a dataset: 2026-11-25T10:00:00Z.
const EPOCH: u64 = 1_795_600_800_000;

pub fn run(a: &SimulateCli) -> Outcome {
    if a.size.0 < 64 || a.size.1 < 64 || a.size.0 > 8192 || a.size.1 > 8192 {
        return Err(usage(format!(
            "--size {}x{}: each side must be 64 to 8192 pixels",
            a.size.0, a.size.1
        )));
    }
    if a.out.exists()
        && !a.force
        && std::fs::read_dir(&a.out)
            .map(|mut d| d.next().is_some())
            .unwrap_or(true)
    {
        return Err(usage(format!(
            "`{}` is not empty: choose a new --out, or pass --force",
            a.out.display()
        )));
    }
    let species = if a.species.is_empty() {
        Species::ALL.to_vec()
    } else {
        a.species.clone()
    };
    let levels = if a.levels.is_empty() {
        Level::ALL.to_vec()
    } else {
        a.levels.clone()
    };
    let identity_dir = a.out.join("identity");
    std::fs::create_dir_all(&identity_dir)
        .map_err(|e| usage(format!("cannot create `{}`: {e}", a.out.display())))?;
    let demo = DemoIdentity::generate(a.seed);
    // Portrait swaps show one of several other people's faces, chosen per capture.
    let other_people: Vec<DemoIdentity> = (0..SWAP_FACES)
        .map(|k| DemoIdentity::generate(a.seed.wrapping_add(1_000_003 + k)))
        .collect();
    let others: Vec<Vec<u8>> = other_people.iter().map(|d| d.portrait_png.clone()).collect();
    // Edited cards: each kind of edit, with a syllable from another person's name.
    let edits: Vec<Credential> = (0..EDITS)
        .map(|k| {
            edited(
                &demo.credential.credential,
                &other_people[k].credential.credential,
                k,
            )
        })
        .collect();
    let edits_chosen: Vec<usize> = if a.edits.is_empty() {
        (0..EDITS).collect()
    } else {
        a.edits.clone()
    };
    let c = &demo.credential.credential;
    let device_key = demo.master.device_key_for(c);
    let identity: [(&str, Vec<u8>, bool); 5] = [
        ("credential.json", demo.credential.to_json().into_bytes(), false),
        ("portrait.png", demo.portrait_png.clone(), false),
        ("issuer.pub", demo.issuer.public().to_text().into_bytes(), false),
        ("master.key", demo.master.to_text().into_bytes(), true),
        ("device.key", device_key.to_text().into_bytes(), true),
    ];
    for (name, bytes, secret) in &identity {
        write_atomic(&identity_dir.join(name), bytes, *secret).map_err(usage)?;
    }
    let gpu = GpuContext::headless().map_err(usage)?;
    let fake_key = DeviceKey::from_bytes(sha256(&[b"holoid/simulate/fake-app", &a.seed.to_be_bytes()]));
    // Every capture has its own seed (species, level, number), so the captures can be made in
    // any order: one worker per core, each with its own renderers, takes the next capture.
    let jobs: Vec<(Species, Level, u32)> = species
        .iter()
        .flat_map(|&sp| {
            levels
                .iter()
                .flat_map(move |&l| (a.from..a.from + a.count).map(move |n| (sp, l, n)))
        })
        .collect();
    for &sp in &species {
        for &level in &levels {
            let dir = a.out.join(sp.name()).join(level.name());
            std::fs::create_dir_all(&dir)
                .map_err(|e| usage(format!("cannot create `{}`: {e}", dir.display())))?;
        }
    }
    let total = jobs.len();
    let workers = a
        .jobs
        .map(|j| j as usize)
        .unwrap_or_else(|| std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1));
    let next = AtomicUsize::new(0);
    let done = AtomicUsize::new(0);
    let lines: Mutex<Vec<(usize, String)>> = Mutex::new(Vec::with_capacity(total));
    let root = Rng::new(a.seed);
    let progress = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let outcome: Result<(), Failure> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..workers.min(total))
            .map(|_| {
                s.spawn(|| -> Result<(), Failure> {
                    let mut cast = Cast::new(
                        &gpu,
                        &demo,
                        &fake_key,
                        others.clone(),
                        edits.clone(),
                        RendererOptions::default(),
                    )
                    .map_err(usage)?;
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(&(sp, level, n)) = jobs.get(i) else {
                            return Ok(());
                        };
                        let face = (root
                            .derive(&format!("swap-face/{}/{}", sp.name(), level.name()), u64::from(n))
                            .next_u64()
                            % SWAP_FACES) as usize;
                        let edit = root
                            .derive(&format!("text-edit/{}/{}", sp.name(), level.name()), u64::from(n))
                            .next_u64();
                        let edit = edits_chosen[(edit % edits_chosen.len() as u64) as usize];
                        let renderers = cast.renderers(face, edit).map_err(usage)?;
                        let line = capture(a, &root, (sp, level, n), &c.id, renderers, edit)?;
                        lines.lock().expect("no panics while held").push((i, line));
                        let d = done.fetch_add(1, Ordering::Relaxed) + 1;
                        if progress {
                            eprint!("\rsimulating {d}/{total} captures");
                        } else if d.is_multiple_of((total / 10).max(1)) {
                            eprintln!("simulated {d}/{total} captures");
                        }
                    }
                })
            })
            .collect();
        handles.into_iter().try_for_each(|h| {
            h.join()
                .unwrap_or_else(|_| Err(usage("a simulation worker failed")))
        })
    });
    outcome?;
    let mut lines = lines.into_inner().expect("workers joined");
    lines.sort_by_key(|(i, _)| *i);
    let manifest: String = lines.into_iter().map(|(_, l)| l + "\n").collect();
    if progress {
        eprintln!();
    }
    write_atomic(&a.out.join("manifest.jsonl"), manifest.as_bytes(), false).map_err(usage)?;
    println!(
        "wrote {total} captures ({} species x {} levels x {}, {} frames each) and manifest.jsonl to {}",
        species.len(),
        levels.len(),
        a.count,
        a.burst,
        a.out.display()
    );
    Ok(())
}
