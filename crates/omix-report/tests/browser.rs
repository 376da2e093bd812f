//! Real-browser check: renders fixture reports, loads them in headless Chromium and checks
//! the laid-out DOM (every section and every SVG has a non-zero size and drawn content), then
//! saves a screenshot.
//!
//! Chromium is found through `OMIX_CHROMIUM`, else `/usr/bin/chromium`, else `chromium` or
//! `chromium-browser` on `PATH`. Without it the test prints a SKIPPED line and passes. The
//! screenshot goes to `OMIX_REPORT_SCREENSHOT`, else `target/tmp/omix-report-screenshot.png`.

use std::fs;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

type TestResult = Result<(), Box<dyn std::error::Error>>;

/// A hung browser fails the test after this long.
const TIMEOUT: Duration = Duration::from_secs(60);

/// The sections every report has.
const SECTIONS: [&str; 9] =
    ["summary", "config", "data", "training", "roc", "confusion", "per-class", "motifs", "attributions"];

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests").join("fixtures").join(name)
}

/// Chromium's path, or `None` when it is not installed.
fn find_chromium() -> Result<Option<PathBuf>, String> {
    if let Some(path) = std::env::var_os("OMIX_CHROMIUM") {
        let path = PathBuf::from(path);
        return if path.is_file() {
            Ok(Some(path))
        } else {
            Err(format!("OMIX_CHROMIUM={} is not a file", path.display()))
        };
    }
    let default = Path::new("/usr/bin/chromium");
    if default.is_file() {
        return Ok(Some(default.to_path_buf()));
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    for dir in std::env::split_paths(&path) {
        for name in ["chromium", "chromium-browser"] {
            let candidate = dir.join(name);
            if candidate.is_file() {
                return Ok(Some(candidate));
            }
        }
    }
    Ok(None)
}

/// Writes straight to the process's stderr, past the test harness's output capture, so the
/// line is seen even when the test passes.
fn shout(line: &str) {
    let _ = writeln!(std::io::stderr(), "\n{line}\n");
}

/// Runs headless Chromium on `url` with `extra` flags; returns stdout. Fails after [`TIMEOUT`].
fn chromium(browser: &Path, extra: &[String], url: &str) -> Result<String, Box<dyn std::error::Error>> {
    let profile = tempfile::tempdir()?;
    let mut child = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(extra)
        .arg(url)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    // Drain both pipes on threads so a large DOM cannot block the browser on a full pipe.
    let mut stdout = child.stdout.take().ok_or("no stdout")?;
    let mut stderr = child.stderr.take().ok_or("no stderr")?;
    let out_thread = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stdout.read_to_string(&mut text);
        text
    });
    let err_thread = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text);
        text
    });
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break status;
        }
        if start.elapsed() > TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!("Chromium did not finish within {} s on {url}", TIMEOUT.as_secs()).into());
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let out = out_thread.join().map_err(|_| "stdout reader panicked")?;
    let err = err_thread.join().map_err(|_| "stderr reader panicked")?;
    if !status.success() {
        return Err(format!("Chromium failed ({status}) on {url}:\n{err}").into());
    }
    Ok(out)
}

/// The value of attribute `name` in an opening tag.
fn attribute<'a>(tag: &'a str, name: &str) -> Option<&'a str> {
    let key = format!(" {name}=\"");
    let start = tag.find(&key)? + key.len();
    let end = tag[start..].find('"')?;
    Some(&tag[start..start + end])
}

/// A numeric attribute, or an error naming what is missing.
fn number(tag: &str, name: &str, what: &str) -> Result<f64, String> {
    attribute(tag, name)
        .ok_or(format!("{what}: no {name} (the measuring script did not run?)"))?
        .parse::<f64>()
        .map_err(|e| format!("{what}: {name}: {e}"))
}

/// Every opening tag `<name ...>` in `dom`, with its byte offset.
fn opening_tags<'a>(dom: &'a str, name: &str) -> Vec<(usize, &'a str)> {
    let open = format!("<{name} ");
    let mut tags = Vec::new();
    let mut from = 0;
    while let Some(at) = dom[from..].find(&open) {
        let start = from + at;
        let Some(end) = dom[start..].find('>') else { break };
        tags.push((start, &dom[start..start + end + 1]));
        from = start + end + 1;
    }
    tags
}

/// Checks the rendered DOM of one report.
fn check_dom(name: &str, dom: &str) -> Result<(), String> {
    let body = opening_tags(dom, "body").first().map(|(_, tag)| *tag).unwrap_or("");
    if attribute(body, "data-checked") != Some("yes") {
        return Err(format!("{name}: the measuring script did not finish (no data-checked=\"yes\" on <body>)"));
    }
    let sections = opening_tags(dom, "section");
    for id in SECTIONS {
        let Some((_, tag)) = sections.iter().find(|(_, tag)| attribute(tag, "id") == Some(id)) else {
            return Err(format!("{name}: section {id} missing from the rendered DOM"));
        };
        let what = format!("{name}: section {id}");
        if number(tag, "data-rendered-height", &what)? <= 0.0 || number(tag, "data-rendered-width", &what)? <= 0.0 {
            return Err(format!("{what} has no rendered size"));
        }
        number(tag, "data-svg-count", &what)?;
    }
    let svgs = opening_tags(dom, "svg");
    if svgs.is_empty() {
        return Err(format!("{name}: no SVG rendered"));
    }
    for (offset, tag) in svgs {
        let label = attribute(tag, "id").or_else(|| attribute(tag, "aria-label")).unwrap_or("?");
        let what = format!("{name}: svg `{label}` at byte {offset}");
        let width = number(tag, "data-rendered-width", &what)?;
        let height = number(tag, "data-rendered-height", &what)?;
        let drawn = number(tag, "data-drawn-elements", &what)?;
        if width <= 0.0 || height <= 0.0 {
            return Err(format!("{what} is rendered {width} x {height}"));
        }
        let minimum = if attribute(tag, "class") == Some("plot") { 10.0 } else { 1.0 };
        if drawn < minimum {
            return Err(format!("{what} draws only {drawn} elements"));
        }
    }
    Ok(())
}

