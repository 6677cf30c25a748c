//! Turning a tree of definition files into compiled [`PromptDefinition`]s: path parsing, YAML
//! parsing, template compilation and validation (includes, unit primitive, required inputs).
//! Everything a request could trip over is checked here, once, at load.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;
use std::time::Duration;

use duo_core::{GenerationParams, Role, UnitPrimitive};
use minijinja::{AutoEscape, Environment, UndefinedBehavior};
use semver::Version;

use crate::definition::{DefinitionSource, PromptDefinition, PromptKind, Turn};
use crate::error::{LoadError, LoadErrorKind};
use crate::file_format::{DefinitionFile, KindField};
use crate::scan::{include_names, key_line, template_base_line};
use crate::source::{SourceFile, Tree};

/// The (prompt id, family folder, version) a definition path names.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct DefinitionKey {
    pub prompt_id: String,
    pub family_folder: String,
    pub version: Version,
}

/// Whether `s` is a well-formed path component of a prompt id or family folder.
pub(crate) fn is_valid_component(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 100
        && s != "."
        && s != ".."
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
        && !s.starts_with('.')
}

/// Parses `<prompt_id…>/<family>/<semver>.yml` into its key.
fn parse_path(rel: &str) -> Result<DefinitionKey, String> {
    let stem = rel
        .strip_suffix(".yml")
        .or_else(|| rel.strip_suffix(".yaml"))
        .ok_or("a definition must end in .yml or .yaml")?;
    let parts: Vec<&str> = stem.split('/').collect();
    if parts.len() < 3 {
        return Err("expected <prompt_id>/<family or base>/<semver>.yml".into());
    }
    if let Some(bad) = parts.iter().find(|p| !is_valid_component(p)) {
        return Err(format!("invalid path component '{bad}'"));
    }
    let n = parts.len();
    let version = Version::parse(parts[n - 1])
        .map_err(|e| format!("file name '{}' is not a semver version: {e}", parts[n - 1]))?;
    Ok(DefinitionKey {
        prompt_id: parts[..n - 2].join("/"),
        family_folder: parts[n - 2].to_owned(),
        version,
    })
}

/// A fresh template environment with duo's settings.
fn new_environment() -> Environment<'static> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::SemiStrict);
    env.set_auto_escape_callback(|_| AutoEscape::None);
    env.set_trim_blocks(true);
    env.set_lstrip_blocks(true);
    // Debug mode would copy template sources and inputs (user code) into error values.
    env.set_debug(false);
    // `none` (a JSON null input) prints as nothing, not as the word "none".
    env.set_formatter(|out, state, value| {
        let value = if value.is_none() {
            &minijinja::Value::UNDEFINED
        } else {
            value
        };
        minijinja::escape_formatter(out, state, value)
    });
    env
}

/// A definition parsed but not yet bound to the finished environment.
struct Pending {
    key: DefinitionKey,
    file: DefinitionFile,
    source: DefinitionSource,
    display: String,
    /// (role, template name) per turn.
    turns: Vec<(Role, String)>,
    unit_primitive: UnitPrimitive,
    timeout: Option<Duration>,
    /// Line of `required_inputs:` in the file, for errors found after compilation.
    required_line: Option<usize>,
}

/// Everything the registry holds after a successful load.
pub(crate) struct Loaded {
    pub definitions: BTreeMap<DefinitionKey, PromptDefinition>,
}

