//! Property tests: rendering never panics on arbitrary Unicode input, and trimming keeps the text
//! closest to the cursor within the budget.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may unwrap

mod common;

use std::sync::OnceLock;

use duo_core::{ModelFamily, Prompt};
use duo_prompts::PromptRegistry;
use duo_prompts::code::{
    Budget, ContextItem, CurrentFile, completion_inputs_with_budget, generation_inputs,
    trim_around_cursor,
};
use proptest::prelude::*;
use serde_json::{Map, Value};

fn registry() -> &'static PromptRegistry {
    static R: OnceLock<PromptRegistry> = OnceLock::new();
    R.get_or_init(common::registry)
}

fn chars(s: &str) -> usize {
    s.chars().count()
}

/// Strings heavy in template syntax, FIM tokens and multi-byte characters.
fn nasty() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "(\\{\\{|\\}\\}|\\{%|%\\}|\\{#|<｜fim▁hole｜>|\\[PREFIX\\]|<\\|fim_middle\\|>|é|😀|\n| |x){0,40}",
    ]
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        nasty().prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map("[a-z_]{1,12}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn completion_prompts_render_any_unicode_verbatim(prefix in nasty(), suffix in nasty(), lang in nasty()) {
        let r = registry();
        for family in ModelFamily::KNOWN {
            let def = r.resolve("code_suggestions/completions", family, "^1.0.0").unwrap();
            let mut inputs = Map::new();
            inputs.insert("prefix".into(), prefix.clone().into());
            inputs.insert("suffix".into(), suffix.clone().into());
            inputs.insert("language".into(), lang.clone().into());
            inputs.insert("file_name".into(), lang.clone().into());
            let req = def.render(&inputs).unwrap();
            let all = match &req.prompt {
                Prompt::Text(t) => t.clone(),
                Prompt::Chat(m) => m.iter().map(|m| m.content.as_str()).collect::<Vec<_>>().join("\n"),
                other => panic!("{other:?}"),
            };
            prop_assert!(all.contains(&prefix));
            prop_assert!(all.contains(&suffix));
        }
    }

    #[test]
    fn any_prompt_with_arbitrary_inputs_renders_or_errors_cleanly(
        values in prop::collection::vec(json_value(), 40),
    ) {
        let r = registry();
        for id in r.prompt_ids() {
            for family in [ModelFamily::General, ModelFamily::Mistral, ModelFamily::Codestral] {
                let def = r.resolve(id, &family, "^1.0.0").unwrap();
                let inputs: Map<String, Value> = def
                    .variables()
                    .into_iter()
                    .zip(values.iter().cloned())
                    .map(|(k, v)| (k.to_owned(), v))
                    .collect();
                // Ok or a typed error: never a panic.
                let _ = def.render(&inputs);
            }
        }
    }

    #[test]
    fn trimming_keeps_the_text_nearest_the_cursor(
        prefix in any::<String>(), suffix in any::<String>(), total in 0usize..200, pct in 0u8..=100,
    ) {
        let budget = Budget { total_chars: total, suffix_percent: pct };
        let (p, s) = trim_around_cursor(&prefix, &suffix, budget);
        prop_assert!(prefix.ends_with(p), "prefix keeps its end");
        prop_assert!(suffix.starts_with(s), "suffix keeps its start");
        let (pl, sl) = (chars(&prefix), chars(&suffix));
        prop_assert_eq!(chars(p) + chars(s), total.min(pl + sl), "the budget is used fully");
        let reserve = total * usize::from(pct) / 100;
        prop_assert!(chars(s) >= sl.min(reserve), "the suffix keeps its reserve");
    }

    #[test]
    fn completion_inputs_never_exceed_the_budget(
        above in any::<String>(), below in any::<String>(), total in 0usize..300,
        items in prop::collection::vec(any::<String>(), 0..5),
    ) {
        let file = CurrentFile {
            file_name: "x.rs".into(),
            language_identifier: None,
            content_above_cursor: above.clone(),
            content_below_cursor: below,
        };
        let context: Vec<ContextItem> = items
            .into_iter()
            .map(|content| ContextItem { kind: "file".into(), name: "n".into(), content })
            .collect();
        let inputs = completion_inputs_with_budget(Budget::chars(total), &file, &context).unwrap();
        let mut used = chars(inputs["prefix"].as_str().unwrap()) + chars(inputs["suffix"].as_str().unwrap());
        for item in inputs["context"].as_array().unwrap() {
            used += chars(item["content"].as_str().unwrap());
        }
        prop_assert!(used <= total);
        prop_assert!(above.ends_with(inputs["prefix"].as_str().unwrap()));
        let g = generation_inputs(&ModelFamily::Gpt, &file, None, &context);
        prop_assert_eq!(&g["language"], "rust");
    }
}
