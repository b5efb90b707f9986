//! `--shard` forms that take the shard number from a batch scheduler's environment, so a
//! job script needs no shell arithmetic and cannot get the base (0 or 1) wrong:
//!
//! - `I/N`: shard I of N, 1-based (`experiment::plan::Shard`).
//! - `slurm/N`: I from a Slurm array task. `SLURM_ARRAY_TASK_ID` is counted from
//!   `SLURM_ARRAY_TASK_MIN` in steps of `SLURM_ARRAY_TASK_STEP`, so `--array=0-7` and
//!   `--array=1-8` both give shards 1..=8. Where Slurm sets `SLURM_ARRAY_TASK_COUNT` it must
//!   equal N: an array of another size would silently leave runs out, and resubmitting a
//!   single task (`--array=3`) would otherwise become shard 1.
//! - `k8s/N`: I = `JOB_COMPLETION_INDEX` + 1, the 0-based index of a Kubernetes Indexed Job.
//!
//! The process environment is read here, in the CLI layer, and nowhere else (a run never
//! reads it; the tidy test bans it there). The lookup is a parameter so the tests need not
//! change the process environment.

use crate::experiment::plan::Shard;

/// A scheduler whose per-task environment names the shard.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Scheduler {
    /// A Slurm job array (`sbatch --array`).
    Slurm,
    /// A Kubernetes Indexed Job (`completionMode: Indexed`).
    Kubernetes,
}

impl Scheduler {
    const ALL: [Scheduler; 2] = [Scheduler::Slurm, Scheduler::Kubernetes];

    /// The word before `/N` in `--shard`.
    fn prefix(self) -> &'static str {
        match self {
            Scheduler::Slurm => "slurm",
            Scheduler::Kubernetes => "k8s",
        }
    }

    /// The 1-based shard number of this task among `count` shards.
    fn index(self, count: u32, env: &dyn Fn(&str) -> Option<String>) -> anyhow::Result<u32> {
        let form = format!("--shard {}/{count}", self.prefix());
        match self {
            Scheduler::Slurm => {
                let required = |name: &str| {
                    number(env, name)?.ok_or_else(|| {
                        anyhow::anyhow!(
                            "{form} needs {name}, which Slurm sets in every task of an array \
                             job (sbatch --array=1-{count}), but it is unset; outside an array \
                             job pass --shard I/{count}"
                        )
                    })
                };
                let id = required("SLURM_ARRAY_TASK_ID")?;
                let min = required("SLURM_ARRAY_TASK_MIN")?;
                let step = number(env, "SLURM_ARRAY_TASK_STEP")?.unwrap_or(1).max(1);
                if let Some(tasks) = number(env, "SLURM_ARRAY_TASK_COUNT")?
                    && tasks != u64::from(count)
                {
                    anyhow::bail!(
                        "{form}: the array has {tasks} tasks (SLURM_ARRAY_TASK_COUNT) but \
                         {count} shards; submit --array={min}-{} (to rerun single shards, \
                         pass --shard I/{count} explicitly)",
                        min + u64::from(count) - 1
                    );
                }
                let offset = id.checked_sub(min).filter(|o| o % step == 0);
                let position = offset.map(|o| o / step).filter(|&p| p < u64::from(count));
                match position {
                    // Lossless: position < count, a u32.
                    Some(p) => Ok(p as u32 + 1),
                    None => anyhow::bail!(
                        "{form}: array task {id} (SLURM_ARRAY_TASK_ID, counted from \
                         SLURM_ARRAY_TASK_MIN={min} in steps of {step}) is not one of \
                         {count} shards; submit --array={min}-{}",
                        min + u64::from(count) - 1
                    ),
                }
            }
            Scheduler::Kubernetes => {
                let name = "JOB_COMPLETION_INDEX";
                let index = number(env, name)?.ok_or_else(|| {
                    anyhow::anyhow!(
                        "{form} needs {name}, which Kubernetes sets in every pod of an \
                         Indexed Job (completionMode: Indexed), but it is unset; outside \
                         such a job pass --shard I/{count}"
                    )
                })?;
                if index >= u64::from(count) {
                    anyhow::bail!(
                        "{form}: {name}={index} is out of range; an Indexed Job with \
                         completions: {count} has indexes 0 to {}",
                        count - 1
                    );
                }
                // Lossless: index < count, a u32.
                Ok(index as u32 + 1)
            }
        }
    }
}

/// The variable `name` as a whole number, `None` when unset.
fn number(env: &dyn Fn(&str) -> Option<String>, name: &str) -> anyhow::Result<Option<u64>> {
    env(name)
        .map(|value| {
            value.trim().parse().map_err(|_| {
                anyhow::anyhow!("{name}='{value}' is not a whole number (from the environment)")
            })
        })
        .transpose()
}

/// Parses a `--shard` value, reading the process environment for the scheduler forms.
pub fn resolve(text: &str) -> anyhow::Result<Shard> {
    resolve_with(text, &|name| std::env::var(name).ok())
}

