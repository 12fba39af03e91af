//! `holoid eval`: runs the detector over a dataset written by `holoid simulate` (or any
//! dataset with the same manifest) and reports it the ISO/IEC 30107-3 way. Part of the
//! `holoid` binary.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::files::{read_text, write_atomic};
use holoid_detect::evidence::{self, FrameEvidence, Record};
use holoid_detect::input::DEFAULT_MAX_PIXELS;
use holoid_detect::{Capture, Decision, Detector, Timings, Verdict};
use holoid_sim::camera::Level;
use holoid_sim::eval::{Answer, Call, Group, Summary};
use holoid_sim::manifest::ManifestEntry;
use holoid_sim::species::Species;
use serde_json::json;

use crate::check_cmd::{load_photo, load_trust};
use crate::{Failure, Outcome, usage};

/// Runs the detector on a dataset and reports APCER and BPCER per species and level.
///
/// Prints, per species and level, APCER (attacks called genuine) or BPCER (bona fide not
/// called genuine), the rates of each decision, the code decode rate and the time per
/// capture; writes the same as JSON, and a chart.
///
/// DIR holds manifest.jsonl and identity/ (credential.json, portrait.png, master.key), as
/// `holoid simulate` writes them. A capture whose files are missing or damaged stops the run
/// with an error naming the file; with --keep-going such captures are counted as errors,
/// listed, and the run goes on.
#[derive(clap::Args)]
#[command(
    after_help = "Example:\n  holoid simulate --out /tmp/ds --count 20 --seed 2\n  holoid eval /tmp/ds \
    --json /tmp/ds-eval.json --plot /tmp/ds-eval.png"
)]
pub struct EvalCli {
    /// The dataset directory.
    #[arg(value_name = "DIR")]
    dir: PathBuf,
    /// Also write the report as JSON (per group and per capture).
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
    /// Also draw a chart (PNG): error rates per species and level, and a DET curve.
    #[arg(long, value_name = "FILE")]
    plot: Option<PathBuf>,
    /// Captures checked at once. By default, one per core.
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=256))]
    jobs: Option<u32>,
    /// Go on past captures whose files are missing or damaged (and manifest lines that cannot
    /// be read), counting them as errors.
    #[arg(long)]
    keep_going: bool,
    /// How each capture is checked: `photo`, the detector on the photos (`holoid check`,
    /// `POST /v1/checks`); or `evidence`, each photo measured without a key (as the console's
    /// WebAssembly detector measures camera frames), the evidence sent through JSON and
    /// judged with the key (`POST /v1/checks/evidence`). Both must give the same figures.
    #[arg(long, value_enum, default_value_t = Route::Photo)]
    route: Route,
}

/// How `holoid eval` checks a capture.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Route {
    /// The photos, judged where they are.
    Photo,
    /// The photos measured without a key, the evidence judged with it.
    Evidence,
}

/// One capture of the manifest and what the detector made of it.
pub(crate) struct Row {
    pub id: String,
    pub species: Species,
    pub level: Level,
    /// Which edit a `text_edit` capture carries (the manifest's `edit`).
    pub edit: Option<String>,
    pub result: Result<Verdict, String>,
}

impl Row {
    /// What the evaluation counts of this row: the detector's call, whether the code decoded,
    /// the time; `None` when the capture could not be checked.
    pub(crate) fn answer(&self) -> Option<Answer> {
        self.result.as_ref().ok().map(|v| Answer {
            call: match v.decision {
                Decision::Genuine => Call::Genuine,
                Decision::Forgery => Call::Forgery,
                Decision::Inconclusive => Call::Inconclusive,
            },
            decoded: v.frames.iter().any(|f| f.corrected_bytes.is_some()),
            total_us: v.timings.total_us,
        })
    }
}

/// The `text_edit` captures counted per edit and level: the table's lines (none without
/// such captures) and the JSON groups (`edit`, `level`, `n`, `apcer`, `inconclusive`, ...).
fn per_edit(rows: &[Row]) -> (String, Vec<serde_json::Value>) {
    let mut groups: BTreeMap<(String, usize), (Level, Group)> = BTreeMap::new();
    for r in rows.iter().filter(|r| r.species == Species::TextEdit) {
        let edit = r.edit.clone().unwrap_or_else(|| "unnamed".into());
        let level = Level::ALL.iter().position(|&l| l == r.level).unwrap_or(0);
        groups
            .entry((edit, level))
            .or_insert_with(|| (r.level, Default::default()))
            .1
            .add(r.answer().as_ref());
    }
    if groups.is_empty() {
        return (String::new(), Vec::new());
    }
    let mut table = format!(
        "\n{:<22} {:<7} {:>5}  {:>7} {:>7} {:>8} {:>8}\n",
        "text_edit by edit", "level", "n", "APCER", "≤ 95%", "forgery", "inconcl"
    );
    let mut json = Vec::new();
    for ((edit, _), (level, g)) in &groups {
        let [error, _, forgery, inconclusive, _] = g.percentages(Species::TextEdit);
        let upper = holoid_sim::eval::pct(g.error_upper95(Species::TextEdit));
        table.push_str(&format!(
            "{edit:<22} {:<7} {:>5}  {error:>7} {upper:>7} {forgery:>8} {inconclusive:>8}\n",
            level.name(),
            g.n
        ));
        json.push(serde_json::json!({
            "edit": edit, "level": level.name(), "n": g.n,
            "apcer": g.error_rate(Species::TextEdit),
            "apcer_upper95": g.error_upper95(Species::TextEdit),
            "forgery": g.forgery, "inconclusive": g.inconclusive, "errors": g.errors,
        }));
    }
    (table, json)
}

