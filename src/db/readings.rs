//! Temperature and humidity readings of storage rooms, and their daily and yearly figures.

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use super::DbError;

/// One reading to store; `day` is the local calendar day of `at`.
#[derive(Debug, Clone)]
pub struct NewReading {
    pub at: DateTime<Utc>,
    pub day: NaiveDate,
    pub temperature_c: Option<f64>,
    pub humidity_pct: Option<f64>,
    pub source: Option<String>,
}

/// Stores readings; one already stored for the same room and instant is left as it is (a
/// sensor that posts again changes nothing). Returns how many were new.
pub async fn insert(
    conn: &mut PgConnection,
    room_id: Uuid,
    readings: &[NewReading],
    by: Uuid,
) -> Result<u64, DbError> {
    let ids: Vec<Uuid> = readings.iter().map(|_| Uuid::now_v7()).collect();
    let ats: Vec<DateTime<Utc>> = readings.iter().map(|r| r.at).collect();
    let days: Vec<NaiveDate> = readings.iter().map(|r| r.day).collect();
    let temperatures: Vec<Option<f64>> = readings.iter().map(|r| r.temperature_c).collect();
    let humidities: Vec<Option<f64>> = readings.iter().map(|r| r.humidity_pct).collect();
    let sources: Vec<Option<String>> = readings.iter().map(|r| r.source.clone()).collect();
    let inserted = sqlx::query!(
        "insert into readings (id, room_id, at, day, temperature_c, humidity_pct, source, created_by)
         select id, $2, at, day, t, h, source, $8
         from unnest($1::uuid[], $3::timestamptz[], $4::date[], $5::float8[], $6::float8[],
                     $7::text[]) as r(id, at, day, t, h, source)
         on conflict (room_id, at) do nothing",
        &ids,
        room_id,
        &ats,
        &days,
        &temperatures as &[Option<f64>],
        &humidities as &[Option<f64>],
        &sources as &[Option<String>],
        by,
    )
    .execute(conn)
    .await?;
    Ok(inserted.rows_affected())
}

/// A stored reading.
#[derive(Debug, Clone)]
pub struct ReadingRow {
    pub at: DateTime<Utc>,
    pub temperature_c: Option<f64>,
    pub humidity_pct: Option<f64>,
    pub source: Option<String>,
}

/// The readings of a room on local days `from..=to`, in time order, at most `limit`.
pub async fn series(
    conn: &mut PgConnection,
    room_id: Uuid,
    from: NaiveDate,
    to: NaiveDate,
    limit: i64,
) -> Result<Vec<ReadingRow>, DbError> {
    Ok(sqlx::query_as!(
        ReadingRow,
        r#"select at, temperature_c::float8 as "temperature_c", humidity_pct::float8 as "humidity_pct",
                  source
           from readings where room_id = $1 and day between $2 and $3
           order by at limit $4"#,
        room_id,
        from,
        to,
        limit,
    )
    .fetch_all(conn)
    .await?)
}

/// The figures of one local day (or, in a yearly summary, one month: `day` is its first).
#[derive(Debug, Clone)]
pub struct DayFigures {
    pub day: NaiveDate,
    pub readings: i64,
    pub temperature_min: Option<f64>,
    pub temperature_max: Option<f64>,
    pub temperature_mean: Option<f64>,
    pub humidity_min: Option<f64>,
    pub humidity_max: Option<f64>,
    pub humidity_mean: Option<f64>,
}

