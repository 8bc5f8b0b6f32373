//! Exact-decimal money. Balances and amounts are never `f64`: a `Money` is a decimal with
//! at most 4 fractional digits, read from a plain decimal string. Currency symbols and
//! thousands separators are the importer's business (SPEC §3); this type holds the result.

use std::fmt;
use std::str::FromStr;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// Most fractional digits a money value keeps (covers every ISO 4217 minor unit).
const MAX_SCALE: u32 = 4;

/// Why text is not a money amount.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MoneyError {
    /// Not a decimal number such as `1234.50`.
    #[error("not a decimal amount")]
    NotDecimal,
    /// More than four digits after the decimal point.
    #[error("more than {MAX_SCALE} digits after the decimal point")]
    TooPrecise,
}

/// An exact decimal amount of money.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Money(Decimal);

impl Money {
    /// Zero.
    pub const ZERO: Money = Money(Decimal::ZERO);

    /// Wraps a decimal, refusing more than four fractional digits.
    pub fn new(amount: Decimal) -> Result<Self, MoneyError> {
        let normal = amount.normalize();
        if normal.scale() > MAX_SCALE {
            return Err(MoneyError::TooPrecise);
        }
        Ok(Self(normal))
    }

    /// The amount.
    #[must_use]
    pub const fn amount(self) -> Decimal {
        self.0
    }

    /// The amount in minor units of a currency with `exponent` decimals (pence for GBP at 2),
    /// or `None` when the amount has finer precision than that currency or overflows.
    #[must_use]
    pub fn to_minor_units(self, exponent: u32) -> Option<i64> {
        let scaled = self
            .0
            .checked_mul(Decimal::from(10_i64.checked_pow(exponent)?))?;
        if scaled.fract() != Decimal::ZERO {
            return None;
        }
        i64::try_from(scaled).ok()
    }
}

impl FromStr for Money {
    type Err = MoneyError;
    fn from_str(s: &str) -> Result<Self, MoneyError> {
        let t = s.trim();
        let digits_ok = !t.is_empty()
            && t.trim_start_matches(['-', '+'])
                .chars()
                .all(|c| c.is_ascii_digit() || c == '.')
            && t.chars().filter(|c| *c == '.').count() <= 1
            && t.chars().any(|c| c.is_ascii_digit());
        if !digits_ok {
            return Err(MoneyError::NotDecimal);
        }
        Money::new(Decimal::from_str_exact(t).map_err(|_| MoneyError::NotDecimal)?)
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl fmt::Debug for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Money({})", self.0)
    }
}

impl Serialize for Money {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Money {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_exactly_and_compares_by_value() {
        let a: Money = "1234.50".parse().expect("money");
        let b: Money = "1234.5".parse().expect("money");
        assert_eq!(a, b);
        assert_eq!(a.to_string(), "1234.5");
        assert_eq!(a.to_minor_units(2), Some(123_450));
        assert_eq!(
            "0.1".parse::<Money>().map(|m| m.to_minor_units(0)),
            Ok(None)
        );
        // 0.1 + 0.2 is exactly 0.3 here, unlike f64.
        let sum = Money::new(
            "0.1".parse::<Money>().expect("m").amount()
                + "0.2".parse::<Money>().expect("m").amount(),
        );
        assert_eq!(sum, "0.3".parse());
    }

    #[test]
    fn rejects_what_is_not_a_plain_amount() {
        for bad in ["", "£12", "1,000", "1.2.3", "abc", ".", "-", "1e3"] {
            assert_eq!(bad.parse::<Money>(), Err(MoneyError::NotDecimal), "{bad}");
        }
        assert_eq!("1.23456".parse::<Money>(), Err(MoneyError::TooPrecise));
        assert!("-12.30".parse::<Money>().is_ok());
    }

    proptest! {
        #[test]
        fn display_round_trips(units in -10_000_000_000_i64..10_000_000_000, scale in 0u32..=4) {
            let m = Money::new(Decimal::new(units, scale)).expect("in range");
            prop_assert_eq!(m.to_string().parse::<Money>(), Ok(m));
        }

        #[test]
        fn parsing_never_panics(text in ".{0,30}") {
            let _ = text.parse::<Money>();
        }
    }
}
