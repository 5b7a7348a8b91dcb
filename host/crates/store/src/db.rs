//! Small SQL helpers shared by the repositories: a placeholder-numbering
//! query builder for dynamic filters, portable boolean decoding, and the
//! current time. Queries are written once with `$N` placeholders, which both
//! SQLite and PostgreSQL accept through sqlx's `Any` driver.

use sqlx::any::{Any, AnyArguments, AnyRow, AnyTypeInfo, AnyValueRef};
use sqlx::error::BoxDynError;
use sqlx::{AssertSqlSafe, Decode, Row, Type};

/// A boolean column: `BOOLEAN` on PostgreSQL, `INTEGER` 0/1 on SQLite (the
/// `Any` driver decodes the latter only as an integer).
pub(crate) struct DbBool(pub bool);

impl Type<Any> for DbBool {
    fn type_info() -> AnyTypeInfo {
        <bool as Type<Any>>::type_info()
    }

    fn compatible(ty: &AnyTypeInfo) -> bool {
        <bool as Type<Any>>::compatible(ty) || <i64 as Type<Any>>::compatible(ty)
    }
}

impl<'r> Decode<'r, Any> for DbBool {
    fn decode(value: AnyValueRef<'r>) -> Result<Self, BoxDynError> {
        match <bool as Decode<Any>>::decode(value.clone()) {
            Ok(b) => Ok(DbBool(b)),
            Err(_) => Ok(DbBool(<i64 as Decode<Any>>::decode(value)? != 0)),
        }
    }
}

/// Reads a boolean column by name.
pub(crate) fn get_bool(row: &AnyRow, col: &str) -> Result<bool, sqlx::Error> {
    row.try_get::<DbBool, _>(col).map(|b| b.0)
}

/// Reads a nullable boolean column by name.
pub(crate) fn get_opt_bool(row: &AnyRow, col: &str) -> Result<Option<bool>, sqlx::Error> {
    row.try_get::<Option<DbBool>, _>(col)
        .map(|b| b.map(|b| b.0))
}

/// A value bound to a dynamic query.
#[derive(Clone, Debug)]
pub(crate) enum Arg {
    Text(String),
    I64(i64),
    NullI64,
    NullText,
    Bool(bool),
    Blob(Vec<u8>),
}

impl From<Option<String>> for Arg {
    fn from(v: Option<String>) -> Self {
        v.map_or(Arg::NullText, Arg::Text)
    }
}

/// Builds SQL with `$1, $2, …` placeholders as values are pushed, so
/// optional filters can be appended without counting by hand.
#[derive(Default)]
pub(crate) struct SqlBuilder {
    sql: String,
    args: Vec<Arg>,
    /// Write `?` instead of `$N` (see [`insert_rows_then`]).
    anonymous: bool,
}

impl SqlBuilder {
    pub fn new(sql: &str) -> Self {
        Self {
            sql: sql.to_owned(),
            args: Vec::new(),
            anonymous: false,
        }
    }

    pub fn push(&mut self, sql: &str) -> &mut Self {
        self.sql.push_str(sql);
        self
    }

    /// Appends a placeholder for `arg`.
    pub fn bind(&mut self, arg: Arg) -> &mut Self {
        self.args.push(arg);
        if self.anonymous {
            self.sql.push('?');
        } else {
            self.sql.push('$');
            self.sql.push_str(&self.args.len().to_string());
        }
        self
    }

    /// Adds `arg` without writing a placeholder; returns its number, for a
    /// value the SQL refers to more than once.
    pub fn arg(&mut self, arg: Arg) -> usize {
        self.args.push(arg);
        self.args.len()
    }

    /// Appends `(v1, v2, …)` for an `IN` list; `values` must not be empty.
    pub fn bind_list<S: Into<String>>(&mut self, values: impl IntoIterator<Item = S>) -> &mut Self {
        self.push("(");
        for (i, value) in values.into_iter().enumerate() {
            if i > 0 {
                self.push(", ");
            }
            self.bind_text(value);
        }
        self.push(")")
    }

    pub fn bind_text(&mut self, s: impl Into<String>) -> &mut Self {
        self.bind(Arg::Text(s.into()))
    }

