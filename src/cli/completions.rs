//! `rbacd completions bash|zsh|fish`: a shell completion script on stdout.

use clap::{Args, CommandFactory, ValueEnum};
use clap_complete::{Shell, generate};

use super::{Failure, Outcome};

/// A shell `rbacd` writes completions for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CompletionShell {
    Bash,
    Zsh,
    Fish,
}

/// Arguments of `rbacd completions`.
#[derive(Debug, Args)]
#[command(
    after_help = "E.g. `rbacd completions bash > /etc/bash_completion.d/rbacd`, \
    `rbacd completions zsh > \"${fpath[1]}/_rbacd\"`, \
    `rbacd completions fish > ~/.config/fish/completions/rbacd.fish`."
)]
pub struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_enum)]
    shell: CompletionShell,
}

/// Writes the completion script for every subcommand and flag of `rbacd`.
pub fn run(args: CompletionsArgs) -> Result<Outcome, Failure> {
    let shell = match args.shell {
        CompletionShell::Bash => Shell::Bash,
        CompletionShell::Zsh => Shell::Zsh,
        CompletionShell::Fish => Shell::Fish,
    };
    let mut command = crate::config::Cli::command();
    let mut script = Vec::new();
    generate(shell, &mut command, "rbacd", &mut script);
    super::output::write(&String::from_utf8_lossy(&script));
    Ok(Outcome::Done)
}
