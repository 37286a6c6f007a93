//! A policy pack: a Cedar schema plus policies, validated strictly at load, versioned
//! by a hash of its text, with its decided fields read from the schema's actions.

use crate::error::{PolicyDiagnostic, PolicyError};
use crate::plan::Plan;
use cedar_policy::{
    Entities, Entity, EntityUid, PolicyId, PolicySet, Schema, ValidationMode, Validator,
};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;

/// The schema file every pack has.
pub const SCHEMA_FILE: &str = "schema.cedarschema";

const EMBEDDED: &[(&str, &str)] = &[
    (SCHEMA_FILE, include_str!("../policies/schema.cedarschema")),
    ("access.cedar", include_str!("../policies/access.cedar")),
    ("grants.cedar", include_str!("../policies/grants.cedar")),
    ("guards.cedar", include_str!("../policies/guards.cedar")),
];

/// One file of a pack.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceFile {
    /// File name inside the pack.
    pub name: String,
    /// Its text.
    pub text: String,
}

/// A validated policy pack. Cheap to clone (shared inside).
#[derive(Clone)]
pub struct PolicyPack(Arc<Inner>);

#[derive(Clone)]
pub(crate) struct FieldActions {
    pub(crate) reveal: EntityUid,
    pub(crate) mask: EntityUid,
    /// The policies whose action scope can match `reveal` / `mask`. Cedar checks the scope
    /// before the condition, so leaving out the others changes no answer, no reason and no
    /// error; it only saves evaluating them.
    pub(crate) reveal_policies: PolicySet,
    pub(crate) mask_policies: PolicySet,
    /// Only the permits of those slices: asked when a forbid refused a field, to tell a
    /// refusal of something that would have been shown from one that changed nothing.
    pub(crate) reveal_permits: PolicySet,
    pub(crate) mask_permits: PolicySet,
}

/// When an `@alert` is raised.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AlertRule {
    pub(crate) kind: String,
    /// `@alert_always`: whenever the policy matches. `@alert`: for a forbid, only when it
    /// refused what a permit would have granted; for a permit, when it decides.
    pub(crate) always: bool,
}

#[derive(Clone)]
struct Inner {
    policies: PolicySet,
    /// `None` when some policy reads `action`: every question then goes to Cedar as is.
    plan: Option<Arc<Plan>>,
    any_action: EntityUid,
    version: String,
    fields: Vec<String>,
    actions: BTreeMap<String, FieldActions>,
    action_entities: Vec<Entity>,
    alerts: HashMap<PolicyId, AlertRule>,
    sources: Vec<SourceFile>,
}

impl fmt::Debug for PolicyPack {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PolicyPack")
            .field("version", &self.0.version)
            .field("fields", &self.0.fields)
            .field("policies", &self.0.policies.policies().count())
            .finish()
    }
}

impl Default for PolicyPack {
    /// The default pack embedded in the crate (`policies/` of the repository).
    fn default() -> Self {
        static DEFAULT: once_cell::sync::Lazy<PolicyPack> = once_cell::sync::Lazy::new(|| {
            #[expect(
                clippy::expect_used,
                reason = "the embedded pack is fixed at compile time and loaded by the test suite"
            )]
            PolicyPack::embedded().expect("the embedded default pack is valid")
        });
        DEFAULT.clone()
    }
}

impl PolicyPack {
    /// The embedded default pack, or its load error (useful in tests and `validate`).
    pub fn embedded() -> Result<Self, PolicyError> {
        Self::from_sources(
            EMBEDDED
                .iter()
                .map(|(n, t)| SourceFile {
                    name: (*n).to_owned(),
                    text: (*t).to_owned(),
                })
                .collect(),
        )
    }

    /// Loads `schema.cedarschema` and every `*.cedar` file of a directory.
    pub fn from_dir(dir: impl AsRef<Path>) -> Result<Self, PolicyError> {
        Self::from_sources(read_dir_sources(dir.as_ref())?)
    }

