// Shared by the build scripts of pup and ush (`include!`d, not a crate):
// the build time for their banners ("compiled on DATE"), as the paper's
// programs print it. Computed from `SystemTime`, so no date crate is needed;
// honours `SOURCE_DATE_EPOCH`, so reproducible builds print a stable date.

/// `YYYY-MM-DD at HH:MM UTC` of the build (or of `SOURCE_DATE_EPOCH`).
fn build_date() -> String {
    println!("cargo:rerun-if-env-changed=SOURCE_DATE_EPOCH");
    let secs = std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|s| s.trim().parse::<i64>().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs() as i64)
                .unwrap_or(0)
        });
    let (y, m, d) = civil_from_days(secs.div_euclid(86_400));
    let tod = secs.rem_euclid(86_400);
    format!(
        "{y:04}-{m:02}-{d:02} at {:02}:{:02} UTC",
        tod / 3600,
        tod % 3600 / 60
    )
}

/// Civil date (year, month, day) of a day count since 1970-01-01, by
/// Howard Hinnant's `civil_from_days` algorithm (proleptic Gregorian).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}
