//! `ptk templates list|check`.

use std::path::PathBuf;

use clap::Subcommand;
use ptk::config::Config;
use ptk::template;

#[derive(Subcommand)]
pub enum TemplatesCommand {
    /// Show the templates in the templates folder.
    #[command(after_help = concat!(
        "Examples:\n  ptk templates list\n  ptk templates list --templates templates/\n\n",
        super::exit_codes!()
    ))]
    List {
        /// The templates folder (default: `templates` in ptk.toml, else ./templates).
        #[arg(long)]
        templates: Option<PathBuf>,
    },
    /// Check template files and report every problem with its file and line.
    #[command(after_help = concat!(
        "Examples:\n  ptk templates check\n  ptk templates check templates/exit.toml\n\n",
        super::exit_codes!()
    ))]
    Check {
        /// Files to check (default: every .toml in the templates folder).
        files: Vec<PathBuf>,
        /// The templates folder to check when no files are given (default: `templates` in ptk.toml, else ./templates).
        #[arg(long)]
        templates: Option<PathBuf>,
    },
}

pub fn run(cmd: TemplatesCommand, config: &Config) -> anyhow::Result<i32> {
    match cmd {
        TemplatesCommand::List { templates } => {
            let dir = config.templates_dir(templates.as_deref());
            let (list, problems) = template::load_dir(&dir)?;
            println!(
                "{:<20} {:>7}  {:<8} {:>9}  title",
                "id", "version", "scored", "questions"
            );
            for t in &list {
                println!(
                    "{:<20} {:>7}  {:<8} {:>9}  {}",
                    t.id,
                    t.version,
                    if t.is_scored() { "yes" } else { "no" },
                    t.questions().count(),
                    t.title
                );
            }
            report_problems(&problems)
        }
        TemplatesCommand::Check { files, templates } => {
            let (checked, problems) = if files.is_empty() {
                let dir = config.templates_dir(templates.as_deref());
                let (list, problems) = template::load_dir(&dir)?;
                (list.len(), problems)
            } else {
                let mut ok = 0;
                let mut problems = Vec::new();
                for f in &files {
                    match template::load_file(f) {
                        Ok(_) => ok += 1,
                        Err(mut p) => problems.append(&mut p),
                    }
                }
                (ok, problems)
            };
            // The email texts go out with every run: checked with the forms.
            let letters = if files.is_empty() {
                ptk::letter::check_letters(&config.templates_dir(templates.as_deref()))
            } else {
                Vec::new()
            };
            for l in &letters {
                eprintln!("{l}");
            }
            if problems.is_empty() && letters.is_empty() {
                println!("{checked} template(s) checked: no problems found.");
            }
            if !letters.is_empty() && problems.is_empty() {
                eprintln!("{} problem(s) found in the email texts; fix them in templates/email/ and run `ptk templates check` again.", letters.len());
                return Ok(ptk::exit::REJECTED);
            }
            report_problems(&problems)
        }
    }
}

fn report_problems(problems: &[template::TemplateProblem]) -> anyhow::Result<i32> {
    if problems.is_empty() {
        return Ok(ptk::exit::OK);
    }
    for p in problems {
        eprintln!("{p}");
    }
    eprintln!("{} problem(s) found; fix them in the template file(s) and run `ptk templates check` again.", problems.len());
    Ok(ptk::exit::REJECTED)
}
