//! `parley bench zones`: what a campaign's send-window check costs per recipient — the
//! zones a contact is held to (by its number's prefix) and whether the window is open
//! for them now, else when it next opens — over generated numbers of several countries
//! (US area codes, UK mobiles, Sydney, toll-free +1 800), worked out afresh for each
//! number (`zones_for`) and through a campaign's `ZoneBook`, which keeps each prefix's
//! answer. The dispatcher's goal (issue 7) is 5,000 first messages a second: this is a
//! share of that budget, on one core.

use std::time::{Duration, Instant};

use clap::Args;
use parley_campaign::{SendWindow, ZoneBook, zones_for};

/// Options of `parley bench zones`.
#[derive(Debug, Args)]
pub struct ZonesBench {
    /// Numbers to check.
    #[arg(long, default_value_t = 1_000_000)]
    pub numbers: u64,
}

/// Generated numbers, deterministic.
fn numbers(n: u64) -> Vec<String> {
    const US: [&str; 8] = ["212", "213", "310", "415", "907", "206", "917", "646"];
    let mut rng = crate::bench::Rng(7);
    (0..n)
        .map(|_| {
            let line = rng.below(10_000_000);
            match rng.below(10) {
                0..=3 => format!(
                    "+1{}{line:07}",
                    US[usize::try_from(rng.below(US.len() as u64)).unwrap_or(0)]
                ),
                4..=6 => format!("+447{:09}", rng.below(1_000_000_000)),
                7 | 8 => format!("+612{:08}", rng.below(100_000_000)),
                _ => format!("+1800{line:07}"),
            }
        })
        .collect()
}

/// Runs the benchmark and prints its figures.
pub fn run(args: &ZonesBench) -> anyhow::Result<()> {
    let numbers = numbers(args.numbers.max(1));
    let window = SendWindow::default();
    let at = chrono::DateTime::parse_from_rfc3339("2026-12-07T15:00:00Z")?.to_utc();
    let until = at + chrono::Duration::days(3);
    println!(
        "parley bench zones: {} numbers (US, UK, Sydney, +1 800), window every day 08:00-21:00",
        numbers.len()
    );
    let per_second = |n: usize, d: Duration| {
        #[allow(clippy::cast_precision_loss)]
        let rate = n as f64 / d.as_secs_f64().max(1e-9);
        rate
    };
    // Afresh: the zones of each number worked out again.
    let sample = &numbers[..numbers.len().min(20_000)];
    let started = Instant::now();
    let mut open = 0usize;
    for number in sample {
        let (zones, _) = zones_for(&window, None, Some(number), "Europe/London", at);
        if zones.next_opening(&window, at, until) == Some(at) {
            open += 1;
        }
    }
    let afresh = per_second(sample.len(), started.elapsed());
    // Through the book, as the dispatcher will.
    let mut book = ZoneBook::new(window, "Europe/London", at);
    let started = Instant::now();
    let mut open_book = 0usize;
    let mut later = 0usize;
    for number in &numbers {
        let (zones, _) = book.zones(None, Some(number));
        match zones.next_opening(&window, at, until) {
            Some(t) if t == at => open_book += 1,
            Some(_) => later += 1,
            None => {}
        }
    }
    let booked = per_second(numbers.len(), started.elapsed());
    println!(
        "afresh:     {afresh:>12.0} numbers/s ({} numbers; {open} open now)",
        sample.len()
    );
    println!(
        "zone book:  {booked:>12.0} numbers/s ({} numbers; {open_book} open now, {later} later) = {:.0}x afresh",
        numbers.len(),
        booked / afresh.max(1e-9)
    );
    println!(
        "share of the dispatcher's budget at 5,000 first messages/s: {:.2}% of one core",
        5_000.0 / booked.max(1e-9) * 100.0
    );
    Ok(())
}
