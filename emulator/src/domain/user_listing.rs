//! The Management API's user list: its query (page, page size, the `created_before` anchor, sort
//! order, filters with their operators), the matching users of one page, the total, and the query
//! of any other page of the same list (for the answer's links).
//!
//! Filters are ANDed. A filter value may start with an operator (`ne:`, `gt:`, `lt:`, `like:`,
//! `not_like:`; none means equal); a value whose text before the first `:` is not an operator is
//! compared whole. `like:` is a case-insensitive substring match and `not_like:` its negation;
//! `gt:`/`lt:` compare strings bytewise, numbers and times by value. `identifier` matches the
//! user's e-mail address (the value lower-cased), phone number (a leading space, which is what an
//! unencoded `+` becomes, read as `+`) or external id (as given): a user matches `eq`, `gt`, `lt`
//! and `like` when one of their identifiers does, and `ne` and `not_like` when none matches `eq`
//! or `like`. A user who never logged in has `last_login_at` `0001-01-01T00:00:00Z`.

use std::cmp::Ordering;

use serde::Deserialize;

use crate::base::api_error::{ApiError, ApiResult};
use crate::base::enums::UserStatus;
use crate::model::app::AppRecord;
use crate::model::records::UserRecord;

/// Page size when the query gives none.
pub const DEFAULT_LIMIT: i64 = 15;
/// Largest page size.
pub const MAX_LIMIT: i64 = 500;
/// Sort order when the query gives none.
pub const DEFAULT_ORDER: &str = "created_at:DESC";
/// `0001-01-01T00:00:00Z` in Unix seconds: the `last_login_at` of a user who never logged in.
pub const NEVER: i64 = -62_135_596_800;

/// The query parameters of the user list, as received (each checked by [`list_users`]).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct ListUsersQuery {
    /// Page number, from 1.
    pub page: Option<String>,
    /// Page size, 1 to [`MAX_LIMIT`].
    pub limit: Option<String>,
    /// Unix seconds: only users created at or before it are listed.
    pub created_before: Option<String>,
    /// `field:ASC|DESC` terms, comma-separated.
    pub order_by: Option<String>,
    /// Filter on e-mail, phone or external id.
    pub identifier: Option<String>,
    /// Filter on the user id.
    pub id: Option<String>,
    /// Filter on the status.
    pub status: Option<String>,
    /// Filter on the number of logins.
    pub login_count: Option<String>,
    /// Filter on the creation time.
    pub created_at: Option<String>,
    /// Filter on the time of the last change.
    pub updated_at: Option<String>,
    /// Filter on the time of the last login.
    pub last_login_at: Option<String>,
}

/// A filter operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Eq,
    Ne,
    Gt,
    Lt,
    Like,
    NotLike,
}

impl Op {
    /// Splits `value` into its operator and operand.
    fn split(value: &str) -> (Op, &str) {
        if let Some((prefix, operand)) = value.split_once(':') {
            let op = match prefix {
                "ne" => Some(Op::Ne),
                "gt" => Some(Op::Gt),
                "lt" => Some(Op::Lt),
                "like" => Some(Op::Like),
                "not_like" => Some(Op::NotLike),
                _ => None,
            };
            if let Some(op) = op {
                return (op, operand);
            }
        }
        (Op::Eq, value)
    }

    /// The positive operator a negative one negates.
    fn positive(self) -> (Op, bool) {
        match self {
            Op::Ne => (Op::Eq, true),
            Op::NotLike => (Op::Like, true),
            other => (other, false),
        }
    }

    fn compare_str(self, value: &str, operand: &str) -> bool {
        match self {
            Op::Eq => value == operand,
            Op::Ne => value != operand,
            Op::Gt => value > operand,
            Op::Lt => value < operand,
            Op::Like => value.to_lowercase().contains(&operand.to_lowercase()),
            Op::NotLike => !value.to_lowercase().contains(&operand.to_lowercase()),
        }
    }

    fn compare_ord<T: Ord>(self, value: T, operand: T) -> bool {
        match self {
            Op::Eq => value == operand,
            Op::Ne => value != operand,
            Op::Gt => value > operand,
            Op::Lt => value < operand,
            // Refused when the filter is parsed.
            Op::Like | Op::NotLike => false,
        }
    }
}

/// A field the list can be sorted on (and filtered by, besides `identifier`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    Id,
    Status,
    LoginCount,
    CreatedAt,
    UpdatedAt,
    LastLoginAt,
}

