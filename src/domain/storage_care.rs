//! Storage care (R19, R20): climate targets of a storage room (庫房) and the checks of its
//! readings, and the default inspection plan (十防).

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::catalogue::Carrier;

/// Climate targets for one carrier in a room. Swings are ± around the day's mean, so a day
/// whose highest and lowest readings differ by more than twice the swing is over the limit.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClimateTarget {
    /// `paper`, `photo`, `media`, … (the record carriers).
    #[serde(default = "paper")]
    pub carrier: Carrier,
    pub temperature_min_c: f64,
    pub temperature_max_c: f64,
    pub humidity_min_pct: f64,
    pub humidity_max_pct: f64,
    pub temperature_swing_c: f64,
    pub humidity_swing_pct: f64,
}

fn paper() -> Carrier {
    Carrier::Paper
}

impl ClimateTarget {
    /// The paper targets of 檔案庫房技術管理暫行規定: 14–24 ℃, 45–60 %RH, ±2 ℃ and ±5 %RH a day.
    pub const PAPER: ClimateTarget = ClimateTarget {
        carrier: Carrier::Paper,
        temperature_min_c: 14.0,
        temperature_max_c: 24.0,
        humidity_min_pct: 45.0,
        humidity_max_pct: 60.0,
        temperature_swing_c: 2.0,
        humidity_swing_pct: 5.0,
    };

    /// Why the target is unusable, if it is.
    pub fn validate(&self) -> Result<(), String> {
        let values = [
            self.temperature_min_c,
            self.temperature_max_c,
            self.humidity_min_pct,
            self.humidity_max_pct,
            self.temperature_swing_c,
            self.humidity_swing_pct,
        ];
        if values.iter().any(|value| !value.is_finite()) {
            return Err("targets must be numbers".into());
        }
        if self.temperature_min_c > self.temperature_max_c {
            return Err("temperature_min_c is above temperature_max_c".into());
        }
        if self.humidity_min_pct > self.humidity_max_pct {
            return Err("humidity_min_pct is above humidity_max_pct".into());
        }
        if !(0.0..=100.0).contains(&self.humidity_min_pct)
            || !(0.0..=100.0).contains(&self.humidity_max_pct)
        {
            return Err("humidity targets are percentages between 0 and 100".into());
        }
        if self.temperature_swing_c < 0.0 || self.humidity_swing_pct < 0.0 {
            return Err("swings cannot be negative".into());
        }
        Ok(())
    }
}

text_enum!(
    /// What is wrong with a room's climate; each names one alert.
    Breach {
        TemperatureHigh => "temperature_high",
        TemperatureLow => "temperature_low",
        HumidityHigh => "humidity_high",
        HumidityLow => "humidity_low",
        TemperatureSwing => "temperature_swing",
        HumiditySwing => "humidity_swing",
    }
);

impl Breach {
    /// A short bilingual label for reminder subjects.
    pub fn label(self) -> &'static str {
        match self {
            Breach::TemperatureHigh => "溫度過高 temperature above target",
            Breach::TemperatureLow => "溫度過低 temperature below target",
            Breach::HumidityHigh => "濕度過高 humidity above target",
            Breach::HumidityLow => "濕度過低 humidity below target",
            Breach::TemperatureSwing => "溫度日較差超限 daily temperature swing over limit",
            Breach::HumiditySwing => "濕度日較差超限 daily humidity swing over limit",
        }
    }
}

/// The breaches of one reading against a target.
pub fn reading_breaches(
    target: &ClimateTarget,
    temperature_c: Option<f64>,
    humidity_pct: Option<f64>,
) -> Vec<Breach> {
    let mut breaches = Vec::new();
    if let Some(t) = temperature_c {
        if t > target.temperature_max_c {
            breaches.push(Breach::TemperatureHigh);
        } else if t < target.temperature_min_c {
            breaches.push(Breach::TemperatureLow);
        }
    }
    if let Some(h) = humidity_pct {
        if h > target.humidity_max_pct {
            breaches.push(Breach::HumidityHigh);
        } else if h < target.humidity_min_pct {
            breaches.push(Breach::HumidityLow);
        }
    }
    breaches
}

/// The extremes of one day's readings.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct DayRange {
    pub temperature: Option<(f64, f64)>,
    pub humidity: Option<(f64, f64)>,
}

