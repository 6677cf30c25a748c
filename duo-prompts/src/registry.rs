//! [`PromptRegistry`]: every loaded definition, resolved by (prompt id, model family, version
//! constraint) with the reference's folder fallback.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;

use duo_core::ModelFamily;
use semver::VersionReq;

use crate::definition::{DefinitionInfo, PromptDefinition};
use crate::error::{LoadError, ResolveError};
use crate::loader::{is_valid_component, load_tree};
use crate::source::{add_operator_dir, builtin_tree};

/// The folder every prompt falls back to.
pub const BASE_FOLDER: &str = "base";

/// The version constraint used when the caller gives none (GitLab's default).
pub const DEFAULT_VERSION_CONSTRAINT: &str = "^1.0.0";

/// Loaded prompt definitions, parsed and compiled once; cheap to share behind an `Arc`.
///
/// ```
/// use duo_core::{ModelFamily, Prompt};
/// use duo_prompts::PromptRegistry;
///
/// let registry = PromptRegistry::builtin()?;
/// let def = registry.resolve("code_suggestions/completions", &ModelFamily::CodeGemma, "^1.0.0")?;
/// let mut inputs = serde_json::Map::new();
/// inputs.insert("prefix".into(), "def add(a, b):\n".into());
/// inputs.insert("suffix".into(), "".into());
/// let request = def.render(&inputs)?;
/// assert_eq!(
///     request.prompt,
///     Prompt::Text("<|fim_prefix|>def add(a, b):\n<|fim_suffix|><|fim_middle|>".into())
/// );
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct PromptRegistry {
    /// prompt id → family folder → definitions sorted by ascending version.
    prompts: HashMap<String, HashMap<String, Vec<PromptDefinition>>>,
    /// Every family folder that holds at least one definition.
    family_folders: BTreeSet<String>,
}

impl PromptRegistry {
    /// The built-in definitions only.
    ///
    /// # Errors
    /// Only if a built-in definition is broken (a bug of this crate, caught by its tests).
    pub fn builtin() -> Result<Self, LoadError> {
        Self::load(None)
    }

    /// The built-in definitions plus the operator's directory, whose files add definitions or
    /// replace the built-in file at the same relative path (definitions and `.jinja` partials).
    ///
    /// # Errors
    /// A [`LoadError`] naming the file (and line, where known) of the first broken definition:
    /// unreadable file, bad YAML or unknown key, template syntax error, unknown include, unknown
    /// unit primitive, unused required input, bad path or version.
    pub fn load(operator_dir: Option<&Path>) -> Result<Self, LoadError> {
        let mut tree = builtin_tree();
        if let Some(dir) = operator_dir {
            add_operator_dir(&mut tree, dir)?;
        }
        let loaded = load_tree(&tree)?;
        let mut prompts: HashMap<String, HashMap<String, Vec<PromptDefinition>>> = HashMap::new();
        let mut family_folders = BTreeSet::new();
        // BTreeMap order is (prompt id, folder, version): each folder's list ends up sorted.
        for (key, def) in loaded.definitions {
            family_folders.insert(key.family_folder.clone());
            prompts
                .entry(key.prompt_id)
                .or_default()
                .entry(key.family_folder)
                .or_default()
                .push(def);
        }
        Ok(Self {
            prompts,
            family_folders,
        })
    }

    /// Whether `prompt_id` is a well-formed id of a loaded prompt. Ids come from URLs: anything
    /// with empty, `.` or `..` components, a leading `/`, backslashes or other odd characters is
    /// never a prompt.
    #[must_use]
    pub fn contains(&self, prompt_id: &str) -> bool {
        is_valid_prompt_id(prompt_id) && self.prompts.contains_key(prompt_id)
    }

    /// Every loaded prompt id, sorted.
    #[must_use]
    pub fn prompt_ids(&self) -> Vec<&str> {
        let mut ids: Vec<&str> = self.prompts.keys().map(String::as_str).collect();
        ids.sort_unstable();
        ids
    }

    /// Every family folder that holds at least one definition (including `base`).
    pub fn family_folders(&self) -> impl Iterator<Item = &str> {
        self.family_folders.iter().map(String::as_str)
    }