impl Field {
    fn parse(name: &str) -> Option<Field> {
        Some(match name {
            "id" => Field::Id,
            "status" => Field::Status,
            "login_count" => Field::LoginCount,
            "created_at" => Field::CreatedAt,
            "updated_at" => Field::UpdatedAt,
            "last_login_at" => Field::LastLoginAt,
            _ => return None,
        })
    }

    fn name(self) -> &'static str {
        match self {
            Field::Id => "id",
            Field::Status => "status",
            Field::LoginCount => "login_count",
            Field::CreatedAt => "created_at",
            Field::UpdatedAt => "updated_at",
            Field::LastLoginAt => "last_login_at",
        }
    }

    /// The time a time field holds, in Unix seconds.
    fn time_of(self, user: &UserRecord) -> i64 {
        match self {
            Field::CreatedAt => user.created_at,
            Field::UpdatedAt => user.updated_at,
            _ => user.last_login_at.unwrap_or(NEVER),
        }
    }

    fn compare(self, a: &UserRecord, b: &UserRecord) -> Ordering {
        match self {
            Field::Id => a.id.cmp(&b.id),
            Field::Status => a.status.as_str().cmp(b.status.as_str()),
            Field::LoginCount => a.login_count.cmp(&b.login_count),
            time => time.time_of(a).cmp(&time.time_of(b)),
        }
    }
}

/// One parsed filter.
#[derive(Debug, Clone)]
enum Filter {
    Identifier {
        op: Op,
        operand: String,
    },
    Text {
        field: Field,
        op: Op,
        operand: String,
    },
    LoginCount {
        op: Op,
        operand: i64,
    },
    /// A time field against (Unix seconds, nanoseconds).
    Time {
        field: Field,
        op: Op,
        operand: (i64, u32),
    },
}

fn bad(message: String) -> ApiError {
    ApiError::bad_request(message)
}

impl Filter {
    fn identifier(value: &str) -> Filter {
        let (op, operand) = Op::split(value);
        Filter::Identifier {
            op,
            operand: operand.to_owned(),
        }
    }

    fn text(field: Field, value: &str) -> ApiResult<Filter> {
        let (op, operand) = Op::split(value);
        if field == Field::Status
            && matches!(op, Op::Eq | Op::Ne)
            && ![
                UserStatus::Active,
                UserStatus::Inactive,
                UserStatus::Pending,
            ]
            .iter()
            .any(|s| s.as_str() == operand)
        {
            return Err(bad(
                "status must be active, inactive or pending (after an optional ne:)".into(),
            ));
        }
        Ok(Filter::Text {
            field,
            op,
            operand: operand.to_owned(),
        })
    }

    fn ordered_op(name: &str, value: &str) -> ApiResult<(Op, String)> {
        let (op, operand) = Op::split(value);
        if matches!(op, Op::Like | Op::NotLike) {
            return Err(bad(format!(
                "{name} takes the operators ne:, gt: and lt: only"
            )));
        }
        Ok((op, operand.to_owned()))
    }

    fn login_count(value: &str) -> ApiResult<Filter> {
        let (op, operand) = Self::ordered_op("login_count", value)?;
        let operand = operand.trim().parse::<i64>().map_err(|_| {
            bad("login_count must be an integer (after an optional operator)".into())
        })?;
        Ok(Filter::LoginCount { op, operand })
    }

    fn time(field: Field, value: &str) -> ApiResult<Filter> {
        let (op, operand) = Self::ordered_op(field.name(), value)?;
        let time = chrono::DateTime::parse_from_rfc3339(operand.trim()).map_err(|_| {
            bad(format!(
                "{} must be a timestamp such as 2024-05-01T13:45:00.000000Z",
                field.name()
            ))
        })?;
        Ok(Filter::Time {
            field,
            op,
            operand: (time.timestamp(), time.timestamp_subsec_nanos()),
        })
    }

    fn matches(&self, user: &UserRecord) -> bool {
        match self {
            Filter::Identifier { op, operand } => identifier_matches(user, *op, operand),
            Filter::Text { field, op, operand } => {
                let value = match field {
                    Field::Status => user.status.as_str(),
                    _ => user.id.as_str(),
                };
                op.compare_str(value, operand)
            }
            Filter::LoginCount { op, operand } => op.compare_ord(user.login_count, *operand),
            Filter::Time { field, op, operand } => {
                op.compare_ord((field.time_of(user), 0), *operand)
            }
        }
    }
}

/// Whether `user` satisfies the `identifier` filter (see the module documentation).
fn identifier_matches(user: &UserRecord, op: Op, operand: &str) -> bool {
    let email = operand.trim().to_lowercase();
    let phone = phone_operand(operand);
    let (positive, negated) = op.positive();
    let any = [
        (&user.email, email.as_str()),
        (&user.phone, phone.as_str()),
        (&user.external_id, operand),
    ]
    .into_iter()
    .filter(|(value, _)| !value.is_empty())
    .any(|(value, operand)| positive.compare_str(value, operand));
    any != negated
}

