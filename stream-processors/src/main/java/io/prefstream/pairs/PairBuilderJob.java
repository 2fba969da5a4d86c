package io.prefstream.pairs;

import io.prefstream.avro.DeadLetter;
import io.prefstream.avro.FeedbackEvent;
import io.prefstream.avro.PreferencePair;
import io.prefstream.config.Settings;
import io.prefstream.pairs.internal.FeedbackDecoder;
import io.prefstream.pairs.internal.FeedbackInput;
import io.prefstream.pairs.internal.InteractionFunction;
import io.prefstream.pairs.internal.TopicRecordSerializer;
import io.prefstream.schemas.Topics;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Properties;
import org.apache.flink.api.common.JobExecutionResult;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.connector.sink2.Sink;
import org.apache.flink.api.connector.source.Source;
import org.apache.flink.api.java.functions.KeySelector;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.connector.base.DeliveryGuarantee;
import org.apache.flink.connector.kafka.sink.KafkaSink;
import org.apache.flink.connector.kafka.source.KafkaSource;
import org.apache.flink.connector.kafka.source.enumerator.initializer.OffsetsInitializer;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.formats.avro.typeutils.AvroTypeInfo;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.DataStreamUtils;
import org.apache.flink.streaming.api.datastream.KeyedStream;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.ProcessFunction;
import org.apache.flink.util.Collector;
import org.apache.flink.util.ParameterTool;
import org.apache.kafka.clients.consumer.OffsetResetStrategy;

/**
 * The pair builder: feedback events from Kafka, keyed by tenant/interaction, into weighted
 * preference pairs written exactly once; unusable input goes to the dead-letter topic with its
 * reason. Sources and sinks come in through the constructor; {@link #kafka} builds the production
 * instance and {@link #main} runs it on whatever Flink cluster submits it.
 */
public final class PairBuilderJob {

  private final PairBuilderConfig config;
  private final String feedbackTopic;
  private final Source<FeedbackInput, ?, ?> source;
  private final Sink<PreferencePair> pairs;
  private final Sink<DeadLetter> deadLetters;

  /**
   * @param config the job's configuration (its semantics and Flink settings are used here)
   * @param feedbackTopic name of the topic the source reads (dead letters name it)
   * @param source feedback records, decoded
   * @param pairs where pairs go
   * @param deadLetters where unusable input goes
   */
  public PairBuilderJob(
      PairBuilderConfig config,
      String feedbackTopic,
      Source<FeedbackInput, ?, ?> source,
      Sink<PreferencePair> pairs,
      Sink<DeadLetter> deadLetters) {
    this.config = config;
    this.feedbackTopic = feedbackTopic;
    this.source = source;
    this.pairs = pairs;
    this.deadLetters = deadLetters;
  }

  /** The production job: reads {@code feedback} until stopped, writes pairs and dead letters. */
  public static PairBuilderJob kafka(PairBuilderConfig config) {
    return kafka(config, false);
  }

  /**
   * The production job over Kafka.
   *
   * @param bounded stop at the end offsets found at start (benchmarks and replays); the end of
   *     input closes every interaction
   */
  public static PairBuilderJob kafka(PairBuilderConfig config, boolean bounded) {
    Topics topics = Topics.withPrefix(config.topicPrefix());
    return kafka(config, topics, topics, bounded);
  }

  /**
   * The job over Kafka reading one set of topics and writing another (benchmarks and tests that run
   * the same input into several outputs).
   */
  public static PairBuilderJob kafka(
      PairBuilderConfig config, Topics input, Topics output, boolean bounded) {
    return new PairBuilderJob(
        config,
        input.feedback().name(),
        source(config, input, bounded),
        sink(config, output, output.pairs(), "pairs"),
        sink(config, output, output.feedbackDlq(), "dlq"));
  }

  public static KafkaSource<FeedbackInput> source(
      PairBuilderConfig config, Topics topics, boolean bounded) {
    OffsetsInitializer start =
        switch (config.startingOffsets()) {
          case "earliest" -> OffsetsInitializer.earliest();
          case "latest" -> OffsetsInitializer.latest();
          default -> OffsetsInitializer.committedOffsets(OffsetResetStrategy.EARLIEST);
        };
    Properties props = new Properties();
    props.putAll(config.kafka());
    var builder =
        KafkaSource.<FeedbackInput>builder()
            .setBootstrapServers(config.bootstrapServers())
            .setTopics(topics.feedback().name())
            .setGroupId(config.groupId())
            .setClientIdPrefix(config.groupId())
            .setStartingOffsets(start)
            .setDeserializer(new FeedbackDecoder(config.semantics()))
            .setProperties(props);
    if (bounded) {
      builder.setBounded(OffsetsInitializer.latest());
    }
    return builder.build();
  }

  public static <T extends org.apache.avro.specific.SpecificRecord> KafkaSink<T> sink(
      PairBuilderConfig config, Topics topics, io.prefstream.schemas.Topic<T> topic, String id) {
    return KafkaSink.<T>builder()
        .setBootstrapServers(config.bootstrapServers())
        .setKafkaProducerConfig(producerProperties(config))
        .setDeliveryGuarantee(DeliveryGuarantee.EXACTLY_ONCE)
        .setTransactionalIdPrefix(config.transactionalIdPrefix() + "-" + id)
        .setRecordSerializer(new TopicRecordSerializer<>(topic, topics))
        .build();
  }

