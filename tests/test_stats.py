from toolkit import store
from toolkit.corpus import load_reports
from toolkit.stats import corpus_stats, format_stats


def test_stats_on_fixture(small_store):
    corpus, labels = small_store
    reports = load_reports([corpus])
    records = store.load(labels)
    first = next(iter(records))
    del records[first]
    stats = corpus_stats(reports, records)
    assert stats["reports"] == 10 and stats["groups"] == 7
    assert stats["unlabelled"] == 1 and stats["labelled"] == stats["distinct_sentences"] - 1
    assert sum(stats["per_label"].values()) == stats["labelled"]
    assert stats["per_source"] == {"manual": stats["labelled"]}
    text = format_stats(stats)
    assert f"{stats['labelled']} labelled, 1 unlabelled" in text
