//! The formats of an issued workbook.
//!
//! Every text colour keeps a contrast of at least 4.5:1 with its fill (WCAG AA):
//! navy or black on white and pale fills, white on navy, mid grey (7:1 on white,
//! 6.3:1 on grey). Answer cells are shaded, but never only shaded: the form says
//! which column to answer in.

use rust_xlsxwriter::{Color, Format, FormatAlign, FormatBorder};

use crate::xlsx::{MID_GREY, NAVY};

const PALE_BLUE: u32 = 0xDDEBF7;
const INPUT_YELLOW: u32 = 0xFFF2CC;
const GREY: u32 = 0xF2F2F2;

/// The formats of an issued workbook, made once per workbook.
pub(super) struct Styles {
    pub(super) title: Format,
    pub(super) subtitle: Format,
    /// One line of text that runs on to the right (not wrapped, not merged).
    pub(super) line: Format,
    /// A note of one line, like `line`.
    pub(super) line_note: Format,
    pub(super) label: Format,
    pub(super) value: Format,
    pub(super) heading: Format,
    pub(super) header: Format,
    pub(super) section: Format,
    pub(super) intro: Format,
    pub(super) number: Format,
    pub(super) question: Format,
    pub(super) help: Format,
    pub(super) answer: Format,
    pub(super) answer_date: Format,
    pub(super) answer_number: Format,
    pub(super) evidence: Format,
    pub(super) no_evidence: Format,
    /// Locked text ptk fills in (last year\'s objective, last year\'s action).
    pub(super) computed_text: Format,
    pub(super) computed: Format,
}

impl Styles {
    pub(super) fn new() -> Self {
        let border = |f: Format| {
            f.set_border(FormatBorder::Thin)
                .set_border_color(Color::RGB(0xBFBFBF))
        };
        let wrap_top = Format::new().set_text_wrap().set_align(FormatAlign::Top);
        let answer = border(
            wrap_top
                .clone()
                .set_background_color(Color::RGB(INPUT_YELLOW))
                .set_unlocked(),
        );
        Styles {
            title: Format::new()
                .set_bold()
                .set_font_size(16)
                .set_font_color(Color::RGB(NAVY)),
            subtitle: Format::new().set_bold().set_font_size(12),
            line: Format::new(),
            line_note: Format::new()
                .set_italic()
                .set_font_color(Color::RGB(MID_GREY)),
            label: border(
                wrap_top
                    .clone()
                    .set_bold()
                    .set_background_color(Color::RGB(GREY)),
            ),
            value: border(wrap_top.clone()),
            heading: Format::new()
                .set_bold()
                .set_font_size(12)
                .set_font_color(Color::RGB(NAVY)),
            header: border(
                wrap_top
                    .clone()
                    .set_bold()
                    .set_font_color(Color::White)
                    .set_background_color(Color::RGB(NAVY))
                    .set_align(FormatAlign::VerticalCenter),
            ),
            // Top and bottom rules only: the title runs on over the blank cells to
            // its right (no merged cells), so no cell border may cross it.
            section: Format::new()
                .set_bold()
                .set_font_size(12)
                .set_background_color(Color::RGB(PALE_BLUE))
                .set_border_top(FormatBorder::Thin)
                .set_border_bottom(FormatBorder::Thin)
                .set_border_color(Color::RGB(0xBFBFBF)),
            intro: wrap_top.clone().set_italic(),
            number: border(wrap_top.clone().set_align(FormatAlign::Center)),
            question: border(wrap_top.clone()),
            help: Format::new()
                .set_italic()
                .set_font_color(Color::RGB(MID_GREY)),
            answer_date: answer
                .clone()
                .set_num_format("dd/mm/yyyy")
                .set_align(FormatAlign::Left),
            answer_number: answer.clone().set_align(FormatAlign::Center),
            answer,
            evidence: border(
                wrap_top
                    .clone()
                    .set_background_color(Color::RGB(INPUT_YELLOW))
                    .set_unlocked(),
            ),
            no_evidence: border(
                wrap_top
                    .clone()
                    .set_italic()
                    .set_font_color(Color::RGB(MID_GREY))
                    .set_background_color(Color::RGB(GREY)),
            ),
            computed_text: border(wrap_top.clone().set_background_color(Color::RGB(GREY))),
            computed: border(
                wrap_top
                    .clone()
                    .set_align(FormatAlign::Center)
                    .set_background_color(Color::RGB(GREY)),
            ),
        }
    }
}
