//! `template.yaml` read as CloudFormation reads it: parameters with their defaults and the
//! values given, conditions, and the intrinsic functions the template uses (`!Ref`, `!GetAtt`,
//! `!Sub`, `!If`, `!Join`, `!Equals`, `!Not`, `!Or`, `!And`, `!Condition`), resolved against the
//! resources the emulated stack made.

use serde_yaml::Value;
use std::collections::BTreeMap;
use std::path::Path;

pub const REGION: &str = "us-east-1";
pub const ACCOUNT: &str = "123456789012";
pub const STACK: &str = "vitasync-emulated";

/// A resource as made: what `!Ref` gives, and its attributes (`Arn`, `StreamArn`, …).
#[derive(Debug, Clone, Default)]
pub struct Made {
    pub reference: String,
    pub attributes: BTreeMap<String, String>,
}

pub struct Template {
    pub doc: Value,
    parameters: BTreeMap<String, String>,
    made: BTreeMap<String, Made>,
}

/// A function in the template: its binary, environment, policies and event sources.
#[derive(Debug, Clone)]
pub struct FunctionSpec {
    pub binary: String,
    pub environment: BTreeMap<String, String>,
    /// `(Method, Path)` of each `HttpApi` event.
    pub routes: Vec<(String, String)>,
    pub function_url: bool,
    /// `(queue logical id, batch size)` of each SQS event.
    pub queues: Vec<(String, usize)>,
    /// The DynamoDB stream event: batch size and filter patterns.
    pub stream: Option<(usize, Vec<serde_json::Value>)>,
    pub schedules: Vec<String>,
    /// The IAM policy documents the function runs with, resolved.
    pub policies: Vec<serde_json::Value>,
}

impl Template {
    pub fn load(parameters: BTreeMap<String, String>) -> Self {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../template.yaml");
        let doc: Value = serde_yaml::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        let mut all = BTreeMap::new();
        for (name, spec) in doc["Parameters"].as_mapping().unwrap() {
            let name = name.as_str().unwrap().to_owned();
            let default = match &spec["Default"] {
                Value::String(s) => s.clone(),
                Value::Number(n) => n.to_string(),
                Value::Null => String::new(),
                other => panic!("parameter {name}: default {other:?}"),
            };
            all.insert(name, default);
        }
        for (name, value) in parameters {
            assert!(all.contains_key(&name), "template.yaml takes no {name}");
            all.insert(name, value);
        }
        Self {
            doc,
            parameters: all,
            made: BTreeMap::new(),
        }
    }

    pub fn made(&mut self, logical_id: &str, made: Made) {
        self.made.insert(logical_id.to_owned(), made);
    }

    pub fn resource(&self, logical_id: &str) -> &Value {
        &self.doc["Resources"][logical_id]
    }

    pub fn condition(&self, name: &str) -> bool {
        let spec = &self.doc["Conditions"][name];
        assert!(!spec.is_null(), "no condition {name}");
        self.truth(spec)
    }

    fn truth(&self, value: &Value) -> bool {
        let Value::Tagged(tagged) = value else {
            panic!("not a condition: {value:?}")
        };
        let args = &tagged.value;
        match tagged.tag.to_string().as_str() {
            "!Equals" => self.scalar(&args[0]) == self.scalar(&args[1]),
            "!Not" => !self.truth(&args[0]),
            "!Or" => args.as_sequence().unwrap().iter().any(|v| self.truth(v)),
            "!And" => args.as_sequence().unwrap().iter().all(|v| self.truth(v)),
            "!Condition" => self.condition(args.as_str().unwrap()),
            other => panic!("unknown condition function {other}"),
        }
    }

    /// A value that must be a string.
    pub fn scalar(&self, value: &Value) -> String {
        match self.eval(value) {
            Some(serde_json::Value::String(s)) => s,
            Some(serde_json::Value::Number(n)) => n.to_string(),
            Some(serde_json::Value::Bool(b)) => b.to_string(),
            other => panic!("not a scalar: {value:?} → {other:?}"),
        }
    }

