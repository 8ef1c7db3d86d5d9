# podcapture agent image.
#   docker build -t podcapture-agent:dev .
# The build runs inside the first stage, so only Docker is needed on the host.

# ---- build: the shaded jar -------------------------------------------------
FROM maven:3.9-eclipse-temurin-17 AS build
WORKDIR /src
# The pom alone first, so the dependency layer is cached until the pom changes.
COPY pom.xml .
RUN mvn -B -q dependency:go-offline
COPY src ./src
RUN mvn -B -q package -DskipTests

# ---- runtime: JRE, tcpdump, tar for kubectl cp, and the stream watchdog ---
FROM debian:bookworm-slim

ARG VERSION=0.1.0-SNAPSHOT
LABEL org.opencontainers.image.title="podcapture-agent" \
      org.opencontainers.image.description="Kubernetes node agent that takes on-demand tcpdump captures of Pods" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.base.name="docker.io/library/debian:bookworm-slim"

# The slim image has no /usr/share/man/man1, which the JRE's postinst may need
# to register its man pages with update-alternatives.
RUN mkdir -p /usr/share/man/man1 \
    && apt-get update \
    && apt-get install -y --no-install-recommends \
        openjdk-17-jre-headless \
        tcpdump \
        tar \
    && rm -rf /var/lib/apt/lists/*

COPY --from=build /src/target/podcapture-agent.jar /app/podcapture-agent.jar
# The watchdog `kubectl podcapture stream` runs here around its tcpdump (see docs/plugin.md): perl, which
# bookworm-slim has (perl-base is essential), with core modules only.
COPY plugin/podcapture-watchdog /usr/local/bin/podcapture-watchdog
# Class data sharing: the classes the agent loads (deploy/agent.classlist, written by bench/run.sh --classlist)
# parsed and laid out once, here, for this jar; each start maps the archive instead of loading them one by one.
# A JVM that cannot use it runs on without it (the image test checks it can).
COPY deploy/agent.classlist /app/agent.classlist
RUN java -Xshare:dump -XX:+UseSerialGC -XX:SharedClassListFile=/app/agent.classlist \
        -XX:SharedArchiveFile=/app/agent.jsa -cp /app/podcapture-agent.jar \
    && rm /app/agent.classlist
WORKDIR /app

# Captures go to the /capture volume; /healthz, /readyz and /metrics on 9397.
EXPOSE 9397

# No USER: the agent runs as root with only NET_RAW and SETGID (see
# deploy/daemonset.yaml), because tcpdump -Z root needs uid 0.
#
# JVM flags, all in this one place, as bench/run.sh measured them (BENCHMARKS.md has the numbers):
#   -XX:+UseSerialGC            smallest GC footprint; the agent has a tiny heap
#   -XX:TieredStopAtLevel=1     C1 only: less compiler memory and CPU, fast start
#   -Xss512k                    smaller thread stacks
#   -XX:MaxRAM=192m             size the JVM for the container's memory limit
#   -Xmx32m                     heap cap: about 20 MiB used with 110 Pods and 100 captures
#   -XX:CICompilerCount=1       one C1 compiler thread, not one that comes and goes beside it
#   -XX:CompileThresholdScaling=5  compile a method after 5x the calls: 3 MiB less compiled code, for some CPU
#                               (100 captures at once 1.1 -> 1.9 s of CPU; BENCHMARKS.md, issue 22)
#   -Xmn3m                      small young generation: every page of eden gets touched and stays resident
#   MALLOC_ARENA_MAX=2 (ENV)    with the two above: 16 captures 96.4 -> 93.3 MiB (bench/run.sh, issue 21)
#   -XX:MinHeapFreeRatio=10     the old generation is sized after each full GC to what is live plus this much
#   -XX:MaxHeapFreeRatio=20     (default 40/70): live was 11.9 MiB, the old generation 19.8 MiB at 40; at 10 about
#                               13 MiB, and every page of it is resident; the price is more frequent full GCs of a
#                               small heap (a few ms each)
#   -XX:MaxMetaspaceSize=64m    class metadata cap (about 26 MiB used; 2.5 MiB with the archive below)
#   -XX:+ExitOnOutOfMemoryError exit (and be restarted) rather than limp on
#   -XX:SharedArchiveFile=...   the class data archive made above: 16 captures 103.5 -> 97.7 MiB with the file
#                               server serving, 99.9 -> 95.5 MiB without, ready 1.3 -> 0.8 s (bench/run.sh, issue 22)
# Measured and left out: -Dsun.reflect.inflationThreshold=2147483647 (2 MiB less metaspace, 0.5 s more CPU
# to start), a dynamic archive (-XX:ArchiveClassesAtExit: it needs a training run at image build, which has
# no API server) and -XX:TrimNativeHeapInterval (no gain measured).
# Exec form: the JVM is PID 1, gets SIGTERM directly and reaps its tcpdump children.
ENV MALLOC_ARENA_MAX=2
ENTRYPOINT ["java", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-XX:CICompilerCount=1", "-XX:CompileThresholdScaling=5", "-Xss512k", "-XX:MaxRAM=192m", "-Xmx32m", "-Xmn3m", "-XX:MinHeapFreeRatio=10", "-XX:MaxHeapFreeRatio=20", "-XX:MaxMetaspaceSize=64m", "-XX:+ExitOnOutOfMemoryError", "-XX:SharedArchiveFile=/app/agent.jsa", "-jar", "/app/podcapture-agent.jar"]
