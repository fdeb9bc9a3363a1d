//! What memory the process may still take, and tables sized by input that must not abort the
//! process when it cannot.
//!
//! A fit keeps a few tables with one entry per column index (the scikit-learn convention: a
//! fitted encoder has a color for every input column), so their size follows the largest index,
//! not the features seen. A file holding one huge index would have them take more memory than
//! the machine has; on Linux, where allocations are overcommitted, that ends with the kernel
//! killing the process long after the allocation "succeeded". So the fit compares their size
//! with the memory available before it allocates them, and says what to do instead.

use crate::error::{Error, Result};

/// Bytes per column index that a fit and the model it returns hold at least: the document
/// frequency (4), the vertex table (4), the color and code tables (4 + 4) and the document
/// frequency as a model keeps it (8).
pub const BYTES_PER_FEATURE: u64 = 24;

/// Per-column tables below this size are allocated without asking what memory is available.
const CHECKED_FROM: u64 = 256 << 20;

/// Bytes this process may still allocate, as far as the system tells: the smallest of the
/// memory available (`MemAvailable`), the room left under the cgroup's limit, and the room left
/// under the address-space limit (`ulimit -v`). `None` where none of them can be read.
pub fn available_bytes() -> Option<u64> {
    let meminfo = std::fs::read_to_string("/proc/meminfo").ok();
    let available = meminfo
        .as_deref()
        .and_then(|m| kib_field(m, "MemAvailable:"));
    let cgroup = cgroup_room();
    let address_space = address_space_room();
    [available, cgroup, address_space]
        .into_iter()
        .flatten()
        .min()
}

/// `name   1234 kB` in a `/proc` file, as bytes.
fn kib_field(text: &str, name: &str) -> Option<u64> {
    let line = text.lines().find(|l| l.starts_with(name))?;
    let kib: u64 = line[name.len()..].split_whitespace().next()?.parse().ok()?;
    Some(kib.saturating_mul(1024))
}

fn cgroup_room() -> Option<u64> {
    let read = |name: &str| std::fs::read_to_string(format!("/sys/fs/cgroup/{name}")).ok();
    let limit: u64 = read("memory.max")?.trim().parse().ok()?; // "max" when unlimited
    let current: u64 = read("memory.current")?.trim().parse().ok()?;
    Some(limit.saturating_sub(current))
}

fn address_space_room() -> Option<u64> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = limits
        .lines()
        .find(|l| l.starts_with("Max address space"))?;
    // "Max address space   <soft>   <hard>   bytes"; the soft limit is "unlimited" when unset.
    let soft: u64 = line["Max address space".len()..]
        .split_whitespace()
        .next()?
        .parse()
        .ok()?;
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let used = kib_field(&status, "VmSize:")?;
    Some(soft.saturating_sub(used))
}

/// Refuses an index space whose per-column tables alone need more than `available` bytes
/// (`None`: unknown, nothing refused), before anything is allocated for it.
pub fn check_index_space(n_features: usize, available: Option<u64>) -> Result<()> {
    let needed = (n_features as u64).saturating_mul(BYTES_PER_FEATURE);
    if needed < CHECKED_FROM {
        return Ok(());
    }
    match available {
        Some(available) if needed > available => Err(Error::IndexSpaceTooLarge {
            n_features,
            needed,
            available,
        }),
        _ => Ok(()),
    }
}

/// [`check_index_space`] against what this process may still allocate (asked only for tables
/// large enough to matter).
pub(crate) fn check_index_space_here(n_features: usize) -> Result<()> {
    if (n_features as u64).saturating_mul(BYTES_PER_FEATURE) < CHECKED_FROM {
        return Ok(());
    }
    check_index_space(n_features, available_bytes())
}

/// `Vec::try_reserve` with the error the engine reports: what was being allocated and its size,
/// rather than an abort of the whole process.
pub(crate) fn try_reserve<T>(
    vec: &mut Vec<T>,
    additional: usize,
    what: &'static str,
) -> Result<()> {
    vec.try_reserve(additional).map_err(|_| Error::OutOfMemory {
        what,
        bytes: vec
            .len()
            .saturating_add(additional)
            .saturating_mul(std::mem::size_of::<T>()),
    })
}

/// An empty vector with room for `capacity` elements, or `Error::OutOfMemory`.
pub(crate) fn with_capacity<T>(capacity: usize, what: &'static str) -> Result<Vec<T>> {
    let mut out = Vec::new();
    out.try_reserve_exact(capacity)
        .map_err(|_| Error::OutOfMemory {
            what,
            bytes: capacity.saturating_mul(std::mem::size_of::<T>()),
        })?;
    Ok(out)
}

/// Gigabytes, for messages.
pub(crate) fn gigabytes(bytes: u64) -> String {
    format!("{:.1} GB", bytes as f64 / 1e9)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_spaces_are_refused_only_beyond_what_is_available() {
        assert!(check_index_space(1000, Some(0)).is_ok());
        assert!(check_index_space(1 << 31, None).is_ok());
        assert!(check_index_space(1 << 31, Some(1 << 40)).is_ok());
        let err = check_index_space(1 << 31, Some(8 << 30)).unwrap_err();
        let text = err.to_string();
        assert!(matches!(err, Error::IndexSpaceTooLarge { .. }));
        assert!(text.contains("2147483648 columns"), "{text}");
        assert!(
            text.contains("51.5 GB") && text.contains("8.6 GB"),
            "{text}"
        );
        assert!(text.contains("re-index"), "{text}");
    }

    #[test]
    fn reads_kib_fields_and_what_the_system_says() {
        let text = "MemTotal:   100 kB\nMemAvailable:    2048 kB\n";
        assert_eq!(kib_field(text, "MemAvailable:"), Some(2 << 20));
        assert_eq!(kib_field(text, "Missing:"), None);
        if cfg!(target_os = "linux") {
            assert!(available_bytes().is_some_and(|b| b > 0));
        }
    }

    #[test]
    fn failed_reservations_say_what_and_how_much() {
        let mut v: Vec<u64> = Vec::new();
        let err = try_reserve(&mut v, usize::MAX / 4, "test rows").unwrap_err();
        assert!(matches!(
            err,
            Error::OutOfMemory {
                what: "test rows",
                ..
            }
        ));
        assert!(with_capacity::<u32>(usize::MAX / 2, "x").is_err());
        assert!(with_capacity::<u32>(10, "x").unwrap().capacity() >= 10);
    }
}
