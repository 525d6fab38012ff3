import json
import os
import signal
import subprocess
import sys
import textwrap

import datasets
import dspy
import pytest
from dspy.utils.dummies import DummyLM
from dspy.utils.exceptions import LMAuthError

from scripted import REPO_ROOT, dummy_lm, scripted_answers
from synsym.config import ConfigError, GenerationConfig
from synsym.modules import SynSymProgram
from synsym.runner import FolderStore, LMSetupError, MemoryStore, run_generation, unit_seed


def generate(config, answers, store=None):
    lm = dummy_lm(answers)
    store = store or FolderStore(config.output)
    data = run_generation(SynSymProgram(), config, store, lm=lm, lm_name="dummy", is_local=True, show_progress=False)
    return data, lm


def read_jsonl(path):
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def test_run_writes_every_output(small_config, taxonomy, tmp_path):
    data, _ = generate(small_config, scripted_answers(small_config, taxonomy))
    folder = tmp_path / "run"
    for name in ("data.parquet", "data.jsonl", "rejects.jsonl", "config.json", "usage.json", "units.jsonl", "README.md"):
        assert (folder / name).is_file(), name
    # 4 symptoms x 2 sub-concepts x 2 styles x 2 posts, plus 2 combinations x 2 posts.
    assert len(data.rows) == 32 + 4


def test_parquet_loads_with_datasets(small_config, taxonomy, tmp_path):
    generate(small_config, scripted_answers(small_config, taxonomy))
    loaded = datasets.load_dataset("parquet", data_files=str(tmp_path / "run" / "data.parquet"), split="train")
    assert len(loaded) == 36
    assert {"text", "labels", "style", "kind", "target_symptom", "sub_concept", "judge_scores", "lm", "program_fingerprint"} <= set(loaded.column_names)
    row = loaded[0]
    assert row["kind"] == "single"
    assert row["labels"] == [row["target_symptom"]]
    assert row["sub_concept"].startswith("facet 0 of")
    assert row["judge_scores"][0]["score"] == 4
    assert row["lm"] == "dummy"


def test_multi_posts_carry_combination_labels(small_config, taxonomy):
    data, _ = generate(small_config, scripted_answers(small_config, taxonomy))
    multi = [row for row in data.rows if row["kind"] == "multi"]
    assert len(multi) == 4
    assert all(len(row["labels"]) >= 2 for row in multi)
    assert all(row["target_symptom"] is None and row["sub_concept"] is None for row in multi)


def test_judge_rejects_post_below_threshold(small_config, taxonomy, tmp_path):
    answers = scripted_answers(small_config, taxonomy, weak=frozenset({"post 1 about"}))
    data, _ = generate(small_config, answers)
    rejects = read_jsonl(tmp_path / "run" / "rejects.jsonl")
    assert len(rejects) == 16
    assert all("post 1 about" in reject["text"] for reject in rejects)
    assert all(reject["reject_reason"].startswith("below threshold 3") for reject in rejects)
    assert all(reject["judge_scores"][0]["score"] == 1 for reject in rejects)
    assert len(data.rows) == 20


def test_judge_off_keeps_everything(small_config, taxonomy):
    config = small_config.model_copy(update={"judge": False})
    data, _ = generate(config, scripted_answers(config, taxonomy))
    assert len(data.rows) == 36
    assert data.rejects == []
    assert all(row["min_judge_score"] is None for row in data.rows)


def test_fragment_posts_rejected_unjudged(small_config, taxonomy, tmp_path):
    answers = scripted_answers(small_config, taxonomy, fragments=("{", "My"))
    data, lm = generate(small_config, answers)
    assert len(lm.history) == len(answers)
    rejects = read_jsonl(tmp_path / "run" / "rejects.jsonl")
    assert [reject["text"] for reject in rejects] == ["{", "My"]
    assert rejects[0]["reject_reason"] == "malformed: starts with JSON syntax"
    assert rejects[1]["reject_reason"] == "malformed: 1 word(s), fewer than 4"
    assert len(data.rows) == 34


