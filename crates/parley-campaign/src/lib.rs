#![doc = include_str!("../README.md")]

pub mod window;
pub mod zones;

pub use window::{SendWindow, WindowError, ZoneBook, ZoneSource, Zones, zones_for};
pub use zones::{lookup, zones_of_number};
