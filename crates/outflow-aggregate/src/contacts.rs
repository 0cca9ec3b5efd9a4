//! What each source host contacted in earlier windows, carried from one aggregation to the next.
//!
//! `new_failed_dsts` and `new_dst_ports` count a host's first contacts: destinations (ports) that none
//! of its connections reached in an earlier window. One aggregator compares the windows of the flows
//! it was given; a live watch aggregates each window on its own, so it carries the contacts of the
//! windows it closed in a [`Contacts`] and finishes the next window with
//! [`crate::Aggregator::finish_after`]. Without it, a monitor that polls the same 243 addresses every
//! ten minutes and fails on some would look like a new scan in every window.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

/// The windows (indexes) in which a contact was first and last seen.
type Seen = (i64, i64);

/// One source's contacts: destination addresses and destination ports (as the log writes them).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
struct SourceContacts {
    dsts: HashMap<String, Seen>,
    ports: HashMap<String, Seen>,
}

/// The destinations and destination ports each source contacted, with the first and the latest window
/// of each contact (window indexes: the window's start over its length).
///
/// Keeping the first window makes a contact "earlier" than a window only when it was seen before that
/// window, so a window added twice (closed again after a restart) is no earlier than itself; keeping
/// the latest lets [`Contacts::forget_before`] bound the memory to the contacts of recent windows.
///
/// ```
/// use outflow_aggregate::{AggregateParams, Aggregator, Contacts, Level, Window};
/// use outflow_io::{Input, ReadOptions, read_input};
/// let header = "#separator \\x09\n#fields\tts\tid.orig_h\tid.resp_h\tid.resp_p\tproto\tconn_state\t\
///               orig_bytes\tresp_bytes\n#types\ttime\taddr\taddr\tport\tenum\tstring\tcount\tcount\n";
/// // The same failed connection to 10.0.0.9 in hour 0 and in hour 1, each hour aggregated alone.
/// let hour = |h: u32| {
///     let log = format!("{header}{}.0\t10.0.0.66\t10.0.0.9\t22\ttcp\tREJ\t0\t0\n", 3600 * h + 10);
///     let (flows, _) = read_input(&Input::bytes("conn.log", log), &ReadOptions::default()).unwrap();
///     let mut agg = Aggregator::new(AggregateParams::default(), &[Level::Host]).unwrap();
///     agg.push(&flows).unwrap();
///     agg
/// };
/// let mut earlier = Contacts::new();
/// let first = hour(0);
/// earlier.absorb(first.contacts());
/// let second = hour(1).finish_after(&earlier).unwrap().hosts.unwrap();
/// let row = second.row_of("10.0.0.66", None, 3600.0).unwrap();
/// assert_eq!(second.value("new_failed_dsts", row), Some(0.0)); // contacted in hour 0
/// assert_eq!(earlier.len(), 2); // one destination, one port
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Contacts {
    sources: HashMap<String, SourceContacts>,
}

impl Contacts {
    /// No contacts.
    pub fn new() -> Contacts {
        Contacts::default()
    }

    /// The contacts kept (destinations and ports, over every source).
    pub fn len(&self) -> usize {
        self.sources.values().map(|s| s.dsts.len() + s.ports.len()).sum()
    }

    /// Whether no contact is kept (a source is kept only while it has a contact).
    pub fn is_empty(&self) -> bool {
        self.sources.is_empty()
    }

    /// Records that `src` reached `dst` in window `window`.
    pub fn add_destination(&mut self, src: &str, dst: &str, window: i64) {
        let seen = self.sources.entry(src.to_owned()).or_default().dsts.entry(dst.to_owned());
        widen(seen.or_insert((window, window)), (window, window));
    }

    /// Records that `src` connected to destination port `port` in window `window`.
    pub fn add_port(&mut self, src: &str, port: &str, window: i64) {
        let seen = self.sources.entry(src.to_owned()).or_default().ports.entry(port.to_owned());
        widen(seen.or_insert((window, window)), (window, window));
    }

    /// Whether `src` reached `dst` in a window before `window`.
    pub fn destination_before(&self, src: &str, dst: &str, window: i64) -> bool {
        self.sources.get(src).and_then(|s| s.dsts.get(dst)).is_some_and(|&(first, _)| first < window)
    }

    /// Whether `src` connected to port `port` in a window before `window`.
    pub fn port_before(&self, src: &str, port: &str, window: i64) -> bool {
        self.sources.get(src).and_then(|s| s.ports.get(port)).is_some_and(|&(first, _)| first < window)
    }

    /// Adds the contacts of `other` (a window's, from [`crate::Aggregator::contacts`]).
    pub fn absorb(&mut self, other: Contacts) {
        for (src, theirs) in other.sources {
            let mine = self.sources.entry(src).or_default();
            for (from, into) in [(theirs.dsts, &mut mine.dsts), (theirs.ports, &mut mine.ports)] {
                for (k, seen) in from {
                    widen(into.entry(k).or_insert(seen), seen);
                }
            }
        }
    }

    /// Forgets the contacts last seen before window `window`: a contact not repeated in that long is
    /// new again.
    pub fn forget_before(&mut self, window: i64) {
        self.sources.retain(|_, s| {
            s.dsts.retain(|_, &mut (_, last)| last >= window);
            s.ports.retain(|_, &mut (_, last)| last >= window);
            !(s.dsts.is_empty() && s.ports.is_empty())
        });
    }
}

fn widen(seen: &mut Seen, by: Seen) {
    seen.0 = seen.0.min(by.0);
    seen.1 = seen.1.max(by.1);
}
