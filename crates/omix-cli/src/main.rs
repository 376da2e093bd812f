//! `omix`: deep learning for omics data from the command line.

mod bench;
mod cli;
mod commands;
mod device;
mod genome_cmds;
mod init;
mod motifs_cmd;
mod profile_explain;
mod progress;
mod tune_cmd;

use std::process::ExitCode;

use clap::Parser;

/// mimalloc, not the system allocator: training steps allocate and free gradient and optimiser
/// buffers of hundreds of MB (DanQ's dense layer: 44 M weights), which glibc maps and unmaps at
/// every step (page faults and TLB shootdowns, ~20% of a DanQ step); mimalloc keeps them for
/// reuse.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    if let Some(threads) = cli.threads {
        // burn's flex backend runs on rayon's global pool.
        if let Err(error) = rayon::ThreadPoolBuilder::new().num_threads(threads).build_global() {
            eprintln!("error: cannot set {threads} threads: {error}");
            return ExitCode::from(2);
        }
    }
    // The binary chooses the device once and passes it down; library code never names a backend.
    let device = match device::choose(cli.device, &mut |line| eprintln!("{line}")) {
        Ok(device) => device,
        Err(reason) => {
            eprintln!("error: {reason}");
            return ExitCode::from(2);
        }
    };
    match commands::run(cli, &device) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            // A closed pipe (`omix predict ... | head`) is not an error.
            if error.chain().any(|cause| {
                cause.downcast_ref::<std::io::Error>().is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
            }) {
                return ExitCode::SUCCESS;
            }
            let mut message = format!("error: {error}");
            for cause in error.chain().skip(1) {
                let text = cause.to_string();
                if !message.contains(&text) {
                    message.push_str(&format!("\n  caused by: {text}"));
                }
            }
            eprintln!("{message}");
            ExitCode::FAILURE
        }
    }
}
