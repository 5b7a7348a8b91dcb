//! The range of a classifier's answer: labels as the store holds them,
//! scores finite and within 0..=1, texts bounded, dates real dates, web
//! addresses only `http`/`https`, and reasons that point at what they explain.

use super::{
    PluginOutput, TextRule, Violation, count, email, label, number, timestamp, violation, web_url,
};
use crate::bindings::latest::types::{
    Classification, ClassificationPart, ContactCard, Evidence, Reason, ScoredLabel,
};

const MAX_TAGS: usize = 50;
const MAX_ACTIVITIES: usize = 50;
const MAX_REASONS: usize = 500;
const MAX_CARD_ENTRIES: usize = 20;
const MAX_PARTICIPANTS: usize = 100;
/// A year, in minutes.
const MAX_DURATION_MINUTES: u32 = 525_600;
/// How far a reason's weight may go either way.
const MAX_WEIGHT: f32 = 1e6;

impl PluginOutput for Classification {
    fn check(&self) -> Result<(), Violation> {
        if let Some(s) = &self.sentiment {
            scored(|| "sentiment".into(), s)?;
        }
        if let Some(s) = &self.intent {
            scored(|| "intent".into(), s)?;
        }
        TextRule::lines(4000).check_opt("summary", self.summary.as_ref())?;
        if let Some(card) = &self.signature {
            check_card(card)?;
        }
        count("activities", &self.activities, MAX_ACTIVITIES)?;
        for (i, a) in self.activities.iter().enumerate() {
            let at = move |name: &str| format!("activities[{i}].{name}");
            TextRule::line(200).check(|| at("title"), &a.title)?;
            timestamp(|| at("starts-at"), a.starts_at)?;
            if let Some(minutes) = a.duration_minutes
                && minutes > MAX_DURATION_MINUTES
            {
                return Err(violation(
                    || at("duration-minutes"),
                    format!("is {minutes}; the limit is {MAX_DURATION_MINUTES} (a year)"),
                ));
            }
            TextRule::line(500).check_opt(|| at("location"), a.location.as_ref())?;
            if a.participants.len() > MAX_PARTICIPANTS {
                return Err(violation(
                    || at("participants"),
                    format!(
                        "has {} entries; the limit is {MAX_PARTICIPANTS}",
                        a.participants.len()
                    ),
                ));
            }
            for (j, p) in a.participants.iter().enumerate() {
                TextRule::line(320).check(|| format!("activities[{i}].participants[{j}]"), p)?;
            }
        }
        count("tags", &self.tags, MAX_TAGS)?;
        for (i, t) in self.tags.iter().enumerate() {
            scored(move || format!("tags[{i}]"), t)?;
        }
        count("reasons", &self.reasons, MAX_REASONS)?;
        for (i, r) in self.reasons.iter().enumerate() {
            check_reason(move || format!("reasons[{i}]"), r, self.activities.len())?;
        }
        Ok(())
    }
}

fn scored(at: impl Fn() -> String + Copy, s: &ScoredLabel) -> Result<(), Violation> {
    label(|| format!("{}.label", at()), &s.label)?;
    number(|| format!("{}.score", at()), s.score, 0.0..=1.0)
}

fn check_card(card: &ContactCard) -> Result<(), Violation> {
    let line = TextRule::line(200);
    line.check_opt("signature.name", card.name.as_ref())?;
    line.check_opt("signature.job-title", card.job_title.as_ref())?;
    line.check_opt("signature.company", card.company.as_ref())?;
    count("signature.emails", &card.emails, MAX_CARD_ENTRIES)?;
    for (i, e) in card.emails.iter().enumerate() {
        email(move || format!("signature.emails[{i}]"), e)?;
    }
    count("signature.phones", &card.phones, MAX_CARD_ENTRIES)?;
    for (i, p) in card.phones.iter().enumerate() {
        TextRule::line(50).check(|| format!("signature.phones[{i}]"), p)?;
    }
    TextRule::lines(500).check_opt("signature.postal-address", card.postal_address.as_ref())?;
    if let Some(site) = &card.website {
        web_url("signature.website", site)?;
    }
    Ok(())
}

fn check_reason(
    at: impl Fn() -> String + Copy,
    r: &Reason,
    activities: usize,
) -> Result<(), Violation> {
    let field = move |name: &'static str| move || format!("{}.{name}", at());
    // Summary and activity reasons explain no label.
    if !r.label.is_empty() {
        label(field("label"), &r.label)?;
    }
    if let Some(index) = r.index
        && (r.part != ClassificationPart::Activity || index as usize >= activities)
    {
        return Err(violation(
            field("index"),
            format!(
                "is {index}, but there are {activities} activities (an index is for activity reasons only)"
            ),
        ));
    }
    TextRule::line(100).check(field("feature"), &r.feature)?;
    if let Some(e) = &r.evidence {
        check_evidence(at, e)?;
    }
    number(field("weight"), r.weight, -MAX_WEIGHT..=MAX_WEIGHT)
}

fn check_evidence(at: impl Fn() -> String + Copy, e: &Evidence) -> Result<(), Violation> {
    let field = move |name: &'static str| move || format!("{}.evidence.{name}", at());
    TextRule::line(200).check_opt(field("header-name"), e.header_name.as_ref())?;
    TextRule::lines(1000).check(field("text"), &e.text)?;
    if let (Some(start), Some(end)) = (e.start, e.end)
        && start > end
    {
        return Err(violation(
            field("start"),
            format!("is {start}, after end {end}"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bindings::latest::types::{Activity, ActivityKind};

    fn empty() -> Classification {
        Classification {
            sentiment: None,
            intent: None,
            summary: None,
            signature: None,
            activities: vec![],
            tags: vec![],
            reasons: vec![],
        }
    }

    fn tag(label: &str, score: f32) -> ScoredLabel {
        ScoredLabel {
            label: label.into(),
            score,
        }
    }

    #[test]
    fn scores_are_finite_and_within_zero_to_one() {
        let mut c = empty();
        c.sentiment = Some(tag("positive", f32::NAN));
        assert!(
            c.check()
                .unwrap_err()
                .to_string()
                .starts_with("`sentiment.score` is NaN")
        );
        c.sentiment = None;
        c.tags = vec![tag("a", 1.0), tag("b", -1e30)];
        assert_eq!(c.check().unwrap_err().field, "tags[1].score");
        c.tags = vec![tag("", 0.5)];
        assert_eq!(c.check().unwrap_err().field, "tags[0].label");
    }

    #[test]
    fn dates_and_websites_are_real() {
        let mut c = empty();
        c.activities.push(Activity {
            kind: ActivityKind::Meeting,
            title: "Kick-off".into(),
            starts_at: Some(i64::MIN),
            duration_minutes: None,
            location: None,
            participants: vec![],
        });
        assert_eq!(c.check().unwrap_err().field, "activities[0].starts-at");
        let mut c = empty();
        c.signature = Some(ContactCard {
            name: None,
            job_title: None,
            company: None,
            emails: vec![],
            phones: vec![],
            postal_address: None,
            website: Some("javascript:alert(1)".into()),
        });
        let e = c.check().unwrap_err();
        assert_eq!(e.field, "signature.website");
        assert!(e.problem.contains("javascript"), "{e}");
    }
}
