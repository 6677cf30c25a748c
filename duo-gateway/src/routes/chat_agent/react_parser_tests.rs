//! Golden and property tests of the ReAct parser (with the reasoning filter in front of it).

use proptest::prelude::*;

use super::*;
use duo_core::reasoning::ThinkFilter;

/// Runs `chunks` through the filter (when `strip`) and the parser, as the route does.
fn run(chunks: &[&str], strip: bool) -> Vec<AgentEvent> {
    let mut think = strip.then(ThinkFilter::new);
    let mut parser = ReactParser::new();
    let mut events = Vec::new();
    for chunk in chunks {
        let visible = match &mut think {
            Some(f) => f.push(chunk),
            None => (*chunk).to_owned(),
        };
        events.extend(parser.push(&visible));
    }
    if let Some(f) = &mut think {
        events.extend(parser.push(&f.finish()));
    }
    events.extend(parser.finish(Some("stop")));
    events
}

/// Consecutive answer deltas merged into one (text joined, the last finish reason kept).
fn merged(events: Vec<AgentEvent>) -> Vec<AgentEvent> {
    let mut out: Vec<AgentEvent> = Vec::new();
    for e in events {
        if let AgentEvent::FinalAnswerDelta {
            text,
            finish_reason,
        } = &e
            && let Some(AgentEvent::FinalAnswerDelta {
                text: prev,
                finish_reason: prev_reason,
            }) = out.last_mut()
        {
            prev.push_str(text);
            if finish_reason.is_some() {
                prev_reason.clone_from(finish_reason);
            }
            continue;
        }
        out.push(e);
    }
    out
}

fn action(tool: &str, tool_input: &str, thought: &str) -> AgentEvent {
    AgentEvent::Action {
        tool: tool.into(),
        tool_input: tool_input.into(),
        thought: thought.into(),
    }
}

#[test]
fn thought_action_and_input_become_one_action() {
    let out = "Thought: I need to read the issue first.\nAction: issue_reader\nAction Input: What is #12 about?\n";
    assert_eq!(
        run(&[out], false),
        vec![action(
            "issue_reader",
            "What is #12 about?",
            "I need to read the issue first."
        )]
    );
}

#[test]
fn an_action_is_emitted_at_observation_and_the_rest_ignored() {
    let mut p = ReactParser::new();
    assert!(
        p.push("Thought: look\nAction: epic_reader\nAction Input: &3\n")
            .is_empty()
    );
    assert_eq!(
        p.push("Observation: made up\nFinal Answer: nope"),
        vec![action("epic_reader", "&3", "look")]
    );
    assert!(p.push("more").is_empty());
    assert!(p.finish(Some("stop")).is_empty());
}

#[test]
fn final_answer_streams_as_it_arrives() {
    let mut p = ReactParser::new();
    assert!(p.push("Thought: I know this.\nFinal Ans").is_empty());
    assert_eq!(p.push("wer:  Hel"), vec![AgentEvent::delta("Hel")]);
    assert_eq!(p.push("lo "), vec![AgentEvent::delta("lo")]);
    assert_eq!(p.push("world\n\n"), vec![AgentEvent::delta(" world")]);
    assert!(p.push("  \n").is_empty(), "trailing whitespace is held");
    assert_eq!(
        p.finish(Some("length")),
        vec![AgentEvent::FinalAnswerDelta {
            text: String::new(),
            finish_reason: Some("length".into())
        }]
    );
}

#[test]
fn final_answer_keeps_inner_whitespace_and_markdown() {
    let out =
        "Thought: easy\nFinal Answer: Use `git rebase`:\n\n```sh\ngit rebase -i HEAD~3\n```\n";
    assert_eq!(
        merged(run(&[out], false)),
        vec![AgentEvent::FinalAnswerDelta {
            text: "Use `git rebase`:\n\n```sh\ngit rebase -i HEAD~3\n```".into(),
            finish_reason: Some("stop".into())
        }]
    );
}

#[test]
fn final_answer_wins_over_an_unfinished_action() {
    let out = "Thought: t\nAction: issue_reader\nAction Input: q\nFinal Answer: done";
    assert_eq!(
        merged(run(&[out], false)),
        vec![AgentEvent::FinalAnswerDelta {
            text: "done".into(),
            finish_reason: Some("stop".into())
        }]
    );
}

#[test]
fn plain_text_is_unknown() {
    assert_eq!(
        run(&["  Hello! How can I help you today?\n"], false),
        vec![AgentEvent::Unknown {
            text: "Hello! How can I help you today?".into()
        }]
    );
    assert_eq!(
        run(&["Thought: x\nAction: issue_reader\n"], false),
        vec![AgentEvent::Unknown {
            text: "Thought: x\nAction: issue_reader".into()
        }],
        "an action without input is not an action"
    );
    assert_eq!(
        run(&[], false),
        vec![AgentEvent::Unknown {
            text: String::new()
        }]
    );
}

