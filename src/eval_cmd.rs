//! `holoid eval`: runs the detector over a dataset written by `holoid simulate` (or any
//! dataset with the same manifest) and reports it the ISO/IEC 30107-3 way. Part of the
//! `holoid` binary.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use holoid::detect::input::DEFAULT_MAX_PIXELS;
use holoid::detect::{Capture, Decision, Detector, Verdict};
use holoid::files::{read_text, write_atomic};
use holoid::simulate::camera::Level;
use holoid::simulate::species::Species;
use holoid::time::UnixMillis;
use serde_json::{Value, json};

use crate::check_cmd::{load_photo, load_trust};
use crate::{Failure, Outcome, usage};

/// Runs the detector on a dataset and prints, per species and level, APCER (attacks called
/// genuine) or BPCER (bona fide not called genuine), the rates of each decision, the code
/// decode rate and the time per capture; writes the same as JSON, and a chart.
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
}

/// One capture of the manifest and what the detector made of it.
pub(crate) struct Row {
    pub id: String,
    pub species: Species,
    pub level: Level,
    pub result: Result<Verdict, String>,
}

/// A manifest entry: id, species, level, and each frame's file and capture time.
type Entry = (String, Species, Level, Vec<(PathBuf, UnixMillis)>);

fn parse_line(dir: &Path, line: &str) -> Result<Entry, String> {
    let v: Value = serde_json::from_str(line).map_err(|e| format!("not JSON: {e}"))?;
    let text = |k: &str| {
        v.get(k)
            .and_then(Value::as_str)
            .ok_or_else(|| format!("no `{k}`"))
    };
    let id = text("id")?.to_string();
    let species: Species = text("species")?.parse()?;
    let level: Level = text("level")?.parse()?;
    let files: Vec<&str> = v
        .get("frames")
        .and_then(Value::as_array)
        .ok_or("no `frames`")?
        .iter()
        .map(|f| {
            f.get("file")
                .and_then(Value::as_str)
                .ok_or("a frame without `file`")
        })
        .collect::<Result<_, _>>()?;
    let times: Vec<u64> = v
        .get("capture_times_ms")
        .and_then(Value::as_array)
        .ok_or("no `capture_times_ms`")?
        .iter()
        .map(|t| t.as_u64().ok_or("a capture time that is not a whole number"))
        .collect::<Result<_, _>>()?;
    if files.is_empty() || files.len() != times.len() {
        return Err(format!(
            "{} frames but {} capture times",
            files.len(),
            times.len()
        ));
    }
    for f in &files {
        if Path::new(f)
            .components()
            .any(|c| !matches!(c, std::path::Component::Normal(_)))
        {
            return Err(format!("frame path `{f}` leaves the dataset directory"));
        }
    }
    Ok((
        id,
        species,
        level,
        files
            .iter()
            .zip(times)
            .map(|(f, t)| (dir.join(f), UnixMillis(t)))
            .collect(),
    ))
}

/// Per species and level.
#[derive(Default)]
pub(crate) struct Group {
    pub n: usize,
    pub genuine: usize,
    pub forgery: usize,
    pub inconclusive: usize,
    pub errors: usize,
    pub decoded: usize,
    times_us: Vec<u64>,
}

impl Group {
    fn add(&mut self, r: &Row) {
        self.n += 1;
        match &r.result {
            Err(_) => self.errors += 1,
            Ok(v) => {
                match v.decision {
                    Decision::Genuine => self.genuine += 1,
                    Decision::Forgery => self.forgery += 1,
                    Decision::Inconclusive => self.inconclusive += 1,
                }
                if v.frames.iter().any(|f| f.corrected_bytes.is_some()) {
                    self.decoded += 1;
                }
                self.times_us.push(v.timings.total_us);
            }
        }
    }