def test_exact_duplicates_are_removed_and_counted(small_config, taxonomy, tmp_path):
    data, _ = generate(small_config, scripted_answers(small_config, taxonomy, duplicate_first=True))
    texts = [row["text"] for row in data.rows]
    assert len(texts) == len(set(texts)) == 35
    usage = json.loads((tmp_path / "run" / "usage.json").read_text())
    assert usage["duplicates_removed"] == 1


def test_failed_unit_is_recorded_and_run_continues(small_config, taxonomy, tmp_path):
    answers = scripted_answers(small_config, taxonomy, failed_expansions=frozenset({"Depressed_Mood"}))
    data, lm = generate(small_config, answers)
    assert len(lm.history) == len(answers)
    usage = json.loads((tmp_path / "run" / "usage.json").read_text())
    assert usage["failed_units"] == 1
    assert usage["failures"][0]["unit"] == "expand:Depressed_Mood"
    assert usage["failures"][0]["attempts"] == small_config.max_attempts
    assert "AdapterParseError" in usage["failures"][0]["error"]
    assert not any(row["target_symptom"] == "Depressed_Mood" for row in data.rows)
    assert any(row["target_symptom"] == "Pessimism" for row in data.rows)


def test_rerun_retries_failed_unit(small_config, taxonomy, tmp_path):
    generate(small_config, scripted_answers(small_config, taxonomy, failed_expansions=frozenset({"Depressed_Mood"})))
    full = scripted_answers(small_config, taxonomy)
    # The rerun asks only for the failed expansion, its expression units, and the judging of their posts.
    retry = [full[0]]
    retry += [answer for answer in full if "posts" in answer and "of Depressed_Mood" in answer["posts"][0]]
    retry += [answer for answer in full if "scores" in answer and [score["symptom"] for score in answer["scores"]] == ["Depressed_Mood"]]
    data, lm = generate(small_config, retry)
    assert len(lm.history) == len(retry)
    assert len(data.rows) == 36
    assert json.loads((tmp_path / "run" / "usage.json").read_text())["failed_units"] == 0


class KeyRejectingLM(DummyLM):
    """A scripted LM that answers `good_calls` calls, then fails as a provider does on a rejected API key."""

    def __init__(self, answers, good_calls):
        super().__init__(answers, adapter=dspy.JSONAdapter())
        self.good_calls = good_calls
        self.calls = 0

    def forward(self, prompt=None, messages=None, **kwargs):
        self.calls += 1
        if self.calls > self.good_calls:
            raise LMAuthError("invalid API key", model="dummy")
        return super().forward(prompt=prompt, messages=messages, **kwargs)


def test_rejected_key_stops_run_keeps_units(small_config, taxonomy, tmp_path):
    answers = scripted_answers(small_config, taxonomy)
    lm = KeyRejectingLM(answers, good_calls=3)
    with pytest.raises(LMSetupError, match="invalid API key") as error:
        run_generation(SynSymProgram(), small_config, FolderStore(small_config.output), lm=lm, lm_name="dummy", is_local=True, show_progress=False)
    assert "--api-base" in str(error.value)
    # A call that cannot succeed is not retried: three calls succeed, the fourth is rejected.
    assert lm.calls == 4
    assert len(read_jsonl(tmp_path / "run" / "units.jsonl")) == 3

    data, rerun_lm = generate(small_config, answers[3:])
    assert len(rerun_lm.history) == len(answers) - 3
    assert len(data.rows) == 36


class InterruptingStore(FolderStore):
    """Raises KeyboardInterrupt right after the n-th unit record is written, like Ctrl-C."""

    def __init__(self, folder, stop_after):
        super().__init__(folder)
        self.stop_after = stop_after

    def append(self, record):
        super().append(record)
        self.stop_after -= 1
        if self.stop_after == 0:
            raise KeyboardInterrupt


