//! Cooperative cancellation: long loops poll a flag that the caller may raise from another thread.

use std::sync::atomic::{AtomicBool, Ordering};

use crate::error::{Error, Result};

/// How many rows (or vertices) a loop processes between two polls of the flag. Small enough that a
/// raised flag stops work within milliseconds, large enough that polling costs nothing measurable.
pub(crate) const POLL_INTERVAL: usize = 1 << 14;

/// A borrowed cancellation flag. `Interrupt::never()` is for callers that cannot cancel.
#[derive(Clone, Copy, Debug)]
pub struct Interrupt<'a> {
    flag: Option<&'a AtomicBool>,
}

impl<'a> Interrupt<'a> {
    pub fn new(flag: &'a AtomicBool) -> Self {
        Interrupt { flag: Some(flag) }
    }

    pub fn never() -> Self {
        Interrupt { flag: None }
    }

    /// `Err(Error::Interrupted)` once the flag has been raised.
    #[inline]
    pub fn check(&self) -> Result<()> {
        match self.flag {
            Some(flag) if flag.load(Ordering::Relaxed) => Err(Error::Interrupted),
            _ => Ok(()),
        }
    }
}
