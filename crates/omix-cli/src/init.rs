//! `omix init`: write a starting config from a template (omix-config's `template`), with data
//! paths that work from where the file is written.

use std::io::Write;
use std::path::{Component, Path, PathBuf};

use anyhow::{Context, Result, bail};
use omix_config::template::{TEMPLATES, template};

use crate::cli::InitArgs;

pub fn init(args: InitArgs) -> Result<()> {
    let Some(name) = args.template.as_deref() else {
        println!("templates (omix init TEMPLATE -o FILE):");
        for template in TEMPLATES {
            println!("  {:<15} {}", template.name, template.summary);
        }
        return Ok(());
    };
    let Some(template) = template(name) else {
        let names: Vec<&str> = TEMPLATES.iter().map(|template| template.name).collect();
        bail!("no template {name:?}; the templates are {} (`omix init` lists them)", names.join(", "));
    };
    let to_stdout = args.out.as_os_str() == "-";
    let cwd = std::env::current_dir().context("cannot read the working directory")?;
    let out = std::path::absolute(&args.out).unwrap_or_else(|_| cwd.join(&args.out));
    let out_dir = if to_stdout { cwd.clone() } else { out.parent().map_or_else(|| cwd.clone(), Path::to_path_buf) };
    // A clone of the repository: the example data, reached from where the file is written.
    let root = cwd.ancestors().find(|folder| folder.join("examples").join("data").is_dir()).map(Path::to_path_buf);
    let header = match &root {
        Some(_) => format!(
            "Written by `omix init {name}`; the data paths point at the example data of the omix clone it was written from."
        ),
        None => format!(
            "Written by `omix init {name}`. The data paths are the omix repository's example data (examples/...,\nrelative to a clone's root): point them at your data, or write the file from inside a clone."
        ),
    };
    let folder = |relative: &str| match &root {
        Some(root) => relative_path(&out_dir, &root.join(relative)).to_string_lossy().into_owned(),
        None => relative.to_string(),
    };
    let text = template.render(&folder, &header)?;
    if to_stdout {
        std::io::stdout().write_all(text.as_bytes())?;
        return Ok(());
    }
    if args.out.exists() && !args.force {
        bail!("{} exists; give --force to replace it, or another -o FILE", args.out.display());
    }
    // A temporary file renamed over the target: a failed write never leaves half a config.
    omix_io::write_atomically(&args.out, |writer| writer.write_all(text.as_bytes()))?;
    eprintln!("wrote {} (template {name})", args.out.display());
    if let Some(root) = &root {
        let missing: Vec<String> = template.data_paths().into_iter().filter(|path| !root.join(path).exists()).collect();
        if !missing.is_empty() {
            eprintln!(
                "note: its data are not there yet ({}); see the comment at the top of the file (python3 scripts/fetch-data.py)",
                missing.join(", ")
            );
        }
    }
    eprintln!("next: omix train {} --dry-run", args.out.display());
    Ok(())
}

/// `target` as a path relative to the folder `from` (both absolute).
fn relative_path(from: &Path, target: &Path) -> PathBuf {
    let from: Vec<Component> = from.components().collect();
    let target: Vec<Component> = target.components().collect();
    let common = from.iter().zip(&target).take_while(|(a, b)| a == b).count();
    let mut relative = PathBuf::new();
    for _ in common..from.len() {
        relative.push("..");
    }
    for part in &target[common..] {
        relative.push(part.as_os_str());
    }
    if relative.as_os_str().is_empty() { PathBuf::from(".") } else { relative }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths_walk_up_and_down() {
        let path = |text: &str| PathBuf::from(text);
        assert_eq!(relative_path(&path("/a/b/c"), &path("/a/examples/data")), path("../../examples/data"));
        assert_eq!(relative_path(&path("/a"), &path("/a/examples/data")), path("examples/data"));
        assert_eq!(relative_path(&path("/a/b"), &path("/a/b")), path("."));
    }
}
