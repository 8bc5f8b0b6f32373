//! Any text as a send window's days and hours and as a phone number, and any instant:
//! a window or an error naming its field; zones for any number; a next opening that is
//! open and inside the range asked. Never a panic.
#![no_main]

use chrono::{DateTime, Duration, Utc};
use libfuzzer_sys::fuzz_target;
use parley_campaign::{SendWindow, zones_for};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let parts: Vec<&str> = text.split('|').collect();
    let window = match parts.as_slice() {
        [days, opens, closes, ..] => {
            let days: Vec<&str> = days.split(',').collect();
            match SendWindow::parse(&days, opens, closes) {
                Ok(w) => w,
                Err(e) => {
                    assert!(["days", "opens", "closes"].contains(&e.field));
                    SendWindow::default()
                }
            }
        }
        _ => SendWindow::default(),
    };
    let seconds = data.iter().fold(0i64, |a, b| a.wrapping_mul(31).wrapping_add(i64::from(*b)));
    let Some(at) = DateTime::<Utc>::from_timestamp(seconds.rem_euclid(4_000_000_000), 0) else {
        return;
    };
    let number = parts.last().copied().unwrap_or_default();
    let (zones, _) = zones_for(&window, None, Some(number), "Europe/London", at);
    let until = at + Duration::days(3);
    if let Some(open) = zones.next_opening(&window, at, until) {
        assert!(open >= at && open < until);
        assert!(zones.open_at(&window, open));
    }
});
