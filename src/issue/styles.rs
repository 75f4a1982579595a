//! The formats of an issued workbook.

use rust_xlsxwriter::{Color, Format, FormatAlign, FormatBorder};

use crate::xlsx::{MID_GREY, NAVY};

const PALE_BLUE: u32 = 0xDDEBF7;
const INPUT_YELLOW: u32 = 0xFFF2CC;
const GREY: u32 = 0xF2F2F2;

/// The formats of an issued workbook, made once per workbook.
pub(super) struct Styles {
    pub(super) title: Format,
    pub(super) subtitle: Format,
    pub(super) note: Format,
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
    pub(super) computed: Format,
    pub(super) body: Format,
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
            note: Format::new()
                .set_italic()
                .set_text_wrap()
                .set_align(FormatAlign::Top)
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
            section: border(
                Format::new()
                    .set_bold()
                    .set_font_size(12)
                    .set_background_color(Color::RGB(PALE_BLUE)),
            ),
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
            no_evidence: border(Format::new().set_background_color(Color::RGB(GREY))),
            computed: border(
                wrap_top
                    .clone()
                    .set_align(FormatAlign::Center)
                    .set_background_color(Color::RGB(GREY)),
            ),
            body: wrap_top,
        }
    }
}