/// The SVG count the measuring script found in a section.
fn svg_count(dom: &str, id: &str) -> Result<f64, String> {
    let sections = opening_tags(dom, "section");
    let (_, tag) = sections.iter().find(|(_, tag)| attribute(tag, "id") == Some(id)).ok_or(format!("no {id}"))?;
    number(tag, "data-svg-count", id)
}

#[test]
fn reports_render_in_headless_chromium() -> TestResult {
    let Some(browser) = find_chromium()? else {
        shout("SKIPPED: Chromium not found; install Debian package `chromium` to run the browser check");
        return Ok(());
    };
    let temp = tempfile::tempdir()?;
    for name in ["gabpa_small", "splice_small", "multitask_small", "regression_small", "pbmc_small", "ppi_small"] {
        let html = omix_report::render_report(&fixture(name))?;
        let page = temp.path().join(format!("{name}.html"));
        fs::write(&page, html)?;
        let url = format!("file://{}", page.display());
        let dom = chromium(&browser, &["--dump-dom".to_string()], &url)?;
        check_dom(name, &dom)?;
        if name == "gabpa_small" {
            // Losses + monitored + other metrics, ROC + PR, model + baseline heatmaps, logos, tracks.
            for (id, at_least) in
                [("training", 3.0), ("roc", 2.0), ("confusion", 2.0), ("motifs", 4.0), ("attributions", 2.0)]
            {
                let found = svg_count(&dom, id)?;
                if found < at_least {
                    return Err(format!("section {id}: {found} SVGs, expected at least {at_least}").into());
                }
            }
        }
    }

    // Screenshot of the binary report with motifs and attributions.
    let screenshot = std::env::var_os("OMIX_REPORT_SCREENSHOT")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_TARGET_TMPDIR")).join("omix-report-screenshot.png"));
    if let Some(parent) = screenshot.parent() {
        fs::create_dir_all(parent)?;
    }
    let _ = fs::remove_file(&screenshot);
    let url = format!("file://{}", temp.path().join("gabpa_small.html").display());
    chromium(
        &browser,
        &[
            format!("--screenshot={}", screenshot.display()),
            "--window-size=1280,6000".to_string(),
            "--hide-scrollbars".to_string(),
        ],
        &url,
    )?;
    let size = fs::metadata(&screenshot).map_err(|e| format!("no screenshot at {}: {e}", screenshot.display()))?.len();
    if size <= 10 * 1024 {
        return Err(format!("screenshot {} is only {size} bytes", screenshot.display()).into());
    }
    shout(&format!("browser check passed; screenshot: {} ({size} bytes)", screenshot.display()));
    Ok(())
}

/// The configuration listing wraps long values instead of cutting them off: at the width of an
/// A4 or Letter page (about 700 CSS pixels inside the margins) a config with a long path and a
/// long list still fits its box, so neither print nor a screenshot loses part of it.
#[test]
fn long_config_values_wrap_at_page_width() -> TestResult {
    let Some(browser) = find_chromium()? else {
        shout("SKIPPED: Chromium not found; install Debian package `chromium` to run the browser check");
        return Ok(());
    };
    let temp = tempfile::tempdir()?;
    let run = temp.path().join("run");
    fs::create_dir_all(&run)?;
    for entry in fs::read_dir(fixture("gabpa_small"))? {
        let entry = entry?;
        if entry.path().is_file() {
            fs::copy(entry.path(), run.join(entry.file_name()))?;
        }
    }
    let long_path = format!("data/{}/GABPA_GM12878_AC.seq.gz", "a_rather_long_folder_name".repeat(8));
    let names: Vec<String> = (0..40).map(|i| format!("\"class_{i}\"")).collect();
    let config = fs::read_to_string(run.join("config.toml"))?
        .replace("input = \"../shared/data/deepbind/GABPA_GM12878_AC.seq.gz\"", &format!("input = \"{long_path}\""))
        .replace("[data.test]", &format!("class_weight_note = [{}]\n\n[data.test]", names.join(", ")));
    fs::write(run.join("config.toml"), config)?;
    let page = temp.path().join("report.html");
    fs::write(&page, omix_report::render_report(&run)?)?;
    let url = format!("file://{}", page.display());
    let dom = chromium(&browser, &["--dump-dom".to_string(), "--window-size=700,3000".to_string()], &url)?;
    let listings = opening_tags(&dom, "pre");
    let (_, tag) = listings.iter().find(|(_, tag)| attribute(tag, "class") == Some("config")).ok_or("no listing")?;
    if attribute(tag, "data-clipped") != Some("no") {
        return Err(format!("the configuration listing is cut off at page width: {tag}").into());
    }
    if !dom.contains(&long_path) {
        return Err("the long path is not in the listing".into());
    }
    // And it prints: a PDF of the page is written (the `@media print` rules are not measured
    // here; the PDF was looked at by hand when they were written).
    let pdf = temp.path().join("report.pdf");
    chromium(&browser, &[format!("--print-to-pdf={}", pdf.display()), "--no-pdf-header-footer".to_string()], &url)?;
    let size = fs::metadata(&pdf).map_err(|e| format!("no PDF at {}: {e}", pdf.display()))?.len();
    if size <= 10 * 1024 {
        return Err(format!("PDF {} is only {size} bytes", pdf.display()).into());
    }
    Ok(())
}
