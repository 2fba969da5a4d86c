package io.prefstream.launcher.bench;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.prefstream.schemas.JsonForm;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/** The last line of every benchmark, pinned to what they printed before it was a type. */
class BenchLineTest {

  @Test
  void theHeadComesFirstThenTheBenchmarksFiguresInOrder() {
    ObjectNode quality = JsonForm.mapper().createObjectNode();
    quality.put("pairs_before_shift", 2000);
    quality.putArray("agreement_curve").addArray().add(500).add(0.659);
    BenchLine line =
        BenchLine.of(
                "train",
                6.0934,
                "pairs/s",
                "pairs/s of the raw forward and backward passes of the same batches",
                6.3712)
            .with("model", "encoder")
            .with("achieved_gflops", 29.04)
            .with("flops_per_pair", 4765432100L)
            .with("pairs", 600)
            .with("quality", quality);

    assertThat(line.toJson())
        .isEqualTo(
            "{\"bench\":\"train\",\"value\":6.09,\"unit\":\"pairs/s\",\"baseline_name\":\"pairs/s"
                + " of the raw forward and backward passes of the same batches\",\"baseline\":6.37,"
                + "\"ratio\":0.956,\"model\":\"encoder\",\"achieved_gflops\":29.04,"
                + "\"flops_per_pair\":4765432100,\"pairs\":600,\"quality\":{\"pairs_before_shift\":"
                + "2000,\"agreement_curve\":[[500,0.659]]}}");
  }

  @Test
  void ratesAreWholeFrom100UpElseThreeSignificantDigits() {
    BenchLine line =
        BenchLine.of("ingest", 14627.4, "events/s", "raw_kafka_producer", 61234.9)
            .withRounded("requests_per_s", 3.14159)
            .withRounded("zero", 0)
            .withRounded("nan", Double.NaN)
            .with("settings", new TreeMap<>(Map.of("b", "2", "a", "1")));

    assertThat(line.toJson())
        .isEqualTo(
            "{\"bench\":\"ingest\",\"value\":14627,\"unit\":\"events/s\",\"baseline_name\":"
                + "\"raw_kafka_producer\",\"baseline\":61235,\"ratio\":0.239,\"requests_per_s\":3.14,"
                + "\"zero\":0,\"nan\":0,\"settings\":{\"a\":\"1\",\"b\":\"2\"}}");
    assertThat(line.toString()).isEqualTo(line.toJson());
  }
}
