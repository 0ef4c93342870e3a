//! Checks a document before anything is sent: every field parsed as the server
//! would, every reference resolved within the document, each problem reported
//! with the line of the object it is in.

use std::collections::{HashMap, HashSet};

use super::document::{Document, match_key};
use crate::domain::{
    ADMINISTRATOR_ROLE, Email, ExternalId, MAX_PERMISSIONS_PER_ROLE, MAX_TEXT_LEN, NodeKey,
    PermissionPattern, ROOT_NODE_KEY, RoleName, check_text, fold,
};

/// Problems reported at most.
const MAX_PROBLEMS: usize = 50;

/// Every problem of `doc` (read from `text`, named `file`), one a line, or Ok.
pub fn check(doc: &Document, text: &str, file: &str) -> Result<(), String> {
    let mut p = Problems::new(text, file);
    roles(&mut p, doc);
    identities(&mut p, doc);
    nodes(&mut p, doc);
    assignments(&mut p, doc);
    if p.found.is_empty() {
        Ok(())
    } else {
        Err(p.found.join("\n"))
    }
}

struct Problems<'a> {
    text: &'a str,
    file: &'a str,
    found: Vec<String>,
}

impl<'a> Problems<'a> {
    fn new(text: &'a str, file: &'a str) -> Self {
        Self {
            text,
            file,
            found: Vec::new(),
        }
    }

    fn add(&mut self, section: &str, index: usize, field: &str, message: impl AsRef<str>) {
        if self.found.len() >= MAX_PROBLEMS {
            return;
        }
        let at = match locate(self.text, section, index) {
            Some(line) => format!("{}:{line}", self.file),
            None => self.file.to_owned(),
        };
        self.found.push(format!(
            "{at}: {section}[{index}].{field}: {}",
            message.as_ref()
        ));
    }

    fn check<T>(
        &mut self,
        section: &str,
        i: usize,
        field: &str,
        r: Result<T, String>,
    ) -> Option<T> {
        r.map_err(|m| self.add(section, i, field, m)).ok()
    }
}

/// The line (1-based) where item `index` of the top-level list `section` starts,
/// for documents in block style (as `rbacd export` writes them).
pub fn locate(text: &str, section: &str, index: usize) -> Option<usize> {
    let mut lines = text.lines().enumerate();
    lines.find(|(_, l)| l.trim_end() == format!("{section}:"))?;
    let mut indent = None;
    let mut seen = 0;
    for (n, line) in lines {
        let trimmed = line.trim_start();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let depth = line.len() - trimmed.len();
        if depth == 0 && !trimmed.starts_with('-') {
            return None;
        }
        if trimmed.starts_with('-') && *indent.get_or_insert(depth) == depth {
            if seen == index {
                return Some(n + 1);
            }
            seen += 1;
        }
    }
    None
}

fn roles(p: &mut Problems, doc: &Document) {
    let mut names = HashSet::new();
    for (i, r) in doc.roles.iter().enumerate() {
        let s = "roles";
        if !names.insert(fold(&r.name)) {
            p.add(
                s,
                i,
                "name",
                format!("`{}` is another role's name too", r.name),
            );
        }
        if r.builtin || fold(&r.name) == fold(ADMINISTRATOR_ROLE) {
            if fold(&r.name) != fold(ADMINISTRATOR_ROLE) || r.permissions != ["*"] {
                p.add(s, i, "builtin", format!("the built-in role is `{ADMINISTRATOR_ROLE}` with permissions [\"*\"]; it cannot be changed"));
            }
            continue;
        }
        p.check(s, i, "name", RoleName::parse(&r.name));
        p.check(
            s,
            i,
            "description",
            check_text(&r.description, MAX_TEXT_LEN),
        );
        if r.permissions.len() > MAX_PERMISSIONS_PER_ROLE {
            p.add(
                s,
                i,
                "permissions",
                format!("a role holds at most {MAX_PERMISSIONS_PER_ROLE}"),
            );
        }
        for (j, perm) in r.permissions.iter().enumerate() {
            p.check(
                s,
                i,
                &format!("permissions[{j}]"),
                PermissionPattern::parse(perm),
            );
        }
    }
}

