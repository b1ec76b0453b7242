//! Lists of values in statements whose text does not depend on how many values there are.
//!
//! SQL is made only from constants, so a list of any length has to fit statements of a fixed
//! shape: `IN (…)` lists of [`IN_LIST`] placeholders, run once per [`IN_LIST`] ids, and
//! multi-row inserts of a few fixed sizes ([`ROW_COUNTS`]), padded with rows of nulls that the
//! statement leaves out.

use sb_store::StoreResult;

use crate::{Db, Query, SqlStore};

/// How many placeholders an `IN (…)` list has. Longer lists are looked up in several
/// statements; a shorter run repeats one of its ids, which `IN` does not count twice.
pub(crate) const IN_LIST: usize = 50;

/// The row counts multi-row inserts come in: a batch costs one round trip per hundred rows,
/// and a short one binds no more than a few rows of padding (a message's trace is a handful of
/// entries).
pub(crate) const ROW_COUNTS: [usize; 3] = [4, 16, 100];

/// One multi-row insert statement for each of [`ROW_COUNTS`], computed once from constants.
pub(crate) type RowInserts = [String; ROW_COUNTS.len()];

/// The statements `make(rows)` writes for each of [`ROW_COUNTS`].
pub(crate) fn row_inserts(make: impl Fn(usize) -> String) -> RowInserts {
    ROW_COUNTS.map(make)
}

impl<D: Db> SqlStore<D> {
    /// Inserts `items`, up to a hundred a statement: `start` makes the query of a statement of
    /// `inserts` (one that leaves out rows of nulls) with what comes before the rows bound,
    /// `bind` adds one item's row. A run is padded with rows of nulls, typed like the item rows,
    /// up to the smallest of [`ROW_COUNTS`] that holds it.
    pub(crate) async fn insert_rows<T>(
        &self,
        inserts: &'static RowInserts,
        start: impl Fn(&'static str) -> Query,
        items: &[T],
        bind: impl Fn(Query, &T) -> Query,
    ) -> StoreResult<()> {
        for query in row_inserts_for(inserts, start, items, bind) {
            self.db.execute(query).await?;
        }
        Ok(())
    }
}

/// The statements [`SqlStore::insert_rows`] runs, for a caller that runs them in a unit.
pub(crate) fn row_inserts_for<T>(
    inserts: &'static RowInserts,
    start: impl Fn(&'static str) -> Query,
    items: &[T],
    bind: impl Fn(Query, &T) -> Query,
) -> Vec<Query> {
    let most = ROW_COUNTS[ROW_COUNTS.len() - 1];
    items
        .chunks(most)
        .map(|run| {
            let size = ROW_COUNTS.iter().position(|&n| n >= run.len()).unwrap_or(0);
            let first = start(&inserts[size]);
            let before = first.args.len();
            let mut query = run.iter().fold(first, &bind);
            let per_row = (query.args.len() - before) / run.len();
            let nulls: Vec<_> =
                query.args[query.args.len() - per_row..].iter().map(|a| a.null()).collect();
            for _ in run.len()..ROW_COUNTS[size] {
                query.args.extend(nulls.iter().cloned());
            }
            query
        })
        .collect()
}

/// `$from, $from+1, …` for `n` values; for statements computed once from constants.
pub(crate) fn placeholders(from: usize, n: usize) -> String {
    (from..from + n).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ")
}

/// `ids`, without repeats, in runs of exactly [`IN_LIST`] for an `IN (…)` list each: a short
/// run is padded with its first id, so it means the same. Ids come sorted, so the runs are in
/// id order too. No ids, no runs.
pub(crate) fn in_runs(mut ids: Vec<&str>) -> Vec<[&str; IN_LIST]> {
    ids.sort_unstable();
    ids.dedup();
    ids.chunks(IN_LIST)
        .map(|run| std::array::from_fn(|i| run.get(i).copied().unwrap_or(run[0])))
        .collect()
}

/// The ids as one text argument for [`not_listed!`]: `,a,b,` (just `,` for none).
pub(crate) fn delimited<'a>(ids: impl IntoIterator<Item = &'a str>) -> String {
    ids.into_iter().fold(String::from(","), |mut list, id| {
        list.push_str(id);
        list.push(',');
        list
    })
}

/// A condition true when the value of `$column` is not in the list that parameter `$list`
/// holds (made by [`delimited`]): removing `,value,` from the list leaves it as long as it
/// was. For a list that has to be read by one statement whatever its length (a `NOT IN` cannot
/// be split over several); `replace` and `length` mean the same in SQLite and PostgreSQL, and
/// ids contain no commas.
macro_rules! not_listed {
    ($list:literal, $column:literal) => {
        concat!(
            "length(replace(",
            $list,
            ", ',' || ",
            $column,
            " || ',', '')) = length(",
            $list,
            ")"
        )
    };
}
pub(crate) use not_listed;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_count_from_the_first() {
        assert_eq!(placeholders(3, 3), "$3, $4, $5");
    }

    #[test]
    fn runs_are_full_sorted_and_without_repeats() {
        assert!(in_runs(Vec::new()).is_empty());
        let runs = in_runs(vec!["b", "a", "b"]);
        assert_eq!(runs.len(), 1);
        assert_eq!(&runs[0][..3], ["a", "b", "a"]);
        assert!(runs[0][2..].iter().all(|id| *id == "a"));
        let many: Vec<String> = (0..IN_LIST + 1).map(|i| format!("id{i:03}")).collect();
        let runs = in_runs(many.iter().map(String::as_str).collect());
        assert_eq!(runs.len(), 2);
        assert_eq!(runs[0][IN_LIST - 1], format!("id{:03}", IN_LIST - 1));
        assert!(runs[1].iter().all(|id| *id == format!("id{IN_LIST:03}")));
    }

    #[test]
    fn delimited_lists_are_comma_framed() {
        assert_eq!(delimited([]), ",");
        assert_eq!(delimited(["a", "b"]), ",a,b,");
    }
}
