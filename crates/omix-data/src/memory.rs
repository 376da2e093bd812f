//! Refusing sizes that cannot fit in memory before anything of that size is allocated.

use crate::DataError;

/// What is assumed available when the system does not say (not Linux, or no `/proc`).
const FALLBACK_AVAILABLE: u128 = 8 * 1024 * 1024 * 1024;

/// Bytes of memory available for new allocations: Linux's `MemAvailable`, else a conservative
/// 8 GiB.
pub fn available_memory() -> u128 {
    std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|text| {
            text.lines().find_map(|line| {
                let rest = line.strip_prefix("MemAvailable:")?;
                let kilobytes: u128 = rest.trim().trim_end_matches("kB").trim().parse().ok()?;
                Some(kilobytes * 1024)
            })
        })
        .unwrap_or(FALLBACK_AVAILABLE)
}

/// The peak resident memory of this process so far (Linux's `VmHWM`), if the system says.
pub fn peak_resident_memory() -> Option<u128> {
    let text = std::fs::read_to_string("/proc/self/status").ok()?;
    text.lines().find_map(|line| {
        let kilobytes: u128 = line.strip_prefix("VmHWM:")?.trim().trim_end_matches("kB").trim().parse().ok()?;
        Some(kilobytes * 1024)
    })
}

/// Bytes for people: `52.0 GB`, `3.1 MB`.
pub fn show_bytes(bytes: u128) -> String {
    crate::error::show_bytes(bytes)
}

/// Bytes the trainable parameters take while training: the weights, their gradients and the
/// optimiser's state per weight (`optimizer_slots`: 2 for Adam's moments, 1 for SGD's momentum),
/// 4-byte floats each.
pub fn parameter_bytes(parameters: usize, optimizer_slots: usize) -> u128 {
    4 * parameters as u128 * (2 + optimizer_slots as u128)
}

/// The least memory `examples` sequences of `length` positions take while training: the fitted
/// sequences (one byte a position) and one batch of `batch` one-hot examples of `channels`
/// channels (4-byte floats), twice (the host buffer and the model's input tensor).
pub fn least_bytes(examples: usize, length: usize, channels: usize, batch: usize) -> (u128, String) {
    let sequences = (examples as u128).saturating_mul(length as u128);
    let one_hot = (8 * batch.min(examples).max(1) as u128 * channels as u128).saturating_mul(length as u128);
    let detail = format!(
        "{} for the sequences, {} for a batch of one-hot input and its copy in the model",
        crate::error::show_bytes(sequences),
        crate::error::show_bytes(one_hot)
    );
    (sequences.saturating_add(one_hot), detail)
}

/// Refuse `examples` sequences of `length` positions (see [`least_bytes`]) when they need more
/// than `available` bytes.
pub fn check_fits(
    examples: usize,
    length: usize,
    channels: usize,
    batch: usize,
    available: u128,
) -> Result<(), DataError> {
    let (needed, detail) = least_bytes(examples, length, channels, batch);
    if needed > available {
        return Err(DataError::TooLarge { length, examples, needed, detail, available });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn impossible_lengths_are_refused_before_allocating() -> Result<(), Box<dyn std::error::Error>> {
        let gib = 1024 * 1024 * 1024;
        assert!(check_fits(20, 1_000, 4, 32, gib).is_ok());
        let Err(error) = check_fits(20, 1_000_000_000, 4, 1, 16 * gib) else {
            return Err("a billion-position window was accepted".into());
        };
        let text = error.to_string();
        assert!(text.contains("length = 1000000000") && text.contains("52.0 GB") && text.contains("17.2 GB"), "{text}");
        // Sizes that overflow 64 bits still compare.
        assert!(check_fits(usize::MAX, usize::MAX, 4, 32, u128::from(u64::MAX)).is_err());
        assert!(available_memory() > 0);
        Ok(())
    }
}