fn identities(p: &mut Problems, doc: &Document) {
    let mut handles = HashSet::new();
    let mut builtins = 0;
    for (i, x) in doc.identities.iter().enumerate() {
        let s = "identities";
        builtins += usize::from(x.builtin);
        if x.builtin && builtins > 1 {
            p.add(
                s,
                i,
                "builtin",
                "only one identity can be the environment's own admin account",
            );
        }
        if !["USER", "SERVICE_ACCOUNT"].contains(&x.kind.as_str()) {
            p.add(
                s,
                i,
                "kind",
                format!("`{}` is not USER or SERVICE_ACCOUNT", x.kind),
            );
        }
        if !["INVITED", "ACTIVE", "DISABLED"].contains(&x.status.as_str()) {
            p.add(
                s,
                i,
                "status",
                format!("`{}` is not INVITED, ACTIVE or DISABLED", x.status),
            );
        }
        if !x.email.is_empty()
            && let Some(e) = p.check(s, i, "email", Email::parse(&x.email))
            && x.kind == "USER"
        {
            p.check(s, i, "email", e.check_user_form());
        }
        if !x.external_id.is_empty() {
            p.check(s, i, "external_id", ExternalId::parse(&x.external_id));
        }
        if !x.id.is_empty() && uuid::Uuid::try_parse(&x.id).is_err() {
            p.add(s, i, "id", format!("`{}` is not a UUID", x.id));
        }
        p.check(
            s,
            i,
            "display_name",
            check_text(&x.display_name, MAX_TEXT_LEN),
        );
        if x.handle().is_empty() {
            p.add(
                s,
                i,
                "email",
                "give an email or an external_id, so that assignments can name the identity",
            );
        } else if !handles.insert(x.match_key()) {
            p.add(
                s,
                i,
                "email",
                format!("`{}` names another identity too", x.handle()),
            );
        }
        if !x.email.is_empty() && !x.external_id.is_empty() {
            let external = match_key(&format!(
                "{}{}",
                crate::cli::references::EXTERNAL_PREFIX,
                x.external_id
            ));
            if !handles.insert(external) {
                p.add(
                    s,
                    i,
                    "external_id",
                    format!("`{}` is another identity's external id too", x.external_id),
                );
            }
        }
    }
}

fn nodes(p: &mut Problems, doc: &Document) {
    let mut keys: HashMap<&str, usize> = HashMap::new();
    for (i, n) in doc.nodes.iter().enumerate() {
        let s = "nodes";
        p.check(s, i, "key", NodeKey::parse(&n.key));
        p.check(s, i, "name", check_text(&n.name, MAX_TEXT_LEN));
        p.check(s, i, "kind", check_text(&n.kind, MAX_TEXT_LEN));
        if n.key == ROOT_NODE_KEY {
            p.add(
                s,
                i,
                "key",
                "`root` is the environment's root, which always exists: leave it out",
            );
        } else if keys.insert(&n.key, i).is_some() {
            p.add(
                s,
                i,
                "key",
                format!("`{}` is another node's key too", n.key),
            );
        }
    }
    for (i, n) in doc.nodes.iter().enumerate() {
        if n.parent != ROOT_NODE_KEY && !keys.contains_key(n.parent.as_str()) {
            p.add(
                "nodes",
                i,
                "parent",
                format!("`{}` is no node of the document", n.parent),
            );
            continue;
        }
        // Walk up; more steps than nodes means a cycle.
        let mut at = n.parent.as_str();
        for _ in 0..=doc.nodes.len() {
            match keys.get(at) {
                Some(&j) => at = doc.nodes[j].parent.as_str(),
                None => break,
            }
        }
        if at != ROOT_NODE_KEY {
            p.add(
                "nodes",
                i,
                "parent",
                "the parents form a cycle that never reaches the root",
            );
        }
    }
}

fn assignments(p: &mut Problems, doc: &Document) {
    let identities: HashSet<String> = doc.identities.iter().map(|x| x.match_key()).collect();
    let mut roles: HashSet<String> = doc.roles.iter().map(|r| fold(&r.name)).collect();
    roles.insert(fold(ADMINISTRATOR_ROLE));
    let mut nodes: HashSet<&str> = doc.nodes.iter().map(|n| n.key.as_str()).collect();
    nodes.insert(ROOT_NODE_KEY);
    let mut seen = HashSet::new();
    for (i, a) in doc.assignments.iter().enumerate() {
        let s = "assignments";
        if !identities.contains(&match_key(&a.identity)) {
            p.add(
                s,
                i,
                "identity",
                format!("`{}` names no identity of the document", a.identity),
            );
        }
        if !roles.contains(&fold(&a.role)) {
            p.add(
                s,
                i,
                "role",
                format!("`{}` is no role of the document", a.role),
            );
        }
        if !nodes.contains(a.node.as_str()) {
            p.add(
                s,
                i,
                "node",
                format!("`{}` is no node of the document", a.node),
            );
        }
        let from = a.from.as_deref().map(super::instant).transpose();
        let to = a.to.as_deref().map(super::instant).transpose();
        let from = p.check(s, i, "from", from);
        let to = p.check(s, i, "to", to);
        if let (Some(Some(f)), Some(Some(t))) = (from, to)
            && (t.seconds, t.nanos) <= (f.seconds, f.nanos)
        {
            p.add(s, i, "to", "must be after `from`");
        }
        if !seen.insert((match_key(&a.identity), fold(&a.role), a.node.clone())) {
            p.add(
                s,
                i,
                "role",
                "repeats another assignment (same identity, role and node)",
            );
        }
    }
}
