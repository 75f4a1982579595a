//! The Overview's message: one headline sentence a Leadership Team member can read in
//! thirty seconds (the average and its like-for-like change with n, the weakest and
//! most improved sections, what is outstanding against the deadline), and the spread
//! of life-cycle stages. Pure functions of the gathered review.

use chrono::NaiveDate;

use super::decision::signed;
use super::figures::{overall_like_for_like, sections, Average};
use super::gather::Review;

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// The headline sentence.
pub fn headline(review: &Review) -> String {
    let y = review.year;
    let mut parts = Vec::new();
    let now = Average::of(review.rows.iter().filter_map(|r| r.overall));
    if let Some(v) = now.value {
        let mut s = format!(
            "The average overall score is {v:.1}% over {}",
            plural(now.n, "partnership", "partnerships")
        );
        let like = overall_like_for_like(&review.rows);
        if let (Some(b), Some(n), Some(c)) = (like.before, like.now, like.change()) {
            s.push_str(&format!(
                " (like for like {b:.1} → {n:.1}, {}, over the {} scored by the same respondents in {} and {y})",
                signed(c),
                like.n,
                y - 1
            ));
        }
        parts.push(s);
    } else {
        parts.push(format!("No self-assessment has been scored for {y} yet"));
    }
    let secs = sections(&review.rows, &review.scored);
    if let Some(weak) = secs
        .iter()
        .filter(|s| s.now.value.is_some())
        .min_by(|a, b| a.now.value.unwrap().total_cmp(&b.now.value.unwrap()))
    {
        let mut s = format!(
            "the weakest section is “{}” ({:.1}%",
            weak.title,
            weak.now.value.unwrap_or_default()
        );
        if let Some(c) = weak.same.change() {
            s.push_str(&format!(", {} like for like", signed(c)));
        }
        s.push(')');
        parts.push(s);
    }
    if let Some(best) = secs
        .iter()
        .filter(|s| s.same.change().is_some_and(|c| c >= 0.05))
        .max_by(|a, b| {
            a.same
                .change()
                .unwrap()
                .total_cmp(&b.same.change().unwrap())
        })
    {
        parts.push(format!(
            "the most improved is “{}” ({})",
            best.title,
            signed(best.same.change().unwrap_or_default())
        ));
    }
    let outstanding = review
        .rows
        .iter()
        .filter(|r| r.state.is_outstanding())
        .count();
    let due = match (review.deadline, review.as_of) {
        (Some(d), Some(now)) if now > d => format!(", and the deadline of {} has passed", day(d)),
        (Some(d), _) => format!(" before the deadline of {}", day(d)),
        _ => String::new(),
    };
    if review.imported_at.is_some() {
        // A year known only from imported history: this year's deadline is not its.
        parts.push(format!(
            "the {y} scores are imported history: no {y} form was read"
        ));
    } else {
        parts.push(format!(
            "{} still to send a form{due}",
            plural(outstanding, "partnership is", "partnerships are")
        ));
    }
    let mut out = parts.join("; ");
    out.push('.');
    out
}

fn day(d: NaiveDate) -> String {
    d.format("%-d %B %Y").to_string()
}

/// "Forming 1, Frustration 4, Functioning 3, Flying 0, Failing 0" for a year's
/// partnership stages (each partnership once, as its result records it), in the
/// stage question's option order, or none when the form has no stage question.
pub fn stage_spread(review: &Review, year: i32) -> Option<String> {
    let q = review
        .scored
        .sections
        .iter()
        .flat_map(|s| &s.questions)
        .find(|q| q.id == "stage")?;
    let stages: Vec<&str> = if year == review.year {
        review
            .rows
            .iter()
            .filter_map(|r| r.stage.as_deref())
            .collect()
    } else {
        review
            .rows
            .iter()
            .filter_map(|r| r.stage_before.as_deref())
            .collect()
    };
    if stages.is_empty() {
        return None;
    }
    Some(
        q.options
            .iter()
            .map(|o| {
                let n = stages
                    .iter()
                    .filter(|s| s.trim().eq_ignore_ascii_case(&o.label))
                    .count();
                format!("{} {n}", o.label)
            })
            .collect::<Vec<_>>()
            .join(", "),
    )
}
