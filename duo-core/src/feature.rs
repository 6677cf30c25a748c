//! Duo features and the unit primitives (token scopes) that authorise them.

use std::fmt;
use std::str::FromStr;

/// Declares a fieldless enum whose variants map one-to-one to stable string ids.
macro_rules! string_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident => $id:literal,)+ }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[non_exhaustive]
        pub enum $name {
            $($(#[$vmeta])* $variant,)+
        }

        impl $name {
            /// Every variant, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant,)+];

            /// The stable string id, as GitLab spells it.
            #[must_use]
            pub const fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $id,)+
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = UnknownId;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($id => Ok($name::$variant),)+
                    _ => Err(UnknownId { kind: stringify!($name), id: s.to_owned() }),
                }
            }
        }
    };
}

/// A string id that names no known variant.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {kind} '{id}'")]
pub struct UnknownId {
    /// Which kind of id was parsed, e.g. `UnitPrimitive`.
    pub kind: &'static str,
    /// The id as given.
    pub id: String,
}

string_enum! {
    /// A unit primitive: the permission a GitLab token's `scopes` claim grants, one per feature.
    UnitPrimitive {
        /// Code completion.
        CompleteCode => "complete_code",
        /// Code generation.
        GenerateCode => "generate_code",
        /// Duo Chat (newer flows).
        DuoChat => "duo_chat",
        /// Duo Chat's ReAct agent.
        DuoClassicChat => "duo_classic_chat",
        /// `/explain` slash command.
        ExplainCode => "explain_code",
        /// `/tests` slash command.
        WriteTests => "write_tests",
        /// `/refactor` slash command.
        RefactorCode => "refactor_code",
        /// `/fix` slash command.
        FixCode => "fix_code",
        /// Root-cause analysis of a failed CI job.
        TroubleshootJob => "troubleshoot_job",
        /// Explain a vulnerability.
        ExplainVulnerability => "explain_vulnerability",
        /// Resolve a vulnerability with a merge request.
        ResolveVulnerability => "resolve_vulnerability",
        /// Summarise an issue's discussion.
        SummarizeComments => "summarize_comments",
        /// Merge request description.
        SummarizeNewMergeRequest => "summarize_new_merge_request",
        /// Code review summary.
        SummarizeReview => "summarize_review",
        /// Commit message generation.
        GenerateCommitMessage => "generate_commit_message",
        /// Classic code review.
        ReviewMergeRequest => "review_merge_request",
        /// GitLab Duo for the CLI.
        GlabAskGitCommand => "glab_ask_git_command",
        /// Documentation search tool.
        DocumentationSearch => "documentation_search",
        /// Chat tool: read a CI build.
        AskBuild => "ask_build",
        /// Chat tool: read a commit.
        AskCommit => "ask_commit",
        /// Chat tool: read an epic.
        AskEpic => "ask_epic",
        /// Chat tool: read an issue.
        AskIssue => "ask_issue",
        /// Chat tool: read a merge request.
        AskMergeRequest => "ask_merge_request",
        /// Chat tool: read a work item.
        AskWorkItem => "ask_work_item",
        /// Chat context: a file.
        IncludeFileContext => "include_file_context",
        /// Chat context: a snippet.
        IncludeSnippetContext => "include_snippet_context",
        /// Chat context: a merge request.
        IncludeMergeRequestContext => "include_merge_request_context",
        /// Chat context: an issue.
        IncludeIssueContext => "include_issue_context",
        /// Chat context: a dependency.
        IncludeDependencyContext => "include_dependency_context",
        /// Chat context: the local git state.
        IncludeLocalGitContext => "include_local_git_context",
        /// Chat context: terminal output.
        IncludeTerminalContext => "include_terminal_context",
        /// Chat context: a repository.
        IncludeRepositoryContext => "include_repository_context",
        /// Chat context: a directory.
        IncludeDirectoryContext => "include_directory_context",
        /// Chat context: operating-system information.
        IncludeOsInformationContext => "include_os_information_context",
        /// Chat context: the agent's user environment.
        IncludeAgentUserEnvironmentContext => "include_agent_user_environment_context",
        /// IDE direct access to the model proxy.
        AiGatewayModelProviderProxy => "ai_gateway_model_provider_proxy",
        /// Duo Agent Platform.
        DuoAgentPlatform => "duo_agent_platform",
    }
}

string_enum! {
    /// A Duo feature a self-hosted model can serve, named by GitLab's feature-setting id.
    Feature {
        /// Code completion in the editor.
        CodeCompletions => "code_completions",
        /// Code generation from a comment.
        CodeGenerations => "code_generations",
        /// Duo Chat.
        DuoChat => "duo_chat",
        /// Chat `/explain`.
        ExplainCode => "duo_chat_explain_code",
        /// Chat `/tests`.
        WriteTests => "duo_chat_write_tests",
        /// Chat `/refactor`.
        RefactorCode => "duo_chat_refactor_code",
        /// Chat `/fix`.
        FixCode => "duo_chat_fix_code",
        /// Root-cause analysis of a failed job.
        TroubleshootJob => "duo_chat_troubleshoot_job",
        /// Explain a vulnerability.
        ExplainVulnerability => "duo_chat_explain_vulnerability",
        /// Summarise a discussion.
        SummarizeComments => "duo_chat_summarize_comments",
        /// Chat's documentation questions: the search, then the answer from what it found (an id of
        /// duo's own: GitLab configures the model for it as Duo Chat's).
        DocumentationSearch => "duo_chat_documentation_search",
        /// Resolve a vulnerability.
        ResolveVulnerability => "resolve_vulnerability",
        /// Commit message.
        GenerateCommitMessage => "generate_commit_message",
        /// Merge request description.
        SummarizeNewMergeRequest => "summarize_new_merge_request",
        /// Code review summary.
        SummarizeReview => "summarize_review",
        /// Classic code review.
        ReviewMergeRequest => "review_merge_request",
        /// GitLab Duo for the CLI.
        GlabAskGitCommand => "glab_ask_git_command",
        /// The admin area's "test connection" check of a model.
        ModelConfigurationCheck => "model_configuration_check",
    }
}