/// A phone number as the query carried it: an unencoded `+` arrives as a space.
fn phone_operand(operand: &str) -> String {
    match operand.strip_prefix(' ') {
        Some(rest) if !rest.trim_end().is_empty() => format!("+{}", rest.trim_end()),
        _ => operand.trim().to_owned(),
    }
}

/// One term of the sort order.
#[derive(Debug, Clone, Copy)]
struct SortKey {
    field: Field,
    descending: bool,
}

fn parse_order(text: &str) -> ApiResult<Vec<SortKey>> {
    let invalid = || {
        bad(
            "order_by must be comma-separated field:ASC or field:DESC terms, fields id, status, \
             login_count, created_at, updated_at, last_login_at"
                .into(),
        )
    };
    text.split(',')
        .map(|term| {
            let (field, direction) = term.trim().split_once(':').ok_or_else(invalid)?;
            let field = Field::parse(field).ok_or_else(invalid)?;
            let descending = if direction.eq_ignore_ascii_case("desc") {
                true
            } else if direction.eq_ignore_ascii_case("asc") {
                false
            } else {
                return Err(invalid());
            };
            Ok(SortKey { field, descending })
        })
        .collect()
}

fn order_text(keys: &[SortKey]) -> String {
    keys.iter()
        .map(|k| {
            format!(
                "{}:{}",
                k.field.name(),
                if k.descending { "DESC" } else { "ASC" }
            )
        })
        .collect::<Vec<_>>()
        .join(",")
}

fn parse_int(name: &str, value: &str, range: std::ops::RangeInclusive<i64>) -> ApiResult<i64> {
    value
        .trim()
        .parse::<i64>()
        .ok()
        .filter(|n| range.contains(n))
        .ok_or_else(|| {
            bad(format!(
                "{name} must be an integer from {} to {}",
                range.start(),
                range.end()
            ))
        })
}

/// One page of the list.
#[derive(Debug, Clone)]
pub struct UserPage<'a> {
    /// The users of this page, in order.
    pub users: Vec<&'a UserRecord>,
    /// Number of matching users on all pages.
    pub total: u64,
    /// This page's number.
    pub page: i64,
    /// The page size used.
    pub limit: i64,
    /// The anchor used (Unix seconds).
    pub created_before: i64,
    /// The last page's number (1 when nothing matches).
    pub last_page: i64,
    /// The sort order used, as `field:DIR` terms.
    pub order_by: String,
    /// The filters given, as (name, value received), in a fixed order.
    filters: Vec<(&'static str, String)>,
}

impl UserPage<'_> {
    /// The query string of page `page` of the same list (anchor, size, order and filters).
    pub fn query_for_page(&self, page: i64) -> String {
        let mut query = url::form_urlencoded::Serializer::new(String::new());
        query
            .append_pair("created_before", &self.created_before.to_string())
            .append_pair("limit", &self.limit.to_string())
            .append_pair("order_by", &self.order_by)
            .append_pair("page", &page.to_string());
        for (name, value) in &self.filters {
            query.append_pair(name, value);
        }
        query.finish()
    }
}