    /// Builds a pack from file contents (`schema.cedarschema` plus `*.cedar`).
    pub fn from_sources(mut sources: Vec<SourceFile>) -> Result<Self, PolicyError> {
        sources.sort_by(|a, b| a.name.cmp(&b.name));
        let schema_src = sources
            .iter()
            .find(|s| s.name == SCHEMA_FILE)
            .ok_or_else(|| PolicyError::message(format!("the pack has no `{SCHEMA_FILE}`")))?;
        let schema = parse_schema(schema_src)?;
        let (policies, alerts, origin) = parse_policies(&sources)?;
        let validation = Validator::new(schema.clone()).validate(&policies, ValidationMode::Strict);
        let mut diags: Vec<PolicyDiagnostic> = validation
            .validation_errors()
            .map(|e| {
                let id = e.policy_id().to_string();
                let file = origin.get(&id).and_then(|i| sources.get(*i));
                diagnostic(e, file, Some(id))
            })
            .collect();
        // in source order (Cedar's comes from a hash map and changes from run to run), so a
        // mistake comes before what it makes the validator lose track of further down
        diags.sort_by(|a, b| (&a.file, a.line, a.column).cmp(&(&b.file, b.line, b.column)));
        // Cedar reports one mistake once per action the policy applies to (`reveal_name`,
        // `reveal_email`, ...): the first report per place says it.
        let mut seen = std::collections::HashSet::new();
        diags.retain(|d| seen.insert((d.policy_id.clone(), d.file.clone(), d.line, d.column)));
        if !diags.is_empty() {
            return Err(PolicyError { diagnostics: diags });
        }
        let (fields, mut actions) = read_fields(&schema)?;
        let action_entities: Vec<Entity> = schema
            .action_entities()
            .map_err(|e| PolicyError::message(format!("schema actions: {e}")))?
            .into_iter()
            .collect();
        check_groups(&schema, &actions)?;
        slice_by_action(&schema, &policies, &mut actions)?;
        let plan = Plan::analyse(&policies, &actions).map(Arc::new);
        let any_action = actions
            .values()
            .next()
            .map(|a| a.reveal.clone())
            .ok_or_else(|| PolicyError::message("the pack decides no field"))?;
        let mut h = Sha256::new();
        for s in &sources {
            h.update((s.name.len() as u64).to_le_bytes());
            h.update(s.name.as_bytes());
            h.update((s.text.len() as u64).to_le_bytes());
            h.update(s.text.as_bytes());
        }
        let version = format!("sha256:{}", hex::encode(h.finalize()));
        Ok(Self(Arc::new(Inner {
            policies,
            plan,
            any_action,
            version,
            fields,
            actions,
            action_entities,
            alerts,
            sources,
        })))
    }

    /// `sha256:` + hex over the pack's schema and policy files.
    pub fn version(&self) -> &str {
        &self.0.version
    }

    /// The decided fields, in schema order of their names.
    pub fn fields(&self) -> &[String] {
        &self.0.fields
    }

    /// The files the pack was built from.
    pub fn sources(&self) -> &[SourceFile] {
        &self.0.sources
    }

    /// The `@id`s of all policies.
    pub fn policy_ids(&self) -> Vec<String> {
        self.0
            .policies
            .policies()
            .map(|p| p.id().to_string())
            .collect()
    }

    /// The same pack, every question asked of Cedar directly (no field-independent fast
    /// path): the reference the fast path is tested against.
    #[doc(hidden)]
    #[must_use]
    pub fn without_plan(&self) -> Self {
        Self(Arc::new(Inner {
            plan: None,
            ..(*self.0).clone()
        }))
    }

    /// An action to put in requests whose policies have an open action scope.
    pub(crate) fn any_action(&self) -> &EntityUid {
        &self.0.any_action
    }

    pub(crate) fn plan(&self) -> Option<&Plan> {
        self.0.plan.as_deref()
    }

    pub(crate) fn field_actions(&self, field: &str) -> Option<&FieldActions> {
        self.0.actions.get(field)
    }

    pub(crate) fn action_entities(&self) -> &[Entity] {
        &self.0.action_entities
    }

    pub(crate) fn alert_of(&self, id: &PolicyId) -> Option<&AlertRule> {
        self.0.alerts.get(id)
    }
}