    /// `APCER` for an attack species, `BPCER` for bona fide.
    pub(crate) fn metric(species: Species) -> &'static str {
        if species.is_attack() { "APCER" } else { "BPCER" }
    }

    pub(crate) fn rate(&self, k: usize) -> f64 {
        if self.n == 0 {
            0.0
        } else {
            k as f64 / self.n as f64
        }
    }

    /// Error rate (APCER or BPCER), genuine, forgery, inconclusive and code decode rates, as
    /// percentages with one decimal.
    pub(crate) fn percentages(&self, species: Species) -> [String; 5] {
        [
            self.error_rate(species),
            self.rate(self.genuine),
            self.rate(self.forgery),
            self.rate(self.inconclusive),
            self.rate(self.decoded),
        ]
        .map(pct)
    }

    /// Captures that count against: attacks called genuine, or bona fide not called genuine.
    fn wrong(&self, species: Species) -> usize {
        if species.is_attack() {
            self.genuine
        } else {
            self.n - self.genuine
        }
    }

    /// APCER (attack accepted) or BPCER (bona fide not accepted; errors count against).
    pub(crate) fn error_rate(&self, species: Species) -> f64 {
        self.rate(self.wrong(species))
    }

    /// The error rate's upper 95 % confidence bound (Wilson score interval): how high the rate
    /// may really be given so few captures. With none wrong it is 49 % at n = 4 and 1.9 % at
    /// n = 200, so a target of "≤ 2 %" needs about 200 captures and no error.
    pub(crate) fn error_upper95(&self, species: Species) -> f64 {
        wilson_upper95(self.wrong(species), self.n)
    }

    pub(crate) fn mean_ms(&self) -> f64 {
        if self.times_us.is_empty() {
            return 0.0;
        }
        self.times_us.iter().sum::<u64>() as f64 / self.times_us.len() as f64 / 1000.0
    }

    fn p95_ms(&self) -> f64 {
        let mut t = self.times_us.clone();
        if t.is_empty() {
            return 0.0;
        }
        t.sort_unstable();
        t[((t.len() as f64 * 0.95).ceil() as usize).clamp(1, t.len()) - 1] as f64 / 1000.0
    }

    fn to_json(&self, species: Species, level: Option<Level>) -> Value {
        let metric = if species.is_attack() { "apcer" } else { "bpcer" };
        json!({
            "species": species.name(),
            "level": level.map(Level::name),
            "attack": species.is_attack(),
            "n": self.n,
            metric: self.error_rate(species),
            "error_rate_upper95": (self.error_upper95(species) * 10_000.0).round() / 10_000.0,
            "genuine": self.rate(self.genuine),
            "forgery": self.rate(self.forgery),
            "inconclusive": self.rate(self.inconclusive),
            "errors": self.errors,
            "decode_rate": self.rate(self.decoded),
            "mean_ms": (self.mean_ms() * 10.0).round() / 10.0,
            "p95_ms": (self.p95_ms() * 10.0).round() / 10.0,
        })
    }
}

fn pct(x: f64) -> String {
    format!("{:.1}%", x * 100.0)
}

pub fn run(a: &EvalCli) -> Outcome {
    let jobs = a
        .jobs
        .map(|j| j as usize)
        .unwrap_or_else(|| std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1));
    let (rows, bad_lines) = evaluate(&a.dir, jobs, a.keep_going)?;
    report(a, &rows, &bad_lines)
}