/// The page `query` asks for of the app's users at `now` (400 `invalid_request` for any bad
/// parameter). Users created after the anchor are left out; ties in the sort order are broken by
/// id, so that pages do not overlap.
pub fn list_users<'a>(
    app: &'a AppRecord,
    query: &ListUsersQuery,
    now: i64,
) -> ApiResult<UserPage<'a>> {
    let page = match &query.page {
        Some(v) => parse_int("page", v, 1..=i64::from(i32::MAX))?,
        None => 1,
    };
    let limit = match &query.limit {
        Some(v) => parse_int("limit", v, 1..=MAX_LIMIT)?,
        None => DEFAULT_LIMIT,
    };
    let created_before = match &query.created_before {
        Some(v) => v
            .trim()
            .parse::<i64>()
            .map_err(|_| bad("created_before must be Unix seconds".into()))?,
        None => now,
    };
    let order = parse_order(query.order_by.as_deref().unwrap_or(DEFAULT_ORDER))?;

    let mut filters = Vec::new();
    let mut given = Vec::new();
    let mut add =
        |name: &'static str, value: &Option<String>, parse: &dyn Fn(&str) -> ApiResult<Filter>| {
            if let Some(value) = value {
                filters.push(parse(value)?);
                given.push((name, value.clone()));
            }
            Ok::<(), ApiError>(())
        };
    add("identifier", &query.identifier, &|v| {
        Ok(Filter::identifier(v))
    })?;
    add("id", &query.id, &|v| Filter::text(Field::Id, v))?;
    add("status", &query.status, &|v| Filter::text(Field::Status, v))?;
    add("login_count", &query.login_count, &Filter::login_count)?;
    add("created_at", &query.created_at, &|v| {
        Filter::time(Field::CreatedAt, v)
    })?;
    add("updated_at", &query.updated_at, &|v| {
        Filter::time(Field::UpdatedAt, v)
    })?;
    add("last_login_at", &query.last_login_at, &|v| {
        Filter::time(Field::LastLoginAt, v)
    })?;

    let keep =
        |u: &&UserRecord| u.created_at <= created_before && filters.iter().all(|f| f.matches(u));
    let mut matching: Vec<&UserRecord> = match candidates_by_identifier(app, &filters) {
        Some(candidates) => candidates.into_iter().filter(keep).collect(),
        None => app.users.values().filter(keep).collect(),
    };
    matching.sort_by(|a, b| {
        order
            .iter()
            .map(|key| {
                let ordering = key.field.compare(a, b);
                if key.descending {
                    ordering.reverse()
                } else {
                    ordering
                }
            })
            .find(|o| o.is_ne())
            .unwrap_or_else(|| a.id.cmp(&b.id))
    });
    let total = matching.len() as u64;
    let limit_u = limit as u64;
    let last_page = total.div_ceil(limit_u).max(1);
    let offset = ((page - 1) as u64).saturating_mul(limit_u);
    let users = matching
        .into_iter()
        .skip(usize::try_from(offset).unwrap_or(usize::MAX))
        .take(limit as usize)
        .collect();
    Ok(UserPage {
        users,
        total,
        page,
        limit,
        created_before,
        last_page: i64::try_from(last_page).unwrap_or(i64::MAX),
        order_by: order_text(&order),
        filters: given,
    })
}