/// Reads the pack files of a directory (used by `from_dir` and the CLI).
pub fn read_dir_sources(dir: &Path) -> Result<Vec<SourceFile>, PolicyError> {
    let entries = std::fs::read_dir(dir)
        .map_err(|e| PolicyError::message(format!("cannot read `{}`: {e}", dir.display())))?;
    let mut out = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| PolicyError::message(format!("{}: {e}", dir.display())))?;
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        if name == SCHEMA_FILE || name.ends_with(".cedar") {
            let text = read_source(&path)
                .map_err(|e| PolicyError::message(format!("{}: {e}", path.display())))?;
            out.push(SourceFile { name, text });
        }
    }
    Ok(out)
}

/// A pack file may be this large (a pack of 1,000 per-team policies is about 0.5 MB).
const MAX_PACK_FILE: u64 = 16 << 20;

/// A pack file's text: a regular file within [`MAX_PACK_FILE`], so a `.cedar` name linked to
/// `/dev/zero` or a FIFO is refused at once rather than read forever or waited on.
fn read_source(path: &Path) -> Result<String, String> {
    use std::io::Read;
    let meta = std::fs::metadata(path).map_err(|e| e.to_string())?;
    if !meta.is_file() {
        return Err("not a regular file".into());
    }
    let mut text = String::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(MAX_PACK_FILE + 1).read_to_string(&mut text))
        .map_err(|e| e.to_string())?;
    if text.len() as u64 > MAX_PACK_FILE {
        return Err(format!("larger than {MAX_PACK_FILE} bytes"));
    }
    Ok(text)
}

fn parse_schema(src: &SourceFile) -> Result<Schema, PolicyError> {
    Schema::from_cedarschema_str(&src.text)
        .map(|(s, _warnings)| s)
        .map_err(|e| PolicyError {
            diagnostics: vec![diagnostic(&e, Some(src), None)],
        })
}

type Parsed = (
    PolicySet,
    HashMap<PolicyId, AlertRule>,
    HashMap<String, usize>,
);

fn parse_policies(sources: &[SourceFile]) -> Result<Parsed, PolicyError> {
    let mut set = PolicySet::new();
    let mut alerts = HashMap::new();
    let mut origin: HashMap<String, usize> = HashMap::new();
    let mut diags = Vec::new();
    for (i, src) in sources.iter().enumerate() {
        if !src.name.ends_with(".cedar") {
            continue;
        }
        let parsed = match PolicySet::from_str(&src.text) {
            Ok(p) => p,
            Err(errs) => {
                diags.extend(errs.iter().map(|e| diagnostic(e, Some(src), None)));
                continue;
            }
        };
        if parsed.templates().next().is_some() {
            diags.push(file_diag(src, "templates are not supported in a pack"));
        }
        for p in parsed.policies() {
            let Some(id) = p.annotation("id") else {
                diags.push(diagnostic_at(
                    src,
                    policy_offset(&src.text, p.id()),
                    None,
                    "policy has no @id(\"...\") annotation; decisions report policies by @id",
                ));
                continue;
            };
            if let Some(prev) = origin.get(id) {
                let other = sources.get(*prev).map_or("", |s| s.name.as_str());
                diags.push(diagnostic_at(
                    src,
                    policy_offset(&src.text, p.id()),
                    Some(id.to_owned()),
                    &format!("duplicate @id, also used in `{other}`"),
                ));
                continue;
            }
            let pid = PolicyId::new(id);
            match (p.annotation("alert"), p.annotation("alert_always")) {
                (Some(kind), None) => {
                    alerts.insert(
                        pid.clone(),
                        AlertRule {
                            kind: kind.to_owned(),
                            always: false,
                        },
                    );
                }
                (None, Some(kind)) => {
                    alerts.insert(
                        pid.clone(),
                        AlertRule {
                            kind: kind.to_owned(),
                            always: true,
                        },
                    );
                }
                (Some(_), Some(_)) => diags.push(diagnostic_at(
                    src,
                    policy_offset(&src.text, p.id()),
                    Some(id.to_owned()),
                    "use either @alert or @alert_always, not both",
                )),
                (None, None) => {}
            }
            origin.insert(id.to_owned(), i);
            if let Err(e) = set.add(p.new_id(pid)) {
                diags.push(file_diag(src, &e.to_string()));
            }
        }
    }
    if diags.is_empty() {
        Ok((set, alerts, origin))
    } else {
        Err(PolicyError { diagnostics: diags })
    }
}