  /**
   * The sinks' producer settings: larger batches and a short linger (records of one checkpoint are
   * committed together, so a few milliseconds of linger cost nothing visible); {@code kafka.*} keys
   * override them, e.g. {@code kafka.compression.type} on a real network.
   */
  public static Properties producerProperties(PairBuilderConfig config) {
    Properties props = new Properties();
    props.setProperty("linger.ms", "5");
    props.setProperty("batch.size", Integer.toString(256 * 1024));
    props.putAll(config.kafka());
    props.setProperty(
        "transaction.timeout.ms", Long.toString(config.transactionTimeout().toMillis()));
    return props;
  }

  /**
   * Flink settings of this job: checkpointing on at the configured interval, object reuse, the
   * parallelism if set; {@code flink.*} keys on top, so a cluster's state backend, restart strategy
   * and checkpoint storage are set the same way.
   */
  public static Configuration flinkConfiguration(PairBuilderConfig config) {
    Map<String, String> map = new HashMap<>();
    map.put("execution.checkpointing.interval", config.checkpointInterval().toMillis() + " ms");
    map.put("execution.checkpointing.mode", "EXACTLY_ONCE");
    map.put("pipeline.object-reuse", "true");
    // Every record and state type has a Flink or Avro serializer; Kryo would be a mistake.
    map.put("pipeline.generic-types", "false");
    map.put("pipeline.name", "prefstream-pair-builder");
    if (config.parallelism() > 0) {
      map.put("parallelism.default", Integer.toString(config.parallelism()));
    }
    map.putAll(config.flink());
    return Configuration.fromMap(map);
  }

  /** Adds the job's operators to {@code env}. */
  public void addTo(StreamExecutionEnvironment env) {
    PairSemantics semantics = config.semantics();
    WatermarkStrategy<FeedbackInput> watermarks =
        WatermarkStrategy.<FeedbackInput>forBoundedOutOfOrderness(semantics.maxOutOfOrderness())
            .withTimestampAssigner(
                (in, recordTime) ->
                    in.event != null ? in.event.getOccurredAt().toEpochMilli() : recordTime)
            .withIdleness(semantics.idleTimeout());
    SingleOutputStreamOperator<FeedbackEvent> events =
        env.fromSource(source, watermarks, "feedback")
            .uid("feedback-source")
            .process(new SplitRejected())
            .uid("split-rejected")
            .name("split rejected input")
            .returns(new AvroTypeInfo<>(FeedbackEvent.class));
    // The feedback topic is keyed by tenant/interaction, but its partitions do not follow Flink's
    // key groups; only a single subtask, which owns every key group, may skip the shuffle.
    KeyedStream<FeedbackEvent, String> byInteraction =
        config.parallelism() == 1
            ? DataStreamUtils.reinterpretAsKeyedStream(events, new InteractionKey())
            : events.keyBy(new InteractionKey());
    SingleOutputStreamOperator<PreferencePair> built =
        byInteraction
            .process(new InteractionFunction(semantics, feedbackTopic))
            .uid("interactions")
            .name("interactions to pairs")
            .returns(new AvroTypeInfo<>(PreferencePair.class));
    built.sinkTo(pairs).uid("pairs-sink").name("pairs");
    DataStream<DeadLetter> rejected =
        events
            .getSideOutput(InteractionFunction.DEAD_LETTERS)
            .union(built.getSideOutput(InteractionFunction.DEAD_LETTERS));
    rejected.sinkTo(deadLetters).uid("dead-letter-sink").name("dead letters");
  }

  /** Runs the job in {@code env} until it ends (bounded input) or fails. */
  public JobExecutionResult execute(StreamExecutionEnvironment env) throws Exception {
    addTo(env);
    return env.execute("prefstream-pair-builder");
  }

  /** Submits the job and returns at once. */
  public JobClient executeAsync(StreamExecutionEnvironment env) throws Exception {
    addTo(env);
    return env.executeAsync("prefstream-pair-builder");
  }

  /**
   * Entry point of the job jar ({@code flink run}, FlinkDeployment). Arguments: {@code --config
   * FILE} (properties) and any key as {@code --pairs.session-gap 30s} or {@code
   * --flink.state.backend.type rocksdb}; PREFSTREAM_PAIRS_* environment variables in between.
   */
  public static void main(String[] args) throws Exception {
    PairBuilderConfig config = PairBuilderConfig.from(settings(args, System.getenv()));
    StreamExecutionEnvironment env =
        StreamExecutionEnvironment.getExecutionEnvironment(flinkConfiguration(config));
    kafka(config).execute(env);
  }

  /**
   * The job's settings as {@link #main} reads them: the {@code --config} file, then
   * PREFSTREAM_PAIRS_* variables, then {@code --KEY VALUE} arguments.
   */
  public static Settings settings(String[] args, Map<String, String> env) {
    Map<String, String> given = new HashMap<>(ParameterTool.fromArgs(args).toMap());
    String file = given.remove("config");
    Settings base = file == null ? Settings.empty() : Settings.fromFile(Path.of(file));
    return base.overriddenBy(Settings.fromEnv(env, PairBuilderOptions.ALL))
        .overriddenBy(Settings.of(given));
  }

  /** Decoded events go on; rejected records go to the dead-letter output. */
  private static final class SplitRejected extends ProcessFunction<FeedbackInput, FeedbackEvent> {
    @Override
    public void processElement(FeedbackInput in, Context ctx, Collector<FeedbackEvent> out) {
      if (in.event != null) {
        out.collect(in.event);
      } else {
        ctx.output(InteractionFunction.DEAD_LETTERS, in.rejected);
      }
    }
  }

  /** All events of an interaction meet in one key: tenant/interaction, as on the topic. */
  private static final class InteractionKey implements KeySelector<FeedbackEvent, String> {
    @Override
    public String getKey(FeedbackEvent event) {
      return event.getTenantId() + "/" + event.getInteractionId();
    }
  }
}
