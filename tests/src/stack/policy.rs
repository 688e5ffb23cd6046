//! IAM's evaluation of an identity policy, as far as the template's policies need it: allow
//! statements, actions and resources with `*` and `?`, and the KMS encryption-context
//! conditions.

use super::recorder::Call;
use serde_json::Value;

/// `text` matches `pattern`, where `*` is any run of characters and `?` any one.
pub fn glob(pattern: &str, text: &str) -> bool {
    fn go(p: &[char], t: &[char]) -> bool {
        match (p.first(), t.first()) {
            (None, None) => true,
            (Some('*'), _) => go(&p[1..], t) || (!t.is_empty() && go(p, &t[1..])),
            (Some('?'), Some(_)) => go(&p[1..], &t[1..]),
            (Some(a), Some(b)) if a == b => go(&p[1..], &t[1..]),
            _ => false,
        }
    }
    let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), text.chars().collect());
    go(&p, &t)
}

fn list(value: &Value) -> Vec<String> {
    match value {
        Value::Array(items) => items
            .iter()
            .map(|v| v.as_str().unwrap().to_owned())
            .collect(),
        Value::String(s) => vec![s.clone()],
        Value::Null => Vec::new(),
        other => panic!("not a list of strings: {other}"),
    }
}

fn conditions_hold(condition: &Value, call: &Call) -> bool {
    let Some(condition) = condition.as_object() else {
        return true;
    };
    condition.iter().all(|(operator, tests)| {
        tests.as_object().unwrap().iter().all(|(key, expected)| {
            match (operator.as_str(), key.as_str()) {
                ("StringLike", "kms:EncryptionContext:owner") => call
                    .context
                    .get("owner")
                    .is_some_and(|owner| list(expected).iter().any(|p| glob(p, owner))),
                ("ForAllValues:StringEquals", "kms:EncryptionContextKeys") => {
                    let allowed = list(expected);
                    call.context.keys().all(|k| allowed.contains(k))
                }
                ("Null", "kms:EncryptionContextKeys") => {
                    let absent = call.context.is_empty();
                    (expected == "true") == absent
                }
                other => panic!("a condition the emulated stack cannot evaluate: {other:?}"),
            }
        })
    })
}

/// Whether `policies` (the function's policy documents) allow `call`.
pub fn allows(policies: &[Value], call: &Call) -> bool {
    policies.iter().any(|document| {
        document["Statement"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|statement| {
                statement["Effect"] == "Allow"
                    && list(&statement["Action"])
                        .iter()
                        .any(|action| glob(action, &call.action))
                    && list(&statement["Resource"])
                        .iter()
                        .any(|resource| glob(resource, &call.resource))
                    && conditions_hold(&statement["Condition"], call)
            })
    })
}