fn read_fields(
    schema: &Schema,
) -> Result<(Vec<String>, BTreeMap<String, FieldActions>), PolicyError> {
    let mut names: HashMap<String, EntityUid> = HashMap::new();
    for a in schema.actions() {
        names.insert(a.id().unescaped().to_owned(), a.clone());
    }
    let mut actions = BTreeMap::new();
    let mut problems = Vec::new();
    for (name, uid) in &names {
        let Some(field) = name.strip_prefix("reveal_") else {
            continue;
        };
        match names.get(&format!("mask_{field}")) {
            Some(mask) => {
                actions.insert(
                    field.to_owned(),
                    FieldActions {
                        reveal: uid.clone(),
                        mask: mask.clone(),
                        reveal_policies: PolicySet::new(),
                        mask_policies: PolicySet::new(),
                        reveal_permits: PolicySet::new(),
                        mask_permits: PolicySet::new(),
                    },
                );
            }
            None => problems.push(format!("action `{name}` has no matching `mask_{field}`")),
        }
    }
    for name in names.keys() {
        if let Some(field) = name.strip_prefix("mask_") {
            if !names.contains_key(&format!("reveal_{field}")) {
                problems.push(format!("action `{name}` has no matching `reveal_{field}`"));
            }
        }
    }
    if actions.is_empty() {
        problems.push("the schema declares no `reveal_<field>` actions".to_owned());
    }
    if !problems.is_empty() {
        problems.sort();
        return Err(PolicyError {
            diagnostics: problems
                .into_iter()
                .map(|m| PolicyDiagnostic {
                    file: Some(SCHEMA_FILE.to_owned()),
                    line: None,
                    column: None,
                    policy_id: None,
                    message: m,
                })
                .collect(),
        });
    }
    Ok((actions.keys().cloned().collect(), actions))
}