/// Runs the detector over the dataset in `dir` with `jobs` threads: one row per capture of
/// the manifest, and the manifest lines that could not be read. Without `keep_going`, a bad
/// line or a capture that cannot be checked is an error naming it.
pub(crate) fn evaluate(
    dir: &Path,
    jobs: usize,
    keep_going: bool,
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
    let detector = Detector::builder(trust).build().map_err(usage)?;
    let mut bad_lines = Vec::new();
    let mut work = Vec::new();
    for (i, line) in manifest.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        match parse_line(dir, line) {
            Ok(w) => work.push(w),
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
                    let Some((id, species, level, frames)) = work.get(i) else {
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
                            detector.check(&captures).map_err(|e| e.to_string())
                        });
                    let row = Row {
                        id: id.clone(),
                        species: *species,
                        level: *level,
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

/// The rows counted per species and level, and per species over all levels; keyed by the
/// positions in `Species::ALL` and `Level::ALL`, so they iterate in that order.
pub(crate) struct Summary {
    pub groups: BTreeMap<(usize, usize), Group>,
    pub per_species: BTreeMap<usize, Group>,
}

impl Summary {
    pub(crate) fn of(rows: &[Row]) -> Summary {
        let mut groups: BTreeMap<(usize, usize), Group> = BTreeMap::new();
        let mut per_species: BTreeMap<usize, Group> = BTreeMap::new();
        let index = |s: Species| Species::ALL.iter().position(|&x| x == s).unwrap_or(0);
        let level_index = |l: Level| Level::ALL.iter().position(|&x| x == l).unwrap_or(0);
        for r in rows {
            groups
                .entry((index(r.species), level_index(r.level)))
                .or_default()
                .add(r);
            per_species.entry(index(r.species)).or_default().add(r);
        }
        Summary { groups, per_species }
    }

    /// The table's lines in order: each species at each level, then each species over all
    /// levels (level [`ALL_LEVELS`]).
    pub(crate) fn lines(&self) -> impl Iterator<Item = (Species, &'static str, &Group)> {
        let per_level = self
            .groups
            .iter()
            .map(|(&(s, l), g)| (Species::ALL[s], Level::ALL[l].name(), g));
        let overall = self
            .per_species
            .iter()
            .map(|(&s, g)| (Species::ALL[s], ALL_LEVELS, g));
        per_level.chain(overall)
    }

    /// The table `holoid eval` prints: a line per species and level, then per species.
    pub(crate) fn print_table(&self) {
        println!(
            "{:<19} {:<7} {:>5}  {:<13} {:>7} {:>8} {:>8} {:>8} {:>6} {:>7} {:>8} {:>8}",
            "species",
            "level",
            "n",
            "error rate",
            "≤ 95%",
            "genuine",
            "forgery",
            "inconcl",
            "errors",
            "decode",
            "mean ms",
            "p95 ms"
        );
        let mut first_overall = true;
        for (sp, level, g) in self.lines() {
            if level == ALL_LEVELS && std::mem::take(&mut first_overall) {
                println!();
            }
            let [error, genuine, forgery, inconclusive, decoded] = g.percentages(sp);
            println!(
                "{:<19} {level:<7} {:>5}  {} {error:>7} {:>7} {genuine:>8} {forgery:>8} {inconclusive:>8} \
                 {:>6} {decoded:>7} {:>8.1} {:>8.1}",
                sp.name(),
                g.n,
                Group::metric(sp),
                pct(g.error_upper95(sp)),
                g.errors,
                g.mean_ms(),
                g.p95_ms()
            );
        }
    }
}

/// The upper bound of the Wilson score interval at 95 % for `k` of `n`; 1 when `n` is 0.
fn wilson_upper95(k: usize, n: usize) -> f64 {
    if n == 0 {
        return 1.0;
    }
    let (z, n) = (1.959_964f64, n as f64);
    let p = k as f64 / n;
    let z2 = z * z;
    let centre = p + z2 / (2.0 * n);
    let spread = z * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt();
    ((centre + spread) / (1.0 + z2 / n)).min(1.0)
}

/// The level name of a species' line over all levels.
pub(crate) const ALL_LEVELS: &str = "all";

fn report(a: &EvalCli, rows: &[Row], bad_lines: &[String]) -> Outcome {
    let summary = Summary::of(rows);
    summary.print_table();
    let Summary { groups, per_species } = &summary;
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
        let report = json!({
            "dataset": a.dir.display().to_string(),
            "groups": groups.iter().map(|(&(s, l), g)| g.to_json(Species::ALL[s], Some(Level::ALL[l]))).collect::<Vec<_>>(),
            "species": per_species.iter().map(|(&s, g)| g.to_json(Species::ALL[s], None)).collect::<Vec<_>>(),
            "errors": errors,
            "captures": rows.iter().map(|r| match &r.result {
                Ok(v) => json!({
                    "id": r.id, "species": r.species.name(), "level": r.level.name(),
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
        let png = crate::eval_plot::draw(&groups_for_plot(groups), &det_points(rows)).map_err(usage)?;
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

#[cfg(test)]
mod tests {
    use super::wilson_upper95;

    #[test]
    fn wilson_bounds_match_published_values() {
        // 0 of 200: 1.9 %; 0 of 4: 49.0 %; 5 of 100: 11.2 % (Wilson 1927; e.g. Newcombe 1998).
        assert!((wilson_upper95(0, 200) - 0.018_84).abs() < 1e-4);
        assert!((wilson_upper95(0, 4) - 0.489_9).abs() < 1e-3);
        assert!((wilson_upper95(5, 100) - 0.111_8).abs() < 1e-3);
        assert_eq!(wilson_upper95(3, 0), 1.0);
        assert!(wilson_upper95(10, 10) <= 1.0);
    }
}