    fn reference(&self, name: &str) -> Option<String> {
        Some(match name {
            "AWS::Region" => REGION.into(),
            "AWS::AccountId" => ACCOUNT.into(),
            "AWS::Partition" => "aws".into(),
            "AWS::URLSuffix" => "amazonaws.com".into(),
            "AWS::StackName" => STACK.into(),
            "AWS::NoValue" => return None,
            _ => match self.parameters.get(name) {
                Some(value) => value.clone(),
                None => self.made_ref(name),
            },
        })
    }

    fn made_ref(&self, name: &str) -> String {
        self.made
            .get(name)
            .unwrap_or_else(|| panic!("the emulated stack made no {name}"))
            .reference
            .clone()
    }

    fn attribute(&self, path: &str) -> String {
        let (name, attribute) = path.split_once('.').unwrap();
        let made = self
            .made
            .get(name)
            .unwrap_or_else(|| panic!("the emulated stack made no {name}"));
        made.attributes
            .get(attribute)
            .unwrap_or_else(|| panic!("{name} has no {attribute} here"))
            .clone()
    }

    fn substitute(&self, text: &str, vars: &BTreeMap<String, String>) -> String {
        let mut out = String::new();
        let mut rest = text;
        while let Some(start) = rest.find("${") {
            out.push_str(&rest[..start]);
            let end = rest[start..].find('}').unwrap() + start;
            let name = &rest[start + 2..end];
            let value = match vars.get(name) {
                Some(value) => value.clone(),
                None if name.contains('.') && !name.starts_with("AWS::") => self.attribute(name),
                None => self.reference(name).unwrap_or_default(),
            };
            out.push_str(&value);
            rest = &rest[end + 1..];
        }
        out.push_str(rest);
        out
    }

    /// A template value with its intrinsic functions applied; `None` is `AWS::NoValue`.
    pub fn eval(&self, value: &Value) -> Option<serde_json::Value> {
        use serde_json::Value as J;
        Some(match value {
            Value::Null => J::Null,
            Value::Bool(b) => J::Bool(*b),
            Value::Number(n) => serde_json::to_value(n).unwrap(),
            Value::String(s) => J::String(s.clone()),
            Value::Sequence(items) => J::Array(items.iter().filter_map(|v| self.eval(v)).collect()),
            Value::Mapping(map) => J::Object(
                map.iter()
                    .filter_map(|(k, v)| Some((k.as_str().unwrap().to_owned(), self.eval(v)?)))
                    .collect(),
            ),
            Value::Tagged(tagged) => {
                let args = &tagged.value;
                match tagged.tag.to_string().as_str() {
                    "!Ref" => J::String(self.reference(args.as_str().unwrap())?),
                    "!GetAtt" => J::String(match args {
                        Value::String(path) => self.attribute(path),
                        Value::Sequence(parts) => self.attribute(&format!(
                            "{}.{}",
                            parts[0].as_str().unwrap(),
                            parts[1].as_str().unwrap()
                        )),
                        other => panic!("!GetAtt {other:?}"),
                    }),
                    "!Sub" => J::String(match args {
                        Value::String(text) => self.substitute(text, &BTreeMap::new()),
                        Value::Sequence(parts) => {
                            let vars = parts[1]
                                .as_mapping()
                                .unwrap()
                                .iter()
                                .map(|(k, v)| (k.as_str().unwrap().to_owned(), self.scalar(v)))
                                .collect();
                            self.substitute(parts[0].as_str().unwrap(), &vars)
                        }
                        other => panic!("!Sub {other:?}"),
                    }),
                    "!If" => {
                        let branch = if self.condition(args[0].as_str().unwrap()) {
                            &args[1]
                        } else {
                            &args[2]
                        };
                        return self.eval(branch);
                    }
                    "!Join" => {
                        let separator = args[0].as_str().unwrap();
                        let parts: Vec<String> = args[1]
                            .as_sequence()
                            .unwrap()
                            .iter()
                            .filter_map(|v| self.eval(v))
                            .map(|v| v.as_str().unwrap().to_owned())
                            .collect();
                        J::String(parts.join(separator))
                    }
                    other => panic!("unknown intrinsic function {other}"),
                }
            }
        })
    }

