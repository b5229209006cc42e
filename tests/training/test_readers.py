"""training.readers: standard formats, shipped data with fixed splits, and
bad data raising errors that name the file and line."""

import gzip
import json

import pytest

from training.data import readers


def test_fixed_split_is_stable_and_disjoint():
    # The split is a pure function of the key (SHA-256 based).
    assert readers.split_of("the rock is destined") == readers.split_of("the rock is destined")
    splits = {s: readers.movie_reviews(s) for s in readers.SPLITS}
    sizes = {s: len(d) for s, d in splits.items()}
    assert sum(sizes.values()) == len(readers.movie_reviews("all")) == 10568
    assert sizes["train"] > 8 * sizes["dev"] > 0 and sizes["test"] > 0
    assert not set(splits["train"].texts_a) & set(splits["test"].texts_a)
    assert splits["train"].label_names == ("negative", "positive")
    # Numbers pinned: any change of the split rule shows here.
    assert sizes == {"train": 8466, "dev": 1050, "test": 1052}
    regression = readers.movie_reviews("dev", regression=True)
    assert regression.is_regression and -4.0 <= min(regression.labels) < 0 < max(regression.labels) <= 4.0


def test_vitaminc_pairs_three_classes_split_by_claim():
    dev = readers.vitaminc("dev")
    assert dev.label_names == ("True", "False", "Neither") and set(dev.labels) == {0, 1, 2}
    assert len(dev.texts_a) == len(dev.texts_b) == len(dev.labels)
    train_claims = set(readers.vitaminc("train").texts_b)
    assert not train_claims & set(dev.texts_b)


def test_disfl_qa_is_squad2_with_character_offsets():
    examples = readers.disfl_qa("all")
    assert len(examples) == 8000
    impossible = [e for e in examples if e.is_impossible]
    assert len(impossible) == 2107 and all(not e.answers for e in impossible)
    for example in examples:
        for answer in example.answers[:1]:
            start = answer["answer_start"]
            span = example.context[start:start + len(answer["text"])]
            assert span == answer["text"]
    # "40,000" appears in the whitespace-tokenized context as "40 , 000":
    # the span found and the original text are both gold answers.
    spaced = [e for e in examples if len(e.answers) == 2]
    assert len(spaced) == 1119
    first, original = spaced[0].answers
    assert first["text"].replace(" ", "") == original["text"].replace(" ", "")


def test_glue_tsv_single_pair_and_regression(tmp_path):
    path = tmp_path / "dev.tsv"
    path.write_text("index\tsentence1\tsentence2\tlabel\n0\tA \"quoted\" one\tB\tentailment\n1\tC\tD\tneutral\n")
    data = readers.read_glue_tsv(path, "sentence1", "label", text_b_column="sentence2",
                                 label_names=["contradiction", "entailment", "neutral"])
    assert data.texts_a == ['A "quoted" one', "C"] and data.texts_b == ["B", "D"] and data.labels == [1, 2]
    sts = tmp_path / "sts.tsv"
    sts.write_text("a\tb\t3.8\nc\td\t0.5\n")
    data = readers.read_glue_tsv(sts, 0, 2, text_b_column=1, regression=True, header=False)
    assert data.labels == [3.8, 0.5] and data.is_regression


def test_glue_tsv_bad_rows_name_file_and_line(tmp_path):
    path = tmp_path / "bad.tsv"
    path.write_text("sentence\tlabel\ngood\t1\nmissing label\n")
    with pytest.raises(readers.DataError, match=r"bad\.tsv:3: missing column 'label'"):
        readers.read_glue_tsv(path, "sentence", "label", label_names=["0", "1"])
    path.write_text("sentence\tlabel\ngood\t1\nodd\t7\n")
    with pytest.raises(readers.DataError, match=r"bad\.tsv:3: label '7' is not in the label set \['0', '1'\]"):
        readers.read_glue_tsv(path, "sentence", "label", label_names=["0", "1"])
    with pytest.raises(readers.DataError, match=r"bad\.tsv:1: no column named 'text'"):
        readers.read_glue_tsv(path, "text", "label", label_names=["0", "1"])
    path.write_text("a\tb\tnot-a-number\n")
    with pytest.raises(readers.DataError, match=r"bad\.tsv:1: regression label 'not-a-number'"):
        readers.read_glue_tsv(path, 0, 2, regression=True, header=False)


def _squad(tmp_path, answer_start, text="Denver Broncos"):
    document = {"version": "v2.0", "data": [{"title": "t", "paragraphs": [{
        "context": "The Denver Broncos won.",
        "qas": [
            {"id": "q-ok", "question": "Who won?", "answers": [{"text": "Denver Broncos", "answer_start": 4}]},
            {"id": "q-none", "question": "Who lost?", "answers": [], "is_impossible": True},
            {"id": "q-bad", "question": "Who?", "answers": [{"text": text, "answer_start": answer_start}]},
        ]}]}]}
    path = tmp_path / "squad.json"
    path.write_text(json.dumps(document, indent=1))
    return path


