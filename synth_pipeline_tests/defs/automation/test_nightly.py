"""The nightly schedule, evaluated as the daemon would with `build_schedule_context`."""

from datetime import UTC, datetime

import dagster as dg
import yaml

from synth_pipeline.definitions import build_defs
from synth_pipeline.defs.automation.nightly import PREVIOUS_TAG
from synth_pipeline.defs.partitions import dataset_version
from synth_pipeline.defs.resources import PipelineResource
from synth_pipeline_tests.test_runner import quickstart_copy


def _tick(defs, instance, pipeline, when):
    context = dg.build_schedule_context(instance=instance, resources={"pipeline": pipeline},
                                        scheduled_execution_time=when, repository_def=defs.get_repository_def())
    return defs.get_schedule_def("nightly_version_schedule").evaluate_tick(context).run_requests


def test_each_tick_adds_a_new_version_that_follows_the_latest_release(tmp_path):
    config = quickstart_copy(tmp_path, export={"out_dir": str(tmp_path / "datasets")},
                             schedule={"timezone": "Europe/Berlin"})
    pipeline = PipelineResource(config_path=str(config))
    defs = build_defs(str(config))
    (tmp_path / "datasets" / "v1").mkdir(parents=True)
    (tmp_path / "datasets" / "v1" / "metadata.json").write_text("{}")
    (tmp_path / "home").mkdir()
    with dg.instance_for_test(temp_dir=str(tmp_path / "home")) as instance:  # a schedule needs a stored one
        instance.add_dynamic_partitions(dataset_version.name, ["v1", "v2"])

        # 23:30 UTC is already the next day in Berlin: the name follows the schedule's time zone
        [first] = _tick(defs, instance, pipeline, datetime(2026, 11, 30, 23, 30, tzinfo=UTC))
        assert first.partition_key == "nightly-20261201"
        assert first.tags[PREVIOUS_TAG] == "v1"
        assert instance.has_dynamic_partition(dataset_version.name, "nightly-20261201")

        # the same tick evaluated again once its run exists (a retried tick): no second version
        instance.create_run_for_job(defs.resolve_job_def("synth_version"), tags={
            "dagster/run_key": first.run_key, "dagster/partition": first.partition_key})
        [retried] = _tick(defs, instance, pipeline, datetime(2026, 11, 30, 23, 30, tzinfo=UTC))
        assert (retried.partition_key, retried.run_key) == (first.partition_key, first.run_key)

        [second] = _tick(defs, instance, pipeline, datetime(2026, 12, 1, 12, 0, tzinfo=UTC))
        assert second.partition_key == "nightly-20261201-2"
        assert second.run_key != first.run_key
        assert dataset_version.get_partition_keys(dynamic_partitions_store=instance)[-2:] == [
            "nightly-20261201", "nightly-20261201-2"]


def test_the_schedule_comes_from_the_config_and_is_off_unless_enabled(tmp_path):
    config = quickstart_copy(tmp_path)
    defs = build_defs(str(config))
    nightly = defs.get_schedule_def("nightly_version_schedule")
    assert nightly.cron_schedule == "0 2 * * *"
    assert nightly.default_status == dg.DefaultScheduleStatus.STOPPED
    assert nightly.job_name == "synth_version"
    assert defs.resolve_job_def("synth_version").tags["synth/llm"] == "true"  # the LLM pool's run limit

    data = yaml.safe_load(config.read_text())
    data["schedule"] = {"enabled": True, "cron": "15 4 * * 1-5", "timezone": "America/New_York"}
    config.write_text(yaml.safe_dump(data))
    nightly = build_defs(str(config)).get_schedule_def("nightly_version_schedule")
    assert (nightly.cron_schedule, nightly.execution_timezone) == ("15 4 * * 1-5", "America/New_York")
    assert nightly.default_status == dg.DefaultScheduleStatus.RUNNING