@pytest.mark.parametrize("stop_after", [2, 9, 30])
def test_interrupted_run_resumes_without_loss_or_repeat(small_config, taxonomy, tmp_path, stop_after):
    answers = scripted_answers(small_config, taxonomy)
    with pytest.raises(KeyboardInterrupt):
        generate(small_config, answers, store=InterruptingStore(small_config.output, stop_after))
    assert len(read_jsonl(tmp_path / "run" / "units.jsonl")) == stop_after

    data, lm = generate(small_config, answers[stop_after:])
    assert len(lm.history) == len(answers) - stop_after
    units = [record["unit"] for record in read_jsonl(tmp_path / "run" / "units.jsonl")]
    assert len(units) == len(set(units)) == len(answers)
    texts = [row["text"] for row in read_jsonl(tmp_path / "run" / "data.jsonl")]
    assert len(texts) == len(set(texts)) == 36


def test_resume_after_finish_calls_nothing(small_config, taxonomy):
    first, _ = generate(small_config, scripted_answers(small_config, taxonomy))
    second, lm = generate(small_config, [])
    assert lm.history == []
    assert [row["id"] for row in second.rows] == [row["id"] for row in first.rows]


def test_truncated_record_from_hard_kill_is_redone(small_config, taxonomy, tmp_path):
    answers = scripted_answers(small_config, taxonomy)
    with pytest.raises(KeyboardInterrupt):
        generate(small_config, answers, store=InterruptingStore(small_config.output, 3))
    units_path = tmp_path / "run" / "units.jsonl"
    with open(units_path, "a") as handle:
        handle.write('{"unit": "express:Depressed_Mood:0:clin')
    data, lm = generate(small_config, answers[3:])
    assert len(data.rows) == 36
    assert len(lm.history) == len(answers) - 3


def test_kill_9_mid_run_resumes(small_config, taxonomy, tmp_path):
    answers = scripted_answers(small_config, taxonomy)
    answers_path = tmp_path / "answers.json"
    answers_path.write_text(json.dumps(answers))
    script = textwrap.dedent(f"""
        import json, os, signal, sys
        sys.path.insert(0, {str(REPO_ROOT / 'tests')!r})
        from scripted import dummy_lm
        from synsym.config import GenerationConfig
        from synsym.modules import SynSymProgram
        from synsym.runner import FolderStore, run_generation

        class KillingStore(FolderStore):
            count = 0
            def append(self, record):
                super().append(record)
                self.count += 1
                if self.count == 7:
                    os.kill(os.getpid(), signal.SIGKILL)

        config = GenerationConfig.model_validate_json({small_config.model_dump_json()!r})
        answers = json.load(open({str(answers_path)!r}))
        run_generation(SynSymProgram(), config, KillingStore(config.output), lm=dummy_lm(answers), lm_name="dummy", is_local=True, show_progress=False)
    """)
    completed = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert completed.returncode == -signal.SIGKILL, completed.stderr
    assert len(read_jsonl(tmp_path / "run" / "units.jsonl")) == 7

    data, lm = generate(small_config, answers[7:])
    assert len(lm.history) == len(answers) - 7
    assert len(data.rows) == 36


def test_changed_settings_in_same_folder_are_rejected(small_config, taxonomy):
    generate(small_config, scripted_answers(small_config, taxonomy))
    changed = small_config.model_copy(update={"posts_per_unit": 3})
    with pytest.raises(ConfigError, match=r"posts_per_unit: 2 -> 3"):
        generate(changed, [])


def test_threshold_change_refilters_without_calls(small_config, taxonomy):
    generate(small_config, scripted_answers(small_config, taxonomy))
    stricter = small_config.model_copy(update={"threshold": 5})
    data, lm = generate(stricter, [])
    assert lm.history == []
    assert data.rows == []
    assert len(data.rejects) == 36


def test_config_json_reproduces_settings(small_config, taxonomy, tmp_path):
    generate(small_config, scripted_answers(small_config, taxonomy))
    saved = json.loads((tmp_path / "run" / "config.json").read_text())
    saved.pop("synsym_version")
    assert GenerationConfig.model_validate(saved) == small_config


