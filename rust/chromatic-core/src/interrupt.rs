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
    /// Stops the engine when `flag` is set.
    pub fn new(flag: &'a AtomicBool) -> Self {
        Interrupt { flag: Some(flag) }
    }

    /// Never stops the engine.
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

/// Polls an `Interrupt` after a given amount of work rather than a given number of items, for
/// loops whose items vary widely in cost (a frequent vertex can carry millions of pairs).
pub(crate) struct Pacer<'a> {
    interrupt: Interrupt<'a>,
    done: usize,
}

/// Units of work (entries read or written) between two polls.
const POLL_WORK: usize = 1 << 18;

impl<'a> Pacer<'a> {
    pub(crate) fn new(interrupt: Interrupt<'a>) -> Self {
        Pacer { interrupt, done: 0 }
    }

    /// Records `work` units (plus one for the item itself) and polls when enough have passed.
    #[inline]
    pub(crate) fn step(&mut self, work: usize) -> Result<()> {
        self.done += work + 1;
        if self.done >= POLL_WORK {
            self.done = 0;
            self.interrupt.check()?;
        }
        Ok(())
    }
}
