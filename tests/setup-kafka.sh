# tests/setup-kafka.sh: a real Apache Kafka broker (4.x, KRaft: no ZooKeeper) on loopback for
# furrow's tests. Source it from bash:
#
#   . tests/setup-kafka.sh
#   kafka_start || exit        # fetch if needed, format, start, wait until ready;
#                              # sets KAFKA_BROKERS (127.0.0.1:<port>)
#   kafka_topic NAME [PARTS]   # create a topic (default 1 partition)
#   kafka_stop                 # stop it (the data stays in KAFKA_RUN_DIR for kafka_start)
#   kafka_start                # start again on the same port with the same data
#   kafka_cleanup              # stop if running and delete the run directory
#
# Settings (environment, all optional):
#   FURROW_KAFKA_VERSION  default 4.0.0 (org.apache.kafka:kafka_2.13 on Maven Central)
#   FURROW_CACHE          download cache, default <repo>/.cache (git-ignored)
#   FURROW_KAFKA_HEAP     JVM heap, default 384m
# Exported after kafka_start: KAFKA_BROKERS, KAFKA_PORT, KAFKA_PID, KAFKA_RUN_DIR.
# Functions return non-zero (with a message on stderr) on failure, e.g. when Maven Central is
# unreachable; callers then skip their tests.
#
# How it runs: Kafka's Maven artifacts are not a distribution (no bin/ scripts), so the broker
# jar and its runtime dependencies are copied once by `mvn dependency:copy-dependencies` from a
# one-dependency pom into $FURROW_CACHE/kafka/<version>/libs, and the broker is run as
# `java -cp 'libs/*' kafka.Kafka server.properties`, which is what bin/kafka-server-start.sh
# does. One process is broker and controller (process.roles=broker,controller) with a static
# quorum of itself; storage is formatted with kafka.tools.StorageTool (bin/kafka-storage.sh)
# before the first start. Readiness is polled with kcat's metadata listing against a deadline;
# there are no fixed sleeps. Topics are created explicitly by kafka_topic (auto-creation is off,
# as in Snowplow's reference configurations, so a typo in a topic name is an error).

. "$(dirname "${BASH_SOURCE[0]}")/fetchlock.sh"
_kafka_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
KAFKA_VERSION=${FURROW_KAFKA_VERSION:-4.0.0}
_kafka_cache=${FURROW_CACHE:-$_kafka_root/.cache}/kafka
KAFKA_LIBS=$_kafka_cache/$KAFKA_VERSION/libs
KAFKA_BROKERS=${KAFKA_BROKERS:-}
KAFKA_PORT=${KAFKA_PORT:-}
KAFKA_PID=${KAFKA_PID:-}
KAFKA_RUN_DIR=${KAFKA_RUN_DIR:-}
_kafka_cport=

_kafka_log() { echo "setup-kafka: $*" >&2; }

# kafka_fetch: the broker and its dependencies, once; later calls use the cache.
_kafka_fetch_unlocked() {
	[ -f "$KAFKA_LIBS/.complete" ] && return 0
	command -v mvn >/dev/null 2>&1 || { _kafka_log "mvn not found"; return 1; }
	local d=$_kafka_cache/$KAFKA_VERSION
	mkdir -p "$d"
	cat >"$d/pom.xml" <<POM
<?xml version="1.0" encoding="UTF-8"?>
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>furrow.tests</groupId>
  <artifactId>kafka-broker</artifactId>
  <version>1</version>
  <dependencies>
    <dependency>
      <groupId>org.apache.kafka</groupId>
      <artifactId>kafka_2.13</artifactId>
      <version>$KAFKA_VERSION</version>
    </dependency>
    <!-- the command-line tools (topics, consumer groups): bin/kafka-topics.sh and friends -->
    <dependency>
      <groupId>org.apache.kafka</groupId>
      <artifactId>kafka-tools</artifactId>
      <version>$KAFKA_VERSION</version>
    </dependency>
    <!-- the broker logs through SLF4J; without a binding it would say so and log nothing -->
    <dependency>
      <groupId>org.slf4j</groupId>
      <artifactId>slf4j-simple</artifactId>
      <version>1.7.36</version>
    </dependency>
  </dependencies>
</project>
POM
	_kafka_log "fetching org.apache.kafka:kafka_2.13:$KAFKA_VERSION and its dependencies from Maven Central"
	rm -rf "$KAFKA_LIBS"
	(cd "$d" && mvn -q -B -Dmaven.repo.local="$_kafka_cache/m2" dependency:copy-dependencies \
	    -DincludeScope=runtime -DoutputDirectory="$KAFKA_LIBS" >&2) ||
	    { _kafka_log "mvn failed"; return 1; }
	touch "$KAFKA_LIBS/.complete"
}

_kafka_free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# kafka_ready: 0 when the broker answers a metadata request.
kafka_ready() {
	kcat -b "$KAFKA_BROKERS" -L -m 2 2>/dev/null | grep -q "1 brokers"
}

_kafka_launch() {
	local heap=${FURROW_KAFKA_HEAP:-384m}
	# fds 3-9 closed: a test's FIFO write end must not stay open in the broker.
	java -Xms"$heap" -Xmx"$heap" -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Xshare:auto \
	    -Djava.awt.headless=true -Dorg.slf4j.simpleLogger.defaultLogLevel=warn \
	    -cp "$KAFKA_LIBS/*" kafka.Kafka "$KAFKA_RUN_DIR/server.properties" \
	    >>"$KAFKA_RUN_DIR/kafka.log" 2>&1 </dev/null 3>&- 4>&- 5>&- 6>&- 7>&- 8>&- 9>&- &
	KAFKA_PID=$!
}