    /// The definition for `prompt_id` and `family`: the first folder of
    /// [`ModelFamily::prompt_folders`] that has the prompt, else `base`; in it, the highest
    /// version matching `version_constraint` (Cargo caret semantics; pre-releases only when the
    /// constraint names one).
    ///
    /// # Errors
    /// [`ResolveError::NotFound`] for an unknown or malformed id,
    /// [`ResolveError::UnsupportedFamily`] for an unknown family without definitions of its own
    /// (or a prompt with neither the family's folder nor `base`),
    /// [`ResolveError::InvalidConstraint`], [`ResolveError::NoMatchingVersion`].
    pub fn resolve(
        &self,
        prompt_id: &str,
        family: &ModelFamily,
        version_constraint: &str,
    ) -> Result<&PromptDefinition, ResolveError> {
        let folders = self.folders_of(prompt_id)?;
        if let ModelFamily::Other(key) = family
            && !self.family_folders.contains(key.as_str())
        {
            return Err(ResolveError::UnsupportedFamily {
                family: key.clone(),
            });
        }
        let req = VersionReq::parse(version_constraint.trim()).map_err(|e| {
            ResolveError::InvalidConstraint {
                constraint: version_constraint.to_owned(),
                message: e.to_string(),
            }
        })?;
        let (folder, versions) = family
            .prompt_folders()
            .into_iter()
            .chain([BASE_FOLDER])
            .find_map(|f| folders.get(f).map(|v| (f, v)))
            .ok_or_else(|| ResolveError::UnsupportedFamily {
                family: family.key().to_owned(),
            })?;
        versions
            .iter()
            .rev()
            .find(|d| req.matches(d.version()))
            .ok_or_else(|| ResolveError::NoMatchingVersion {
                prompt_id: prompt_id.to_owned(),
                family_folder: folder.to_owned(),
                constraint: version_constraint.to_owned(),
                available: versions
                    .iter()
                    .map(|d| d.version().to_string())
                    .collect::<Vec<_>>()
                    .join(", "),
            })
    }

    /// The stop sequences of the definition [`resolve`](Self::resolve) picks with the default
    /// constraint (`^1.0.0`): what a client-built prompt (`prompt_version` 2 or 3) is sent with.
    ///
    /// # Errors
    /// As [`resolve`](Self::resolve).
    pub fn stop_sequences(
        &self,
        prompt_id: &str,
        family: &ModelFamily,
    ) -> Result<&[String], ResolveError> {
        self.resolve(prompt_id, family, DEFAULT_VERSION_CONSTRAINT)
            .map(|d| d.params().stop.as_slice())
    }

    /// Every loaded definition, sorted by prompt id, family folder and version.
    #[must_use]
    pub fn list(&self) -> Vec<DefinitionInfo> {
        let sorted: BTreeMap<&String, BTreeMap<&String, &Vec<PromptDefinition>>> = self
            .prompts
            .iter()
            .map(|(id, folders)| (id, folders.iter().collect()))
            .collect();
        sorted
            .into_values()
            .flat_map(BTreeMap::into_values)
            .flat_map(|defs| defs.iter().map(PromptDefinition::info))
            .collect()
    }

    fn folders_of(
        &self,
        prompt_id: &str,
    ) -> Result<&HashMap<String, Vec<PromptDefinition>>, ResolveError> {
        if !is_valid_prompt_id(prompt_id) {
            return Err(ResolveError::NotFound {
                prompt_id: prompt_id.to_owned(),
            });
        }
        self.prompts
            .get(prompt_id)
            .ok_or_else(|| ResolveError::NotFound {
                prompt_id: prompt_id.to_owned(),
            })
    }
}

/// Whether `id` is shaped like a prompt id: `/`-separated components of letters, digits, `_`,
/// `-` and inner `.`, none empty, none starting with `.`, at most 255 bytes.
#[must_use]
pub fn is_valid_prompt_id(id: &str) -> bool {
    id.len() <= 255 && id.split('/').all(is_valid_component)
}