/// The rows counted per species and level, and per species over all levels.
pub(crate) fn summarise(rows: &[Row]) -> Summary {
    let answers: Vec<Option<Answer>> = rows.iter().map(Row::answer).collect();
    Summary::of(
        rows.iter()
            .zip(&answers)
            .map(|(r, o)| (r.species, r.level, o.as_ref())),
    )
}

pub fn run(a: &EvalCli) -> Outcome {
    let jobs = a
        .jobs
        .map(|j| j as usize)
        .unwrap_or_else(|| std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1));
    let (rows, bad_lines) = evaluate(&a.dir, jobs, a.keep_going, a.route)?;
    report(a, &rows, &bad_lines)
}

/// Runs the detector over the dataset in `dir` with `jobs` threads: one row per capture of
/// the manifest, and the manifest lines that could not be read. Without `keep_going`, a bad
/// line or a capture that cannot be checked is an error naming it.
pub(crate) fn evaluate(
    dir: &Path,
    jobs: usize,
    keep_going: bool,
    route: Route,
) -> Result<(Vec<Row>, Vec<String>), Failure> {
    let manifest_path = dir.join("manifest.jsonl");
    let manifest = read_text(&manifest_path, "manifest", 256 << 20).map_err(usage)?;
    let identity = dir.join("identity");
    let trust = load_trust(
        &identity.join("credential.json"),
        Some(&identity.join("master.key")),
        None,
        None,
    )?;
    let record = trust.record();
    let detector = Detector::builder(trust).build().map_err(usage)?;
    let mut bad_lines = Vec::new();
    let mut work = Vec::new();
    for (i, line) in manifest.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        match ManifestEntry::from_line(line) {
            Ok(e) => work.push((
                e.id.clone(),
                e.species,
                e.level,
                e.edit.clone(),
                e.frame_paths(dir),
            )),
            Err(e) => bad_lines.push(format!("manifest line {}: {e}", i + 1)),
        }
    }
    if let (false, Some(first)) = (keep_going, bad_lines.first()) {
        return Err(usage(format!(
            "{first} (in `{}`; pass --keep-going to skip such lines)",
            manifest_path.display()
        )));
    }
    if work.is_empty() {
        return Err(usage(format!(
            "`{}` lists no usable captures{}",
            manifest_path.display(),
            bad_lines.first().map(|e| format!(" ({e})")).unwrap_or_default()
        )));
    }
    let next = AtomicUsize::new(0);
    let done = AtomicUsize::new(0);
    let rows: Mutex<Vec<(usize, Row)>> = Mutex::new(Vec::with_capacity(work.len()));
    let progress = std::io::IsTerminal::is_terminal(&std::io::stderr());
    std::thread::scope(|s| {
        for _ in 0..jobs.clamp(1, work.len()) {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some((id, species, level, edit, frames)) = work.get(i) else {
                        break;
                    };
                    let result = frames
                        .iter()
                        .map(|(p, _)| load_photo(p, DEFAULT_MAX_PIXELS))
                        .collect::<Result<Vec<_>, _>>()
                        .and_then(|photos| {
                            let captures: Vec<Capture<'_>> = photos
                                .iter()
                                .zip(frames)
                                .map(|(image, (_, time))| Capture { image, time: *time })
                                .collect();
                            match route {
                                Route::Photo => detector.check(&captures).map_err(|e| e.to_string()),
                                Route::Evidence => check_evidence(&detector, &record, &captures),
                            }
                        });
                    let row = Row {
                        id: id.clone(),
                        species: *species,
                        level: *level,
                        edit: edit.clone(),
                        result,
                    };
                    rows.lock().expect("no panics while held").push((i, row));
                    let d = done.fetch_add(1, Ordering::Relaxed) + 1;
                    if progress {
                        eprint!("\rchecking {d}/{} captures", work.len());
                    }
                }
            });
        }
    });
    if progress {
        eprintln!();
    }
    let mut rows = rows.into_inner().expect("threads joined");
    rows.sort_by_key(|(i, _)| *i);
    let rows: Vec<Row> = rows.into_iter().map(|(_, r)| r).collect();
    if !keep_going {
        let failed: Vec<String> = rows
            .iter()
            .filter_map(|r| r.result.as_ref().err().map(|e| format!("{}: {e}", r.id)))
            .collect();
        if let Some(first) = failed.first() {
            return Err(usage(format!(
                "{} of {} captures could not be checked, the first: {first} (pass --keep-going to \
                 count them as errors and report the rest)",
                failed.len(),
                rows.len()
            )));
        }
    }
    Ok((rows, bad_lines))
}