# kafka_start [DEADLINE_SECONDS]: start (fetching and formatting first if needed), wait until
# ready.
kafka_start() {
	local deadline
	command -v kcat >/dev/null 2>&1 || { _kafka_log "kcat not found"; return 1; }
	kafka_fetch || return 1
	# The deadline is for starting, not downloading (a fetch can wait for another test's).
	deadline=$(( $(date +%s) + ${1:-120} ))
	if [ -z "$KAFKA_RUN_DIR" ]; then
		KAFKA_RUN_DIR=$(mktemp -d "${TMPDIR:-/tmp}/furrow-kafka.XXXXXX")
	fi
	if [ ! -f "$KAFKA_RUN_DIR/server.properties" ]; then
		KAFKA_PORT=${KAFKA_PORT:-$(_kafka_free_port)}
		_kafka_cport=$(_kafka_free_port)
		cat >"$KAFKA_RUN_DIR/server.properties" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$_kafka_cport
listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT,CONTROLLER://127.0.0.1:$_kafka_cport
advertised.listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT
controller.listener.names=CONTROLLER
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
log.dirs=$KAFKA_RUN_DIR/data
num.partitions=1
auto.create.topics.enable=false
offsets.topic.replication.factor=1
offsets.topic.num.partitions=4
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
group.consumer.heartbeat.interval.ms=1000
group.consumer.min.heartbeat.interval.ms=500
log.flush.interval.messages=9223372036854775807
PROPS
		java -Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -cp "$KAFKA_LIBS/*" \
		    kafka.tools.StorageTool format -t "$(python3 -c 'import base64,uuid; print(base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("="))')" \
		    -c "$KAFKA_RUN_DIR/server.properties" >"$KAFKA_RUN_DIR/format.log" 2>&1 ||
		    { _kafka_log "formatting the storage failed:"; tail -n 20 "$KAFKA_RUN_DIR/format.log" >&2; return 1; }
	fi
	KAFKA_BROKERS=127.0.0.1:$KAFKA_PORT
	_kafka_launch
	while ! kafka_ready; do
		if ! kill -0 "$KAFKA_PID" 2>/dev/null || [ "$(date +%s)" -ge "$deadline" ]; then
			_kafka_log "Kafka did not become ready:"; tail -n 20 "$KAFKA_RUN_DIR/kafka.log" >&2
			kafka_stop
			return 1
		fi
		sleep 0.2
	done
	export KAFKA_BROKERS KAFKA_PORT KAFKA_PID KAFKA_RUN_DIR
	_kafka_log "Kafka $KAFKA_VERSION ready at $KAFKA_BROKERS (pid $KAFKA_PID)"
}

# kafka_stop [-9]: stop the broker (SIGTERM: a controlled shutdown; SIGKILL after 30 s, or at
# once with -9) and wait until it has exited and its port is free.
kafka_stop() {
	[ -n "$KAFKA_PID" ] || return 0
	local deadline=$(( $(date +%s) + 30 ))
	if [ "${1:-}" = -9 ]; then kill -9 "$KAFKA_PID" 2>/dev/null; else kill "$KAFKA_PID" 2>/dev/null; fi
	while kill -0 "$KAFKA_PID" 2>/dev/null; do
		if [ "$(date +%s)" -ge "$deadline" ]; then kill -9 "$KAFKA_PID" 2>/dev/null; fi
		sleep 0.1
	done
	wait "$KAFKA_PID" 2>/dev/null
	KAFKA_PID=
}

# kafka_cleanup: stop and delete the run directory (data and logs).
kafka_cleanup() {
	kafka_stop
	[ -n "$KAFKA_RUN_DIR" ] && rm -rf "$KAFKA_RUN_DIR"
	KAFKA_RUN_DIR= KAFKA_PORT= KAFKA_BROKERS=
}

# kafka_admin CLASS ARGS...: one of Kafka's command-line tools (bin/kafka-*.sh run these classes).
kafka_admin() {
	local cls=$1; shift
	java -Xmx128m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Xshare:auto \
	    -Dorg.slf4j.simpleLogger.defaultLogLevel=warn -cp "$KAFKA_LIBS/*" "$cls" "$@"
}

# kafka_topic NAME [PARTITIONS]: create a topic and wait until every partition has a leader.
kafka_topic() {
	local name=$1 parts=${2:-1} deadline=$(( $(date +%s) + 30 ))
	kafka_admin org.apache.kafka.tools.TopicCommand --bootstrap-server "$KAFKA_BROKERS" \
	    --create --topic "$name" --partitions "$parts" --replication-factor 1 >/dev/null || return 1
	until [ "$(kcat -b "$KAFKA_BROKERS" -L -t "$name" -m 2 2>/dev/null |
	    grep -c 'partition [0-9]*, leader 1')" -ge "$parts" ]; do
		[ "$(date +%s)" -ge "$deadline" ] && { _kafka_log "topic $name has no leaders"; return 1; }
		sleep 0.1
	done
}

# kafka_group_offsets GROUP TOPIC: "partition committed-offset" per line, sorted.
kafka_group_offsets() {
	kafka_admin org.apache.kafka.tools.consumer.group.ConsumerGroupCommand \
	    --bootstrap-server "$KAFKA_BROKERS" --describe --group "$1" 2>/dev/null |
	    awk -v t="$2" '$2 == t { print $3, $4 }' | sort -n
}

# kafka_fetch: the one-time download, serialised between tests running at once.
kafka_fetch() { fetch_locked _kafka_fetch_unlocked; }
