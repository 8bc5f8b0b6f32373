//! The closed sets of words request fields take, as enums for the OpenAPI document only.
//! Handlers read these fields as text and check them in `parley-app`, so that a bad value
//! is reported with every other problem of the body; these enums keep clients and
//! fuzzers to the same words.

#![allow(dead_code)]

use utoipa::ToSchema;

/// A role.
#[derive(ToSchema)]
#[schema(rename_all = "snake_case")]
pub enum RoleName {
    Owner,
    Admin,
    Supervisor,
    Agent,
    Viewer,
}

/// An outcome status's category.
#[derive(ToSchema)]
#[schema(rename_all = "snake_case")]
pub enum CategoryName {
    Positive,
    Neutral,
    Negative,
}

/// How dates without a year-first form are read: day first or month first.
#[derive(ToSchema)]
#[schema(rename_all = "snake_case")]
pub enum LocaleName {
    Dmy,
    Mdy,
}

/// A custom field's type.
#[derive(ToSchema)]
#[schema(rename_all = "snake_case")]
pub enum FieldTypeName {
    Text,
    Number,
    Money,
    Date,
    Datetime,
    Boolean,
    Phone,
    Email,
    Postcode,
    Url,
}

/// A test delivery's kind.
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub enum TestKindName {
    Ping,
    InboundMessage,
    DeliveryReport,
    SetStatus,
    CustomValueRequest,
}

/// A day of the week.
#[derive(ToSchema)]
#[schema(rename_all = "snake_case")]
pub enum WeekdayName {
    Mon,
    Tue,
    Wed,
    Thu,
    Fri,
    Sat,
    Sun,
}
