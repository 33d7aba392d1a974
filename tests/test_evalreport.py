from toolkit.evalreport import real_text_markdown


def _result():
    seed = {"n": 516, "accuracy": 0.9089, "macro_f1": 0.88, "precision_at_0.9": 0.9613, "alone_accuracy": 0.74,
            "accuracy_interval": [0.87, 0.94], "precision_at_0.9_interval": [0.93, 0.985]}
    figures = {"accuracy": 0.8246, "macro_f1": 0.73, "precision_at_0.9": 0.9672, "share_at_0.9": 0.534,
               "accuracy_interval": [0.7884, 0.8602], "precision_at_0.9_interval": [0.9529, 0.9797]}
    realdev = {"pages": 96, "sentences": 1596, "model": "default.npz", "in_context": figures,
               "alone": {**figures, "accuracy": 0.65}}
    return {"by_corpus": {"seed": seed}, "realdev": realdev}


def test_real_text_leads_with_each_figure_and_its_page_resampled_interval():
    lines = real_text_markdown(_result()).splitlines()
    assert lines[0] == "## Real text first"
    seed = next(line for line in lines if line.startswith("| seed"))
    assert "| 0.9089 [0.870–0.940] |" in seed and "| 0.9613 [0.930–0.985] |" in seed
    dev = next(line for line in lines if line.startswith("| real development set (96 pages"))
    assert "| 0.8246 [0.788–0.860] |" in dev and "| 0.9672 (53%) [0.953–0.980] |" in dev
    assert any(line.startswith("In square brackets: the 95 % interval") for line in lines)


def test_a_figure_without_an_interval_is_printed_alone():
    result = _result()
    del result["by_corpus"]["seed"]["accuracy_interval"]
    seed = next(line for line in real_text_markdown(result).splitlines() if line.startswith("| seed"))
    assert "| 0.9089 |" in seed


def test_no_note_on_square_brackets_where_no_figure_has_an_interval():
    untouched = {"model": "default.npz", "sentences": 510, "accuracy": 0.96, "macro_f1": 0.95,
                 "confidence": {"high_confidence_precision": 0.99}, "alone": {"accuracy": 0.94}}
    text = real_text_markdown({"untouched": {"heldout2": untouched}})
    assert "| 0.96 |" in text and "[" not in text and "In square brackets" not in text