def test_expansion_off_uses_bare_symptom(small_config, taxonomy):
    config = small_config.model_copy(update={"expansion": False})
    data, lm = generate(config, scripted_answers(config, taxonomy))
    assert not any(call["messages"][-1]["content"].count("sub_concepts") for call in lm.history)
    assert all(row["sub_concept"] is None for row in data.rows)
    rollouts = [call["kwargs"]["rollout_id"] for call in lm.history]
    assert len(rollouts) == len(set(rollouts))


def test_one_style_only(small_config, taxonomy):
    config = small_config.model_copy(update={"styles": ["colloquial"]})
    data, _ = generate(config, scripted_answers(config, taxonomy))
    assert {row["style"] for row in data.rows} == {"colloquial"}


def test_composition_off_has_no_multi_posts(small_config, taxonomy):
    config = small_config.model_copy(update={"composition": False})
    data, _ = generate(config, scripted_answers(config, taxonomy))
    assert {row["kind"] for row in data.rows} == {"single"}


def test_unknown_style_names_fix(small_config, taxonomy):
    config = small_config.model_copy(update={"styles": ["tweet"]})
    with pytest.raises(ConfigError, match="style_guides"):
        generate(config, [])


def test_custom_style_guide_is_used(small_config, taxonomy):
    config = small_config.model_copy(update={"styles": ["tweet"], "style_guides": {"tweet": "under 200 characters"}})
    _, lm = generate(config, scripted_answers(config, taxonomy))
    assert any("tweet: under 200 characters" in call["messages"][-1]["content"] for call in lm.history)


def test_unknown_symptom_is_rejected(small_config):
    config = small_config.model_copy(update={"symptoms": ["Depressed_Mood", "Sadness"]})
    with pytest.raises(ConfigError, match="'Sadness' is not in taxonomy"):
        generate(config, [])


def test_unit_seeds_differ_by_unit_attempt_and_seed():
    seeds = {unit_seed(0, "express:A:0:clinical", 1), unit_seed(0, "express:A:0:clinical", 2),
             unit_seed(1, "express:A:0:clinical", 1), unit_seed(0, "express:A:1:clinical", 1)}
    assert len(seeds) == 4


def test_rollout_ids_distinct_per_call(small_config, taxonomy):
    _, lm = generate(small_config, scripted_answers(small_config, taxonomy))
    rollouts = [call["kwargs"]["rollout_id"] for call in lm.history]
    assert len(rollouts) == len(set(rollouts))


def test_memory_store_leaves_no_files(small_config, taxonomy, tmp_path):
    data, _ = generate(small_config, scripted_answers(small_config, taxonomy), store=MemoryStore())
    assert len(data.rows) == 36
    assert not (tmp_path / "run").exists()


def test_card_has_content_warning_and_counts(small_config, taxonomy, tmp_path):
    generate(small_config, scripted_answers(small_config, taxonomy))
    card = (tmp_path / "run" / "README.md").read_text()
    assert "Content warning" in card
    assert "suicidal ideation" in card
    assert "| Depressed_Mood | 4 | 4 |" in card
    assert "arXiv 2603.21529" in card


def test_threads_run_remote_units_in_parallel(small_config, taxonomy, tmp_path):
    config = small_config.model_copy(update={"threads": 4, "sub_concepts_per_symptom": 1, "composition": False, "judge": False})
    answers = {}
    for name in config.symptoms:
        answers[f"## sub_concept ## ]]\nfacet-{name}"] = {"posts": [f"I write about {name}.", f"I also write about {name}."]}
    for name in config.symptoms:
        answers[f"## symptom ## ]]\n{name}\n"] = {"sub_concepts": [{"name": f"facet-{name}", "description": "one facet"}]}
    lm = dummy_lm(answers)
    data = run_generation(SynSymProgram(), config, FolderStore(config.output), lm=lm, lm_name="dummy", is_local=False, show_progress=False)
    # 4 symptoms x (1 expansion + 2 styles); both styles of a symptom get the same scripted posts.
    assert len(lm.history) == 12
    assert len(data.rows) == 8
    assert data.usage["duplicates_removed"] == 8
    assert {row["target_symptom"] for row in data.rows} == set(config.symptoms)