/// Loads and validates every file of `tree`.
pub(crate) fn load_tree(tree: &Tree) -> Result<Loaded, LoadError> {
    let mut env = new_environment();
    // template name → (file display name, first line of the template in that file, source)
    let mut origins: HashMap<String, (String, usize)> = HashMap::new();
    let mut partials: BTreeSet<String> = BTreeSet::new();

    for file in tree.values().filter(|f| f.is_partial()) {
        add_template(
            &mut env,
            &file.rel_path,
            file.text.to_string(),
            file,
            1,
            &file.rel_path,
        )?;
        origins.insert(file.rel_path.clone(), (file.display.clone(), 1));
        partials.insert(file.rel_path.clone());
    }

    let mut pending: BTreeMap<DefinitionKey, Pending> = BTreeMap::new();
    for file in tree.values().filter(|f| !f.is_partial()) {
        let p = parse_definition(&mut env, &mut origins, file)?;
        if let Some(previous) = pending.get(&p.key) {
            // `1.0.0.yml` and `1.0.0.yaml` of one folder: the operator's wins over a built-in.
            match (previous.source, p.source) {
                (DefinitionSource::Operator, DefinitionSource::Builtin) => continue,
                (DefinitionSource::Builtin, DefinitionSource::Operator) => {}
                _ => {
                    return Err(LoadError::new(
                        &file.display,
                        None,
                        LoadErrorKind::Invalid(format!(
                            "duplicate definition: {} defines the same version",
                            previous.display
                        )),
                    ));
                }
            }
        }
        pending.insert(p.key.clone(), p);
    }

    // Includes must name existing partials; compute each template's variables (includes followed).
    let mut variables: HashMap<String, BTreeSet<String>> = HashMap::new();
    let names: Vec<String> = origins.keys().cloned().collect();
    for name in &names {
        collect_variables(
            &env,
            &origins,
            &partials,
            name,
            &mut variables,
            &mut Vec::new(),
        )?;
    }

    let env = Arc::new(env);
    let mut definitions = BTreeMap::new();
    for (key, p) in pending {
        let def = finish(p, &variables, &env)?;
        definitions.insert(key, def);
    }
    Ok(Loaded { definitions })
}

fn add_template(
    env: &mut Environment<'static>,
    name: &str,
    source: String,
    file: &SourceFile,
    base_line: usize,
    label: &str,
) -> Result<(), LoadError> {
    env.add_template_owned(name.to_owned(), source)
        .map_err(|e| {
            LoadError::new(
                &file.display,
                e.line().map(|l| base_line + l - 1),
                LoadErrorKind::TemplateSyntax {
                    template: label.to_owned(),
                    message: e
                        .detail()
                        .map_or_else(|| e.kind().to_string(), str::to_owned),
                },
            )
        })
}

fn parse_definition(
    env: &mut Environment<'static>,
    origins: &mut HashMap<String, (String, usize)>,
    file: &SourceFile,
) -> Result<Pending, LoadError> {
    let err = |line: Option<usize>, kind| LoadError::new(&file.display, line, kind);
    let key = parse_path(&file.rel_path).map_err(|m| err(None, LoadErrorKind::BadPath(m)))?;
    let mut def: DefinitionFile = serde_norway::from_str(&file.text).map_err(|e| {
        let line = e.location().map(|l| l.line());
        err(line, LoadErrorKind::Yaml(e.to_string()))
    })?;
    let unit_primitive = def.unit_primitive.parse::<UnitPrimitive>().map_err(|_| {
        err(
            key_line(&file.text, "unit_primitive"),
            LoadErrorKind::UnknownUnitPrimitive {
                value: def.unit_primitive.clone(),
            },
        )
    })?;
    let timeout = match def.params.as_ref().and_then(|p| p.timeout) {
        Some(secs) if secs.is_finite() && secs > 0.0 && secs <= 3600.0 => {
            Some(Duration::from_secs_f64(secs))
        }
        Some(secs) => {
            return Err(err(
                key_line(&file.text, "timeout"),
                LoadErrorKind::Invalid(format!(
                    "params.timeout must be more than 0 and at most 3600 seconds, got {secs}"
                )),
            ));
        }
        None => None,
    };
    let templates = [
        (Role::System, def.prompt_template.system.take()),
        (Role::User, def.prompt_template.user.take()),
        (Role::Assistant, def.prompt_template.assistant.take()),
    ];
    let has = |role: Role| templates.iter().any(|(r, t)| *r == role && t.is_some());
    if !has(Role::User) {
        return Err(err(
            key_line(&file.text, "prompt_template"),
            LoadErrorKind::Invalid("prompt_template needs a `user` template".into()),
        ));
    }
    if def.kind == KindField::Text {
        if has(Role::System) || has(Role::Assistant) {
            return Err(err(
                key_line(&file.text, "prompt_template"),
                LoadErrorKind::Invalid(
                    "a `kind: text` definition has only a `user` template (the whole raw prompt)"
                        .into(),
                ),
            ));
        }
        if def.history_input.is_some() {
            return Err(err(
                key_line(&file.text, "history_input"),
                LoadErrorKind::Invalid("`history_input` needs `kind: chat`".into()),
            ));
        }
    }
    let mut turns = Vec::new();
    for (role, template) in templates {
        let Some(template) = template else { continue };
        let base_line = template_base_line(&file.text, role.as_str()).unwrap_or(1);
        for (i, source) in template.into_vec().into_iter().enumerate() {
            let name = format!("{}#{}{i}", file.rel_path, role.as_str());
            add_template(env, &name, source, file, base_line, role.as_str())?;
            origins.insert(name.clone(), (file.display.clone(), base_line));
            turns.push((role, name));
        }
    }
    Ok(Pending {
        key,
        file: def,
        source: file.origin,
        display: file.display.clone(),
        turns,
        unit_primitive,
        timeout,
        required_line: key_line(&file.text, "required_inputs"),
    })
}