    /// Every function of the template, as the stack would run it.
    pub fn functions(&self) -> Vec<FunctionSpec> {
        let globals = &self.doc["Globals"]["Function"]["Environment"]["Variables"];
        let mut out = Vec::new();
        for resource in self.doc["Resources"].as_mapping().unwrap().values() {
            if resource["Type"] != "AWS::Serverless::Function" {
                continue;
            }
            let properties = &resource["Properties"];
            let mut environment = BTreeMap::new();
            for variables in [globals, &properties["Environment"]["Variables"]] {
                if let Some(map) = self.eval(variables).and_then(|v| v.as_object().cloned()) {
                    for (name, value) in map {
                        let value = match value {
                            serde_json::Value::String(s) => s,
                            other => other.to_string(),
                        };
                        environment.insert(name, value);
                    }
                }
            }
            let mut spec = FunctionSpec {
                binary: resource["Metadata"]["BuildProperties"]["Binary"]
                    .as_str()
                    .unwrap()
                    .to_owned(),
                environment,
                routes: Vec::new(),
                function_url: !properties["FunctionUrlConfig"].is_null(),
                queues: Vec::new(),
                stream: None,
                schedules: Vec::new(),
                policies: self.policies(properties),
            };
            if let Some(events) = properties["Events"].as_mapping() {
                for (_, event) in events {
                    let props = &event["Properties"];
                    match event["Type"].as_str().unwrap() {
                        "HttpApi" => spec.routes.push((
                            props["Method"].as_str().unwrap().to_uppercase(),
                            props["Path"].as_str().unwrap().to_owned(),
                        )),
                        "SQS" => {
                            let Value::Tagged(queue) = &props["Queue"] else {
                                panic!("an SQS event without !GetAtt")
                            };
                            let queue = queue.value.as_str().unwrap().trim_end_matches(".Arn");
                            let batch = props["BatchSize"].as_u64().unwrap_or(10);
                            spec.queues
                                .push((queue.to_owned(), usize::try_from(batch).unwrap()));
                        }
                        "DynamoDB" => {
                            let batch = props["BatchSize"].as_u64().unwrap_or(100);
                            let patterns = props["FilterCriteria"]["Filters"]
                                .as_sequence()
                                .map(|filters| {
                                    filters
                                        .iter()
                                        .map(|f| {
                                            serde_json::from_str(f["Pattern"].as_str().unwrap())
                                                .unwrap()
                                        })
                                        .collect()
                                })
                                .unwrap_or_default();
                            spec.stream = Some((usize::try_from(batch).unwrap(), patterns));
                        }
                        "ScheduleV2" | "Schedule" => spec
                            .schedules
                            .push(props["ScheduleExpression"].as_str().unwrap().to_owned()),
                        other => panic!("an event source the emulated stack lacks: {other}"),
                    }
                }
            }
            out.push(spec);
        }
        out
    }

    /// The policy documents of a function, resolved.
    fn policies(&self, properties: &Value) -> Vec<serde_json::Value> {
        policy_documents(&self.doc, properties)
            .iter()
            .filter_map(|doc| self.eval(doc))
            .collect()
    }
}

/// The policy documents a function with these `properties` runs with, as written: its own
/// role's, or its SAM `Policies` (which may also hold SAM policy templates).
pub fn policy_documents(template: &Value, properties: &Value) -> Vec<Value> {
    match &properties["Role"] {
        Value::Tagged(role) => {
            let role = role.value.as_str().unwrap().trim_end_matches(".Arn");
            template["Resources"][role]["Properties"]["Policies"]
                .as_sequence()
                .unwrap()
                .iter()
                .map(|policy| policy["PolicyDocument"].clone())
                .collect()
        }
        _ => properties["Policies"]
            .as_sequence()
            .cloned()
            .unwrap_or_default(),
    }
}