/// The users an exact `identifier` filter can match, found through the identifier index (the
/// lookup every official SDK makes), or `None` to scan every user.
fn candidates_by_identifier<'a>(
    app: &'a AppRecord,
    filters: &[Filter],
) -> Option<Vec<&'a UserRecord>> {
    let operand = filters.iter().find_map(|f| match f {
        Filter::Identifier {
            op: Op::Eq,
            operand,
        } => Some(operand),
        _ => None,
    })?;
    let mut found: Vec<&UserRecord> = [
        app.find_user_by_identifier(&operand.trim().to_lowercase()),
        app.find_user_by_identifier(&phone_operand(operand)),
        app.find_user_by_external_id(operand),
    ]
    .into_iter()
    .flatten()
    .collect();
    found.sort_by(|a, b| a.id.cmp(&b.id));
    found.dedup_by(|a, b| a.id == b.id);
    Some(found)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::base::identifiers::IdentifierKind;
    use crate::domain::accounts::{new_flex_user, new_user};
    use crate::jwt::SigningKey;
    use crate::settings::app::AppConfig;

    /// An app with users u0..u(n-1), created at 1000 + i, `login_count` i % 3.
    fn app(n: usize) -> AppRecord {
        let mut app = AppRecord::new(AppConfig::default(), SigningKey::default_key().unwrap());
        for i in 0..n {
            let mut user = new_user(
                IdentifierKind::Email,
                &format!("user{i}@example.com"),
                UserStatus::Active,
                1000 + i as i64,
            );
            user.id = format!("u{i}");
            user.login_count = (i % 3) as i64;
            app.users.insert(user.id.clone(), user);
        }
        app
    }

    fn ids(page: &UserPage<'_>) -> Vec<String> {
        page.users.iter().map(|u| u.id.clone()).collect()
    }

    fn query(pairs: &[(&str, &str)]) -> ListUsersQuery {
        let text = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(pairs)
            .finish();
        serde_urlencoded::from_str(&text).unwrap()
    }

    #[test]
    fn pages_are_exact_first_and_last_and_newest_first_by_default() {
        let app = app(7);
        let first = list_users(&app, &query(&[("limit", "3")]), 5000).unwrap();
        assert_eq!(ids(&first), ["u6", "u5", "u4"]);
        assert_eq!((first.total, first.last_page, first.page), (7, 3, 1));
        assert_eq!(first.order_by, "created_at:DESC");
        let last = list_users(&app, &query(&[("limit", "3"), ("page", "3")]), 5000).unwrap();
        assert_eq!(ids(&last), ["u0"]);
        let past = list_users(&app, &query(&[("limit", "3"), ("page", "9")]), 5000).unwrap();
        assert!(past.users.is_empty() && past.total == 7);
        let anchored = list_users(&app, &query(&[("created_before", "1003")]), 5000).unwrap();
        assert_eq!(
            ids(&anchored),
            ["u3", "u2", "u1", "u0"],
            "the anchor is inclusive"
        );
        assert_eq!(
            first.query_for_page(2),
            "created_before=5000&limit=3&order_by=created_at%3ADESC&page=2"
        );
    }

    #[test]
    fn ordering_by_several_fields_breaks_ties_by_id() {
        let app = app(6);
        let page = list_users(
            &app,
            &query(&[("order_by", "login_count:desc,created_at:ASC")]),
            5000,
        )
        .unwrap();
        assert_eq!(ids(&page), ["u2", "u5", "u1", "u4", "u0", "u3"]);
        for bad in ["identifier:ASC", "id", "id:UP", "", "id:ASC,", "nope:DESC"] {
            let err = list_users(&app, &query(&[("order_by", bad)]), 0).unwrap_err();
            assert_eq!(err.code, "invalid_request", "{bad:?}");
        }
    }

    #[test]
    fn filters_and_their_operators() {
        let mut app = app(5);
        app.users.get_mut("u1").unwrap().phone = "+15551234567".into();
        app.users.get_mut("u2").unwrap().status = UserStatus::Inactive;
        app.users.get_mut("u3").unwrap().last_login_at = Some(2000);
        let mut flex = new_flex_user("Ext-ID@Corp", 1500);
        flex.id = "u9".into();
        app.users.insert(flex.id.clone(), flex);
        let run = |pairs: &[(&str, &str)]| ids(&list_users(&app, &query(pairs), 5000).unwrap());
        assert_eq!(run(&[("identifier", "USER1@example.com")]), ["u1"]);
        assert_eq!(
            run(&[("identifier", " 15551234567")]),
            ["u1"],
            "a + sent unencoded"
        );
        assert_eq!(run(&[("identifier", "+15551234567")]), ["u1"]);
        assert_eq!(
            run(&[("identifier", "Ext-ID@Corp")]),
            ["u9"],
            "external ids as given"
        );
        assert_eq!(run(&[("identifier", "like:EXT-id")]), ["u9"]);
        assert_eq!(run(&[("identifier", "ne:user1@example.com")]).len(), 5);
        assert_eq!(run(&[("identifier", "not_like:example")]), ["u9"]);
        assert_eq!(run(&[("id", "gt:u3")]), ["u9", "u4"]);
        assert_eq!(
            run(&[("id", "u:x")]),
            Vec::<String>::new(),
            "not an operator: whole value"
        );
        assert_eq!(run(&[("status", "inactive")]), ["u2"]);
        assert_eq!(run(&[("status", "ne:active")]), ["u9", "u2"]);
        assert_eq!(run(&[("status", "like:ACT")]).len(), 5);
        assert_eq!(run(&[("login_count", "gt:1")]), ["u2"]);
        assert_eq!(
            run(&[("login_count", "1"), ("status", "active")]),
            ["u4", "u1"]
        );
        assert_eq!(
            run(&[("created_at", "lt:1970-01-01T00:16:42Z")]),
            ["u1", "u0"]
        );
        assert_eq!(
            run(&[("created_at", "1970-01-01T00:16:40.000000Z")]),
            ["u0"]
        );
        assert_eq!(
            run(&[("created_at", "1970-01-01T00:16:40.5Z")]),
            Vec::<String>::new()
        );
        assert_eq!(run(&[("last_login_at", "gt:0001-01-01T00:00:00Z")]), ["u3"]);
        assert_eq!(run(&[("last_login_at", "0001-01-01T00:00:00Z")]).len(), 5);
        for bad in [
            ("status", "asleep"),
            ("status", "ne:"),
            ("login_count", "many"),
            ("login_count", "like:1"),
            ("created_at", "yesterday"),
            ("updated_at", "not_like:2024"),
            ("page", "0"),
            ("page", "x"),
            ("page", "2147483648"),
            ("limit", "501"),
            ("limit", "0"),
            ("created_before", "soon"),
        ] {
            let err = list_users(&app, &query(&[bad]), 0).unwrap_err();
            assert_eq!(err.code, "invalid_request", "{bad:?}");
        }
    }

    #[test]
    fn extreme_pages_do_not_overflow() {
        let app = app(2);
        let page = list_users(
            &app,
            &query(&[("page", "2147483647"), ("limit", "500")]),
            5000,
        )
        .unwrap();
        assert!(page.users.is_empty());
        assert_eq!(page.last_page, 1);
    }
}
