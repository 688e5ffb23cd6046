//! Builders for transaction actions, so each store reads as the rule it enforces.

use super::{DynamoStore, Item, keys, s};
use aws_sdk_dynamodb::types::{AttributeValue, Delete, Put, TransactWriteItem};
use std::collections::HashMap;
use vitasync_domain::StoreError;

fn built<T>(result: Result<T, aws_sdk_dynamodb::error::BuildError>) -> Result<T, StoreError> {
    result.map_err(|err| StoreError::Corrupt(format!("building a request: {err}")))
}

/// What must hold for an action to apply.
pub enum Condition {
    None,
    /// No item with this key exists yet.
    Absent,
    /// The item exists.
    Present,
    /// The item exists with this `version`.
    Version(u64),
    /// The item exists and its string attribute `name` equals `value`.
    Equals(&'static str, String),
}

/// A condition as DynamoDB takes it.
struct Expression {
    text: &'static str,
    names: HashMap<String, String>,
    values: Option<HashMap<String, AttributeValue>>,
}

impl Condition {
    fn expression(&self) -> Option<Expression> {
        let expression = |text, name: &str, value: Option<AttributeValue>| Expression {
            text,
            names: HashMap::from([("#a".to_owned(), name.to_owned())]),
            values: value.map(|value| HashMap::from([(":a".to_owned(), value)])),
        };
        match self {
            Condition::None => None,
            Condition::Absent => Some(expression("attribute_not_exists(#a)", keys::PK, None)),
            Condition::Present => Some(expression("attribute_exists(#a)", keys::PK, None)),
            Condition::Version(version) => Some(expression(
                "#a = :a",
                keys::VERSION,
                Some(AttributeValue::N(version.to_string())),
            )),
            Condition::Equals(name, value) => {
                Some(expression("#a = :a", name, Some(s(value.clone()))))
            }
        }
    }
}

impl DynamoStore {
    pub(crate) fn put(
        &self,
        item: Item,
        condition: Condition,
    ) -> Result<TransactWriteItem, StoreError> {
        let mut put = Put::builder().table_name(&self.table).set_item(Some(item));
        if let Some(expression) = condition.expression() {
            put = put
                .condition_expression(expression.text)
                .set_expression_attribute_names(Some(expression.names))
                .set_expression_attribute_values(expression.values);
        }
        Ok(TransactWriteItem::builder()
            .put(built(put.build())?)
            .build())
    }

    pub(crate) fn delete(
        &self,
        pk: String,
        sk: String,
        condition: Condition,
    ) -> Result<TransactWriteItem, StoreError> {
        let mut delete = Delete::builder()
            .table_name(&self.table)
            .set_key(Some(Self::key(pk, sk)));
        if let Some(expression) = condition.expression() {
            delete = delete
                .condition_expression(expression.text)
                .set_expression_attribute_names(Some(expression.names))
                .set_expression_attribute_values(expression.values);
        }
        Ok(TransactWriteItem::builder()
            .delete(built(delete.build())?)
            .build())
    }
}

/// An item with a `version` attribute set.
pub fn with_version(mut item: Item, version: u64) -> Item {
    item.insert(keys::VERSION.into(), AttributeValue::N(version.to_string()));
    item
}