/// Computes the variables `name` reads, following includes; fails on an unknown include.
fn collect_variables(
    env: &Environment<'static>,
    origins: &HashMap<String, (String, usize)>,
    partials: &BTreeSet<String>,
    name: &str,
    memo: &mut HashMap<String, BTreeSet<String>>,
    stack: &mut Vec<String>,
) -> Result<BTreeSet<String>, LoadError> {
    if let Some(vars) = memo.get(name) {
        return Ok(vars.clone());
    }
    let (display, base_line) = origins
        .get(name)
        .cloned()
        .unwrap_or_else(|| (name.to_owned(), 1));
    if stack.iter().any(|s| s == name) {
        return Err(LoadError::new(
            display,
            None,
            LoadErrorKind::Invalid(format!("include cycle through '{name}'")),
        ));
    }
    let Ok(template) = env.get_template(name) else {
        return Ok(BTreeSet::new());
    };
    let source = template.source().to_owned();
    let mut vars: BTreeSet<String> = template.undeclared_variables(false).into_iter().collect();
    stack.push(name.to_owned());
    for (include, line) in include_names(&source) {
        if !partials.contains(&include) {
            return Err(LoadError::new(
                display,
                Some(base_line + line - 1),
                LoadErrorKind::UnknownInclude { name: include },
            ));
        }
        vars.extend(collect_variables(
            env, origins, partials, &include, memo, stack,
        )?);
    }
    stack.pop();
    memo.insert(name.to_owned(), vars.clone());
    Ok(vars)
}

fn finish(
    p: Pending,
    variables: &HashMap<String, BTreeSet<String>>,
    env: &Arc<Environment<'static>>,
) -> Result<PromptDefinition, LoadError> {
    let Pending {
        key,
        file,
        source,
        display,
        turns,
        unit_primitive,
        timeout,
        required_line,
    } = p;
    let turns: Vec<Turn> = turns
        .into_iter()
        .map(|(role, template)| Turn {
            role,
            variables: variables
                .get(&template)
                .map(|v| v.iter().cloned().collect())
                .unwrap_or_default(),
            template,
        })
        .collect();
    for required in &file.required_inputs {
        let used = turns.iter().any(|t| t.variables.contains(required))
            || file.history_input.as_ref() == Some(required);
        if !used {
            return Err(LoadError::new(
                &display,
                required_line,
                LoadErrorKind::Invalid(format!(
                    "required input '{required}' is not used by any template"
                )),
            ));
        }
    }
    let (temperature, max_tokens, top_p) = file
        .model
        .map(|m| (m.params.temperature, m.params.max_tokens, m.params.top_p))
        .unwrap_or_default();
    let stop = file.params.map(|p| p.stop).unwrap_or_default();
    Ok(PromptDefinition {
        prompt_id: key.prompt_id,
        family_folder: key.family_folder,
        version: key.version,
        name: file.name,
        kind: match file.kind {
            KindField::Chat => PromptKind::Chat,
            KindField::Text => PromptKind::Text,
        },
        unit_primitive,
        params: GenerationParams {
            max_tokens,
            temperature,
            top_p,
            stop,
            timeout,
            reasoning_effort: None,
        },
        required_inputs: file.required_inputs,
        history_input: file.history_input,
        turns,
        source,
        file: display,
        env: Arc::clone(env),
    })
}
