import hashlib

import dagster as dg

from synth_pipeline.defs.asset_checks import recorded_checks
from synth_pipeline.defs.io import bias_report_key, decontam_log_key, summary_key, table_key
from synth_pipeline.defs.partitions import dataset_version
from synth_pipeline.defs.resources import PipelineResource
from synth_pipeline.export.release import write_release
from synth_pipeline.tables import Rows

UPSTREAM = ("seeds", "generated", "filtered", "prelabeled", "reviewed", "decontaminated")


def _previous_release(context: dg.AssetExecutionContext, fs, base: str, version: str) -> str | None:
    """The newest version added before this one that has a release folder."""
    import pyarrow.fs as pafs

    keys = context.instance.get_dynamic_partitions(dataset_version.name)
    earlier = keys[: keys.index(version)] if version in keys else keys
    for key in reversed(earlier):
        if fs.get_file_info(f"{base}/{key}/metadata.json").type == pafs.FileType.File:
            return f"{base}/{key}"
    return None


def _checks(context: dg.AssetExecutionContext, store, version: str) -> list[dict]:
    """Every asset check's recorded outcome; a defined check with no outcome is reported as not run."""
    found = recorded_checks(store, version)
    seen = {(c["asset"], c["check"]) for c in found}
    graph = context.job_def.asset_layer.asset_graph
    for key in sorted(graph.asset_check_keys, key=lambda k: k.to_user_string()):
        asset, name = key.asset_key.to_user_string(), key.name
        if (asset, name) not in seen:
            spec = graph.get_check_spec(key)
            found.append({"asset": asset, "check": name, "blocking": bool(spec.blocking), "passed": False,
                          "status": "not_run", "observed": None, "threshold": None,
                          "description": spec.description, "method": None})
    return found


@dg.asset(partitions_def=dataset_version, group_name="synth", kinds={"python", "json"}, code_version="1",
          description="datasets/<version>/: splits in every format, metadata, QA report, changelog.")
def release(context: dg.AssetExecutionContext, decontaminated: Rows, pipeline: PipelineResource):
    config, store, version = pipeline.config, pipeline.store, context.partition_key
    summaries = [store.read_json(summary_key(p, version)) for p in UPSTREAM]
    seeds = store.rows(table_key("seeds", version))
    generated = summaries[1]["metrics"]
    extra = {
        "seed_set_hash": hashlib.sha256(
            "\n".join(sorted(seeds.column("id").to_pylist())).encode()).hexdigest(),
        "seed_rows": seeds.num_rows,
        "tokens_in": generated.get("tokens_in"), "tokens_out": generated.get("tokens_out"),
        "cost_usd": generated.get("cost_usd"), "llm_calls": generated.get("calls"),
    }
    extra["bias"] = store.read_json(bias_report_key(version))
    extra["checks"] = _checks(context, store, version)
    review = summaries[UPSTREAM.index("reviewed")]
    extra["review"] = {"implemented": review["implemented"], **review["metrics"]}
    decontam_key = decontam_log_key(version)
    decontam_log = store.read_json(decontam_key) if store.exists(decontam_key) else None
    fs, base, uri = pipeline.release_location()
    result = write_release(
        decontaminated, base, version, config, phase_summaries=summaries, extra_metadata=extra,
        decontam_log=decontam_log, previous_version_dir=_previous_release(context, fs, base, version),
        filesystem=fs,
    )
    return dg.MaterializeResult(metadata={
        "path": dg.MetadataValue.path(f"{uri}/{version}"),
        "rows": result.rows,
        "splits": dg.MetadataValue.json(result.splits),
        "formats": dg.MetadataValue.json(result.formats),
        "drift_flags": dg.MetadataValue.json(result.drift_flags),
    })