def test_squad_json_reads_and_checks_offsets(tmp_path):
    examples = readers.read_squad_json(_squad(tmp_path, 4))
    assert [e.qid for e in examples] == ["q-ok", "q-none", "q-bad"]
    assert examples[1].is_impossible and examples[1].gold_texts == []
    assert examples[0].answers == [{"text": "Denver Broncos", "answer_start": 4}]
    path = _squad(tmp_path, 20)
    line = next(i for i, text in enumerate(path.read_text().splitlines(), 1) if '"q-bad"' in text)
    assert line > 1
    with pytest.raises(readers.DataError, match=rf"squad\.json:{line}: question q-bad: answer \[20, 34\) lies outside"):
        readers.read_squad_json(path)
    with pytest.raises(readers.DataError, match=r"question q-bad: context\[0:14\] is 'The Denver Bro'"):
        readers.read_squad_json(_squad(tmp_path, 0))
    path.write_text("{not json")
    with pytest.raises(readers.DataError, match=r"squad\.json:1: unparsable JSON"):
        readers.read_squad_json(path)


def test_conll_reader_and_bad_tag(tmp_path):
    path = tmp_path / "train.txt"
    path.write_text("-DOCSTART- -X- O O\n\nEU NNP B-ORG\nrejects VBZ O\n\nPeter NNP B-PER\nBlackburn NNP I-PER\n")
    data = readers.read_conll(path)
    assert data.tokens == [["EU", "rejects"], ["Peter", "Blackburn"]]
    assert data.tags == [["B-ORG", "O"], ["B-PER", "I-PER"]]
    assert data.tag_names == ("O", "B-ORG", "B-PER", "I-PER")
    with pytest.raises(readers.DataError, match=r"train\.txt:7: tag 'I-PER' is not in the tag set"):
        readers.read_conll(path, tag_names=["O", "B-ORG", "B-PER"])


def test_multiple_choice_race_json_and_swag_csv(tmp_path):
    race = tmp_path / "race.json"
    race.write_text(json.dumps({"article": "Tom has a cat.", "questions": ["Tom has a _.", "Who?"],
                                "options": [["cat", "dog"], ["Tom", "Ann"]], "answers": ["A", "A"]}))
    data = readers.read_multiple_choice(race)
    assert data.choices == [["Tom has a cat.", "Tom has a dog."], ["Who? Tom", "Who? Ann"]]
    assert data.labels == [0, 0] and data.contexts == ["Tom has a cat."] * 2
    swag = tmp_path / "val.csv"
    swag.write_text("sent1,sent2,ending0,ending1,label\nHe sits.,He,reads.,flies.,0\nShe runs.,She,stops.,melts.,5\n")
    with pytest.raises(readers.DataError, match=r"val\.csv:3: label '5' is not one of 2 choices"):
        readers.read_multiple_choice(swag)
    lines = tmp_path / "mc.jsonl"
    lines.write_text('{"context": "c", "choices": ["a", "b"], "label": 1}\n{"context": "c", "choices": ["a"]\n')
    with pytest.raises(readers.DataError, match=r"mc\.jsonl:2: unparsable JSON line"):
        readers.read_multiple_choice(lines)


def test_shipped_format_bad_lines_name_file_and_line(tmp_path):
    movies = tmp_path / "movies.tsv"
    movies.write_text("label\tscore\ttext\n1\t2.0\tgreat\n2\t1.0\tbad label\n")
    with pytest.raises(readers.DataError, match=r"movies\.tsv:3: label '2' is not in the label set"):
        readers.movie_reviews("all", path=movies)
    vitc = tmp_path / "vitc.jsonl.gz"
    with gzip.open(vitc, "wt") as f:
        f.write('{"evidence": "e", "claim": "c", "label": "True"}\n{"evidence": "e", "claim": "c", "label": "Maybe"}\n')
    with pytest.raises(readers.DataError, match=r"vitc\.jsonl\.gz:2: label 'Maybe' is not in the label set"):
        readers.vitaminc("all", path=vitc)
    qa = tmp_path / "qa.jsonl.gz"
    with gzip.open(qa, "wt") as f:
        f.write('{"question": "q", "context": "a b c", "answer": "b"}\n{"question": "q", "context": "a b c", "answer": "zzz"}\n')
        f.write('{"question": "q", "answer": "b"}\n')
    with pytest.raises(readers.DataError, match=r"qa\.jsonl\.gz:2: answer 'zzz' does not occur in the context"):
        readers.disfl_qa("all", path=qa)
    with gzip.open(qa, "wt") as f:
        f.write('{"question": "q", "answer": "b"}\n')
    with pytest.raises(readers.DataError, match=r"qa\.jsonl\.gz:1: missing field 'context'"):
        readers.disfl_qa("all", path=qa)
    with pytest.raises(ValueError, match="Unknown split 'validation'"):
        readers.movie_reviews("validation")