/// The evidence route on photos: each measured without a key, the evidence sent through JSON
/// (as the console sends it) and judged with the key.
fn check_evidence(detector: &Detector, record: &Record, captures: &[Capture<'_>]) -> Result<Verdict, String> {
    let mut timings = Timings::default();
    let evidence: Vec<FrameEvidence> = captures
        .iter()
        .map(|c| evidence::measure(c.image, c.time, record, &mut timings).evidence)
        .collect();
    let sent = serde_json::to_string(&evidence).map_err(|e| e.to_string())?;
    let received: Vec<FrameEvidence> = serde_json::from_str(&sent).map_err(|e| e.to_string())?;
    let mut verdict = detector.check_evidence(&received).map_err(|e| e.to_string())?;
    // The time is the measuring's (the device's) and the judging's (the server's) together.
    let t = &mut verdict.timings;
    t.locate_us += timings.locate_us;
    t.decode_us += timings.decode_us;
    t.sweep_us += timings.sweep_us;
    t.content_us += timings.content_us;
    t.total_us += timings.locate_us + timings.decode_us + timings.sweep_us + timings.content_us;
    Ok(verdict)
}

fn report(a: &EvalCli, rows: &[Row], bad_lines: &[String]) -> Outcome {
    let summary = summarise(rows);
    print!("{}", summary.table());
    let (edit_table, edit_groups) = per_edit(rows);
    print!("{edit_table}");
    let errors: Vec<String> = rows
        .iter()
        .filter_map(|r| r.result.as_ref().err().map(|e| format!("{}: {e}", r.id)))
        .chain(bad_lines.iter().cloned())
        .collect();
    if !errors.is_empty() {
        println!("\n{} captures could not be checked:", errors.len());
        for e in errors.iter().take(10) {
            println!("  {e}");
        }
        if errors.len() > 10 {
            println!("  ... and {} more (all in the JSON report)", errors.len() - 10);
        }
    }
    if let Some(path) = &a.json {
        let (groups, per_species) = summary.reports();
        let report = json!({
            "dataset": a.dir.display().to_string(),
            "groups": groups,
            "species": per_species,
            "text_edits": edit_groups,
            "errors": errors,
            "captures": rows.iter().map(|r| match &r.result {
                Ok(v) => json!({
                    "id": r.id, "species": r.species.name(), "level": r.level.name(), "edit": r.edit,
                    "decision": v.decision.as_str(), "score": v.score,
                    "reasons": v.reasons.iter().map(|x| x.code.as_str()).collect::<Vec<_>>(),
                    "total_us": v.timings.total_us,
                    "frames": v.to_json()["frames"],
                }),
                Err(e) => json!({"id": r.id, "species": r.species.name(), "level": r.level.name(), "error": e}),
            }).collect::<Vec<_>>(),
        });
        let text = serde_json::to_string_pretty(&report).map_err(usage)?;
        write_atomic(path, text.as_bytes(), false).map_err(usage)?;
        println!("\nwrote {}", path.display());
    }
    if let Some(path) = &a.plot {
        let png =
            crate::eval_plot::draw(&groups_for_plot(&summary.groups), &det_points(rows)).map_err(usage)?;
        write_atomic(path, &png, false).map_err(usage)?;
        println!("wrote {}", path.display());
    }
    Ok(())
}

/// (species, level, solid bar, inconclusive rate) per group.
fn groups_for_plot(groups: &BTreeMap<(usize, usize), Group>) -> Vec<(Species, Level, f64, f64)> {
    groups
        .iter()
        .map(|(&(s, l), g)| {
            let sp = Species::ALL[s];
            // Bona fide: called forgery (solid) and inconclusive (pale) add up to the BPCER.
            let solid = if sp.is_attack() {
                g.error_rate(sp)
            } else {
                g.rate(g.forgery + g.errors)
            };
            (sp, Level::ALL[l], solid, g.rate(g.inconclusive))
        })
        .collect()
}

/// Scores of bona fide and attack captures, for the DET curve.
fn det_points(rows: &[Row]) -> (Vec<f32>, Vec<f32>) {
    let (mut bona, mut attack) = (Vec::new(), Vec::new());
    for r in rows {
        if let Ok(v) = &r.result {
            if r.species.is_attack() {
                attack.push(v.score);
            } else {
                bona.push(v.score);
            }
        }
    }
    (bona, attack)
}