/// Daily min/max/mean of a room's readings on days `from..=to` that have readings.
pub async fn daily(
    conn: &mut PgConnection,
    room_id: Uuid,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<DayFigures>, DbError> {
    Ok(sqlx::query_as!(
        DayFigures,
        r#"select day as "day!", count(*) as "readings!",
                  min(temperature_c)::float8 as temperature_min,
                  max(temperature_c)::float8 as temperature_max,
                  avg(temperature_c)::float8 as temperature_mean,
                  min(humidity_pct)::float8 as humidity_min,
                  max(humidity_pct)::float8 as humidity_max,
                  avg(humidity_pct)::float8 as humidity_mean
           from readings where room_id = $1 and day between $2 and $3
           group by day order by day"#,
        room_id,
        from,
        to,
    )
    .fetch_all(conn)
    .await?)
}

/// Monthly figures of a room over the local days `from..=to` (the annual analysis).
pub async fn monthly(
    conn: &mut PgConnection,
    room_id: Uuid,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<DayFigures>, DbError> {
    Ok(sqlx::query_as!(
        DayFigures,
        r#"select date_trunc('month', day)::date as "day!", count(*) as "readings!",
                  min(temperature_c)::float8 as temperature_min,
                  max(temperature_c)::float8 as temperature_max,
                  avg(temperature_c)::float8 as temperature_mean,
                  min(humidity_pct)::float8 as humidity_min,
                  max(humidity_pct)::float8 as humidity_max,
                  avg(humidity_pct)::float8 as humidity_mean
           from readings where room_id = $1 and day between $2 and $3
           group by 1 order by 1"#,
        room_id,
        from,
        to,
    )
    .fetch_all(conn)
    .await?)
}

/// A room and a local day on which it had fewer readings than it expects.
#[derive(Debug, Clone)]
pub struct MissedDay {
    pub room_id: Uuid,
    pub code: String,
    pub day: NaiveDate,
    pub readings: i64,
    pub expected: i32,
}

/// Days `from..=to` on which a room had fewer readings than expected, counting only days
/// after the room existed (its first, partial day is spared).
pub async fn missed_days(
    conn: &mut PgConnection,
    from: NaiveDate,
    to: NaiveDate,
    zone: &str,
) -> Result<Vec<MissedDay>, DbError> {
    Ok(sqlx::query_as!(
        MissedDay,
        r#"select r.id as "room_id!", r.code as "code!", d.day::date as "day!",
                  count(x.id) as "readings!", r.readings_per_day as "expected!"
           from rooms r
           cross join generate_series($1::date, $2::date, interval '1 day') as d(day)
           left join readings x on x.room_id = r.id and x.day = d.day::date
           where r.readings_per_day > 0 and d.day::date > (r.created_at at time zone $3)::date
           group by r.id, r.code, d.day, r.readings_per_day
           having count(x.id) < r.readings_per_day
           order by r.code, d.day"#,
        from,
        to,
        zone,
    )
    .fetch_all(conn)
    .await?)
}

/// Figures over all of a room's readings on local days `from..=to` (`day` is `from`).
pub async fn totals(
    conn: &mut PgConnection,
    room_id: Uuid,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<DayFigures, DbError> {
    Ok(sqlx::query_as!(
        DayFigures,
        r#"select $2::date as "day!", count(*) as "readings!",
                  min(temperature_c)::float8 as temperature_min,
                  max(temperature_c)::float8 as temperature_max,
                  avg(temperature_c)::float8 as temperature_mean,
                  min(humidity_pct)::float8 as humidity_min,
                  max(humidity_pct)::float8 as humidity_max,
                  avg(humidity_pct)::float8 as humidity_mean
           from readings where room_id = $1 and day between $2 and $3"#,
        room_id,
        from,
        to,
    )
    .fetch_one(conn)
    .await?)
}

/// How many local days `from..=to` have at least one reading of the room.
pub async fn days_with_readings(
    conn: &mut PgConnection,
    room_id: Uuid,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<i64, DbError> {
    Ok(sqlx::query_scalar!(
        r#"select count(distinct day) as "days!" from readings
           where room_id = $1 and day between $2 and $3"#,
        room_id,
        from,
        to,
    )
    .fetch_one(conn)
    .await?)
}

/// The alerts readings raised for a room on days `from..=to`, counted by breach.
pub async fn alerts_by_breach(
    conn: &mut PgConnection,
    room_id: Uuid,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<std::collections::BTreeMap<String, i64>, DbError> {
    let rows = sqlx::query!(
        r#"select details->>'breach' as "breach!", count(*) as "count!"
           from reminders
           where room_id = $1 and kind = 'alert' and details ? 'breach'
             and due_on between $2 and $3
           group by 1"#,
        room_id,
        from,
        to,
    )
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|row| (row.breach, row.count))
        .collect())
}
