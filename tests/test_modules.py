import dspy
import pytest

from scripted import dummy_lm
from synsym.modules import EmptyOutputError, SynSymProgram, align_scores, program_fingerprint
from synsym.signatures import SubConcept, SymptomScore


@pytest.fixture
def program():
    return SynSymProgram()


def run_with(answers, call):
    lm = dummy_lm(answers)
    with dspy.context(lm=lm, adapter=dspy.JSONAdapter()):
        return call(), lm


def test_expander_drops_repeats_and_trims(program, taxonomy):
    answers = [{"sub_concepts": [
        {"name": "Early waking", "description": "wakes at 4 am"},
        {"name": "early  waking", "description": "same facet again"},
        {"name": "Broken sleep", "description": "wakes often"},
        {"name": "Oversleeping", "description": "sleeps 12 hours"},
    ]}]
    concepts, _ = run_with(answers, lambda: program.expander(taxonomy.symptom("Sleep_disturbance"), 2))
    assert [concept.name for concept in concepts] == ["Early waking", "Broken sleep"]


def test_expander_prompt_carries_symptom_and_count(program, taxonomy):
    answers = [{"sub_concepts": [{"name": "a", "description": "b"}]}]
    _, lm = run_with(answers, lambda: program.expander(taxonomy.symptom("Pessimism"), 5))
    prompt = lm.history[-1]["messages"][-1]["content"]
    assert "Pessimism" in prompt
    assert taxonomy.symptom("Pessimism").definition in prompt
    assert "5" in prompt


def test_writer_cleans_posts(program, taxonomy):
    answers = [{"posts": ['  "I sleep   four hours a night."  ', "", "I sleep four hours a night.", "I nap all afternoon."]}]
    posts, _ = run_with(answers, lambda: program.writer(
        taxonomy.symptom("Sleep_disturbance"), SubConcept(name="short sleep", description="too little sleep"), "clinical", "plain", 3))
    assert posts == ["I sleep four hours a night.", "I nap all afternoon."]


def test_writer_prompt_carries_style_guide(program, taxonomy):
    answers = [{"posts": ["I nap."]}]
    _, lm = run_with(answers, lambda: program.writer(
        taxonomy.symptom("Sleep_disturbance"), SubConcept(name="naps", description="long naps"), "tweet", "under 200 characters", 1))
    assert "tweet: under 200 characters" in lm.history[-1]["messages"][-1]["content"]


def test_rollout_id_reaches_lm(program, taxonomy):
    answers = [{"posts": ["I nap."]}]
    _, lm = run_with(answers, lambda: program.writer(
        taxonomy.symptom("Sleep_disturbance"), SubConcept(name="naps", description=""), "clinical", "plain", 1, rollout_id=77))
    assert lm.history[-1]["kwargs"]["rollout_id"] == 77
    assert lm.history[-1]["kwargs"]["seed"] == 77


def test_composer_lists_every_symptom(program, taxonomy):
    members = [taxonomy.symptom("Depressed_Mood"), taxonomy.symptom("Sleep_disturbance")]
    posts, lm = run_with([{"posts": ["I feel low and lie awake."]}], lambda: program.composer(members, "colloquial", "casual", 1))
    prompt = lm.history[-1]["messages"][-1]["content"]
    assert posts == ["I feel low and lie awake."]
    assert "Depressed_Mood" in prompt
    assert "Sleep_disturbance" in prompt


def test_judge_returns_score_per_label(program, taxonomy):
    members = [taxonomy.symptom("Depressed_Mood"), taxonomy.symptom("Sleep_disturbance")]
    answers = [{"scores": [
        {"symptom": "Sleep_disturbance", "score": 2, "reason": "vague"},
        {"symptom": "Depressed_Mood", "score": 5, "reason": "explicit"},
    ]}]
    scores, _ = run_with(answers, lambda: program.judge("I feel low and lie awake.", members))
    assert [(score.symptom, score.score) for score in scores] == [("Depressed_Mood", 5), ("Sleep_disturbance", 2)]


def test_judge_rejects_score_out_of_range(program, taxonomy):
    answers = [{"scores": [{"symptom": "Depressed_Mood", "score": 9, "reason": "x"}]}]
    with pytest.raises(Exception, match="score"):
        run_with(answers, lambda: program.judge("I feel low.", [taxonomy.symptom("Depressed_Mood")]))


def test_align_scores_by_position_when_names_differ():
    scores = [SymptomScore(symptom="low mood", score=4, reason="a"), SymptomScore(symptom="sleep", score=3, reason="b")]
    aligned = align_scores(scores, ["Depressed_Mood", "Sleep_disturbance"])
    assert [(score.symptom, score.score) for score in aligned] == [("Depressed_Mood", 4), ("Sleep_disturbance", 3)]


def test_align_scores_gives_zero_to_missing_label():
    aligned = align_scores([SymptomScore(symptom="Depressed_Mood", score=5, reason="a")], ["Depressed_Mood", "Pessimism"])
    assert aligned[1].symptom == "Pessimism"
    assert aligned[1].score == 0


def test_align_scores_ignores_case_and_separators():
    aligned = align_scores([SymptomScore(symptom="depressed mood", score=5, reason="a"), SymptomScore(symptom="x", score=1, reason="b"),
                            SymptomScore(symptom="y", score=1, reason="c")], ["Depressed_Mood"])
    assert aligned[0].score == 5


def test_proposer_returns_combinations(program, taxonomy):
    answers = [{"combinations": [["Depressed_Mood", "Sleep_disturbance"]]}]
    combinations, _ = run_with(answers, lambda: program.proposer(taxonomy, "guidance", 1))
    assert combinations == [["Depressed_Mood", "Sleep_disturbance"]]


def test_program_has_four_stages_and_proposer(program):
    names = sorted(name for name, _ in program.named_predictors())
    assert names == ["composer.predict", "expander.predict", "judge.predict", "proposer.predict", "writer.predict"]


def test_fingerprint_follows_instructions(program):
    before = program_fingerprint(program)
    program.writer.predict.signature = program.writer.predict.signature.with_instructions("Write posts.")
    assert program_fingerprint(program) != before
    assert program_fingerprint(SynSymProgram()) == before


def test_writer_with_no_usable_post_raises(program, taxonomy):
    answers = [{"posts": ["", "  "]}]
    with pytest.raises(EmptyOutputError, match="no usable posts"):
        run_with(answers, lambda: program.writer(
            taxonomy.symptom("Sleep_disturbance"), SubConcept(name="naps", description=""), "clinical", "plain", 2))


def test_expander_with_no_sub_concepts_raises(program, taxonomy):
    with pytest.raises(EmptyOutputError, match="no usable sub-concepts"):
        run_with([{"sub_concepts": []}], lambda: program.expander(taxonomy.symptom("Pessimism"), 2))
