use super::*;

fn p(s: &str) -> Result<RolloutCmd, String> {
    let w: Vec<String> = crate::parse::split_words(s).unwrap();
    parse(&w[1..])
}

fn upd(s: &str) -> UpdateOpts {
    match p(s).unwrap() {
        RolloutCmd::Update(o) => o,
        c => panic!("{c:?}"),
    }
}

#[test]
fn parses_strategies_and_gates() {
    let o = upd("rollout update 2 --strategy rolling 4 --health 'v2 step' --health-within 3s");
    assert_eq!(o.target, UpdateTarget::Version(2));
    assert_eq!(o.strategy, Strategy::Rolling(BatchSize::Count(4)));
    assert_eq!(o.health.as_deref(), Some("v2 step"));
    assert_eq!(o.health_within, Duration::from_secs(3));
    assert_eq!(o.max_failures, 0);
    let o = upd("rollout update x.changes --strategy=all --max-failures 2");
    assert_eq!(o.target, UpdateTarget::Changes("x.changes".into()));
    assert_eq!(o.strategy, Strategy::All);
    let o = upd("rollout update 3 --strategy 'rolling 25%' --max-failures 2 --within 1m");
    assert_eq!(o.strategy, Strategy::Rolling(BatchSize::Percent(25)));
    assert_eq!(o.max_failures, 2);
    assert_eq!(o.within, Some(Duration::from_secs(60)));
    let o = upd("rollout update 3 --strategy canary 2 --soak 5s");
    assert_eq!(o.strategy, Strategy::Canary(2));
    assert_eq!(o.soak, Some(Duration::from_secs(5)));
    assert_eq!(upd("rollout update 2").health_within, HEALTH_WITHIN);
}

#[test]
fn rejects_bad_rollouts_before_anything_is_sent() {
    let e = |s: &str| p(s).unwrap_err();
    assert!(e("rollout update 2 --strategy rolling").contains("needs N"));
    assert!(e("rollout update 2 --strategy rolling 0").contains("at least 1"));
    assert!(e("rollout update 2 --strategy blue-green").contains("unknown strategy"));
    assert!(e("rollout update 2 --strategy rolling 200%").contains("1 to 100"));
    assert!(e("rollout update 2 --soak 5s").contains("canary"));
    assert!(e("rollout update 2 --health '('").contains("--health"));
    assert!(e("rollout update 2 --health-within 2s").contains("needs --health"));
    assert!(e("rollout update").contains("usage"));
    assert!(e("rollout frob").contains("unknown subcommand"));
    assert!(e("rollout load 1").contains("usage"));
    assert!(e("rollout update 2 --max-failures x").contains("not a number"));
    assert_eq!(
        p("rollout load 2 a.uc").unwrap(),
        RolloutCmd::Load {
            version: 2,
            source: crate::parse::LoadSource::Source("a.uc".into())
        }
    );
    assert_eq!(p("rollout run").unwrap(), RolloutCmd::Run(None));
}

#[test]
fn batches_follow_the_strategy() {
    assert_eq!(batches(Strategy::All, 3), vec![vec![0, 1, 2]]);
    assert_eq!(
        batches(Strategy::Rolling(BatchSize::Count(4)), 10),
        vec![vec![0, 1, 2, 3], vec![4, 5, 6, 7], vec![8, 9]]
    );
    assert_eq!(
        batches(Strategy::Rolling(BatchSize::Percent(25)), 10).len(),
        4,
        "25% of 10 is 3 (rounded up): 3+3+3+1"
    );
    assert_eq!(
        batches(Strategy::Canary(1), 3),
        vec![vec![0], vec![1], vec![2]]
    );
    assert!(batches(Strategy::All, 0).is_empty());
}

#[test]
fn durations_read_well() {
    assert_eq!(human(Duration::from_millis(250)), "250ms");
    assert_eq!(human(Duration::from_secs(3)), "3s");
    assert_eq!(human(Duration::from_millis(1500)), "1.5s");
    assert_eq!(human(Duration::from_secs(125)), "2m 5s");
}