/// The swing breaches of a day whose readings span `range`.
pub fn swing_breaches(target: &ClimateTarget, range: &DayRange) -> Vec<Breach> {
    let mut breaches = Vec::new();
    // A small tolerance keeps a swing of exactly the limit (numeric(5,2) values) within it.
    const EPSILON: f64 = 1e-9;
    if let Some((low, high)) = range.temperature
        && high - low > 2.0 * target.temperature_swing_c + EPSILON
    {
        breaches.push(Breach::TemperatureSwing);
    }
    if let Some((low, high)) = range.humidity
        && high - low > 2.0 * target.humidity_swing_pct + EPSILON
    {
        breaches.push(Breach::HumiditySwing);
    }
    breaches
}

/// One item of an inspection plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PlanItem {
    /// A short code, unique in the plan (`damp`, `pests`, …).
    pub code: String,
    pub name: String,
    pub interval_days: i32,
}

/// The ten protections (十防), each checked weekly: a new room's plan unless told otherwise.
pub fn default_plan() -> Vec<PlanItem> {
    [
        ("damp", "防潮 damp"),
        ("insects", "防蟲 insects"),
        ("rodents", "防鼠 rodents"),
        ("light", "防光 light"),
        ("dust", "防塵 dust"),
        ("fire", "防火 fire"),
        ("theft", "防盜 theft"),
        ("water", "防水 water"),
        ("heat", "防高溫 heat"),
        ("mould", "防霉 mould"),
    ]
    .into_iter()
    .map(|(code, name)| PlanItem {
        code: code.to_owned(),
        name: name.to_owned(),
        interval_days: 7,
    })
    .collect()
}

/// Why a plan is unusable, if it is: codes must be present and distinct, intervals positive.
pub fn validate_plan(items: &[PlanItem]) -> Result<(), String> {
    let mut seen = std::collections::BTreeSet::new();
    for item in items {
        let code = item.code.trim();
        if code.is_empty() || item.name.trim().is_empty() {
            return Err("every plan item needs a code and a name".into());
        }
        if !seen.insert(code) {
            return Err(format!("plan item {code:?} appears twice"));
        }
        if !(1..=3660).contains(&item.interval_days) {
            return Err(format!(
                "plan item {code:?}: interval_days must be between 1 and 3660"
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn readings_outside_the_paper_targets_are_breaches() {
        let cases = [
            (Some(28.0), Some(50.0), vec![Breach::TemperatureHigh]),
            (Some(13.9), Some(50.0), vec![Breach::TemperatureLow]),
            (Some(20.0), Some(61.0), vec![Breach::HumidityHigh]),
            (Some(20.0), Some(44.0), vec![Breach::HumidityLow]),
            (Some(24.0), Some(45.0), vec![]),
            (Some(14.0), Some(60.0), vec![]),
            (None, Some(70.0), vec![Breach::HumidityHigh]),
            (
                Some(30.0),
                Some(30.0),
                vec![Breach::TemperatureHigh, Breach::HumidityLow],
            ),
        ];
        for (t, h, expected) in cases {
            assert_eq!(
                reading_breaches(&ClimateTarget::PAPER, t, h),
                expected,
                "{t:?} {h:?}"
            );
        }
    }

    #[test]
    fn a_day_swinging_more_than_twice_the_limit_is_a_breach() {
        let target = ClimateTarget::PAPER;
        let within = DayRange {
            temperature: Some((18.0, 22.0)),
            humidity: Some((50.0, 60.0)),
        };
        assert!(swing_breaches(&target, &within).is_empty());
        let over = DayRange {
            temperature: Some((17.9, 22.0)),
            humidity: Some((49.0, 60.0)),
        };
        assert_eq!(
            swing_breaches(&target, &over),
            vec![Breach::TemperatureSwing, Breach::HumiditySwing]
        );
        assert!(swing_breaches(&target, &DayRange::default()).is_empty());
    }

    #[test]
    fn the_default_plan_is_the_ten_protections_weekly() {
        let plan = default_plan();
        assert_eq!(plan.len(), 10);
        assert!(plan.iter().all(|item| item.interval_days == 7));
        assert_eq!(validate_plan(&plan), Ok(()));
    }

    #[test]
    fn plans_with_repeated_codes_or_no_interval_are_refused() {
        let mut plan = default_plan();
        plan[1].code = "damp".into();
        assert!(validate_plan(&plan).is_err());
        let mut plan = default_plan();
        plan[0].interval_days = 0;
        assert!(validate_plan(&plan).is_err());
    }

    #[test]
    fn targets_with_crossed_bounds_are_refused() {
        let mut target = ClimateTarget::PAPER;
        assert_eq!(target.validate(), Ok(()));
        target.temperature_min_c = 30.0;
        assert!(target.validate().is_err());
        let mut target = ClimateTarget::PAPER;
        target.humidity_max_pct = 120.0;
        assert!(target.validate().is_err());
    }
}