    pub fn bind_i64(&mut self, v: i64) -> &mut Self {
        self.bind(Arg::I64(v))
    }

    pub fn query(&self) -> sqlx::query::Query<'static, Any, AnyArguments> {
        Self {
            sql: self.sql.clone(),
            args: self.args.clone(),
            anonymous: self.anonymous,
        }
        .into_query()
    }

    /// [`Self::query`] without copying the values (message bodies are large).
    pub fn into_query(self) -> sqlx::query::Query<'static, Any, AnyArguments> {
        let mut q = sqlx::query(AssertSqlSafe(self.sql));
        for arg in self.args {
            q = match arg {
                Arg::Text(s) => q.bind(s),
                Arg::I64(v) => q.bind(v),
                Arg::NullI64 => q.bind(None::<i64>),
                Arg::NullText => q.bind(None::<String>),
                Arg::Bool(b) => q.bind(b),
                Arg::Blob(b) => q.bind(b),
            };
        }
        q
    }
}

/// Escapes `%`, `_` and `\` for a `LIKE … ESCAPE '\'` pattern.
pub(crate) fn like_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    for c in s.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Serialises a value for a JSON text column.
pub(crate) fn to_json<T: serde::Serialize>(value: &T) -> Result<String, super::StoreError> {
    Ok(serde_json::to_string(value)?)
}

/// Parses a JSON text column written by [`to_json`].
pub(crate) fn from_json<T: serde::de::DeserializeOwned>(
    text: &str,
) -> Result<T, super::StoreError> {
    Ok(serde_json::from_str(text)?)
}

/// Inserts many rows with multi-row `INSERT … VALUES (…), (…)` statements:
/// one round trip per chunk instead of one per row (it matters on
/// PostgreSQL). Chunks stay far below both databases' parameter limits.
///
/// On SQLite the placeholders are `?`: SQLite looks a named (`$N`)
/// parameter up by a linear scan when parsing and again when sqlx binds it,
/// so thousands of them cost quadratic time (a tenth of a sync's CPU).
/// `head` and `tail` must therefore hold no placeholders of their own.
pub(crate) async fn insert_rows(
    tx: &mut sqlx::Transaction<'static, Any>,
    head: &str,
    rows: Vec<Vec<Arg>>,
) -> Result<(), sqlx::Error> {
    insert_rows_then(tx, head, rows, "").await.map(drop)
}

/// [`insert_rows`] with `tail` after the values (`ON CONFLICT …`,
/// `RETURNING …`); returns the rows the statements returned.
pub(crate) async fn insert_rows_then(
    tx: &mut sqlx::Transaction<'static, Any>,
    head: &str,
    rows: Vec<Vec<Arg>>,
    tail: &str,
) -> Result<Vec<AnyRow>, sqlx::Error> {
    const MAX_PARAMS: usize = 4000;
    let Some(width) = rows.first().map(Vec::len) else {
        return Ok(Vec::new());
    };
    let anonymous = tx.backend_name() == "SQLite";
    let mut returned = Vec::new();
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let mut q = SqlBuilder::new(head);
        q.anonymous = anonymous;
        q.push(" VALUES ");
        for (i, row) in rows
            .by_ref()
            .take((MAX_PARAMS / width.max(1)).max(1))
            .enumerate()
        {
            q.push(if i == 0 { "(" } else { ", (" });
            for (j, arg) in row.into_iter().enumerate() {
                if j > 0 {
                    q.push(", ");
                }
                q.bind(arg);
            }
            q.push(")");
        }
        q.push(tail);
        returned.extend(q.into_query().fetch_all(&mut **tx).await?);
    }
    Ok(returned)
}

/// An UPDATE/DELETE of one org-scoped row: no row touched means the row does
/// not exist in the caller's org, which is reported as not found (never as
/// "exists elsewhere").
pub(crate) fn expect_found(
    done: &sqlx::any::AnyQueryResult,
    what: &'static str,
) -> Result<(), super::StoreError> {
    if done.rows_affected() == 0 {
        return Err(super::StoreError::NotFound(what));
    }
    Ok(())
}
