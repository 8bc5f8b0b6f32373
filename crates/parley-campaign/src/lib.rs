#![doc = include_str!("../README.md")]

pub mod window;
pub mod zones;

pub use window::{SendWindow, WindowError, ZoneSource, Zones, zones_for};
pub use zones::zones_of_number;