/// Parses a `--shard` value (`I/N`, `slurm/N` or `k8s/N`), looking variables up in `env`.
pub fn resolve_with(text: &str, env: &dyn Fn(&str) -> Option<String>) -> anyhow::Result<Shard> {
    let scheduler = text.split_once('/').and_then(|(prefix, count)| {
        Scheduler::ALL
            .into_iter()
            .find(|s| s.prefix() == prefix.trim())
            .map(|s| (s, count))
    });
    let Some((scheduler, count)) = scheduler else {
        return Ok(Shard::parse(text)?);
    };
    let count: u32 = match count.trim().parse() {
        Ok(n) if n >= 1 => n,
        _ => anyhow::bail!(
            "invalid shard '{text}': N must be a whole number of at least 1, e.g. {}/8",
            scheduler.prefix()
        ),
    };
    let index = scheduler.index(count, env)?;
    Ok(Shard { index, count })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(vars: &[(&str, &str)], text: &str) -> anyhow::Result<Shard> {
        let vars: Vec<(String, String)> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        resolve_with(text, &move |name| {
            vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
        })
    }

    fn shard(index: u32, count: u32) -> Shard {
        Shard { index, count }
    }

    fn slurm(id: &str, min: &str, count: &str) -> Vec<(&'static str, String)> {
        vec![
            ("SLURM_ARRAY_TASK_ID", id.to_string()),
            ("SLURM_ARRAY_TASK_MIN", min.to_string()),
            ("SLURM_ARRAY_TASK_COUNT", count.to_string()),
        ]
    }

    fn err(result: anyhow::Result<Shard>) -> String {
        format!("{:#}", result.expect_err("should be refused"))
    }

    fn with_owned(vars: &[(&str, String)], text: &str) -> anyhow::Result<Shard> {
        let borrowed: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (*k, v.as_str())).collect();
        with(&borrowed, text)
    }

    #[test]
    fn plain_form_ignores_the_environment() {
        let vars = slurm("5", "1", "8");
        assert_eq!(with_owned(&vars, "2/4").unwrap(), shard(2, 4));
        assert!(err(with(&[], "0/4")).contains("numbered from 1"));
    }

    #[test]
    fn slurm_arrays_from_zero_and_from_one_give_the_same_shards() {
        for id in 1..=8u32 {
            let one = with_owned(&slurm(&id.to_string(), "1", "8"), "slurm/8").unwrap();
            let zero = with_owned(&slurm(&(id - 1).to_string(), "0", "8"), "slurm/8").unwrap();
            assert_eq!(one, shard(id, 8));
            assert_eq!(zero, one);
        }
    }

    #[test]
    fn slurm_step_counts_tasks_not_ids() {
        let mut vars = slurm("14", "10", "3");
        vars.push(("SLURM_ARRAY_TASK_STEP", "2".into()));
        assert_eq!(with_owned(&vars, "slurm/3").unwrap(), shard(3, 3));
        vars[0].1 = "11".into();
        assert!(err(with_owned(&vars, "slurm/3")).contains("not one of 3 shards"));
    }

    #[test]
    fn slurm_refuses_unset_variables_and_arrays_of_another_size() {
        let unset = err(with(&[], "slurm/8"));
        assert!(unset.contains("needs SLURM_ARRAY_TASK_ID"), "{unset}");
        assert!(unset.contains("--shard I/8"), "{unset}");
        let no_min = err(with(&[("SLURM_ARRAY_TASK_ID", "3")], "slurm/8"));
        assert!(no_min.contains("needs SLURM_ARRAY_TASK_MIN"), "{no_min}");
        // Resubmitting one task of the sweep must not quietly become shard 1.
        let single = err(with_owned(&slurm("3", "3", "1"), "slurm/8"));
        assert!(single.contains("the array has 1 tasks"), "{single}");
        assert!(single.contains("--array=3-10"), "{single}");
        let beyond = err(with(
            &[("SLURM_ARRAY_TASK_ID", "9"), ("SLURM_ARRAY_TASK_MIN", "1")],
            "slurm/8",
        ));
        assert!(beyond.contains("array task 9"), "{beyond}");
        let below = err(with(
            &[("SLURM_ARRAY_TASK_ID", "0"), ("SLURM_ARRAY_TASK_MIN", "1")],
            "slurm/8",
        ));
        assert!(below.contains("array task 0"), "{below}");
        let garbage = err(with_owned(&slurm("x", "1", "8"), "slurm/8"));
        assert!(garbage.contains("SLURM_ARRAY_TASK_ID='x'"), "{garbage}");
    }

    #[test]
    fn kubernetes_index_is_zero_based() {
        let at = |i: &str| with(&[("JOB_COMPLETION_INDEX", i)], "k8s/8");
        assert_eq!(at("0").unwrap(), shard(1, 8));
        assert_eq!(at("7").unwrap(), shard(8, 8));
        assert!(err(at("8")).contains("indexes 0 to 7"));
        assert!(err(at("-1")).contains("not a whole number"));
        assert!(err(with(&[], "k8s/8")).contains("needs JOB_COMPLETION_INDEX"));
    }

    #[test]
    fn scheduler_forms_need_a_positive_count() {
        let vars = [("JOB_COMPLETION_INDEX", "0")];
        assert!(err(with(&vars, "k8s/0")).contains("at least 1"));
        assert!(err(with(&vars, "k8s/")).contains("at least 1"));
        assert!(err(with(&vars, "kube/8")).contains("invalid shard"));
    }
}
