//! Exact amounts: points and yuan in hundredths.
//!
//! Scores and money are compared and ranked, so they are integers: `Amount(1050)` is 10.50
//! points or ¥10.50. Weights are whole percent.

use std::fmt;
use std::iter::Sum;
use std::ops::{Add, AddAssign, Neg, Sub};

use serde::{Deserialize, Serialize};

/// A number of points or yuan, in hundredths.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Amount(pub i64);

impl Amount {
    /// Zero.
    pub const ZERO: Amount = Amount(0);

    /// A whole number of points or yuan.
    pub const fn whole(n: i64) -> Self {
        Self(n * 100)
    }

    /// Hundredths.
    pub const fn cents(self) -> i64 {
        self.0
    }

    /// Multiplies by a count.
    pub fn times(self, n: u32) -> Self {
        Self(self.0.saturating_mul(i64::from(n)))
    }

    /// Takes `pct` percent, rounding half away from zero.
    pub fn percent(self, pct: u32) -> Self {
        let num = i128::from(self.0) * i128::from(pct);
        let rounded = if num >= 0 {
            (num + 50) / 100
        } else {
            (num - 50) / 100
        };
        Self(i64::try_from(rounded).unwrap_or(if num >= 0 { i64::MAX } else { i64::MIN }))
    }

    /// The mean of some amounts, rounded half away from zero; zero for none.
    pub fn mean(values: &[Amount]) -> Self {
        if values.is_empty() {
            return Self::ZERO;
        }
        let sum: i128 = values.iter().map(|a| i128::from(a.0)).sum();
        let n = i128::try_from(values.len()).unwrap_or(i128::MAX);
        let rounded = if sum >= 0 {
            (2 * sum + n) / (2 * n)
        } else {
            (2 * sum - n) / (2 * n)
        };
        Self(i64::try_from(rounded).unwrap_or(0))
    }

    /// As a float, for display and JSON reports only.
    pub fn as_f64(self) -> f64 {
        self.0 as f64 / 100.0
    }
}

impl fmt::Display for Amount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        write!(f, "{sign}{}.{:02}", abs / 100, abs % 100)
    }
}

impl Add for Amount {
    type Output = Amount;
    fn add(self, rhs: Amount) -> Amount {
        Amount(self.0.saturating_add(rhs.0))
    }
}

impl AddAssign for Amount {
    fn add_assign(&mut self, rhs: Amount) {
        *self = *self + rhs;
    }
}

impl Sub for Amount {
    type Output = Amount;
    fn sub(self, rhs: Amount) -> Amount {
        Amount(self.0.saturating_sub(rhs.0))
    }
}

impl Neg for Amount {
    type Output = Amount;
    fn neg(self) -> Amount {
        Amount(self.0.saturating_neg())
    }
}

impl Sum for Amount {
    fn sum<I: Iterator<Item = Amount>>(iter: I) -> Amount {
        iter.fold(Amount::ZERO, Add::add)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_and_percent() {
        assert_eq!(Amount::whole(-10).to_string(), "-10.00", "negative yuan");
        assert_eq!(Amount(5).to_string(), "0.05", "cents pad");
        assert_eq!(
            Amount::whole(85).percent(70),
            Amount(5950),
            "70 % of 85 = 59.50"
        );
        assert_eq!(
            Amount(1).percent(50),
            Amount(1),
            "half rounds away from zero"
        );
        assert_eq!(Amount(-1).percent(50), Amount(-1), "also below zero");
    }

    #[test]
    fn mean_rounds() {
        assert_eq!(
            Amount::mean(&[Amount::whole(80), Amount::whole(90), Amount::whole(85)]),
            Amount::whole(85),
            "mean of three checks"
        );
        assert_eq!(
            Amount::mean(&[Amount(1), Amount(2)]),
            Amount(2),
            "1.5 hundredths rounds up"
        );
        assert_eq!(Amount::mean(&[]), Amount::ZERO, "no checks, zero");
    }
}