impl Feature {
    /// The unit primitive a caller's token must hold to use this feature.
    #[must_use]
    pub const fn unit_primitive(self) -> UnitPrimitive {
        match self {
            Feature::CodeCompletions | Feature::ModelConfigurationCheck => {
                UnitPrimitive::CompleteCode
            }
            Feature::CodeGenerations => UnitPrimitive::GenerateCode,
            Feature::DuoChat => UnitPrimitive::DuoClassicChat,
            Feature::ExplainCode => UnitPrimitive::ExplainCode,
            Feature::WriteTests => UnitPrimitive::WriteTests,
            Feature::RefactorCode => UnitPrimitive::RefactorCode,
            Feature::FixCode => UnitPrimitive::FixCode,
            Feature::TroubleshootJob => UnitPrimitive::TroubleshootJob,
            Feature::ExplainVulnerability => UnitPrimitive::ExplainVulnerability,
            Feature::SummarizeComments => UnitPrimitive::SummarizeComments,
            Feature::DocumentationSearch => UnitPrimitive::DocumentationSearch,
            Feature::ResolveVulnerability => UnitPrimitive::ResolveVulnerability,
            Feature::GenerateCommitMessage => UnitPrimitive::GenerateCommitMessage,
            Feature::SummarizeNewMergeRequest => UnitPrimitive::SummarizeNewMergeRequest,
            Feature::SummarizeReview => UnitPrimitive::SummarizeReview,
            Feature::ReviewMergeRequest => UnitPrimitive::ReviewMergeRequest,
            Feature::GlabAskGitCommand => UnitPrimitive::GlabAskGitCommand,
        }
    }

    /// The id of the prompt definition that serves this feature (as in `/v1/prompts/{prompt_id}`).
    #[must_use]
    pub const fn prompt_id(self) -> &'static str {
        match self {
            Feature::CodeCompletions => "code_suggestions/completions",
            Feature::CodeGenerations => "code_suggestions/generations",
            Feature::DuoChat => "chat/react",
            Feature::ExplainCode => "chat/explain_code",
            Feature::WriteTests => "chat/write_tests",
            Feature::RefactorCode => "chat/refactor_code",
            Feature::FixCode => "chat/fix_code",
            Feature::TroubleshootJob => "chat/troubleshoot_job",
            Feature::ExplainVulnerability => "chat/explain_vulnerability",
            Feature::SummarizeComments => "chat/summarize_comments",
            Feature::DocumentationSearch => "chat/documentation_search",
            Feature::ResolveVulnerability => "resolve_vulnerability",
            Feature::GenerateCommitMessage => "generate_commit_message",
            Feature::SummarizeNewMergeRequest => "summarize_new_merge_request",
            Feature::SummarizeReview => "summarize_review",
            Feature::ReviewMergeRequest => "review_merge_request",
            Feature::GlabAskGitCommand => "glab_ask_git_command",
            Feature::ModelConfigurationCheck => "model_configuration/check",
        }
    }

    /// The feature a prompt id serves, if it is one of the built-in ones.
    #[must_use]
    pub fn from_prompt_id(prompt_id: &str) -> Option<Self> {
        Self::ALL
            .iter()
            .copied()
            .find(|f| f.prompt_id() == prompt_id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_unit_primitive_round_trips_through_its_id() {
        for up in UnitPrimitive::ALL {
            assert_eq!(up.as_str().parse::<UnitPrimitive>(), Ok(*up));
        }
        assert_eq!(UnitPrimitive::ALL.len(), 37);
    }

    #[test]
    fn unknown_ids_are_errors_that_name_the_kind() {
        let err = "teleport".parse::<UnitPrimitive>().unwrap_err();
        assert_eq!(err.to_string(), "unknown UnitPrimitive 'teleport'");
        assert!("Complete_Code".parse::<UnitPrimitive>().is_err());
        assert!("".parse::<Feature>().is_err());
    }

    #[test]
    fn every_feature_round_trips_and_maps_to_its_prompt() {
        for f in Feature::ALL {
            assert_eq!(f.as_str().parse::<Feature>(), Ok(*f));
            assert_eq!(Feature::from_prompt_id(f.prompt_id()), Some(*f));
        }
        assert_eq!(Feature::from_prompt_id("chat/unknown"), None);
    }

    #[test]
    fn features_need_the_reference_unit_primitives() {
        assert_eq!(
            Feature::CodeCompletions.unit_primitive().as_str(),
            "complete_code"
        );
        assert_eq!(
            Feature::CodeGenerations.unit_primitive().as_str(),
            "generate_code"
        );
        assert_eq!(
            Feature::DuoChat.unit_primitive().as_str(),
            "duo_classic_chat"
        );
        assert_eq!(Feature::FixCode.unit_primitive().as_str(), "fix_code");
        assert_eq!(
            Feature::ModelConfigurationCheck.unit_primitive(),
            UnitPrimitive::CompleteCode
        );
        assert_eq!(
            Feature::SummarizeNewMergeRequest.unit_primitive().as_str(),
            "summarize_new_merge_request"
        );
        assert_eq!(
            Feature::TroubleshootJob.prompt_id(),
            "chat/troubleshoot_job"
        );
        assert_eq!(
            Feature::ModelConfigurationCheck.prompt_id(),
            "model_configuration/check"
        );
    }
}