#[test]
fn thought_prefix_is_optional_and_names_are_unescaped() {
    let out = "I should read the MR\nAction: merge\\_request\\_reader\nAction Input: !7";
    assert_eq!(
        run(&[out], false),
        vec![action("merge_request_reader", "!7", "I should read the MR")]
    );
    let out = "Thought: use the\\_tool\nAction: `MergeRequestReader`\nAction Input: !8";
    assert_eq!(
        run(&[out], false),
        vec![action("merge_request_reader", "!8", "use the_tool")]
    );
}

#[test]
fn think_blocks_are_stripped_across_chunks() {
    let chunks = [
        "<thi",
        "nk>Maybe Final Answer: no, I should check.</th",
        "ink>\nThought: sure\nFinal Answer: Yes.",
    ];
    assert_eq!(
        merged(run(&chunks, true)),
        vec![AgentEvent::FinalAnswerDelta {
            text: "Yes.".into(),
            finish_reason: Some("stop".into())
        }]
    );
    // Without stripping, the reasoning's "Final Answer:" would have been taken as the answer.
    let unstripped = merged(run(&chunks, false));
    assert!(
        matches!(&unstripped[0], AgentEvent::FinalAnswerDelta { text, .. } if text.starts_with("no, I should")),
        "{unstripped:?}"
    );
}

#[test]
fn markers_split_inside_are_found() {
    let out = "Thought: a\nAction: build_reader\nAction Input: job 5";
    for i in 0..=out.len() {
        let (a, b) = out.split_at(i);
        assert_eq!(
            run(&[a, b], false),
            vec![action("build_reader", "job 5", "a")],
            "split at {i}"
        );
    }
}

#[test]
fn multibyte_text_around_markers() {
    let out = "Thought: 日本語é\nFinal Answer:日本語 ✓";
    let chunks: Vec<String> = out.chars().map(String::from).collect();
    let chunks: Vec<&str> = chunks.iter().map(String::as_str).collect();
    assert_eq!(
        merged(run(&chunks, false)),
        vec![AgentEvent::FinalAnswerDelta {
            text: "日本語 ✓".into(),
            finish_reason: Some("stop".into())
        }]
    );
}

/// Splits `s` at the given byte positions (moved down to char boundaries).
fn split_at(s: &str, mut cuts: Vec<usize>) -> Vec<&str> {
    cuts.iter_mut()
        .for_each(|c| *c = floor_char_boundary(s, *c % (s.len() + 1)));
    cuts.sort_unstable();
    let mut out = Vec::new();
    let mut start = 0;
    for c in cuts {
        out.push(&s[start..c]);
        start = c;
    }
    out.push(&s[start..]);
    out
}

/// Pieces that build outputs full of markers, partial tags and multi-byte text.
fn piece() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("Thought:".to_owned()),
        Just("Action:".to_owned()),
        Just("Action Input:".to_owned()),
        Just("Observation:".to_owned()),
        Just("Final Answer:".to_owned()),
        Just("<think>".to_owned()),
        Just("</think>".to_owned()),
        Just("<thi".to_owned()),
        Just("\\_".to_owned()),
        Just("\n".to_owned()),
        Just("  ".to_owned()),
        "[a-zé日 <:\n]{0,8}",
    ]
}

/// Text with no marker and no tag in it (no `:` and no `<`).
fn plain() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9 é日\n.,!?_-]{0,40}"
}

proptest! {
    #[test]
    fn any_split_gives_the_same_events(
        pieces in prop::collection::vec(piece(), 0..24),
        cuts in prop::collection::vec(any::<usize>(), 0..12),
        strip in any::<bool>(),
    ) {
        let out = pieces.concat();
        let whole = merged(run(&[&out], strip));
        let split = run(&split_at(&out, cuts), strip);
        for e in &split {
            if let AgentEvent::FinalAnswerDelta { text, finish_reason: None } = e {
                prop_assert!(!text.is_empty(), "empty delta in {split:?}");
            }
        }
        prop_assert_eq!(merged(split), whole);
    }

    #[test]
    fn the_final_answer_arrives_intact(
        reasoning in plain(),
        thought in plain(),
        answer in plain(),
        cuts in prop::collection::vec(any::<usize>(), 0..12),
    ) {
        let out = format!("<think>{reasoning}</think>Thought: {thought}\nFinal Answer: {answer}");
        let events = merged(run(&split_at(&out, cuts), true));
        prop_assert_eq!(events, vec![AgentEvent::FinalAnswerDelta {
            text: answer.trim().to_owned(),
            finish_reason: Some("stop".into()),
        }]);
    }

    #[test]
    fn the_action_arrives_intact(
        thought in plain(),
        tool in "[a-z_]{1,20}",
        input in plain(),
        observed in any::<bool>(),
        cuts in prop::collection::vec(any::<usize>(), 0..12),
    ) {
        let tail = if observed { "\nObservation: invented" } else { "" };
        let out = format!("Thought: {thought}\nAction: {tool}\nAction Input: {input}{tail}");
        let events = run(&split_at(&out, cuts), false);
        prop_assert_eq!(events, vec![action(&tool, input.trim(), thought.trim())]);
    }
}
