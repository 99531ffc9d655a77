from synth_pipeline.generation.methods.common import (
    Answer,
    Job,
    add_usage,
    seed_and_cell,
    temperature_for,
    user_job,
)
from synth_pipeline_tests.generation.methods.helpers import config


def test_temperature_by_task_type_then_the_default_then_the_teacher():
    cfg = config("code", count=1)
    cfg.generation.temperature_by_task_type = {"code": 0.2}
    cfg.teacher.temperature = 0.9
    assert temperature_for(cfg, "code") == 0.2
    assert temperature_for(cfg, "rewrite", 0.3) == 0.3
    assert temperature_for(cfg, "rewrite") == 0.9
    assert temperature_for(cfg, None) == 0.9


def test_seeds_and_cells_cycle_independently():
    seeds = [{"id": 1}, {"id": 2}]
    cells = [{"domain": "a"}, {"domain": "b"}, {"domain": "c"}]
    picked = [seed_and_cell(seeds, cells, i) for i in range(4)]
    assert [p[2] for p in picked] == ["1", "2", "1", "2"]
    assert [p[1]["domain"] for p in picked] == ["a", "b", "c", "a"]
    assert seed_and_cell([], cells, 5) == (None, {"domain": "c"}, "none")


def test_a_user_job_carries_its_provenance_and_follow_ups_are_charged_to_it():
    job = user_job("j1", "Write a clause.", 3, 0.4, domain="legal", _target="x")
    assert job.messages == [{"role": "user", "content": "Write a clause."}]
    assert (job.sample_index, job.temperature, job.info) == (3, 0.4, {"domain": "legal", "_target": "x"})
    row = Answer(job, None, None, None, None, attempts=1, tokens_in=10, tokens_out=5, cost_usd=0.01)
    back = Answer(Job("j1-back", [], 3), None, None, None, None, attempts=2, tokens_in=7, tokens_out=3,
                  cost_usd=0.02)
    add_usage(row, back)
    assert (row.attempts, row.tokens_in, row.tokens_out, round(row.cost_usd, 6)) == (3, 17, 8, 0.03)