/// Forbids such as R4 are written against the `reveal` group; a field action outside its
/// group would silently escape them, so the grouping is part of the pack's contract.
fn check_groups(
    schema: &Schema,
    actions: &BTreeMap<String, FieldActions>,
) -> Result<(), PolicyError> {
    let entities: Entities = schema
        .action_entities()
        .map_err(|e| PolicyError::message(format!("schema actions: {e}")))?;
    let group = |name: &str| EntityUid::from_str(&format!("Action::\"{name}\"")).ok();
    let (Some(reveal), Some(mask)) = (group("reveal"), group("mask")) else {
        return Err(PolicyError::message("cannot name the action groups"));
    };
    let mut problems = Vec::new();
    for (field, a) in actions {
        for (uid, grp, label) in [(&a.reveal, &reveal, "reveal"), (&a.mask, &mask, "mask")] {
            let in_group = entities
                .ancestors(uid)
                .is_some_and(|mut it| it.any(|p| p == grp));
            if !in_group {
                problems.push(PolicyDiagnostic {
                    file: Some(SCHEMA_FILE.to_owned()),
                    line: None,
                    column: None,
                    policy_id: None,
                    message: format!(
                        "action `{label}_{field}` must be declared `in [{label}]` so that rules on the `{label}` group cover it"
                    ),
                });
            }
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(PolicyError {
            diagnostics: problems,
        })
    }
}

fn slice_by_action(
    schema: &Schema,
    policies: &PolicySet,
    actions: &mut BTreeMap<String, FieldActions>,
) -> Result<(), PolicyError> {
    use cedar_policy::ActionConstraint;
    let hierarchy: Entities = schema
        .action_entities()
        .map_err(|e| PolicyError::message(format!("schema actions: {e}")))?;
    let matches = |action: &EntityUid, c: &ActionConstraint| match c {
        ActionConstraint::Any => true,
        ActionConstraint::Eq(a) => a == action,
        ActionConstraint::In(groups) => groups.iter().any(|g| {
            g == action
                || hierarchy
                    .ancestors(action)
                    .is_some_and(|mut it| it.any(|p| p == g))
        }),
    };
    let subset = |action: &EntityUid, permits_only: bool| -> Result<PolicySet, PolicyError> {
        let mut set = PolicySet::new();
        for p in policies.policies() {
            let kept = !permits_only || p.effect() == cedar_policy::Effect::Permit;
            if kept && matches(action, &p.action_constraint()) {
                set.add(p.clone())
                    .map_err(|e| PolicyError::message(e.to_string()))?;
            }
        }
        Ok(set)
    };
    for a in actions.values_mut() {
        a.reveal_policies = subset(&a.reveal, false)?;
        a.mask_policies = subset(&a.mask, false)?;
        a.reveal_permits = subset(&a.reveal, true)?;
        a.mask_permits = subset(&a.mask, true)?;
    }
    Ok(())
}

fn file_diag(src: &SourceFile, msg: &str) -> PolicyDiagnostic {
    diagnostic_at(src, None, None, msg)
}

fn diagnostic_at(
    src: &SourceFile,
    offset: Option<usize>,
    policy_id: Option<String>,
    msg: &str,
) -> PolicyDiagnostic {
    let (line, column) = offset.map(|o| line_col(&src.text, o)).unzip();
    PolicyDiagnostic {
        file: Some(src.name.clone()),
        line,
        column,
        policy_id,
        message: msg.to_owned(),
    }
}

fn diagnostic(
    d: &(impl miette::Diagnostic + ?Sized),
    src: Option<&SourceFile>,
    policy_id: Option<String>,
) -> PolicyDiagnostic {
    let offset = d.labels().and_then(|mut l| l.next()).map(|l| l.offset());
    let mut message = d.to_string();
    // the diagnostic names its policy itself: Cedar's "for policy `X`, " would say it twice
    if let Some(rest) = policy_id
        .as_ref()
        .and_then(|id| message.strip_prefix(&format!("for policy `{id}`, ")))
    {
        message = rest.to_owned();
    }
    if let Some(help) = d.help() {
        message.push_str(&format!(" (help: {help})"));
    }
    match src {
        Some(s) => diagnostic_at(s, offset, policy_id, &message),
        None => PolicyDiagnostic {
            file: None,
            line: None,
            column: None,
            policy_id,
            message,
        },
    }
}

/// Cedar's public API has no source location for a parsed policy; `from_str` names them
/// `policyN` in file order, so the N-th line opening with `permit`/`forbid` is where it starts.
fn policy_offset(text: &str, id: &PolicyId) -> Option<usize> {
    let n: usize = id.to_string().strip_prefix("policy")?.parse().ok()?;
    let mut offset = 0;
    let mut seen = 0;
    for line in text.split_inclusive('\n') {
        let t = line.trim_start();
        let is_start = ["permit", "forbid"].iter().any(|k| {
            t.strip_prefix(k)
                .is_some_and(|r| !r.starts_with(|c: char| c.is_alphanumeric() || c == '_'))
        });
        if is_start {
            if seen == n {
                return Some(offset + (line.len() - t.len()));
            }
            seen += 1;
        }
        offset += line.len();
    }
    None
}

/// 1-based line and column (in characters) of a byte offset.
fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = text.get(..offset.min(text.len())).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slices_keep_exactly_the_policies_whose_scope_can_match() {
        let p = PolicyPack::embedded().unwrap();
        let ids = |s: &PolicySet| {
            let mut v: Vec<String> = s.policies().map(|p| p.id().to_string()).collect();
            v.sort();
            v
        };
        let phone = p.field_actions("phone").unwrap();
        let reveal = ids(&phone.reveal_policies);
        assert!(reveal.contains(&"R2-scheduled-callback".to_owned()));
        assert!(reveal.contains(&"R4-shift".to_owned()));
        assert!(!reveal.contains(&"R1-own-ticket".to_owned()));
        assert!(!reveal.contains(&"R3-queue-mask".to_owned()));
        let mask = ids(&phone.mask_policies);
        assert!(
            mask.contains(&"R3-queue-mask".to_owned()) && mask.contains(&"R7-suspended".to_owned())
        );
        assert!(!mask.contains(&"R4-shift".to_owned()));
        let tn = p.field_actions("ticket_numbers").unwrap();
        assert!(!ids(&tn.mask_policies).contains(&"R3-queue-mask".to_owned()));
    }

    #[test]
    fn embedded_pack_loads_and_names_its_fields() {
        let p = PolicyPack::embedded().unwrap();
        assert_eq!(p.fields(), ["email", "name", "phone", "ticket_numbers"]);
        assert!(p.version().starts_with("sha256:"));
        assert!(p.policy_ids().contains(&"R1-own-ticket".to_owned()));
    }

    #[test]
    fn embedded_list_matches_the_policies_dir() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("policies");
        let mut on_disk: Vec<String> = read_dir_sources(&dir)
            .unwrap()
            .into_iter()
            .map(|s| s.name)
            .collect();
        on_disk.sort();
        let mut embedded: Vec<&str> = EMBEDDED.iter().map(|(n, _)| *n).collect();
        embedded.sort_unstable();
        assert_eq!(on_disk, embedded);
        let from_dir = PolicyPack::from_dir(&dir).unwrap();
        assert_eq!(from_dir.version(), PolicyPack::default().version());
    }

    #[cfg(unix)]
    #[test]
    fn a_pack_file_that_is_not_a_regular_file_is_refused_at_once() {
        let dir = tempfile::tempdir().unwrap();
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("policies");
        for f in read_dir_sources(&src).unwrap() {
            std::fs::write(dir.path().join(&f.name), f.text).unwrap();
        }
        // read to the end, /dev/zero never ends
        std::os::unix::fs::symlink("/dev/zero", dir.path().join("zz.cedar")).unwrap();
        let e = PolicyPack::from_dir(dir.path()).unwrap_err();
        assert!(
            e.to_string().contains("zz.cedar: not a regular file"),
            "{e}"
        );
    }

    fn with_extra(name: &str, text: &str) -> Result<PolicyPack, PolicyError> {
        let mut s = PolicyPack::embedded().unwrap().sources().to_vec();
        s.push(SourceFile {
            name: name.to_owned(),
            text: text.to_owned(),
        });
        PolicyPack::from_sources(s)
    }

    #[test]
    fn parse_errors_carry_file_line_and_column() {
        let e = with_extra(
            "bad.cedar",
            "\n\n@id(\"x\")\npermit (principal, action, resource) when { ;",
        )
        .unwrap_err();
        let d = &e.diagnostics[0];
        assert_eq!(d.file.as_deref(), Some("bad.cedar"));
        assert_eq!(d.line, Some(4));
        assert!(d.column.is_some());
    }

    #[test]
    fn validation_is_strict_and_names_the_policy() {
        // reading an optional attribute without `has` is the classic fail-open bug
        let e = with_extra(
            "bad.cedar",
            "@id(\"unguarded\")\nforbid (principal, action, resource) when { principal.shift.start > context.at };",
        )
        .unwrap_err();
        let d = &e.diagnostics[0];
        assert_eq!(d.policy_id.as_deref(), Some("unguarded"));
        assert_eq!(d.file.as_deref(), Some("bad.cedar"));
        assert_eq!(d.line, Some(2));
        // one mistake is said once, though Cedar finds it for each of the four actions
        let e = with_extra(
            "bad.cedar",
            "@id(\"typo\")\npermit (principal, action in Action::\"reveal\", resource) when { context.nope };",
        )
        .unwrap_err();
        assert_eq!(e.diagnostics.len(), 1, "{:?}", e.diagnostics);
        assert_eq!(e.diagnostics[0].column, Some(65));
        assert!(!e.diagnostics[0].message.contains("for policy"), "{e}");
        // a mistake that costs the validator its `has` guards: in source order, the cause
        // first, whatever order Cedar found them in
        let e = with_extra(
            "bad.cedar",
            "@id(\"cascade\")\npermit (principal, action, resource) when {\n  principal.nope &&\n  context has ticket && context.ticket.status == \"open\" &&\n  context.ticket.queue == \"q\"\n};",
        )
        .unwrap_err();
        let places: Vec<_> = e.diagnostics.iter().map(|d| (d.line, d.column)).collect();
        assert!(places.len() > 1 && places.is_sorted(), "{places:?}");
        assert!(e.diagnostics[0].message.contains("`nope`"), "{e}");
    }

    #[test]
    fn ids_are_required_and_unique() {
        let e = with_extra("x.cedar", "permit (principal, action, resource);").unwrap_err();
        assert!(e.to_string().contains("@id"), "{e}");
        let e = with_extra(
            "x.cedar",
            "@id(\"R1-own-ticket\")\npermit (principal, action, resource);",
        )
        .unwrap_err();
        assert!(e.to_string().contains("duplicate"), "{e}");
    }
}
